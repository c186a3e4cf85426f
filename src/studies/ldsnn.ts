/**
 * Study `ldsnn`: per-layer timesteps (LD-SNN, docs/SOURCES.md §1) against uniform T on the chip. Uniform
 * T = 1..4 of the shipped T=4 model, every accepted move of the shipped LD-SNN search
 * (models/mnist-convnet-ld/ldsnn-search.csv), each traced on real test images under the layerwise
 * policy and replayed cycle by cycle: synaptic updates, neurons evaluated, energy, latency.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { located } from '../util/errors.js';
import type { SimulationResult } from '../replay/simulate.js';
import type { TracePolicy } from '../trace/types.js';
import {
  chipAssumptions,
  fmt,
  modelPath,
  pct1,
  runMetrics,
  shownPath,
  StudyRunner,
  type CsvRow,
  type StudyOptions,
  type StudyResult,
} from './common.js';

export interface LdsnnStudyOptions extends StudyOptions {
  /** The uniform-T model (default models/mnist-convnet-t4). */
  model?: string;
  /** The LD-SNN search log (default models/mnist-convnet-ld/ldsnn-search.csv). */
  searchLog?: string;
}

/** Per-layer timestep vectors of an ldsnn-search.csv (column layer_timesteps, space-separated). */
export function readSearchLog(file: string): number[][] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw located('cannot read the LD-SNN search log', {
      file,
      expected: 'ldsnn-search.csv from imcsim ldsnn-search',
    });
  }
  const lines = text.trim().split('\n');
  const col = lines[0].split(',').indexOf('layer_timesteps');
  if (col < 0) throw located('no layer_timesteps column', { file, line: 1, found: lines[0] });
  return lines.slice(1).map((l, i) => {
    const v = l.split(',')[col].trim().split(/\s+/).map(Number);
    if (v.some((x) => !Number.isInteger(x) || x < 1))
      throw located('layer_timesteps must be positive integers', {
        file,
        line: i + 2,
        found: l.split(',')[col],
      });
    return v;
  });
}

interface Point {
  kind: 'uniform' | 'ld-snn';
  layerTimesteps: number[];
  sim: SimulationResult;
  synops: number;
  neurons: number;
}

export async function ldsnnStudy(opts: LdsnnStudyOptions): Promise<StudyResult> {
  const t0 = performance.now();
  const runner = new StudyRunner(opts, 500);
  const tiny = !!opts.tiny;
  const dir = opts.model ?? modelPath('mnist-convnet-t4');
  const model = runner.model(dir);
  const T = model.spec.timesteps;
  const nLayers = model.shapes.mapped.length;
  let path = readSearchLog(opts.searchLog ?? join(modelPath('mnist-convnet-ld'), 'ldsnn-search.csv'));
  if (path.some((v) => v.length !== nLayers))
    throw located('the LD-SNN search log does not fit the model', {
      file: opts.searchLog ?? 'models/mnist-convnet-ld/ldsnn-search.csv',
      expected: `${nLayers} per-layer timesteps`,
    });
  if (tiny) path = [path[1] ?? path[0], path[path.length - 1]];
  const vectors: Array<{ kind: Point['kind']; lt: number[] }> = [];
  for (let t = 1; t <= T; t++) vectors.push({ kind: 'uniform', lt: new Array<number>(nLayers).fill(t) });
  for (const lt of path) if (!lt.every((x) => x === lt[0])) vectors.push({ kind: 'ld-snn', lt }); // uniform ones are above
  const points: Point[] = [];
  for (const v of vectors) {
    const policy: TracePolicy = {
      name: 'layerwise',
      timesteps: Math.max(...v.lt),
      layer_timesteps: v.lt,
      alignment: 'repeat',
    };
    const label = `${v.kind}-${v.lt.join('')}`;
    const r = await runner.engineRun({ label, modelDir: dir, dataset: 'mnist', policy });
    const e = runner.evaluate(dir, 'mnist', policy);
    points.push({
      kind: v.kind,
      layerTimesteps: v.lt,
      sim: r.sim,
      synops: e.synops_per_sample,
      neurons: e.neuron_updates_per_sample,
    });
  }
  const uniformT = points.find((p) => p.kind === 'uniform' && p.layerTimesteps[0] === T)!;
  const acc0 = uniformT.sim.accuracy ?? 0;
  // The LD-SNN result: the cheapest per-layer setting within the search budget (0.5 points) of uniform T.
  const candidates = points
    .filter((p) => p.kind === 'ld-snn' && (p.sim.accuracy ?? 0) >= acc0 - 0.005)
    .sort((a, b) => a.synops - b.synops);
  const best = candidates[0];
  const findings: string[] = [];
  if (best) {
    const speed = uniformT.sim.latency_per_sample_s / best.sim.latency_per_sample_s;
    findings.push(
      `Per-layer timesteps ${best.layerTimesteps.join('/')} (layers ${model.shapes.mapped.map((l) => l.name).join('/')}) against uniform T=${T}: ${fmt(uniformT.synops / best.synops, 3)}× fewer synaptic updates, ${fmt(uniformT.neurons / best.neurons, 3)}× fewer neurons evaluated, ${fmt(uniformT.sim.energy_per_sample_j / best.sim.energy_per_sample_j, 3)}× less energy and ${fmt(speed, 3)}× faster inference on the chip, at ${pct1(best.sim.accuracy ?? 0)} accuracy against ${pct1(acc0)} (LD-SNN reports 1.67–3.84× fewer synaptic updates, 1.2–2.56× fewer neurons evaluated, 1.25–3.45× faster).`,
    );
  } else
    findings.push(
      `No per-layer setting of the search log stays within 0.5 points of uniform T=${T} (${pct1(acc0)}) on these test images.`,
    );
  const uniform1 = points.find((p) => p.kind === 'uniform' && p.layerTimesteps[0] === 1)!;
  findings.push(
    `For scale, uniform T=1 against T=${T}: ${fmt(uniformT.synops / uniform1.synops, 3)}× fewer synaptic updates, ${fmt(uniformT.sim.latency_per_sample_s / uniform1.sim.latency_per_sample_s, 3)}× faster, at ${pct1(uniform1.sim.accuracy ?? 0)} accuracy.`,
  );
  const rows: CsvRow[] = points.map((p) => ({
    kind: p.kind,
    layer_timesteps: p.layerTimesteps.join(' '),
    synaptic_updates_per_sample: p.synops,
    neurons_evaluated_per_sample: p.neurons,
    ...runMetrics(p.sim),
  }));
  return {
    name: 'ldsnn',
    title: 'LD-SNN: per-layer timesteps',
    question: 'How much work, energy and time do per-layer timesteps save on the chip against uniform T?',
    findings,
    assumptions: [
      ...chipAssumptions(runner, uniformT.sim),
      `Model ${shownPath(dir)} on the first ${runner.samples} MNIST test images; per-layer settings are the accepted moves of the shipped LD-SNN search (validation split), frames aligned between layers by repetition (docs/SOURCES.md §1 [our design]).`,
      'Synaptic updates and neurons evaluated are the engine’s counts (docs/SOURCES.md §1 definitions); energy and latency are the cycle-level replay of each trace.',
    ],
    csvs: [{ file: 'ldsnn-points.csv', rows }],
    tables: [
      {
        title: 'Points',
        head: [
          'kind',
          'T per layer',
          'acc.',
          'synaptic updates',
          'neurons evaluated',
          'energy (µJ)',
          'latency (µs)',
        ],
        rows: points.map((p) => [
          p.kind,
          p.layerTimesteps.join('/'),
          pct1(p.sim.accuracy ?? 0),
          fmt(p.synops),
          fmt(p.neurons),
          fmt(p.sim.energy_per_sample_j * 1e6),
          fmt(p.sim.latency_per_sample_s * 1e6),
        ]),
      },
    ],
    charts: [
      {
        name: 'ldsnn-energy-latency',
        title: 'Energy and latency per sample against synaptic updates',
        spec: {
          data: {
            values: points.map((p) => ({
              kind: p.kind,
              setting: p.layerTimesteps.join('/'),
              synops: p.synops,
              energy_uj: p.sim.energy_per_sample_j * 1e6,
              latency_us: p.sim.latency_per_sample_s * 1e6,
              accuracy_pct: 100 * (p.sim.accuracy ?? 0),
            })),
          },
          hconcat: [
            {
              width: 260,
              height: 220,
              mark: { type: 'point', filled: true, size: 70 },
              encoding: {
                x: { field: 'synops', type: 'quantitative', title: 'synaptic updates per sample' },
                y: { field: 'energy_uj', type: 'quantitative', title: 'energy per sample (µJ)' },
                color: { field: 'kind', type: 'nominal' },
                tooltip: [{ field: 'setting' }, { field: 'accuracy_pct' }],
              },
            },
            {
              width: 260,
              height: 220,
              mark: { type: 'point', filled: true, size: 70 },
              encoding: {
                x: { field: 'synops', type: 'quantitative', title: 'synaptic updates per sample' },
                y: { field: 'latency_us', type: 'quantitative', title: 'latency per sample (µs)' },
                color: { field: 'kind', type: 'nominal' },
              },
            },
          ],
        },
      },
      {
        name: 'ldsnn-accuracy',
        title: 'Accuracy against synaptic updates',
        spec: {
          data: {
            values: points.map((p) => ({
              kind: p.kind,
              synops: p.synops,
              accuracy_pct: 100 * (p.sim.accuracy ?? 0),
            })),
          },
          width: 420,
          height: 220,
          mark: { type: 'point', filled: true, size: 70 },
          encoding: {
            x: { field: 'synops', type: 'quantitative', title: 'synaptic updates per sample' },
            y: { field: 'accuracy_pct', type: 'quantitative', title: 'accuracy (%)', scale: { zero: false } },
            color: { field: 'kind', type: 'nominal' },
          },
        },
      },
    ],
    seconds: (performance.now() - t0) / 1000,
  };
}
