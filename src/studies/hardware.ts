/**
 * Study `hardware`: one algorithm held fixed (the DT-SNN entropy exit, θ = 0.9, on the shipped MNIST model),
 * the chip varied — crossbar size, ADC resolution and sharing, NoC link width, membrane-buffer size — as a
 * cycle-level sweep (src/sweep underneath: the same planner, worker threads and sweep.csv as `imcsim
 * sweep`), with the energy–latency Pareto front and each axis's sensitivity on top. Each chip's spikes are
 * computed on its own arithmetic (the sweep's `workload.arithmetic: chip`), so every point carries its
 * accuracy, set beside the float engine's on the same samples.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { loadNetwork } from '../network/load.js';
import { located } from '../util/errors.js';
import { stringify } from 'yaml';
import { parseSweepSpec } from '../sweep/spec.js';
import { planSweep } from '../sweep/plan.js';
import { runSweep } from '../sweep/run.js';
import { paretoMin, rowsFromCsv, type ReportRow } from '../sweep/report.js';
import { parseCsvLine } from '../sweep/csv.js';
import { writeFileAtomic } from '../util/atomic.js';
import {
  DEFAULT_ARCH,
  fmt,
  modelPath,
  pct1,
  type CsvRow,
  type StudyOptions,
  type StudyResult,
} from './common.js';
import { THETA } from '../snn/policies/theta.js';
import { loadModel } from '../snn/model.js';
import { loadDataset } from '../snn/data/dataset.js';
import { evaluateModel } from '../snn/run.js';

/** The chip axes of the study: each one value of a real design decision. */
export const HARDWARE_AXES: Record<string, number[]> = {
  'crossbar.rows': [64, 128],
  'crossbar.columns': [64, 128],
  'adc.bits': [4, 6],
  'adc.columns_per_adc': [4, 8, 16],
  'noc.flit_bits': [32, 64, 128],
  'membrane_buffer.capacity_bits': [65536, 262144],
};
const TINY_AXES: Record<string, number[]> = { 'crossbar.rows': [64, 128], 'adc.columns_per_adc': [8, 16] };

export interface HardwareStudyOptions extends StudyOptions {
  /** Local worker threads for the sweep (default: one per core; 0 runs in this thread). */
  workers?: number;
}

export async function hardwareStudy(opts: HardwareStudyOptions): Promise<StudyResult> {
  const t0 = performance.now();
  const tiny = !!opts.tiny;
  const samples = opts.samples ?? (tiny ? 4 : 100);
  const axes = tiny ? TINY_AXES : HARDWARE_AXES;
  const theta = THETA.default;
  // The sweep spec, written beside the results so the sweep can be rerun (and resumed) on its own.
  const specFile = join(opts.out, 'hardware-sweep.yaml');
  // Your model and data (--model, --dataset) replace the shipped MNIST model; normalisation and event
  // binning options are not part of sweep specs (docs/DATASETS.md), so they are refused here.
  const own = opts.model !== undefined && opts.dataset !== undefined;
  if (own && (opts.normalize || opts.events?.by || opts.events?.values))
    throw located(
      'the hardware study runs through a sweep spec, which takes no --normalize / --bin-by / --event-values',
      {
        path: '--normalize',
        expected: 'a dataset that needs neither (or the dtsnn study)',
      },
    );
  const rel = (p: string) => relative(dirname(specFile), resolve(p)).split(sep).join('/');
  const modelDir = own ? opts.model! : modelPath('mnist-convnet-t4');
  const ownT = own ? loadNetwork(modelDir).spec.timesteps : 4;
  const datasetRef = own
    ? opts.dataset!.replace(/^([a-z0-9]+):(.+)$/, (_m, f: string, p: string) => `${f}:${rel(p)}`)
    : 'mnist';
  const what = own ? `${basename(resolve(modelDir))} on ${opts.dataset}` : 'MNIST convnet';
  const images = own ? `${opts.dataset} test samples` : 'MNIST test images';
  const traced = own ? `${opts.model}, entropy exit` : 'models/mnist-convnet-t4, entropy exit';
  const specText =
    '# Written by `imcsim study hardware`: rerun with `imcsim sweep hardware-sweep.yaml --out sweep`.\n' +
    stringify({
      name: 'hardware',
      description: `The chip varied under the DT-SNN entropy exit (θ = ${theta}), ${what}, cycle-level`,
      mode: 'cycle',
      // Paths relative to the spec's folder (the loader resolves them there): the file stays valid when moved with the package.
      arch: relative(dirname(specFile), opts.arch ?? DEFAULT_ARCH)
        .split(sep)
        .join('/'),
      workload: {
        model: rel(modelDir),
        dataset: datasetRef,
        split: 'test',
        samples,
        seed: 0,
        arithmetic: 'chip',
      },
      axes,
      algorithm: { policy: ['entropy'], theta: [theta], timesteps: [ownT] },
      metrics: [
        'energy_per_sample_j',
        'latency_per_sample_s',
        'edp_per_sample_js',
        'area_m2',
        'accuracy',
        'avg_timesteps',
        'noc_max_link_utilisation',
      ],
    });
  writeFileAtomic(specFile, specText);
  const plan = await planSweep(parseSweepSpec(specText, specFile));
  const sweepDir = join(opts.out, 'sweep');
  const outcome = await runSweep(plan, {
    out: sweepDir,
    workers: opts.workers ?? (tiny ? 0 : undefined),
    cacheDir: opts.tracesDir,
    onMessage: opts.log,
  });
  if (outcome.failed.length)
    throw new Error(
      `hardware study: ${outcome.failed.length} sweep points failed (${outcome.failed[0].message}); see ${outcome.csv}`,
    );
  const lines = new Map<string, string>();
  for (const line of readFileSync(outcome.csv, 'utf8').trim().split('\n').slice(1))
    lines.set(parseCsvLine(line)[0], line);
  const rows = rowsFromCsv(plan, lines);
  const axisNames = Object.keys(axes);
  const m = (
    r: ReportRow,
    k: 'energy_per_sample_j' | 'latency_per_sample_s' | 'edp_per_sample_js' | 'area_m2',
  ) => r.metrics[k] as number;
  const front = paretoMin(rows, 'energy_per_sample_j', 'latency_per_sample_s');
  const onFront = new Set(front.map((r) => r.id));
  const best = [...rows].sort(
    (a, b) => m(a, 'edp_per_sample_js') - m(b, 'edp_per_sample_js') || a.index - b.index,
  )[0];
  const worst = [...rows].sort(
    (a, b) => m(b, 'edp_per_sample_js') - m(a, 'edp_per_sample_js') || a.index - b.index,
  )[0];
  const base = rows[0];
  // Sensitivity: the mean of each metric over the points that share an axis value (marginal means).
  const sensitivity: CsvRow[] = [];
  const swing: Array<{ axis: string; ratio: number }> = [];
  for (const a of axisNames) {
    const means: number[] = [];
    for (const v of axes[a]) {
      const sel = rows.filter((r) => r.values[a] === v);
      const mean = (k: Parameters<typeof m>[1]) => sel.reduce((s, r) => s + m(r, k), 0) / sel.length;
      const e = mean('edp_per_sample_js');
      means.push(e);
      sensitivity.push({
        axis: a,
        value: v,
        points: sel.length,
        mean_energy_per_sample_j: mean('energy_per_sample_j'),
        mean_latency_per_sample_s: mean('latency_per_sample_s'),
        mean_edp_per_sample_js: e,
        mean_area_m2: mean('area_m2'),
      });
    }
    swing.push({ axis: a, ratio: Math.max(...means) / Math.min(...means) });
  }
  swing.sort((x, y) => y.ratio - x.ratio);
  const describe = (r: ReportRow) => axisNames.map((a) => `${a}=${r.values[a]}`).join(', ');
  // The float engine on the same samples and policy: what each chip's accuracy is set against.
  const floatAccuracy = evaluateModel(
    loadModel(modelDir),
    loadDataset(own ? opts.dataset! : 'mnist', 'test', { dataDir: opts.dataDir }),
    { policy: { name: 'entropy', timesteps: ownT, theta }, samples, seed: 0 },
  ).accuracy;
  const acc = (r: ReportRow) => (r.metrics.accuracy as number | undefined) ?? 0;
  /** Within one point of the float engine (one image is 100/samples points). */
  const keeps = (r: ReportRow) => acc(r) >= floatAccuracy - 0.01 - 1e-12;
  const keeping = rows.filter(keeps);
  const bestKeeping = [...keeping].sort(
    (a, b) => m(a, 'edp_per_sample_js') - m(b, 'edp_per_sample_js') || a.index - b.index,
  )[0];
  const accs = rows.map(acc);
  const findings = [
    `${rows.length} chips simulated cycle by cycle on ${samples} ${images}, each chip's spikes computed on its own arithmetic: accuracy ${pct1(Math.min(...accs))} to ${pct1(Math.max(...accs))} (float engine ${pct1(floatAccuracy)}; the base chip ${pct1(acc(base))} at ${fmt((base.metrics.avg_timesteps as number | undefined) ?? 0)} average timesteps). ${front.length === 1 ? '1 of them is' : `${front.length} of them are`} on the energy–latency Pareto front.`,
    keeping.length
      ? `${keeping.length} of ${rows.length} chips keep the float accuracy within 1 point on these samples (one image is ${fmt(100 / samples)} point${samples === 100 ? '' : 's'}); the lowest-EDP of them: ${describe(bestKeeping)} — ${fmt(m(bestKeeping, 'edp_per_sample_js') * 1e12)} pJ·s per sample at ${pct1(acc(bestKeeping))}.`
      : `None of the ${rows.length} chips keeps the float accuracy (${pct1(floatAccuracy)}) within 1 point on these samples.`,
    `Lowest EDP: ${describe(best)} — ${fmt(m(best, 'energy_per_sample_j') * 1e6)} µJ, ${fmt(m(best, 'latency_per_sample_s') * 1e6)} µs, ${fmt(m(best, 'edp_per_sample_js') * 1e12)} pJ·s per sample, ${fmt(m(best, 'area_m2') * 1e6)} mm²; the highest-EDP chip (${describe(worst)}) is ×${fmt(m(worst, 'edp_per_sample_js') / m(best, 'edp_per_sample_js'), 3)} worse.`,
    `Axes by influence on EDP (ratio of the worst to the best marginal mean): ${swing.map((s) => `${s.axis} ×${fmt(s.ratio, 3)}`).join(', ')}.`,
  ];
  const pointRows: CsvRow[] = rows.map((r) => ({
    id: r.id,
    ...Object.fromEntries(axisNames.map((a) => [a, r.values[a] as number])),
    energy_per_sample_j: m(r, 'energy_per_sample_j'),
    latency_per_sample_s: m(r, 'latency_per_sample_s'),
    edp_per_sample_js: m(r, 'edp_per_sample_js'),
    area_m2: m(r, 'area_m2'),
    accuracy: acc(r),
    avg_timesteps: (r.metrics.avg_timesteps as number | undefined) ?? 0,
    keeps_float_accuracy: keeps(r) ? 1 : 0,
    pareto: onFront.has(r.id) ? 1 : 0,
  }));
  return {
    name: 'hardware',
    title: 'Hardware: the chip varied under a fixed algorithm',
    question:
      'With the DT-SNN exit held fixed, which chip parameters move energy, latency and EDP, which chips are Pareto-optimal, and which keep the float accuracy on their own arithmetic?',
    findings,
    assumptions: [
      `Base chip ${opts.arch ?? 'arch-configs/default.yaml'}; axes ${axisNames.map((a) => `${a} ∈ {${axes[a].join(', ')}}`).join('; ')} (full factorial). Cycle-level replay on every chip of the engine trace (${traced} θ = ${theta}, first ${samples} ${images}) computed on that chip's arithmetic (quantised weights, grouped row reads, ADC conversions over a calibrated range: docs/ARCHITECTURE.md); chips with the same arithmetic share one trace.`,
      `Accuracy is compared with the float32 engine on the same samples and policy (${pct1(floatAccuracy)}); "keeps the float accuracy" means within 1 point on these samples, which is below their sampling noise.`,
      `The sweep is in sweep/ (sweep.csv, sweep.html with its own Pareto and sensitivity charts); its spec is hardware-sweep.yaml.`,
    ],
    csvs: [
      { file: 'hardware-points.csv', rows: pointRows },
      { file: 'hardware-sensitivity.csv', rows: sensitivity },
    ],
    tables: [
      {
        title: 'Pareto front (energy against latency per sample)',
        head: ['#', ...axisNames, 'energy (µJ)', 'latency (µs)', 'EDP (pJ·s)', 'area (mm²)', 'accuracy'],
        rows: front.map((r, i) => [
          String(i + 1),
          ...axisNames.map((a) => String(r.values[a])),
          fmt(m(r, 'energy_per_sample_j') * 1e6),
          fmt(m(r, 'latency_per_sample_s') * 1e6),
          fmt(m(r, 'edp_per_sample_js') * 1e12),
          fmt(m(r, 'area_m2') * 1e6),
          pct1(acc(r)),
        ]),
      },
    ],
    charts: [
      {
        name: 'hardware-pareto',
        title: 'Energy against latency per sample; the Pareto front highlighted',
        text: 'Pareto-front points are numbered as in the Pareto-front table.',
        spec: {
          width: 460,
          height: 300,
          encoding: {
            x: {
              field: 'latency_us',
              type: 'quantitative',
              title: 'latency per sample (µs)',
              scale: { zero: false },
            },
            y: {
              field: 'energy_uj',
              type: 'quantitative',
              title: 'energy per sample (µJ)',
              scale: { zero: false },
            },
          },
          layer: [
            {
              data: {
                values: rows.map((r) => ({
                  energy_uj: m(r, 'energy_per_sample_j') * 1e6,
                  latency_us: m(r, 'latency_per_sample_s') * 1e6,
                  area_mm2: m(r, 'area_m2') * 1e6,
                  front: onFront.has(r.id) ? 'Pareto front' : 'dominated',
                })),
              },
              mark: { type: 'point', filled: true },
              encoding: {
                color: { field: 'front', type: 'nominal', title: null },
                size: { field: 'area_mm2', type: 'quantitative', title: 'area (mm²)' },
              },
            },
            {
              data: {
                values: front.map((r, i) => ({
                  energy_uj: m(r, 'energy_per_sample_j') * 1e6,
                  latency_us: m(r, 'latency_per_sample_s') * 1e6,
                  n: String(i + 1),
                })),
              },
              mark: { type: 'text', align: 'right', dx: -7, dy: -5, fontSize: 10, color: '#1f4e79' },
              encoding: { text: { field: 'n' } },
            },
          ],
        },
      },
      {
        name: 'hardware-sensitivity',
        title: 'Sensitivity: mean EDP per sample for each axis value',
        spec: {
          data: {
            values: sensitivity.map((s) => ({
              axis: s.axis,
              value: String(s.value),
              edp_pjs: (s.mean_edp_per_sample_js as number) * 1e12,
            })),
          },
          facet: { column: { field: 'axis', type: 'nominal', title: null } },
          spec: {
            width: 90,
            height: 180,
            mark: 'bar',
            encoding: {
              x: { field: 'value', type: 'ordinal', title: null, sort: null },
              y: { field: 'edp_pjs', type: 'quantitative', title: 'mean EDP per sample (pJ·s)' },
            },
          },
          resolve: { scale: { x: 'independent' } },
        },
      },
    ],
    seconds: (performance.now() - t0) / 1000,
  };
}
