/**
 * Side-by-side comparison of two run folders (e.g. static T=4 against the DT-SNN entropy exit):
 * Δ energy, latency and EDP per sample in total, per component and per layer; accuracy and average
 * timesteps. Written as compare.html (charts), compare.csv and compare.json (docs/RUN_FOLDER.md).
 */
import { writeToString } from 'fast-csv';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { pct, si, siScale, tidyJson, tidyRow } from '../util/format.js';
import { readRunFolder, type RunFolder } from './read-run-folder.js';
import { EXIT_ROW } from './report-html.js';
import { chartFigure, escapeHtml, htmlPage, htmlTable, type ChartSpec, type PageSection } from './vega.js';

export const COMPARE_FORMAT = 'imcsim-compare';
export const COMPARE_FORMAT_VERSION = 1;

/** The charts of compare.html, by their data-chart name, in page order. */
export const COMPARE_CHARTS = [
  'compare-component-energy',
  'compare-component-delta',
  'compare-layer-energy',
  'compare-layer-latency',
] as const;

/** A metric of both runs: A, B, B − A and (B − A) / A (null where undefined). */
export interface Delta {
  a: number | null;
  b: number | null;
  delta: number | null;
  rel: number | null;
}

export type CompareScope = 'total' | 'component' | 'layer';

/**
 * One row of the comparison. Per sample throughout (runs may have different numbers of samples).
 * Components have no latency of their own; a component's or layer's EDP is its contribution to the
 * run's EDP per sample (its energy per sample × the run's latency per sample), so components sum to the
 * total. A layer's latency is its busy time per sample. Accuracy and timesteps exist for the total only.
 */
export interface CompareRow {
  scope: CompareScope;
  name: string;
  energy_per_sample_j: Delta;
  latency_per_sample_s: Delta;
  edp_per_sample_js: Delta;
  accuracy: Delta;
  avg_timesteps: Delta;
}

export interface RunIdentity {
  folder: string;
  /** What the run is: policy (θ, T), chip, schedule — e.g. "entropy θ=0.5 T=3 · imcsim-default · timestep-pipelined". */
  label: string;
  network: string;
  arch: string;
  policy: string;
  trace: string;
  synthetic: boolean;
  samples: number;
}

export interface Comparison {
  format: typeof COMPARE_FORMAT;
  format_version: typeof COMPARE_FORMAT_VERSION;
  a: RunIdentity;
  b: RunIdentity;
  /** Why the two runs may not compare like for like (different traces, sample counts, networks). */
  warnings: string[];
  /** Assumptions (summary.json `assumptions`, flattened to dotted keys) whose values differ. */
  differing_assumptions: Array<{ key: string; a: string; b: string }>;
  rows: CompareRow[];
}

export const METRICS = [
  'energy_per_sample_j',
  'latency_per_sample_s',
  'edp_per_sample_js',
  'accuracy',
  'avg_timesteps',
] as const;
export type Metric = (typeof METRICS)[number];

export function delta(a: number | null | undefined, b: number | null | undefined): Delta {
  const A = a ?? null;
  const B = b ?? null;
  const d = A !== null && B !== null ? B - A : null;
  return { a: A, b: B, delta: d, rel: d !== null && A !== null && A !== 0 ? d / A : null };
}

const NONE: Delta = { a: null, b: null, delta: null, rel: null };

/** A run named by what it is: policy with θ and T, chip, schedule. */
export function runLabel(r: RunFolder): string {
  const s = r.summary;
  const tp = s.assumptions.trace_policy;
  const policy = `${tp.name}${tp.theta === null ? '' : ` θ=${tp.theta}`} T=${tp.timesteps}`;
  return `${policy} · ${s.arch} · ${s.schedule}${s.contention_free ? ' (contention-free)' : ''}`;
}

/** Differences that make a comparison unfair or partial: a reader is told before the numbers. */
export function comparisonWarnings(a: RunFolder, b: RunFolder): string[] {
  const sa = a.summary;
  const sb = b.summary;
  const w: string[] = [];
  if (sa.network !== sb.network) w.push(`different networks: A runs ${sa.network}, B runs ${sb.network}`);
  if (sa.samples !== sb.samples)
    w.push(
      `different sample counts: A replayed ${sa.samples} samples, B ${sb.samples}; per-sample figures are averages over different sets`,
    );
  if (sa.trace !== sb.trace) {
    const la = a.samples.map((x) => x.label).join(',');
    const lb = b.samples.map((x) => x.label).join(',');
    const same =
      sa.samples === sb.samples && la === lb && a.samples.some((x) => x.label >= 0)
        ? ' (the sample labels agree in order, so probably the same inputs)'
        : '';
    w.push(`different traces: A ${sa.trace}, B ${sb.trace}; the runs may have seen different samples${same}`);
  } else if (sa.samples === sb.samples) {
    const la = a.samples.map((x) => x.label).join(',');
    const lb = b.samples.map((x) => x.label).join(',');
    if (la !== lb) w.push('the two runs saw different samples (their labels differ in order)');
  }
  if (sa.synthetic !== sb.synthetic)
    w.push(`one run is synthetic (${sa.synthetic ? 'A' : 'B'}): its accuracy and exits mean nothing`);
  return w;
}

function identity(folder: string, r: RunFolder): RunIdentity {
  const s = r.summary;
  return {
    folder,
    label: runLabel(r),
    network: s.network,
    arch: s.arch,
    policy: s.policy,
    trace: s.trace,
    synthetic: s.synthetic,
    samples: s.samples,
  };
}

/** Dotted keys → printable values (arrays of objects keyed by their `component` / `tile`). */
function flatten(v: unknown, prefix: string, out: Map<string, string>): void {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  } else if (Array.isArray(v) && v.every((x) => x !== null && typeof x === 'object' && !Array.isArray(x))) {
    v.forEach((x, i) => {
      const o = x as Record<string, unknown>;
      const id =
        typeof o.component === 'string' ? o.component : typeof o.tile === 'number' ? `tile${o.tile}` : i;
      flatten(x, `${prefix}[${id}]`, out);
    });
  } else out.set(prefix, JSON.stringify(v));
}

/** Names of both lists, A's order first, then B's new ones. */
function union(a: string[], b: string[]): string[] {
  const seen = new Set(a);
  return [...a, ...b.filter((x) => !seen.has(x))];
}

/** Compares two runs read back from their folders; `folderA`, `folderB` only name them. */
export function compareRuns(a: RunFolder, b: RunFolder, folderA = 'A', folderB = 'B'): Comparison {
  const sa = a.summary;
  const sb = b.summary;
  const per = (r: RunFolder, v: number | undefined) =>
    v === undefined || r.summary.samples === 0 ? null : v / r.summary.samples;
  const lat = (r: RunFolder) => (r.summary.samples === 0 ? null : r.summary.latency_per_sample_s);
  const edp = (r: RunFolder, e: number | null) => {
    const l = lat(r);
    return e === null || l === null ? null : e * l;
  };
  const rows: CompareRow[] = [
    {
      scope: 'total',
      name: 'total',
      energy_per_sample_j: delta(sa.energy_per_sample_j, sb.energy_per_sample_j),
      latency_per_sample_s: delta(sa.latency_per_sample_s, sb.latency_per_sample_s),
      edp_per_sample_js: delta(sa.edp_per_sample_js, sb.edp_per_sample_js),
      accuracy: delta(sa.accuracy, sb.accuracy),
      avg_timesteps: delta(sa.avg_timesteps, sb.avg_timesteps),
    },
  ];
  const compA = new Map(a.components.map((c) => [c.component, c]));
  const compB = new Map(b.components.map((c) => [c.component, c]));
  for (const name of union([...compA.keys()], [...compB.keys()])) {
    const ea = per(a, compA.get(name)?.energy_j);
    const eb = per(b, compB.get(name)?.energy_j);
    rows.push({
      scope: 'component',
      name,
      energy_per_sample_j: delta(ea, eb),
      latency_per_sample_s: NONE,
      edp_per_sample_js: delta(edp(a, ea), edp(b, eb)),
      accuracy: NONE,
      avg_timesteps: NONE,
    });
  }
  const layerA = new Map(a.layers.map((l) => [l.layer, l]));
  const layerB = new Map(b.layers.map((l) => [l.layer, l]));
  for (const name of union([...layerA.keys()], [...layerB.keys()])) {
    const la = layerA.get(name);
    const lb = layerB.get(name);
    const ea = per(a, la?.energy_j);
    const eb = per(b, lb?.energy_j);
    rows.push({
      scope: 'layer',
      name,
      energy_per_sample_j: delta(ea, eb),
      latency_per_sample_s: delta(per(a, la?.busy_s), per(b, lb?.busy_s)),
      edp_per_sample_js: delta(edp(a, ea), edp(b, eb)),
      accuracy: NONE,
      avg_timesteps: NONE,
    });
  }
  const xa = per(a, sa.exit.energy_j);
  const xb = per(b, sb.exit.energy_j);
  rows.push({
    scope: 'layer',
    name: EXIT_ROW,
    energy_per_sample_j: delta(xa, xb),
    latency_per_sample_s: delta(per(a, sa.exit.latency_s), per(b, sb.exit.latency_s)),
    edp_per_sample_js: delta(edp(a, xa), edp(b, xb)),
    accuracy: NONE,
    avg_timesteps: NONE,
  });
  const fa = new Map<string, string>();
  const fb = new Map<string, string>();
  flatten(sa.assumptions, '', fa);
  flatten(sb.assumptions, '', fb);
  const differing = union([...fa.keys()], [...fb.keys()])
    .filter((k) => fa.get(k) !== fb.get(k) && !k.startsWith('mesh.tiles['))
    .map((k) => ({ key: k, a: fa.get(k) ?? '(absent)', b: fb.get(k) ?? '(absent)' }));
  return {
    format: COMPARE_FORMAT,
    format_version: COMPARE_FORMAT_VERSION,
    a: identity(folderA, a),
    b: identity(folderB, b),
    warnings: comparisonWarnings(a, b),
    differing_assumptions: differing,
    rows,
  };
}

/** compare.csv column name of a metric's part: a_/b_/delta_ keep the unit suffix; rel_delta_ has none. */
export function compareColumn(metric: Metric, part: keyof Delta): string {
  if (part === 'rel') return `rel_delta_${metric.replace(/_(j|s|js)$/, '')}`;
  return `${part}_${metric}`;
}

export const COMPARE_COLUMNS = [
  'scope',
  'name',
  ...METRICS.flatMap((m) => (['a', 'b', 'delta', 'rel'] as const).map((p) => compareColumn(m, p))),
];

export async function compareCsv(c: Comparison): Promise<string> {
  const rows = c.rows.map((r) => {
    const o: Record<string, string | number> = { scope: r.scope, name: r.name };
    for (const m of METRICS)
      for (const p of ['a', 'b', 'delta', 'rel'] as const) o[compareColumn(m, p)] = r[m][p] ?? '';
    return o;
  });
  return (await writeToString(rows.map(tidyRow), { headers: COMPARE_COLUMNS })) + '\n';
}

function fmt(v: number | null, unit: string): string {
  if (v === null) return 'n/a';
  if (unit === '%') return pct(v);
  if (unit === '') return Number(v.toPrecision(6)).toString();
  return si(v, unit);
}

function fmtRel(v: number | null): string {
  return v === null ? 'n/a' : `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)} %`;
}

/** A change of a fraction in percentage points ("+2.5 points"). */
export function points(delta: number | null): string {
  if (delta === null) return 'n/a';
  const p = Number((delta * 100).toFixed(1));
  return `${p > 0 ? '+' : ''}${p === 0 ? '0.0' : p.toFixed(1)} points`;
}

function deltaCells(d: Delta, unit: string): string[] {
  // Accuracy changes read in percentage points; a relative change of a percentage confuses.
  if (unit === '%') return [fmt(d.a, unit), fmt(d.b, unit), points(d.delta), '—'];
  return [fmt(d.a, unit), fmt(d.b, unit), fmt(d.delta, unit), fmtRel(d.rel)];
}

function groupedSpec(
  rows: CompareRow[],
  metric: Metric,
  unit: string,
  title: string,
  group: string,
  names: [string, string],
): ChartSpec {
  let max = 0;
  for (const r of rows) max = Math.max(max, Math.abs(r[metric].a ?? 0), Math.abs(r[metric].b ?? 0));
  const { f, u } = scaleOf(max, unit);
  const [A, B] = names;
  const values = rows.flatMap((r) => [
    { name: r.name, run: A, v: f(r[metric].a ?? 0) },
    { name: r.name, run: B, v: f(r[metric].b ?? 0) },
  ]);
  return {
    width: { step: 36 },
    height: 240,
    data: { values },
    mark: 'bar',
    encoding: {
      x: {
        field: 'name',
        type: 'nominal',
        sort: rows.map((r) => r.name),
        title: group,
        axis: { labelAngle: -40 },
      },
      xOffset: { field: 'run', type: 'nominal', sort: [A, B] },
      y: { field: 'v', type: 'quantitative', title: `${title} (${u})` },
      color: {
        field: 'run',
        type: 'nominal',
        sort: [A, B],
        scale: { domain: [A, B], range: ['#4c78a8', '#f58518'] },
        title: 'run',
        legend: { orient: 'bottom', direction: 'vertical', labelLimit: 0 },
      },
    },
  } as ChartSpec;
}

function scaleOf(max: number, unit: string): { f: (v: number) => number; u: string } {
  const { factor, prefix } = siScale(max);
  return { f: (v) => v / factor, u: prefix + unit };
}

/**
 * Δ per component. A component one run does not use at all (0 J there: the exit unit under the static
 * policy) is "used by one run only", never a saving of the other: the static run did not save on a unit
 * it never had to power.
 */
function componentDeltaSpec(rows: CompareRow[]): ChartSpec {
  let max = 0;
  for (const r of rows) max = Math.max(max, Math.abs(r.energy_per_sample_j.delta ?? 0));
  const { f, u } = scaleOf(max, 'J');
  const values = rows.map((r) => {
    const d = r.energy_per_sample_j.delta ?? 0;
    const e = r.energy_per_sample_j;
    const oneOnly = d !== 0 && (e.a === 0 || e.b === 0);
    return {
      name: r.name,
      d: f(d),
      sign: oneOnly ? 'used by one run only' : d > 0 ? 'B costs more' : 'B saves',
    };
  });
  return {
    width: 480,
    height: { step: 16 },
    data: { values },
    mark: 'bar',
    encoding: {
      y: { field: 'name', type: 'nominal', sort: rows.map((r) => r.name), title: 'component' },
      x: { field: 'd', type: 'quantitative', title: `Δ energy per sample, B − A (${u})` },
      color: {
        field: 'sign',
        type: 'nominal',
        scale: {
          domain: ['B saves', 'B costs more', 'used by one run only'],
          range: ['#54a24b', '#e45756', '#bab0ac'],
        },
        title: null,
        legend: { labelLimit: 0 },
      },
    },
  } as ChartSpec;
}

/** compare.html: self-contained, deterministic. */
export async function buildCompareHtml(c: Comparison): Promise<string> {
  const total = c.rows.find((r) => r.scope === 'total')!;
  const comps = c.rows.filter((r) => r.scope === 'component');
  const layers = c.rows.filter((r) => r.scope === 'layer');
  const sections: PageSection[] = [];
  const names: [string, string] = [`A: ${c.a.label}`, `B: ${c.b.label}`];
  const id = (k: keyof RunIdentity) => [String(k), String(c.a[k]), String(c.b[k])];
  const warn =
    c.warnings.map((w) => `<p class="warn">${escapeHtml(w)}</p>\n`).join('') +
    (c.a.synthetic || c.b.synthetic
      ? '<p class="warn">At least one run replays a synthetic trace: its accuracy and exits mean nothing.</p>\n'
      : '');
  sections.push({
    title: 'Runs',
    html:
      warn +
      htmlTable(
        ['', 'A', 'B'],
        [
          id('label'),
          id('folder'),
          id('network'),
          id('arch'),
          id('policy'),
          id('trace'),
          id('synthetic'),
          id('samples'),
        ],
        3,
      ),
  });
  sections.push({
    title: 'Headline',
    text: 'Per sample. Δ = B − A; relative Δ = (B − A) / A. Accuracy changes are in percentage points.',
    html: htmlTable(
      ['quantity', 'A', 'B', 'Δ', 'relative Δ'],
      [
        ['energy per sample', ...deltaCells(total.energy_per_sample_j, 'J')],
        ['latency per sample', ...deltaCells(total.latency_per_sample_s, 's')],
        ['EDP per sample', ...deltaCells(total.edp_per_sample_js, 'J·s')],
        ['accuracy', ...deltaCells(total.accuracy, '%')],
        ['average timesteps', ...deltaCells(total.avg_timesteps, '')],
      ],
    ),
  });
  sections.push({
    title: 'Assumptions that differ',
    html: c.differing_assumptions.length
      ? htmlTable(
          ['assumption', 'A', 'B'],
          c.differing_assumptions.map((d) => [d.key, d.a, d.b]),
          3,
        )
      : '<p>None: both runs rest on the same component models and chip-wide choices.</p>',
  });
  sections.push({
    title: 'Per component',
    text: "Energy per sample (dynamic + leakage); EDP = the component's energy per sample × the run's latency per sample (components sum to the total).",
    html:
      (await chartFigure(
        'compare-component-energy',
        groupedSpec(comps, 'energy_per_sample_j', 'J', 'energy per sample', 'component', names),
      )) +
      '\n' +
      (await chartFigure('compare-component-delta', componentDeltaSpec(comps))) +
      '\n' +
      htmlTable(
        ['component', 'A energy', 'B energy', 'Δ energy', 'rel. Δ', 'A EDP', 'B EDP', 'Δ EDP', 'rel. Δ'],
        comps.map((r) => {
          // A component one run never uses (0 J: the exit unit of a static run) has no relative change:
          // "−100 %" would read as a saving on a unit that run never had to power.
          const e = r.energy_per_sample_j;
          const only =
            e.a === 0 && e.b !== 0 && e.b !== null
              ? 'used by B only'
              : e.b === 0 && e.a !== 0 && e.a !== null
                ? 'used by A only'
                : null;
          const cells = [...deltaCells(e, 'J'), ...deltaCells(r.edp_per_sample_js, 'J·s')];
          if (only) cells[3] = cells[7] = only;
          return [r.name, ...cells];
        }),
      ),
  });
  sections.push({
    title: 'Per layer',
    text: `Energy and busy time per sample; EDP = the layer's energy per sample × the run's latency per sample. ${EXIT_ROW} is the exit row.`,
    html:
      (await chartFigure(
        'compare-layer-energy',
        groupedSpec(layers, 'energy_per_sample_j', 'J', 'energy per sample', 'layer', names),
      )) +
      '\n' +
      (await chartFigure(
        'compare-layer-latency',
        groupedSpec(layers, 'latency_per_sample_s', 's', 'busy time per sample', 'layer', names),
      )) +
      '\n' +
      htmlTable(
        [
          'layer',
          'A energy',
          'B energy',
          'Δ energy',
          'rel. Δ',
          'A busy',
          'B busy',
          'Δ busy',
          'rel. Δ',
          'Δ EDP',
          'rel. Δ',
        ],
        layers.map((r) => [
          r.name,
          ...deltaCells(r.energy_per_sample_j, 'J'),
          ...deltaCells(r.latency_per_sample_s, 's'),
          ...deltaCells(r.edp_per_sample_js, 'J·s').slice(2),
        ]),
      ),
  });
  const title = `Comparison: ${c.a.label} (A) vs ${c.b.label} (B)`;
  const subtitle = `${c.a.network === c.b.network ? c.a.network : `${c.a.network} vs ${c.b.network}`} · A = ${c.a.folder}, B = ${c.b.folder}`;
  return htmlPage(title, subtitle, sections);
}

/** Reads both run folders and writes OUT/compare.html, compare.csv, compare.json; returns the paths. */
export async function writeComparison(
  dirA: string,
  dirB: string,
  out: string,
): Promise<{ files: string[]; comparison: Comparison }> {
  const a = await readRunFolder(dirA);
  const b = await readRunFolder(dirB);
  const c = compareRuns(a, b, dirA, dirB);
  const files: Array<[string, string]> = [
    ['compare.json', JSON.stringify(c, tidyJson, 2) + '\n'],
    ['compare.csv', await compareCsv(c)],
    ['compare.html', await buildCompareHtml(c)],
  ];
  for (const [name, text] of files) writeFileAtomic(join(out, name), text);
  return { files: files.map(([n]) => join(out, n)), comparison: c };
}
