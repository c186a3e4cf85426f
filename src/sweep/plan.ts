/**
 * From a sweep spec to its points: the base arch config (with `set`), every combination of the arch axes
 * (made with immer through the same override machinery as `--set`, validated like any config), times every
 * algorithm point (policy × θ × T). Each point gets a content-hash id: sha256 of the canonical JSON of its
 * inputs (validated arch config, workload content hash, algorithm, mode, imcsim version).
 *
 * Every invalid point is found here, before anything runs, and reported with its axis values.
 */
import { basename, dirname, relative, resolve } from 'node:path';
import type { SpikeRatesSpec } from '../network/rates.js';
import { SpikeRatesSchema } from '../network/rates.js';
import { InputError, InputErrors, located } from '../util/errors.js';
import { applyOverrides, checkArch, readTextFile, type Override } from '../config/load.js';
import { ArchSchema, type ArchSpec } from '../config/schema.js';
import { loadYaml, parseYamlPlain, validatePlain } from '../util/yaml-loader.js';
import { loadNetwork } from '../network/load.js';
import { loadModel } from '../snn/model.js';
import { chipArithmeticHash } from '../snn/chip-arith.js';
import { TraceReader } from '../trace/format.js';
import { VERSION } from '../util/version.js';
import { canonicalJson, contentId, sha256File, sha256Hex } from './hash.js';
import { modelHash } from './evaluate.js';
import {
  CYCLE_ONLY_METRICS,
  MAX_POINTS,
  METRICS,
  SpecLocator,
  type MetricName,
  type Scalar,
  type SweepSpec,
} from './spec.js';
import type { Algorithm, ArtifactTask, PointTask, SweepPoint, WorkloadRef } from './types.js';
import { THETA } from '../snn/policies/theta.js';

/** One axis of the sweep: an arch config path or an algorithm parameter, with its values in order. */
export interface PlanAxis {
  name: string;
  kind: 'arch' | 'algorithm';
  values: Array<Scalar | null>;
}

export interface SweepPlan {
  spec: SweepSpec;
  version: string;
  workload: WorkloadRef;
  /** Arch axes (as written), then policy, theta, timesteps (always present; one value when not swept). */
  axes: PlanAxis[];
  metrics: MetricName[];
  /** Columns of sweep.csv: id, axis columns, metric columns. */
  columns: string[];
  points: SweepPoint[];
  /** Distinct traces the points need, by key, in first-use order. */
  artifacts: ArtifactTask[];
  /** The workload's file or folder relative to the spec's folder (for reports: independent of the cwd). */
  workloadPath: string;
}

/** Columns for the algorithm parameters (always written, also when not swept). */
export const ALGORITHM_COLUMNS = ['policy', 'theta', 'timesteps'] as const;

const MAX_REPORTED_POINTS = 10;

/** The identity of a workload in ids and trace keys: its content, never where its files are. */
export function workloadIdentity(w: WorkloadRef): Record<string, unknown> {
  switch (w.kind) {
    case 'network':
      return { kind: w.kind, hash: w.hash, rates: w.rates, samples: w.samples, seed: w.seed };
    case 'model':
      return {
        kind: w.kind,
        hash: w.hash,
        dataset: w.dataset,
        split: w.split,
        samples: w.samples,
        seed: w.seed,
        ...(w.arithmetic === 'chip' ? { arithmetic: 'chip' } : {}),
      };
    case 'trace':
      return { kind: w.kind, hash: w.hash, samples: w.samples };
  }
}

/** Point id: short sha256 of the canonical JSON of everything the point's result depends on. */
export function pointId(
  mode: string,
  arch: ArchSpec,
  workload: WorkloadRef,
  algorithm: Algorithm,
  version = VERSION,
): string {
  return contentId({ imcsim: version, mode, arch, workload: workloadIdentity(workload), algorithm });
}

/** Key of the trace of one algorithm point (shared by every hardware point). */
export function artifactKey(
  workload: WorkloadRef,
  algorithm: Algorithm,
  version = VERSION,
  arithmeticHash?: string,
): string {
  return sha256Hex(
    canonicalJson({
      imcsim: version,
      workload: workloadIdentity(workload),
      algorithm,
      // Chip arithmetic: one trace per distinct arithmetic (chipArithmeticHash), shared by its points.
      ...(arithmeticHash !== undefined ? { arithmetic: arithmeticHash } : {}),
    }),
  ).slice(0, 24);
}

async function resolveWorkload(
  spec: SweepSpec,
  loc: SpecLocator,
): Promise<{ ref: WorkloadRef; defaultT: number; traceAlgorithm?: Algorithm; labelled: boolean }> {
  const w = spec.workload;
  const rel = (p: string) => relative(process.cwd(), p) || '.';
  switch (w.kind) {
    case 'network': {
      const net = loadNetwork(w.network);
      let rates: SpikeRatesSpec | number | null = null;
      if (w.rate !== undefined) rates = w.rate;
      else if (w.rates !== undefined) rates = loadYaml(readTextFile(w.rates), w.rates, SpikeRatesSchema);
      if (spec.mode === 'cycle' && rates === null)
        throw loc.error(
          'cycle mode replays a synthetic trace of the network: give rate or rates',
          ['workload'],
          {
            expected: 'workload.rate (e.g. 0.1) or workload.rates (a spike-rates file)',
          },
        );
      const network = JSON.parse(JSON.stringify(net.spec)) as typeof net.spec;
      return {
        ref: {
          kind: 'network',
          network,
          hash: sha256Hex(canonicalJson(network)),
          rates,
          samples: w.samples,
          seed: w.seed,
        },
        defaultT: net.spec.timesteps,
        labelled: false,
      };
    }
    case 'model': {
      const model = loadModel(w.model);
      return {
        ref: {
          kind: 'model',
          dir: w.model,
          rel: rel(w.model),
          hash: modelHash(w.model),
          dataset: w.dataset,
          split: w.split,
          data_dir: w.data_dir ?? null,
          samples: w.samples,
          seed: w.seed,
          ...(w.arithmetic === 'chip' ? { arithmetic: 'chip' as const } : {}),
        },
        defaultT: model.spec.timesteps,
        labelled: true,
      };
    }
    case 'trace': {
      if (spec.mode !== 'cycle')
        throw loc.error('a trace workload is replayed: it needs mode: cycle', ['mode'], {
          expected: '"cycle"',
          found: JSON.stringify(spec.mode),
        });
      const reader = await TraceReader.open(w.trace);
      const h = reader.header;
      await reader.close();
      return {
        ref: {
          kind: 'trace',
          file: w.trace,
          rel: rel(w.trace),
          hash: await sha256File(w.trace),
          samples: w.samples ?? null,
        },
        defaultT: h.policy.timesteps,
        traceAlgorithm: {
          policy: h.policy.name,
          theta: h.policy.theta ?? null,
          timesteps: h.policy.timesteps,
        },
        labelled: !h.synthetic && h.dataset !== null,
      };
    }
  }
}

function algorithmPoints(
  spec: SweepSpec,
  loc: SpecLocator,
  defaultT: number,
  traceAlgorithm: Algorithm | undefined,
): Algorithm[] {
  const a = spec.algorithm;
  const kind = spec.workload.kind;
  if (kind === 'trace') {
    const given = (['policy', 'theta', 'timesteps'] as const).find((k) => a[k] !== undefined);
    if (given)
      throw loc.error(
        'a recorded trace fixes policy, θ and timesteps: no algorithm axes',
        ['algorithm', given],
        {
          expected: 'a model workload to sweep the algorithm',
        },
      );
    return [traceAlgorithm!];
  }
  const policies = a.policy ?? ['static'];
  if (kind === 'network') {
    if (a.theta !== undefined)
      throw loc.error('θ sets when the model exits: it needs a model workload', ['algorithm', 'theta'], {
        expected: 'workload.model and workload.dataset',
      });
    if (spec.mode === 'cycle' && policies.includes('entropy'))
      throw loc.error(
        'a synthetic trace has no exit decision: the entropy policy needs a model workload in cycle mode',
        ['algorithm', 'policy'],
        { expected: '"static" (or a model workload)' },
      );
  }
  if (a.theta !== undefined && !policies.includes('entropy'))
    throw loc.error('θ is used by the entropy policy only', ['algorithm', 'theta'], {
      expected: 'algorithm.policy including "entropy"',
    });
  // θ means nothing without an exit decision (analytic over a topology: the entropy unit just runs).
  const thetas: Array<number | null> = kind === 'network' ? [null] : (a.theta ?? [THETA.default]);
  const Ts = a.timesteps ?? [defaultT];
  const out: Algorithm[] = [];
  for (const policy of policies)
    for (const theta of policy === 'entropy' ? thetas : [null])
      for (const timesteps of Ts) out.push({ policy, theta, timesteps });
  return out;
}

function chooseMetrics(spec: SweepSpec, loc: SpecLocator, labelled: boolean): MetricName[] {
  const exits = spec.workload.kind !== 'network';
  if (!spec.metrics) {
    const m: MetricName[] = ['energy_per_sample_j', 'latency_per_sample_s', 'edp_per_sample_js', 'area_m2'];
    if (labelled) m.push('accuracy');
    if (exits) m.push('avg_timesteps');
    return m;
  }
  const seen = new Set<MetricName>();
  spec.metrics.forEach((m, i) => {
    if (seen.has(m)) throw loc.error('metric listed twice', ['metrics', i], { found: JSON.stringify(m) });
    seen.add(m);
    if (CYCLE_ONLY_METRICS.has(m) && spec.mode !== 'cycle')
      throw loc.error(`${m} is measured by the cycle-level replay only`, ['metrics', i], {
        expected: 'mode: cycle, or another metric',
      });
    if (m === 'accuracy' && !labelled)
      throw loc.error(
        'accuracy needs labelled samples: a model workload, or a trace recorded from one',
        ['metrics', i],
        {
          expected: `one of ${METRICS.filter((x) => x !== 'accuracy').join(', ')}`,
        },
      );
  });
  return [...spec.metrics];
}

type Checked = { ok: true; spec: ArchSpec } | { ok: false; errors: InputError[] };

function checkPlain(plain: unknown): Checked {
  try {
    const spec = validatePlain(plain, ArchSchema);
    checkArch(spec);
    return { ok: true, spec };
  } catch (e) {
    if (e instanceof InputErrors) return { ok: false, errors: e.errors };
    if (e instanceof InputError) return { ok: false, errors: [e] };
    throw e;
  }
}

const covers = (axisPath: string, errPath: string | undefined) =>
  errPath !== undefined &&
  (errPath === axisPath || errPath.startsWith(axisPath + '.') || errPath.startsWith(axisPath + '['));

function describeValues(values: Record<string, Scalar | null>): string {
  return Object.entries(values)
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');
}

/** Resolves the workload, expands the axes and builds every point; throws InputError(s) for invalid points. */
export async function planSweep(spec: SweepSpec): Promise<SweepPlan> {
  const loc = new SpecLocator(spec.file, spec.text);
  const archText = readTextFile(spec.arch);
  const basePlain = parseYamlPlain(archText, spec.arch);

  // The base with `set`: problems with a set value are located at that value in the spec.
  const setOverrides: Override[] = Object.entries(spec.set).map(([path, value]) => ({ path, value }));
  const withSet = applyOverrides(basePlain, setOverrides);
  const base = checkPlain(withSet);
  if (!base.ok) {
    const errs = base.errors.map((e) => {
      const set = setOverrides.find((o) => covers(o.path, e.path));
      return set ? loc.error(`set value rejected: ${e.message}`, ['set', set.path]) : e;
    });
    if (errs.every((e, i) => e === base.errors[i])) {
      // Not caused by `set`: the arch file itself is invalid; report it located in that file.
      checkArch(validatePlain(withSet, ArchSchema, { text: archText, file: spec.arch }), spec.arch);
    }
    throw errs.length === 1 ? errs[0] : new InputErrors(errs);
  }

  // Each axis value alone: a value the schema rejects is reported at that value in the spec.
  const axisErrors: InputError[] = [];
  for (const axis of spec.axes) {
    for (let i = 0; i < axis.values.length; i++) {
      const r = checkPlain(applyOverrides(withSet, [{ path: axis.path, value: axis.values[i] }]));
      if (r.ok) continue;
      const own = r.errors.find((e) => covers(axis.path, e.path));
      if (own) {
        axisErrors.push(
          loc.error(
            `axis value ${JSON.stringify(axis.values[i])} is not a valid ${axis.path}: ${own.message}`,
            ['axes', axis.path, i],
          ),
        );
        break;
      }
    }
  }
  if (axisErrors.length) throw axisErrors.length === 1 ? axisErrors[0] : new InputErrors(axisErrors);

  const wl = await resolveWorkload(spec, loc);
  const algorithms = algorithmPoints(spec, loc, wl.defaultT, wl.traceAlgorithm);
  const metrics = chooseMetrics(spec, loc, wl.labelled);

  const hwCount = spec.axes.reduce((n, a) => n * a.values.length, 1);
  const total = hwCount * algorithms.length;
  if (total > MAX_POINTS)
    throw loc.error(`the sweep has ${total} points, more than the limit of ${MAX_POINTS}`, ['axes'], {
      expected: `at most ${MAX_POINTS} points`,
      found: `${total}`,
    });

  const needsTrace = spec.mode === 'cycle' ? wl.ref.kind !== 'trace' : wl.ref.kind === 'model';
  const artifacts = new Map<string, ArtifactTask>();
  const onChip = wl.ref.kind === 'model' && wl.ref.arithmetic === 'chip';
  const archName = basename(spec.arch).replace(/\.ya?ml$/i, '');
  // Chip arithmetic: the trace of an algorithm point on a chip, keyed by the chip's arithmetic hash.
  const chipArtifact = (alg: Algorithm, arch: ArchSpec): ArtifactTask => {
    const h = chipArithmeticHash(arch);
    const key = artifactKey(wl.ref, alg, VERSION, h);
    if (!artifacts.has(key))
      artifacts.set(key, {
        key,
        workload: wl.ref,
        algorithm: alg,
        chip: { arch, name: archName, arithmetic_hash: h },
      });
    return artifacts.get(key)!;
  };
  const artifactOf = algorithms.map((alg) => {
    if (!needsTrace || onChip) return null;
    const key = artifactKey(wl.ref, alg);
    if (!artifacts.has(key)) artifacts.set(key, { key, workload: wl.ref, algorithm: alg });
    return artifacts.get(key)!;
  });

  // Stated in the spec (model workloads): sweep.csv says whose arithmetic computed each point's spikes.
  const traceArithmetic = spec.workload.kind === 'model' ? spec.workload.arithmetic : undefined;
  const points: SweepPoint[] = [];
  const invalid: string[] = [];
  let invalidCount = 0;
  const ids = new Map<string, number>();
  const idx = new Array<number>(spec.axes.length).fill(0);
  for (let hw = 0; hw < hwCount; hw++) {
    const overrides: Override[] = spec.axes.map((a, k) => ({ path: a.path, value: a.values[idx[k]] }));
    const hwValues: Record<string, Scalar | null> = {};
    for (const o of overrides) hwValues[o.path] = o.value as Scalar;
    const checked = checkPlain(applyOverrides(withSet, overrides));
    if (!checked.ok) {
      invalidCount += algorithms.length;
      if (invalid.length < MAX_REPORTED_POINTS)
        invalid.push(
          `point ${points.length + invalidCount - algorithms.length} (${describeValues(hwValues) || 'base'}): ${checked.errors
            .map((e) => e.message)
            .join('; ')}`,
        );
    } else {
      algorithms.forEach((alg, a) => {
        const values: Record<string, Scalar | null> = {
          ...hwValues,
          policy: alg.policy,
          theta: alg.theta,
          timesteps: alg.timesteps,
          ...(traceArithmetic !== undefined ? { trace_arithmetic: traceArithmetic } : {}),
        };
        const id = pointId(spec.mode, checked.spec, wl.ref, alg);
        const index = points.length + invalidCount;
        if (ids.has(id))
          throw loc.error(
            `points ${ids.get(id)} and ${index} (${describeValues(values)}) are the same configuration`,
            ['axes'],
            { expected: 'axes that change the configuration' },
          );
        ids.set(id, index);
        const task: PointTask = {
          version: VERSION,
          id,
          mode: spec.mode,
          arch: checked.spec,
          workload: wl.ref,
          algorithm: alg,
          artifact: onChip ? chipArtifact(alg, checked.spec) : artifactOf[a],
          metrics,
        };
        points.push({ index, id, values, task });
      });
    }
    for (let k = spec.axes.length - 1; k >= 0; k--) {
      if (++idx[k] < spec.axes[k].values.length) break;
      idx[k] = 0;
    }
  }
  if (invalidCount > 0) {
    const more = invalidCount / algorithms.length - invalid.length;
    const where = loc.where(['axes']);
    throw new InputErrors([
      ...invalid.map((m) => located(`invalid sweep ${m}`, { ...where, path: 'axes' })),
      ...(more > 0
        ? [located(`… and ${more} more invalid arch combinations`, { ...where, path: 'axes' })]
        : []),
    ]);
  }

  const axes: PlanAxis[] = [
    ...spec.axes.map((a) => ({
      name: a.path,
      kind: 'arch' as const,
      values: a.values as Array<Scalar | null>,
    })),
    ...(['policy', 'theta', 'timesteps'] as const).map((name) => ({
      name,
      kind: 'algorithm' as const,
      values: [...new Set(algorithms.map((x) => x[name]))],
    })),
  ];
  return {
    spec,
    version: VERSION,
    workload: wl.ref,
    axes,
    metrics,
    columns: [
      'id',
      ...spec.axes.map((a) => a.path),
      ...ALGORITHM_COLUMNS,
      ...(traceArithmetic !== undefined ? ['trace_arithmetic'] : []),
      ...metrics,
    ],
    points,
    artifacts: [...artifacts.values()],
    workloadPath:
      wl.ref.kind === 'network'
        ? relative(dirname(resolve(spec.file)), (spec.workload as { network: string }).network)
        : relative(dirname(resolve(spec.file)), wl.ref.kind === 'model' ? wl.ref.dir : wl.ref.file),
  };
}
