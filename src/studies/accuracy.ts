/**
 * Study `accuracy`: accuracy next to energy. The shipped MNIST and Fashion-MNIST models run on the chip's
 * arithmetic (hardware-aware inference, src/snn/chip-arith.ts) while one chip parameter at a time moves
 * away from the default chip — ADC bits, weight bits, rows read in parallel, programming σ — and each
 * point's DT-SNN trace (entropy exit, computed on that chip) is replayed cycle by cycle on the same chip:
 * accuracy (static T and DT-SNN), DT-SNN average timesteps, energy, latency and EDP per sample, and the
 * accuracy–EDP Pareto front. The float engine's trace replayed on the default chip is the reference.
 */
import { parseOverride } from '../config/load.js';
import type { ArchSpec } from '../config/schema.js';
import { loadDataset, type DatasetName } from '../snn/data/dataset.js';
import { dtsnnCurve } from '../snn/train/dtsnn.js';
import { evaluateModel } from '../snn/run.js';
import { THETA } from '../snn/policies/theta.js';
import {
  chipAssumptions,
  fmt,
  modelPath,
  pct1,
  StudyRunner,
  type CsvRow,
  type StudyOptions,
  type StudyResult,
} from './common.js';
import type { SimulationResult } from '../replay/simulate.js';

const MODELS: Array<{ model: string; dataset: DatasetName }> = [
  { model: 'mnist-convnet-t4', dataset: 'mnist' },
  { model: 'fmnist-convnet-t4', dataset: 'fashion-mnist' },
];

/**
 * Shipped models fine-tuned for a chip (`imcsim train --arch`, docs/MODELS.md): the study sets each beside
 * its base model on that chip, to show what hardware-aware training recovers.
 */
const FINE_TUNED: Record<string, { model: string; key: string; value: number }> = {
  'mnist-convnet-t4': { model: 'mnist-convnet-t4-adc3', key: 'adc.bits', value: 3 },
};

/** The datasets the study reads (test and training splits). */
export function accuracyDatasets(tiny: boolean): DatasetName[] {
  return (tiny ? MODELS.slice(0, 1) : MODELS).map((m) => m.dataset);
}

/** The axes: each moves one key of the default chip (the other keys stay the default's). */
export const ACCURACY_AXES: Record<string, number[]> = {
  'adc.bits': [2, 3, 4, 5, 6, 8],
  'crossbar.weight_bits': [2, 3, 4, 6, 8],
  'crossbar.rows_parallel': [16, 32, 64],
  'device.programming_sigma': [0, 0.1, 0.2, 0.3],
};
const TINY_AXES: Record<string, number[]> = { 'adc.bits': [2, 3], 'device.programming_sigma': [0.2] };

interface Point {
  model: string;
  dataset: string;
  axis: string;
  value: number | null;
  arithmetic: 'float' | 'chip';
  staticAccuracy: number;
  /** DT-SNN accuracy and average timesteps over the study's samples (the replay covers fewer). */
  dtsnnAccuracy: number;
  dtsnnTimesteps: number;
  sim: SimulationResult;
  /** A fine-tuned model (FINE_TUNED), outside the axes, their tables and the front. */
  fineTuned?: boolean;
}

/** Pareto-optimal points (higher accuracy, lower EDP): none other is at least as good in both and better in one. */
function pareto(points: Point[]): Set<Point> {
  const out = new Set<Point>();
  for (const p of points) {
    const a = p.dtsnnAccuracy;
    const dominated = points.some((q) => {
      const b = q.dtsnnAccuracy;
      return (
        q !== p &&
        b >= a &&
        q.sim.edp_per_sample_js <= p.sim.edp_per_sample_js &&
        (b > a || q.sim.edp_per_sample_js < p.sim.edp_per_sample_js)
      );
    });
    if (!dominated) out.add(p);
  }
  return out;
}

export async function accuracyStudy(opts: StudyOptions): Promise<StudyResult> {
  const t0 = performance.now();
  const runner = new StudyRunner(opts, 100);
  const tiny = !!opts.tiny;
  const axes = tiny ? TINY_AXES : ACCURACY_AXES;
  const models = tiny ? MODELS.slice(0, 1) : MODELS;
  const replaySamples = tiny ? 2 : 10;
  const theta = THETA.default;
  // Tiny (tests): 4 calibration images instead of the chip's adc.calibration_samples.
  const tinyCal = tiny ? [parseOverride('adc.calibration_samples=4')] : [];
  const base = tiny ? runner.archWith(tinyCal) : runner.spec;
  const archName = (runner.archFile.split(/[\\/]/).pop() ?? 'arch').replace(/\.ya?ml$/i, '');
  const points: Point[] = [];
  /** Fine-tuned vs base model on the fine-tuning chip, static T, on more test images than the sweep's. */
  const fineTuneCheck = new Map<string, { samples: number; plain: number; tuned: number }>();
  const withKey = (path: string, v: number): ArchSpec => {
    // A weight precision below the cell's: the cell holds the whole weight (cell_bits ≤ weight_bits).
    const extra =
      path === 'crossbar.weight_bits' && v < base.crossbar.cell_bits
        ? [parseOverride(`crossbar.cell_bits=${v}`)]
        : [];
    return runner.archWith([...tinyCal, parseOverride(`${path}=${v}`), ...extra]);
  };
  for (const m of models) {
    const dir = modelPath(m.model);
    const T = runner.model(dir).spec.timesteps;
    const baseModel = runner.model(dir);
    const test = loadDataset(m.dataset, 'test');
    const train = loadDataset(m.dataset, 'train');
    const run = async (
      label: string,
      spec: ArchSpec,
      chip: boolean,
      axis: string,
      value: number | null,
      tuned?: { model: string; dir: string },
    ) => {
      const c = chip ? { spec, name: archName } : undefined;
      const model = tuned ? runner.model(tuned.dir) : baseModel;
      // One static run gives static-T accuracy and, read offline exactly as the engine decides, the
      // entropy exit's accuracy and average timesteps (snn/train/dtsnn.ts); the logits are the chip's.
      const curve = dtsnnCurve(model, test, {
        thetas: [theta],
        timesteps: T,
        samples: runner.samples,
        chip: c ? { ...c, calibration: train } : undefined,
      });
      const st = curve.points.find((p) => p.curve === 'static' && p.timesteps === T)!;
      const en = curve.points.find((p) => p.curve === 'entropy')!;
      // Energy, latency, EDP: the DT-SNN trace of the first replaySamples images on the same chip, replayed.
      const r = await runner.engineRun({
        label: `${tuned?.model ?? m.model}-${label}`,
        modelDir: tuned?.dir ?? dir,
        dataset: m.dataset,
        policy: { name: 'entropy', timesteps: T, theta },
        spec,
        chip: c,
        samples: replaySamples,
      });
      runner.log(
        `  ${label}: static ${pct1(st.accuracy)}, DT-SNN ${pct1(en.accuracy)} at ${en.avg_timesteps.toFixed(3)} timesteps`,
      );
      points.push({
        model: tuned?.model ?? m.model,
        fineTuned: tuned !== undefined,
        dataset: m.dataset,
        axis,
        value,
        arithmetic: chip ? 'chip' : 'float',
        staticAccuracy: st.accuracy,
        dtsnnAccuracy: en.accuracy,
        dtsnnTimesteps: en.avg_timesteps,
        sim: r.sim,
      });
    };
    await run('float', base, false, 'float engine', null);
    await run('chip-default', base, true, 'default chip', null);
    for (const [path, values] of Object.entries(axes))
      for (const v of values) {
        const spec = withKey(path, v);
        if (JSON.stringify(spec) === JSON.stringify(base)) continue; // the default chip, already run
        await run(`${path}-${v}`, spec, true, path, v);
      }
    const ft = FINE_TUNED[m.model];
    if (ft) {
      const spec = withKey(ft.key, ft.value);
      // The base model on that chip is an axis point unless the axes skip the value: run it then.
      if (!points.some((p) => p.model === m.model && p.axis === ft.key && p.value === ft.value))
        await run(`${ft.key}-${ft.value}`, spec, true, ft.key, ft.value);
      await run(`${ft.key}-${ft.value}`, spec, true, `fine-tuned for ${ft.key}=${ft.value}`, ft.value, {
        model: ft.model,
        dir: modelPath(ft.model),
      });
      // A recovery of a point or two is below the sweep samples' noise: both models again on the whole
      // test split (tiny: the sweep's samples), static T, on that chip.
      const n = tiny ? runner.samples : test.count;
      const chipOn = { spec, name: archName, calibration: train };
      const accOn = (mdl: typeof baseModel) =>
        evaluateModel(mdl, test, {
          policy: { name: 'static', timesteps: T },
          samples: n,
          seed: 0,
          chip: chipOn,
        }).accuracy;
      fineTuneCheck.set(m.model, {
        samples: n,
        plain: accOn(baseModel),
        tuned: accOn(runner.model(modelPath(ft.model))),
      });
    }
  }

  const rows: CsvRow[] = [];
  const findings: string[] = [];
  const tables: StudyResult['tables'] = [];
  for (const m of models) {
    const ps = points.filter((p) => p.model === m.model);
    const float = ps.find((p) => p.arithmetic === 'float')!;
    const def = ps.find((p) => p.axis === 'default chip')!;
    const chipPoints = ps.filter(
      (p) => (p.arithmetic === 'chip' && p.axis in axes) || p.axis === 'default chip',
    );
    const front = pareto(chipPoints);
    const ft = FINE_TUNED[m.model];
    const tunedPoint = ft ? points.find((p) => p.model === ft.model) : undefined;
    for (const p of tunedPoint ? [...ps, tunedPoint] : ps)
      rows.push({
        model: p.model,
        dataset: p.dataset,
        arithmetic: p.arithmetic,
        axis: p.axis,
        value: p.value,
        static_accuracy: p.staticAccuracy,
        dtsnn_accuracy: p.dtsnnAccuracy,
        dtsnn_avg_timesteps: p.dtsnnTimesteps,
        replayed_samples: p.sim.samples,
        energy_per_sample_j: p.sim.energy_per_sample_j,
        latency_per_sample_s: p.sim.latency_per_sample_s,
        edp_per_sample_js: p.sim.edp_per_sample_js,
        pareto: p.arithmetic === 'chip' && !p.fineTuned ? (front.has(p) ? 'yes' : 'no') : '',
      });
    if (ft && tunedPoint) {
      const plain = ps.find((p) => p.axis === ft.key && p.value === ft.value)!;
      findings.push(
        `**${ft.model}** (\`imcsim train --arch\`, docs/MODELS.md): ${m.model} fine-tuned on the chip with ${ft.key}=${ft.value}. On that chip: ${pct1(plain.staticAccuracy)} → ${pct1(tunedPoint.staticAccuracy)} at static T=4 (float engine, plain model: ${pct1(float.staticAccuracy)}); under the DT-SNN exit ${pct1(plain.dtsnnAccuracy)} at ${plain.dtsnnTimesteps.toFixed(3)} → ${pct1(tunedPoint.dtsnnAccuracy)} at ${tunedPoint.dtsnnTimesteps.toFixed(3)} average timesteps; EDP ${fmt(plain.sim.edp_per_sample_js * 1e12)} → ${fmt(tunedPoint.sim.edp_per_sample_js * 1e12)} pJ·s per sample. On all ${fineTuneCheck.get(m.model)!.samples} test images (static T=4, same chip): ${pct1(fineTuneCheck.get(m.model)!.plain)} → ${pct1(fineTuneCheck.get(m.model)!.tuned)}.`,
      );
    }
    const n = runner.samples;
    findings.push(
      `**${m.model}** (${m.dataset}, first ${n} test images): float engine ${pct1(float.staticAccuracy)} at static T=4 → ${pct1(def.staticAccuracy)} on the default chip's arithmetic (${base.adc.bits}-b ADC, ${base.crossbar.weight_bits}-b weights, ${base.crossbar.rows_parallel} rows per read, ideal devices): ${fmt(100 * (def.staticAccuracy - float.staticAccuracy), 3)} points. Under the DT-SNN exit (θ = ${theta}): ${pct1(float.dtsnnAccuracy)} with ${float.dtsnnTimesteps.toFixed(3)} average timesteps on float logits, ${pct1(def.dtsnnAccuracy)} with ${def.dtsnnTimesteps.toFixed(3)} on the chip's logits (shift ${fmt(def.dtsnnTimesteps - float.dtsnnTimesteps, 3)} timesteps).`,
    );
    for (const [path] of Object.entries(axes)) {
      const line = chipPoints
        .filter((p) => p.axis === path || (p.axis === 'default chip' && axisValue(base, path) !== null))
        .map((p) => ({ v: p.value ?? axisValue(base, path)!, p }))
        .sort((a, b) => a.v - b.v);
      if (line.length === 0) continue;
      tables.push({
        title: `${m.model}: ${path} (the other keys the default chip's)`,
        head: [
          path,
          'static T=4 acc.',
          'DT-SNN acc.',
          'DT-SNN avg T',
          'energy (nJ)',
          'latency (µs)',
          'EDP (pJ·s)',
          'Pareto',
        ],
        rows: line.map(({ v, p }) => [
          String(v),
          pct1(p.staticAccuracy),
          pct1(p.dtsnnAccuracy),
          p.dtsnnTimesteps.toFixed(3),
          fmt(p.sim.energy_per_sample_j * 1e9),
          fmt(p.sim.latency_per_sample_s * 1e6),
          fmt(p.sim.edp_per_sample_js * 1e12),
          front.has(p) ? 'yes' : '',
        ]),
      });
      const keeps = line.filter(({ p }) => p.staticAccuracy >= float.staticAccuracy - 0.01);
      const lowest = keeps.length ? keeps[0].v : null;
      const worst = line[0];
      findings.push(
        `**${m.model}**, ${path} ${line.map(({ v, p }) => `${v}: ${pct1(p.staticAccuracy)}`).join(', ')} (static T=4). ` +
          (path === 'device.programming_sigma'
            ? keeps.length
              ? `Programming error up to σ = ${keeps[keeps.length - 1].v} keeps the float accuracy within 1 point.`
              : 'No σ in the sweep keeps the float accuracy within 1 point.'
            : lowest !== null
              ? `The smallest value within 1 point of float: ${lowest}${lowest === worst.v ? ' (the smallest swept)' : ''}.`
              : 'No value in the sweep keeps the float accuracy within 1 point.'),
      );
    }
    const fr = [...front].sort((a, b) => a.sim.edp_per_sample_js - b.sim.edp_per_sample_js);
    findings.push(
      `**${m.model}** accuracy–EDP Pareto front (DT-SNN accuracy against DT-SNN EDP, ${replaySamples} replayed samples per point): ${fr
        .map(
          (p) =>
            `${p.axis === 'default chip' ? 'default' : `${p.axis}=${p.value}`} (${pct1(p.dtsnnAccuracy)}, ${fmt(p.sim.edp_per_sample_js * 1e12)} pJ·s)`,
        )
        .join('; ')}.`,
    );
  }
  const first = points[0].sim;
  return {
    name: 'accuracy',
    title: 'Accuracy next to energy: the chip’s arithmetic decides the spikes',
    question:
      'How much accuracy do ADC bits, weight bits, rows read in parallel and programming error cost, what do they save in energy and EDP, and which chips keep the float accuracy?',
    findings,
    assumptions: [
      ...chipAssumptions(runner, first),
      `Each point moves one key of the default chip (${archName}); spikes are computed on that chip's arithmetic (docs/ARCHITECTURE.md, hardware-aware inference): weights quantised per layer (${base.crossbar.signed_weights}), sliced over ${base.crossbar.cell_bits}-b cells, rows read in groups of rows_parallel, every column converted by the ADC over a range calibrated per layer at the ${base.adc.calibration_percentile}th percentile of the conversions of ${base.adc.calibration_samples} training images, ${base.lif_unit.potential_bits}-b fixed-point membrane potentials. A weight precision below the cell's sets cell_bits to it (cell_bits ≤ weight_bits).`,
      `Accuracy at static T=4 and under the DT-SNN entropy exit (θ = ${theta}) on the first ${runner.samples} test images; energy, latency and EDP per sample from the cycle-level replay of the DT-SNN trace of the first ${replaySamples} test images on the same chip (traced on its arithmetic). DT-SNN accuracy and timesteps are read from the static run's per-timestep logits exactly as the engine's exit decides. Programming σ draws one chip instance (device.seed ${base.device.seed}); other instances differ.`,
      'The float-engine point is the trace of the float32 engine replayed on the default chip (what imcsim did before hardware-aware inference).',
      `Sampling noise: on ${runner.samples} test images one image is ${fmt(100 / runner.samples, 3)} point(s); the binomial standard error of an accuracy p is √(p(1 − p)/n) (≈ ${fmt(100 * Math.sqrt((0.97 * 0.03) / runner.samples), 2)} points at 97 %, ≈ ${fmt(100 * Math.sqrt((0.83 * 0.17) / runner.samples), 2)} at 83 %), so differences of a point or two between neighbouring points are within noise; "within 1 point of float" is read on these samples.`,
    ],
    csvs: [{ file: 'accuracy-points.csv', rows }],
    charts: [
      {
        name: 'accuracy-vs-edp',
        title: 'DT-SNN accuracy against EDP per sample (chip points; the float engine as reference)',
        spec: {
          data: {
            values: points
              .filter((p) => !p.fineTuned)
              .map((p) => ({
                model: p.model,
                point:
                  p.axis === 'default chip' || p.axis === 'float engine' ? p.axis : `${p.axis}=${p.value}`,
                axis: p.axis,
                accuracy_pct: 100 * p.dtsnnAccuracy,
                edp_pjs: p.sim.edp_per_sample_js * 1e12,
              })),
          },
          facet: { field: 'model', type: 'nominal' },
          spec: {
            width: 300,
            height: 220,
            mark: { type: 'point', filled: true },
            encoding: {
              x: {
                field: 'edp_pjs',
                type: 'quantitative',
                title: 'EDP per sample (pJ·s)',
                scale: { zero: false },
              },
              y: {
                field: 'accuracy_pct',
                type: 'quantitative',
                title: 'DT-SNN accuracy (%)',
                scale: { zero: false },
              },
              color: { field: 'axis', type: 'nominal' },
              tooltip: [{ field: 'point' }, { field: 'accuracy_pct' }, { field: 'edp_pjs' }],
            },
          },
          resolve: { scale: { x: 'independent', y: 'independent' } },
        },
      },
    ],
    tables,
    seconds: (performance.now() - t0) / 1000,
  };
}

function axisValue(spec: ArchSpec, path: string): number | null {
  const v = path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], spec);
  return typeof v === 'number' ? v : null;
}
