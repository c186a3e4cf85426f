/**
 * Computing one point: the same function runs in the main thread, in a local worker thread and in a Redis
 * worker, so a point's metrics do not depend on where it ran.
 *
 *   analytic, topology  estimate() with the workload's spike rates (or every input active)
 *   analytic, model     the closed form over the model's trace of the algorithm point (engine, cached):
 *                       estimateFromTrace() — its per-step activity on the chip, its exit distribution —
 *                       and the trace's accuracy (SpikeSim accounting: the expectation of estimate() over
 *                       the exit timesteps with the trace's spike rates, SpikeSim's own rate-based rule)
 *   cycle               simulateTrace() of the algorithm point's trace (engine or synthetic, cached) or of the
 *                       recorded trace
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { estimate, type EstimateResult } from '../analytic/estimate.js';
import type { SpikeRatesSpec } from '../network/rates.js';
import type { ExitPolicy } from '../chip/workload.js';
import { InputError, located } from '../util/errors.js';
import { checkArch } from '../config/load.js';
import { ArchSchema, type ArchSpec } from '../config/schema.js';
import { validatePlain } from '../util/yaml-loader.js';
import { mapNetwork } from '../chip/mapping.js';
import { inferShapes } from '../network/shapes.js';
import { simulateTrace } from '../replay/simulate.js';
import { estimateFromTrace } from '../replay/trace-estimate.js';
import { loadDataset, type DatasetSplit } from '../snn/data/dataset.js';
import { loadModel, type SnnModel } from '../snn/model.js';
import { traceModel } from '../snn/run.js';
import { TraceReader } from '../trace/format.js';
import { generateSyntheticTrace } from '../trace/synthetic.js';
import type { TracePolicy } from '../trace/types.js';
import { VERSION } from '../util/version.js';
import { sha256File, sha256Hex } from './hash.js';
import type { MetricName } from './spec.js';
import type { ArtifactTask, PointMetrics, PointTask, WorkloadRef } from './types.js';
import { THETA } from '../snn/policies/theta.js';

/** sha256 over a model's network.yaml and weights.safetensors. */
export function modelHash(dir: string): string {
  const read = (f: string) => {
    try {
      return readFileSync(join(dir, f));
    } catch {
      throw located(`model file missing`, { file: join(dir, f) });
    }
  };
  return sha256Hex(sha256Hex(read('network.yaml')) + sha256Hex(read('weights.safetensors')));
}

/** The file on this machine: the submitter's absolute path, else its path relative to our working folder. */
function findLocal(abs: string, rel: string, what: string): string {
  if (existsSync(abs)) return abs;
  const r = resolve(rel);
  if (existsSync(r)) return r;
  throw located(`${what} not found on this machine (tried ${abs} and ${r})`, { file: abs });
}

const models = new Map<string, SnnModel>();
function verifiedModel(w: Extract<WorkloadRef, { kind: 'model' }>): { dir: string; model: SnnModel } {
  const dir = findLocal(w.dir, w.rel, 'model');
  const key = `${dir}\0${w.hash}`;
  let model = models.get(key);
  if (!model) {
    const h = modelHash(dir);
    if (h !== w.hash)
      throw located('the model here differs from the submitter’s (content hash mismatch)', {
        file: dir,
        expected: w.hash.slice(0, 16),
        found: h.slice(0, 16),
      });
    model = loadModel(dir);
    models.set(key, model);
  }
  return { dir, model };
}

const fileHashes = new Map<string, { size: number; mtimeMs: number; hash: string }>();
async function verifiedTrace(w: Extract<WorkloadRef, { kind: 'trace' }>): Promise<string> {
  const file = findLocal(w.file, w.rel, 'trace');
  const st = statSync(file);
  let c = fileHashes.get(file);
  if (!c || c.size !== st.size || c.mtimeMs !== st.mtimeMs) {
    c = { size: st.size, mtimeMs: st.mtimeMs, hash: await sha256File(file) };
    fileHashes.set(file, c);
  }
  if (c.hash !== w.hash)
    throw located('the trace here differs from the submitter’s (content hash mismatch)', {
      file,
      expected: w.hash.slice(0, 16),
      found: c.hash.slice(0, 16),
    });
  return file;
}

export function artifactPath(cacheDir: string, key: string): string {
  return join(cacheDir, `${key}.trace`);
}

function tracePolicy(alg: ArtifactTask['algorithm']): TracePolicy {
  return alg.policy === 'entropy'
    ? { name: 'entropy', timesteps: alg.timesteps, theta: alg.theta ?? THETA.default }
    : { name: 'static', timesteps: alg.timesteps };
}

/**
 * Makes the trace of an algorithm point in `cacheDir` unless it is there; returns its path. The trace
 * writers write beside the target and rename, so a trace is whole or absent, and two processes making the
 * same trace both write the same bytes.
 */
export async function ensureArtifact(task: ArtifactTask, cacheDir: string): Promise<string> {
  const out = artifactPath(cacheDir, task.key);
  if (existsSync(out)) return out;
  mkdirSync(cacheDir, { recursive: true });
  const w = task.workload;
  const alg = task.algorithm;
  if (w.kind === 'network') {
    await generateSyntheticTrace({
      network: w.network,
      rates: w.rates ?? 1,
      samples: w.samples,
      seed: w.seed,
      timesteps: alg.timesteps,
      out,
      model: w.network.name,
    });
  } else if (w.kind === 'model') {
    const { dir, model } = verifiedModel(w);
    const policy = tracePolicy(alg);
    const loadOpts = {
      dataDir: w.data_dir ?? undefined,
      timesteps: policy.name === 'layerwise' ? policy.layer_timesteps![0] : policy.timesteps,
    };
    const ds = loadDataset(w.dataset, w.split as DatasetSplit, loadOpts);
    // Chip arithmetic: calibrated as `eval --arch` is, on the first adc.calibration_samples training images.
    const chip = task.chip
      ? {
          spec: validatePlain(task.chip.arch, ArchSchema),
          name: task.chip.name,
          calibration: loadDataset(w.dataset, 'train', {
            ...loadOpts,
            limit: task.chip.arch.adc.calibration_samples,
          }),
        }
      : undefined;
    await traceModel(model, ds, {
      policy,
      seed: w.seed,
      samples: w.samples,
      modelName: basename(dir),
      out,
      chip,
    });
  } else {
    throw new Error('a recorded trace needs no artifact');
  }
  return out;
}

const mean = (x: number, n: number) => (n ? x / n : 0);

async function cyclePoint(task: PointTask, spec: ArchSpec, cacheDir: string): Promise<PointMetrics> {
  const w = task.workload;
  const path = w.kind === 'trace' ? await verifiedTrace(w) : await ensureArtifact(task.artifact!, cacheDir);
  const r = await simulateTrace(spec, path, {
    samples: w.kind === 'trace' ? (w.samples ?? undefined) : undefined,
  });
  const reader = await TraceReader.open(path);
  const network = reader.header.network;
  await reader.close();
  const mapping = mapNetwork(spec, inferShapes(network));
  const n = r.samples;
  return {
    energy_per_sample_j: r.energy_per_sample_j,
    dynamic_energy_per_sample_j: mean(r.dynamic_energy_j, n),
    leakage_energy_per_sample_j: mean(r.leakage_energy_j, n),
    latency_per_sample_s: r.latency_per_sample_s,
    edp_per_sample_js: r.edp_per_sample_js,
    area_m2: r.area_m2,
    accuracy: r.accuracy,
    avg_timesteps: r.avg_timesteps,
    crossbars: mapping.totalCrossbars,
    tiles: mapping.totalTiles,
    wasted_energy_per_sample_j: mean(r.wasted_j, n),
    noc_max_link_utilisation: r.noc.max_link_utilisation,
  };
}

function fromEstimates(parts: Array<{ weight: number; r: EstimateResult }>): PointMetrics {
  let e = 0;
  let dyn = 0;
  let leak = 0;
  let lat = 0;
  for (const { weight, r } of parts) {
    e += weight * r.energy_j;
    dyn += weight * r.dynamic_energy_j;
    leak += weight * r.leakage_energy_j;
    lat += weight * r.latency_s;
  }
  const r0 = parts[0].r;
  return {
    energy_per_sample_j: e,
    dynamic_energy_per_sample_j: dyn,
    leakage_energy_per_sample_j: leak,
    latency_per_sample_s: lat,
    edp_per_sample_js: e * lat,
    area_m2: r0.area_m2,
    crossbars: r0.mapping.crossbars,
    tiles: r0.mapping.tiles,
  };
}

async function analyticPoint(task: PointTask, spec: ArchSpec, cacheDir: string): Promise<PointMetrics> {
  const w = task.workload;
  const alg = task.algorithm;
  const policy = (alg.policy === 'entropy' ? 'entropy' : 'static') as ExitPolicy;
  if (w.kind === 'network') {
    const rates: SpikeRatesSpec | undefined =
      w.rates === null ? undefined : typeof w.rates === 'number' ? { default: w.rates, layers: {} } : w.rates;
    const r = estimate(spec, w.network, { timesteps: alg.timesteps, rates, policy });
    return { ...fromEstimates([{ weight: 1, r }]), avg_timesteps: alg.timesteps, accuracy: null };
  }
  // A model: the engine's trace says when samples exit and how active every layer is.
  const path = await ensureArtifact(task.artifact!, cacheDir);
  const reader = await TraceReader.open(path);
  const header = reader.header;
  let summary;
  try {
    summary = await reader.readSummary();
  } finally {
    await reader.close();
  }
  if (spec.accounting === 'imcsim') {
    const r = await estimateFromTrace(spec, path);
    return {
      energy_per_sample_j: r.energy_j,
      dynamic_energy_per_sample_j: r.dynamic_energy_j,
      leakage_energy_per_sample_j: r.leakage_energy_j,
      latency_per_sample_s: r.latency_s,
      edp_per_sample_js: r.energy_j * r.latency_s,
      area_m2: r.area_m2,
      crossbars: r.mapping.crossbars,
      tiles: r.mapping.tiles,
      accuracy: summary.accuracy,
      avg_timesteps: summary.avg_timesteps,
    };
  }
  const network = header.network; // the model's topology, as the engine recorded it
  const T = alg.timesteps;
  const layers: Record<string, number[]> = {};
  header.layers.forEach((l, i) => {
    const row = summary.spike_rate[i] ?? [];
    layers[l.name] = Array.from({ length: T }, (_, t) => {
      const v = row[t];
      return typeof v === 'number' && Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0;
    });
  });
  const n = summary.samples;
  const parts: Array<{ weight: number; r: EstimateResult }> = [];
  summary.exit_histogram.forEach((count, t) => {
    if (count > 0)
      parts.push({
        weight: count / n,
        r: estimate(spec, network, { timesteps: t + 1, rates: { layers }, policy }),
      });
  });
  if (parts.length === 0)
    parts.push({ weight: 1, r: estimate(spec, network, { timesteps: T, rates: { layers }, policy }) });
  return { ...fromEstimates(parts), accuracy: summary.accuracy, avg_timesteps: summary.avg_timesteps };
}

/** Computes one point; returns the requested metrics in the requested order. */
export async function evaluatePoint(task: PointTask, cacheDir: string): Promise<PointMetrics> {
  if (task.version !== VERSION)
    throw located(`this imcsim (${VERSION}) differs from the submitter’s (${task.version})`, {
      expected: `imcsim ${task.version}`,
      found: VERSION,
    });
  const spec = validatePlain(task.arch, ArchSchema);
  checkArch(spec);
  const all =
    task.mode === 'cycle'
      ? await cyclePoint(task, spec, cacheDir)
      : await analyticPoint(task, spec, cacheDir);
  const out: PointMetrics = {};
  for (const m of task.metrics) out[m] = all[m as MetricName] ?? null;
  return out;
}

/** What crosses a thread or process boundary instead of a thrown error (whose class would be lost). */
export type TaskOutcome<T> = { ok: true; value: T } | { ok: false; message: string; input: boolean };

export async function outcome<T>(f: () => Promise<T>): Promise<TaskOutcome<T>> {
  try {
    return { ok: true, value: await f() };
  } catch (e) {
    return {
      ok: false,
      message:
        e instanceof Error ? (e instanceof InputError ? e.message : (e.stack ?? e.message)) : String(e),
      input: e instanceof InputError,
    };
  }
}
