/**
 * Loading hardware descriptions: YAML file → `--set` overrides (immer) → schema validation → cross-field
 * checks → frozen ArchSpec.
 */
import { readFileSync } from 'node:fs';
import { produce } from 'immer';
import { parseDocument, visit } from 'yaml';
import { InputError, InputErrors, located } from '../util/errors.js';
import { ArchSchema, SPIKESIM_COLUMNS_PER_ADC, type ArchSpec } from './schema.js';
import { parseYamlPlain, validatePlain } from '../util/yaml-loader.js';

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

/** Segments that would reach an object's prototype: refused by name in every path (`--set`, sweep axes). */
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);
const SEGMENT = /^([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)$/;

/** What is wrong with a dotted path (`adc.bits`, `layers[2].kernel`), or undefined when it is usable. */
export function pathProblem(path: string): string | undefined {
  const parts = path.split('.');
  const bad = parts.find((p) => FORBIDDEN.has(p.replace(/\[\d+\]$/g, '')));
  if (bad !== undefined)
    return `path segment "${bad.replace(/\[.*$/, '')}" is not allowed (it names the object prototype)`;
  if (!parts.every((p) => SEGMENT.test(p))) return 'not a dotted field path';
  return undefined;
}

/** Splits a checked path `a.b[2].c` into ['a', 'b', 2, 'c']; throws an InputError for a bad or unsafe one. */
export function splitPath(path: string, what = '--set'): (string | number)[] {
  const problem = pathProblem(path);
  if (problem)
    throw located(`${what} path: ${problem}`, {
      expected: 'e.g. noc.flit_bits',
      found: JSON.stringify(path),
    });
  return path.split('.').flatMap((part) => {
    const [, name, idx] = SEGMENT.exec(part)!;
    return [name, ...[...idx.matchAll(/\[(\d+)\]/g)].map((m) => Number(m[1]))];
  });
}

export function parseOverride(text: string): Override {
  const eq = text.indexOf('=');
  if (eq <= 0)
    throw located(`--set needs path=value`, { expected: 'e.g. adc.bits=6', found: JSON.stringify(text) });
  const path = text.slice(0, eq).trim();
  const raw = text.slice(eq + 1);
  splitPath(path);
  const doc = parseDocument(raw, { logLevel: 'silent' });
  let tagged = false;
  visit(doc, { Node: (_, n) => void (tagged ||= !!n.tag) });
  if (tagged)
    throw located(`--set ${path}: YAML tags are not accepted in a value`, {
      expected: 'a plain value such as 6, true or isaac',
      found: JSON.stringify(raw),
    });
  try {
    return { path, value: doc.errors.length ? raw : doc.toJS({ maxAliasCount: 0 }) };
  } catch {
    return { path, value: raw };
  }
}

/** Applies overrides to a plain config object with immer (the input is never mutated). */
export function applyOverrides<T>(base: T, overrides: readonly Override[]): T {
  if (overrides.length === 0) return base;
  return produce((base ?? {}) as Record<string | number, unknown>, (draft) => {
    for (const o of overrides) {
      const keys = splitPath(o.path);
      let node = draft;
      for (let i = 0; i < keys.length - 1; i++) {
        const k = keys[i];
        const next = Object.hasOwn(node, k) ? node[k] : undefined;
        if (next === undefined || next === null) node[k] = typeof keys[i + 1] === 'number' ? [] : {};
        else if (typeof next !== 'object')
          throw located(`--set ${o.path}: ${keys.slice(0, i + 1).join('.')} is not a section`, {
            path: o.path,
            expected: 'a section (mapping)',
            found: JSON.stringify(next),
          });
        node = node[k] as Record<string | number, unknown>;
      }
      node[keys[keys.length - 1]] = o.value;
    }
  }) as T;
}

/** [field, bound, why]: the field may not exceed the bound (the last one: must stay below it). */
const AT_MOST = [
  ['crossbar.rows_parallel', 'crossbar.rows', 'cannot drive more rows than the crossbar has'],
  ['crossbar.cell_bits', 'crossbar.weight_bits', 'a cell cannot store more bits than a weight has'],
  ['adc.columns_per_adc', 'crossbar.columns', 'an ADC cannot serve more columns than a crossbar has'],
  ['adc.bits', 'shift_add.bits', 'the shift-and-add accumulator must be as wide as an ADC result'],
  ['membrane_buffer.width_bits', 'membrane_buffer.capacity_bits', 'a port cannot be wider than its buffer'],
  ['tile_buffer.width_bits', 'tile_buffer.capacity_bits', 'a port cannot be wider than its buffer'],
  ['global_buffer.width_bits', 'global_buffer.capacity_bits', 'a port cannot be wider than its buffer'],
  [
    'crossbar.lrs_ohm',
    'crossbar.hrs_ohm',
    'the low-resistance state must be below the high-resistance state',
  ],
] as const;

/** Checks fields against each other (what a per-field schema cannot express); reports every failure. */
export function checkArch(spec: ArchSpec, file?: string): void {
  const get = (path: string) =>
    path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], spec);
  const errs: InputError[] = [];
  const err = (path: string, msg: string, expected: string) =>
    errs.push(located(msg, { file, path, expected, found: JSON.stringify(get(path)) }));
  for (const [path, bound, msg] of AT_MOST) {
    // SpikeSim accounting reads all rows of a crossbar at once and does not use rows_parallel.
    if (path === 'crossbar.rows_parallel' && spec.accounting === 'spikesim') continue;
    const [v, max] = [get(path) as number, get(bound) as number];
    if (path === 'crossbar.lrs_ohm' ? v >= max : v > max)
      err(path, msg, `${path === 'crossbar.lrs_ohm' ? '<' : 'at most'} ${max} (${bound})`);
  }
  if (spec.accounting === 'spikesim') {
    if (spec.mapping.scheme !== 'kernel-position')
      err('mapping.scheme', 'SpikeSim accounting needs its mapping', '"kernel-position"');
    if (spec.mapping.tile_packing !== 'packed')
      err('mapping.tile_packing', 'SpikeSim accounting needs its tile packing', '"packed"');
    if (spec.adc.columns_per_adc !== SPIKESIM_COLUMNS_PER_ADC)
      err(
        'adc.columns_per_adc',
        'SpikeSim accounting fixes 8 columns per ADC (x/8 ADCs per PE, x/8 mux rounds)',
        String(SPIKESIM_COLUMNS_PER_ADC),
      );
    else if (spec.crossbar.columns % SPIKESIM_COLUMNS_PER_ADC !== 0)
      err(
        'crossbar.columns',
        'SpikeSim accounting needs whole ADC groups',
        `a multiple of ${SPIKESIM_COLUMNS_PER_ADC}`,
      );
  }
  if (errs.length > 0) throw errs.length === 1 ? errs[0] : new InputErrors(errs);
}

/** Parses, overrides, validates and checks an arch config given as text. */
export function parseArch(text: string, file: string, overrides: readonly Override[] = []): ArchSpec {
  const plain = applyOverrides(parseYamlPlain(text, file), overrides);
  const spec = validatePlain(plain, ArchSchema, { text, file, overridden: overrides.map((o) => o.path) });
  checkArch(spec, file);
  return spec;
}

export function loadArch(file: string, overrides: readonly Override[] = []): ArchSpec {
  return parseArch(readTextFile(file), file, overrides);
}
