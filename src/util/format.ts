/**
 * Number formatting. Human-facing text (terminal tables, HTML tables) uses SI prefixes and 4 significant
 * digits (`si`). Machine-readable files (run-folder CSV/JSON, sweep and study CSVs) keep SI base units
 * and are rounded to FILE_DIGITS significant digits (`tidy`), which removes binary floating-point noise
 * (0.1 + 0.2 → 0.3, not 0.30000000000000004) while keeping far more precision than any model has.
 * Integers are written exactly.
 */

/** Significant digits kept in machine-readable files. */
export const FILE_DIGITS = 12;

/** A number as written to a file: integers exact, others rounded to FILE_DIGITS significant digits. */
export function tidy(x: number): number {
  if (!Number.isFinite(x) || Number.isInteger(x)) return x;
  return Number(x.toPrecision(FILE_DIGITS));
}

/** JSON.stringify replacer applying `tidy` to every number. */
export function tidyJson(_key: string, value: unknown): unknown {
  return typeof value === 'number' ? tidy(value) : value;
}

/** A CSV row with `tidy` applied to every number. */
export function tidyRow<T extends Record<string, unknown>>(row: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[k] = typeof v === 'number' ? tidy(v) : v;
  return out as T;
}

const PREFIXES: ReadonlyArray<readonly [number, string]> = [
  [1e-15, 'f'],
  [1e-12, 'p'],
  [1e-9, 'n'],
  [1e-6, 'µ'],
  [1e-3, 'm'],
  [1, ''],
  [1e3, 'k'],
  [1e6, 'M'],
  [1e9, 'G'],
];

/** 1.234e-9, 'J' → "1.234 nJ". Zero prints as "0 J". */
export function si(value: number, unit: string, digits = 4): string {
  if (!Number.isFinite(value)) return `${value} ${unit}`;
  if (value === 0) return `0 ${unit}`;
  const a = Math.abs(value);
  let chosen = PREFIXES[0];
  for (const p of PREFIXES) if (a >= p[0]) chosen = p;
  return `${Number((value / chosen[0]).toPrecision(digits))} ${chosen[1]}${unit}`;
}

/**
 * The SI prefix that suits a set of values of largest magnitude `maxAbs`: divide by `factor`, write
 * `prefix` before the unit (charts scale their axes this way).
 */
export function siScale(maxAbs: number): { factor: number; prefix: string } {
  let chosen = PREFIXES[5];
  if (Number.isFinite(maxAbs) && maxAbs > 0) {
    chosen = PREFIXES[0];
    for (const p of PREFIXES) if (maxAbs >= p[0]) chosen = p;
  }
  return { factor: chosen[0], prefix: chosen[1] };
}

/** Area: m² shown in mm² or µm². */
export function area(m2: number): string {
  if (m2 === 0) return '0 mm²';
  return m2 >= 1e-8
    ? `${Number((m2 * 1e6).toPrecision(4))} mm²`
    : `${Number((m2 * 1e12).toPrecision(4))} µm²`;
}

export function pct(x: number): string {
  return `${(x * 100).toFixed(1)} %`;
}

/** A plain-text table with right-aligned numeric columns. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map((c) => String(c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) =>
    cells.every(
      (r) =>
        r[i] === 'n/a' ||
        r[i] === '—' ||
        (r[i] ?? '').startsWith('< ') ||
        /^[-+0-9.,e ]+[a-zA-Zµ²%]*\s*[a-zA-Zµ²]*$/.test(r[i] ?? ''),
    ),
  );
  const fmt = (r: string[]) =>
    r
      .map((c, i) => (numeric[i] && i > 0 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [fmt(headers), widths.map((w) => '─'.repeat(w)).join('  '), ...cells.map(fmt)].join('\n');
}
