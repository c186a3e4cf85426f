/**
 * The sweep spec: a YAML file naming a base arch config, a workload (a network topology with a synthetic
 * spike rate, a trained model with a dataset, or a recorded trace), axes over dotted arch config paths and
 * over algorithm parameters (policy, θ, T), the metrics to collect and the mode (analytic | cycle).
 *
 * Loaded with the same YAML loader as arch configs, so every problem is an InputError located at
 * file:line:column with the dotted path, what was expected and what was found. docs/SWEEPS.md documents
 * every key.
 */
import { dirname, resolve } from 'node:path';
import { LineCounter, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Node as YamlNode } from 'yaml';
import { z } from 'zod';
import { located, type Where } from '../util/errors.js';
import { pathProblem, readTextFile } from '../config/load.js';
import { loadYaml } from '../util/yaml-loader.js';
import { DATASET_NAMES, DATASET_SPLITS } from '../snn/data/dataset.js';

export const SWEEP_MODES = ['analytic', 'cycle'] as const;
export type SweepMode = (typeof SWEEP_MODES)[number];

export const SWEEP_POLICIES = ['static', 'entropy'] as const;
export type SweepPolicy = (typeof SWEEP_POLICIES)[number];

/**
 * Every metric a sweep can collect, with its unit in its name. Order here is the column order of
 * sweep.csv (the spec's `metrics` list selects a subset, written in this order).
 */
export const METRICS = [
  'energy_per_sample_j',
  'dynamic_energy_per_sample_j',
  'leakage_energy_per_sample_j',
  'latency_per_sample_s',
  'edp_per_sample_js',
  'area_m2',
  'accuracy',
  'avg_timesteps',
  'crossbars',
  'tiles',
  'wasted_energy_per_sample_j',
  'noc_max_link_utilisation',
] as const;
export type MetricName = (typeof METRICS)[number];

/** Metrics only a cycle-level replay produces. */
export const CYCLE_ONLY_METRICS: ReadonlySet<MetricName> = new Set([
  'wasted_energy_per_sample_j',
  'noc_max_link_utilisation',
]);

export const METRIC_DESCRIPTIONS: Record<MetricName, string> = {
  energy_per_sample_j: 'energy of one inference (dynamic + leakage), mean over samples (J)',
  dynamic_energy_per_sample_j: 'dynamic energy of one inference (J)',
  leakage_energy_per_sample_j: 'leakage energy of one inference (J)',
  latency_per_sample_s: 'latency of one inference, mean over samples (s)',
  edp_per_sample_js: 'energy × latency per inference (J·s)',
  area_m2: 'chip area (m²)',
  accuracy: 'fraction of samples classified correctly (model workloads; empty when unknown)',
  avg_timesteps: 'mean timesteps run before the exit decision',
  crossbars: 'crossbars the network is mapped onto',
  tiles: 'tiles the network is mapped onto',
  wasted_energy_per_sample_j:
    'cycle mode: energy of pipelined work cancelled by an early exit, per inference (J)',
  noc_max_link_utilisation: 'cycle mode: busiest NoC link, fraction of the simulated time',
};

/** Most points one sweep may have (a typo such as step 0.0001 should not start a million runs). */
export const MAX_POINTS = 100_000;

const scalar = z.union([z.number().finite(), z.string(), z.boolean()]);
const range = z
  .strictObject({
    from: z.number().finite().meta({ description: 'first value' }),
    to: z.number().finite().meta({ description: 'last value (included when reached)' }),
    step: z
      .number()
      .finite()
      .refine((s) => s !== 0, { message: 'step must not be 0', params: { expected: 'a non-zero number' } })
      .meta({ description: 'increment (negative to count down)' }),
  })
  .meta({ description: 'range {from, to, step}' });
const valuesOf = <T extends z.ZodType>(item: T) => z.strictObject({ values: z.array(item).min(1) });

const axisValues = z.union([z.array(scalar).min(1), valuesOf(scalar), range]);
/** Dotted field path of an arch config key, checked as `--set` checks it (`adc.bits`; no `__proto__`). */
const pathKey = z.string().superRefine((p, ctx) => {
  const problem = pathProblem(p);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const policy = z.enum(SWEEP_POLICIES);
const theta = z.number().min(0).max(1);
const timesteps = z.number().int().min(1).max(65535);

const NetworkWorkload = z.strictObject({
  network: z.string().min(1).meta({ description: 'network topology: YAML file or model directory' }),
  rate: z.number().min(0).max(1).optional().meta({ description: 'one input spike rate for every layer' }),
  rates: z.string().min(1).optional().meta({ description: 'spike-rates file (YAML/JSON)' }),
  samples: z.number().int().min(1).default(16),
  seed: z.number().int().min(0).max(0xffffffff).default(1),
});
const ModelWorkload = z.strictObject({
  model: z.string().min(1).meta({ description: 'model directory (network.yaml + weights.safetensors)' }),
  dataset: z
    .string()
    .refine(
      (v) =>
        (DATASET_NAMES as readonly string[]).includes(v) ||
        /^(npz|npy|idx|cifar10|cifar100|events):.+/.test(v),
      {
        message: `a bundled dataset (${DATASET_NAMES.join(', ')}) or FORMAT:PATH with FORMAT one of npz, npy, idx, cifar10, cifar100, events (PATH relative to this file)`,
      },
    )
    .meta({ description: 'dataset: a bundled name or FORMAT:PATH (docs/DATASETS.md)' }),
  split: z.enum(DATASET_SPLITS as unknown as [string, ...string[]]).default('test'),
  data_dir: z.string().min(1).optional(),
  samples: z.number().int().min(1).default(16),
  seed: z.number().int().min(0).max(0xffffffff).default(0),
  arithmetic: z.enum(['float', 'chip']).optional().meta({
    description:
      "whose arithmetic computes the spikes: 'float' (the float engine, one trace per algorithm point; the default) or 'chip' (each point's trace is made on that point's chip, calibrated as eval --arch does, cached by the chip's arithmetic hash)",
  }),
});
const TraceWorkload = z.strictObject({
  trace: z.string().min(1).meta({ description: 'recorded spike trace (cycle mode)' }),
  samples: z.number().int().min(1).optional(),
});

export const SweepSpecSchema = z.strictObject({
  name: z.string().min(1).optional(),
  description: z.string().optional(),
  mode: z.enum(SWEEP_MODES),
  arch: z.string().min(1),
  set: z.record(pathKey, scalar).default({}),
  workload: z.union([NetworkWorkload, ModelWorkload, TraceWorkload]),
  axes: z.record(pathKey, axisValues).default({}),
  algorithm: z
    .strictObject({
      policy: z.union([policy, z.array(policy).min(1), valuesOf(policy)]).optional(),
      theta: z.union([theta, z.array(theta).min(1), valuesOf(theta), range]).optional(),
      timesteps: z.union([timesteps, z.array(timesteps).min(1), valuesOf(timesteps), range]).optional(),
    })
    .default({}),
  metrics: z.array(z.enum(METRICS)).min(1).optional(),
});
export type SweepSpecInput = z.output<typeof SweepSpecSchema>;

export type Scalar = number | string | boolean;

/** A sweep spec as loaded: validated, paths resolved against the spec's folder. */
export interface SweepSpec {
  /** The spec file and its text (kept to locate later problems). */
  file: string;
  text: string;
  name: string;
  description: string;
  mode: SweepMode;
  /** Absolute path of the base arch config. */
  arch: string;
  set: Record<string, Scalar>;
  workload:
    | { kind: 'network'; network: string; rate?: number; rates?: string; samples: number; seed: number }
    | {
        kind: 'model';
        model: string;
        dataset: string;
        split: string;
        data_dir?: string;
        samples: number;
        seed: number;
        /** Whose arithmetic computes the spikes; absent: float (and no trace_arithmetic column). */
        arithmetic?: 'float' | 'chip';
      }
    | { kind: 'trace'; trace: string; samples?: number };
  /** Arch axes in the order written: path → raw value list (ranges expanded later). */
  axes: Array<{ path: string; values: Scalar[] }>;
  algorithm: { policy?: SweepPolicy[]; theta?: number[]; timesteps?: number[] };
  /** Explicitly requested metrics (undefined: the defaults for the mode and workload). */
  metrics?: MetricName[];
}

/** Expands a list / {values} / {from, to, step} into values; ranges are rounded to 12 significant digits. */
export function expandValues(v: unknown): Scalar[] {
  if (Array.isArray(v)) return v as Scalar[];
  if (typeof v !== 'object' || v === null) return [v as Scalar];
  if ('values' in v) return (v as { values: Scalar[] }).values;
  const { from, to, step } = v as { from: number; to: number; step: number };
  const out: number[] = [];
  if ((to - from) * step < 0) return out;
  const n = Math.floor((to - from) / step + 1e-9);
  if (n + 1 > MAX_POINTS) return new Array<number>(MAX_POINTS + 1).fill(from);
  for (let i = 0; i <= n; i++) out.push(Number((from + i * step).toPrecision(12)));
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Locating problems found after schema validation
// ---------------------------------------------------------------------------------------------------------

/** Finds file:line:column of a path (keys and list indices) in YAML text, for errors found after validation. */
export class SpecLocator {
  private readonly lc = new LineCounter();
  private readonly doc;
  constructor(
    readonly file: string,
    text: string,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lc, uniqueKeys: false });
  }

  /** Where the value at `path` starts (or its key, or the nearest existing parent). */
  where(path: ReadonlyArray<string | number>, extra: Omit<Where, 'file' | 'line' | 'column'> = {}): Where {
    let node: unknown = this.doc.contents;
    let offset: number | undefined = rangeStart(node);
    for (const seg of path) {
      let next: unknown = undefined;
      let keyOffset: number | undefined;
      if (isMap(node)) {
        for (const pair of node.items) {
          const k = isScalar(pair.key) ? pair.key.value : pair.key;
          if (String(k) === String(seg)) {
            next = pair.value;
            keyOffset = rangeStart(pair.key);
            break;
          }
        }
      } else if (isSeq(node) && typeof seg === 'number') next = node.items[seg];
      if (next === undefined && keyOffset === undefined) break;
      node = next;
      offset = rangeStart(next) ?? keyOffset ?? offset;
    }
    const pos = offset === undefined ? undefined : this.lc.linePos(offset);
    return { file: this.file, ...(pos ? { line: pos.line, column: pos.col } : {}), ...extra };
  }

  error(
    message: string,
    path: ReadonlyArray<string | number>,
    extra: Omit<Where, 'file' | 'line' | 'column'> = {},
  ) {
    return located(message, this.where(path, { path: formatSpecPath(path), ...extra }));
  }
}

function rangeStart(node: unknown): number | undefined {
  const r = (node as YamlNode | null | undefined)?.range;
  return Array.isArray(r) ? r[0] : undefined;
}

/** `axes["adc.bits"][2]`, `algorithm.theta`. */
export function formatSpecPath(path: ReadonlyArray<string | number>): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_][\w-]*$/.test(seg)) out += (out ? '.' : '') + seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------------------

const asList = <T>(v: T | T[] | { values: T[] } | undefined): T[] | undefined =>
  v === undefined ? undefined : (expandValues(v) as T[]);

/** Parses and validates sweep spec text; relative paths are resolved against the spec file's folder. */
export function parseSweepSpec(text: string, file: string): SweepSpec {
  const raw = loadYaml(text, file, SweepSpecSchema);
  const loc = new SpecLocator(file, text);
  const base = dirname(resolve(file));
  const abs = (p: string) => resolve(base, p);
  const w = raw.workload as Record<string, unknown>;
  let workload: SweepSpec['workload'];
  if (typeof w.network === 'string') {
    if (w.rate !== undefined && w.rates !== undefined)
      throw loc.error('give either rate or rates, not both', ['workload', 'rates']);
    workload = {
      kind: 'network',
      network: abs(w.network),
      ...(w.rate !== undefined ? { rate: w.rate as number } : {}),
      ...(w.rates !== undefined ? { rates: abs(w.rates as string) } : {}),
      samples: w.samples as number,
      seed: w.seed as number,
    };
  } else if (typeof w.model === 'string') {
    workload = {
      kind: 'model',
      model: abs(w.model),
      // FORMAT:PATH: the path is relative to the spec's folder, like every other path in it.
      dataset: /^[a-z0-9]+:/.test(w.dataset as string)
        ? (w.dataset as string).replace(/^([a-z0-9]+):(.+)$/, (_m, f: string, p: string) => `${f}:${abs(p)}`)
        : (w.dataset as string),
      split: w.split as string,
      ...(w.data_dir !== undefined ? { data_dir: abs(w.data_dir as string) } : {}),
      samples: w.samples as number,
      seed: w.seed as number,
      ...(w.arithmetic !== undefined ? { arithmetic: w.arithmetic as 'float' | 'chip' } : {}),
    };
  } else {
    workload = {
      kind: 'trace',
      trace: abs(w.trace as string),
      ...(w.samples !== undefined ? { samples: w.samples as number } : {}),
    };
  }

  const axes: SweepSpec['axes'] = [];
  for (const [path, v] of Object.entries(raw.axes)) {
    const values = expandValues(v);
    if (values.length === 0)
      throw loc.error('range is empty', ['axes', path], {
        expected: 'from and to in the direction of step',
        found: JSON.stringify(v),
      });
    checkAxisList(loc, ['axes', path], values);
    if (path in raw.set)
      throw loc.error('this path is both swept and set', ['set', path], {
        expected: 'a path in either axes or set',
      });
    axes.push({ path, values });
  }

  const alg = raw.algorithm;
  const algorithm: SweepSpec['algorithm'] = {};
  for (const key of ['policy', 'theta', 'timesteps'] as const) {
    const list = asList(alg[key] as Scalar | Scalar[] | undefined);
    if (list === undefined) continue;
    if (list.length === 0)
      throw loc.error('range is empty', ['algorithm', key], {
        expected: 'from and to in the direction of step',
      });
    checkAxisList(loc, ['algorithm', key], list);
    if (key === 'theta')
      list.forEach((t, i) => {
        if (!(typeof t === 'number' && t >= 0 && t <= 1))
          throw loc.error('θ must be in [0, 1]', ['algorithm', key, i], { found: String(t) });
      });
    if (key === 'timesteps')
      list.forEach((t, i) => {
        if (!(typeof t === 'number' && Number.isInteger(t) && t >= 1 && t <= 65535))
          throw loc.error('timesteps must be integers in 1..65535', ['algorithm', key, i], {
            found: String(t),
          });
      });
    (algorithm as Record<string, Scalar[]>)[key] = list;
  }

  return {
    file,
    text,
    name: raw.name ?? file.replace(/^.*[\\/]/, '').replace(/\.ya?ml$/i, ''),
    description: raw.description ?? '',
    mode: raw.mode,
    arch: abs(raw.arch),
    set: { ...raw.set },
    workload,
    axes,
    algorithm,
    ...(raw.metrics ? { metrics: [...raw.metrics] } : {}),
  };
}

function checkAxisList(loc: SpecLocator, path: Array<string | number>, values: Scalar[]): void {
  if (values.length > MAX_POINTS)
    throw loc.error(`axis has more than ${MAX_POINTS} values`, path, { found: `${values.length}` });
  const seen = new Map<string, number>();
  values.forEach((v, i) => {
    const k = JSON.stringify(v);
    if (seen.has(k))
      throw loc.error('duplicate axis value (every point would run twice)', [...path, i], {
        found: `${k}, also item ${seen.get(k)}`,
      });
    seen.set(k, i);
  });
}

export function loadSweepSpec(file: string): SweepSpec {
  return parseSweepSpec(readTextFile(file), file);
}
