/**
 * Loading hardware descriptions: YAML file → (overrides with immer) → schema validation → cross-field
 * checks → frozen ArchSpec.
 */
import { readFileSync } from 'node:fs';
import { produce } from 'immer';
import { parse as parseYamlScalar } from 'yaml';
import { InputError, InputErrors, located } from './errors.js';
import { ArchSchema, SPIKESIM_COLUMNS_PER_ADC, type ArchSpec } from './schema.js';
import { parseYamlPlain, validatePlain } from './yaml-loader.js';

export function readTextFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw located(code === 'ENOENT' ? 'file not found' : `cannot read file (${code ?? String(e)})`, { file });
  }
}

/** One `--set path=value` override; the value is read as a YAML scalar (6 → number, true → boolean). */
export interface Override {
  path: string;
  value: unknown;
}

export function parseOverride(text: string): Override {
  const eq = text.indexOf('=');
  if (eq <= 0)
    throw located(`--set needs path=value`, { expected: 'e.g. adc.bits=6', found: JSON.stringify(text) });
  const path = text.slice(0, eq).trim();
  const raw = text.slice(eq + 1);
  let value: unknown;
  try {
    value = parseYamlScalar(raw);
  } catch {
    value = raw;
  }
  if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])*$/.test(path))
    throw located(`--set path is not a dotted field path`, {
      expected: 'e.g. noc.flit_bits',
      found: JSON.stringify(path),
    });
  return { path, value };
}

/** Splits `a.b[2].c` into ['a', 'b', 2, 'c']. */
export function splitPath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const part of path.split('.')) {
    const m = /^([^[]+)((\[\d+\])*)$/.exec(part);
    if (!m) {
      out.push(part);
      continue;
    }
    out.push(m[1]);
    for (const idx of m[2].matchAll(/\[(\d+)\]/g)) out.push(Number(idx[1]));
  }
  return out;
}

/** Applies overrides to a plain config object with immer (the input is never mutated). */
export function applyOverrides<T>(base: T, overrides: readonly Override[]): T {
  if (overrides.length === 0) return base;
  const root = (base ?? {}) as object;
  return produce(root, (draft: Record<string | number, unknown>) => {
    for (const o of overrides) {
      const keys = splitPath(o.path);
      let node: Record<string | number, unknown> = draft;
      for (let i = 0; i < keys.length - 1; i++) {
        const k = keys[i];
        const next = node[k];
        if (next === undefined || next === null) {
          node[k] = typeof keys[i + 1] === 'number' ? [] : {};
        } else if (typeof next !== 'object') {
          throw located(`--set ${o.path}: ${keys.slice(0, i + 1).join('.')} is not a section`, {
            path: o.path,
            expected: 'a section (mapping)',
            found: JSON.stringify(next),
          });
        }
        node = node[k] as Record<string | number, unknown>;
      }
      node[keys[keys.length - 1]] = o.value;
    }
  }) as T;
}

/** Checks across fields that a per-field schema cannot express. */
export function checkArch(spec: ArchSpec, file?: string): void {
  const errs: InputError[] = [];
  const err = (path: string, msg: string, expected: string, found: string) =>
    errs.push(located(msg, { file, path, expected, found }));
  // SpikeSim accounting reads all rows of a crossbar at once and does not use rows_parallel.
  if (spec.accounting !== 'spikesim' && spec.crossbar.rows_parallel > spec.crossbar.rows)
    err(
      'crossbar.rows_parallel',
      'cannot drive more rows than the crossbar has',
      `at most ${spec.crossbar.rows}`,
      String(spec.crossbar.rows_parallel),
    );
  if (spec.crossbar.lrs_ohm >= spec.crossbar.hrs_ohm)
    err(
      'crossbar.lrs_ohm',
      'the low-resistance state must be below the high-resistance state',
      `< ${spec.crossbar.hrs_ohm}`,
      String(spec.crossbar.lrs_ohm),
    );
  if (spec.adc.columns_per_adc > spec.crossbar.columns)
    err(
      'adc.columns_per_adc',
      'an ADC cannot serve more columns than a crossbar has',
      `at most ${spec.crossbar.columns}`,
      String(spec.adc.columns_per_adc),
    );
  if (spec.accounting === 'spikesim') {
    if (spec.mapping.scheme !== 'kernel-position')
      err(
        'mapping.scheme',
        'SpikeSim accounting needs its mapping',
        '"kernel-position"',
        JSON.stringify(spec.mapping.scheme),
      );
    if (spec.mapping.tile_packing !== 'packed')
      err(
        'mapping.tile_packing',
        'SpikeSim accounting needs its tile packing',
        '"packed"',
        JSON.stringify(spec.mapping.tile_packing),
      );
    if (spec.adc.columns_per_adc !== SPIKESIM_COLUMNS_PER_ADC)
      err(
        'adc.columns_per_adc',
        'SpikeSim accounting fixes 8 columns per ADC (x/8 ADCs per PE, x/8 mux rounds)',
        String(SPIKESIM_COLUMNS_PER_ADC),
        String(spec.adc.columns_per_adc),
      );
    else if (spec.crossbar.columns % SPIKESIM_COLUMNS_PER_ADC !== 0)
      err(
        'crossbar.columns',
        'SpikeSim accounting needs whole ADC groups',
        `a multiple of ${SPIKESIM_COLUMNS_PER_ADC}`,
        String(spec.crossbar.columns),
      );
  }
  if (errs.length === 1) throw errs[0];
  if (errs.length > 1) throw new InputErrors(errs);
}

/** Parses, overrides, validates and checks an arch config given as text. */
export function parseArch(text: string, file: string, overrides: readonly Override[] = []): ArchSpec {
  const plain = parseYamlPlain(text, file);
  const withOverrides = applyOverrides(plain, overrides);
  const spec = validatePlain(withOverrides, ArchSchema, { text, file });
  checkArch(spec, file);
  return spec;
}

export function loadArch(file: string, overrides: readonly Override[] = []): ArchSpec {
  return parseArch(readTextFile(file), file, overrides);
}
