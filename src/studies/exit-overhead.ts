/**
 * Study `exit-overhead`: what the entropy exit unit costs as the number of classes grows (10 → 1,000),
 * under each schedule, and the work wasted by exits under timestep pipelining — against what the exit
 * saves. DT-SNN calls the entropy module "negligible" (docs/SOURCES.md §1); this measures it.
 */
import { NetworkSchema, type NetworkSpec } from '../network/schema.js';
import { loadNetwork } from '../network/load.js';
import type { SimulationResult } from '../replay/simulate.js';
import {
  chipAssumptions,
  fmt,
  modelPath,
  pct1,
  range,
  runMetrics,
  StudyRunner,
  type CsvRow,
  type StudyOptions,
  type StudyResult,
} from './common.js';
import { THETA } from '../snn/policies/theta.js';

const CLASSES = [10, 20, 50, 100, 200, 500, 1000];
const TINY_CLASSES = [10, 1000];
const SCHEDULES = ['layer-sequential', 'timestep-pipelined'] as const;
/**
 * Exit distribution of the synthetic traces: P(exit after t = 1..4) = 0.6, 0.25, 0.1, 0.05 (1.6 average
 * timesteps) [our design], close to DT-SNN's 1.46 on CIFAR-10 (docs/SOURCES.md §1).
 */
export const EXIT_DISTRIBUTION = [0.6, 0.25, 0.1, 0.05];
const RATE = 0.1;
const T = 4;

/** The mnist-convnet topology with a K-class classifier. */
function withClasses(base: NetworkSpec, k: number): NetworkSpec {
  const last = base.layers[base.layers.length - 1];
  return NetworkSchema.parse({
    ...base,
    name: `${base.name}-k${k}`,
    classes: k,
    layers: base.layers.map((l) => (l === last ? { ...l, out_features: k } : l)),
  });
}

interface Point {
  classes: number;
  schedule: (typeof SCHEDULES)[number];
  policy: 'static' | 'entropy';
  sim: SimulationResult;
}

export async function exitOverheadStudy(opts: StudyOptions): Promise<StudyResult> {
  const t0 = performance.now();
  const runner = new StudyRunner(opts, 40);
  const tiny = !!opts.tiny;
  const samples = opts.samples ?? (tiny ? 4 : 40);
  const base = loadNetwork(modelPath('mnist-convnet')).spec;
  const points: Point[] = [];
  for (const k of tiny ? TINY_CLASSES : CLASSES) {
    const net = withClasses(base, k);
    for (const schedule of SCHEDULES) {
      const spec = runner.archWith([{ path: 'schedule.policy', value: schedule }]);
      for (const policy of ['static', 'entropy'] as const) {
        const sim = await runner.syntheticRun({
          label: `k${k}-${schedule}-${policy}`,
          network: net,
          rate: RATE,
          timesteps: T,
          samples,
          spec,
          policy: policy === 'entropy' ? { name: 'entropy', timesteps: T, theta: THETA.default } : undefined,
          exitDistribution: policy === 'entropy' ? EXIT_DISTRIBUTION : undefined,
        });
        points.push({ classes: k, schedule, policy, sim });
      }
    }
  }
  const rows: CsvRow[] = points.map((p) => ({
    classes: p.classes,
    schedule: p.schedule,
    policy: p.policy,
    ...runMetrics(p.sim),
    exit_unit_latency_per_sample_s: p.sim.exit_unit.latency_s / Math.max(1, p.sim.samples),
    exit_unit_area_m2: p.sim.exit_unit.area_m2,
    exit_unit_evaluations_per_sample: p.sim.exit_unit.evaluations / Math.max(1, p.sim.samples),
    exit_unit_energy_share: p.sim.exit_unit.energy_j / p.sim.energy_j,
  }));
  const findings: string[] = [];
  for (const schedule of SCHEDULES) {
    const ent = points.filter((p) => p.schedule === schedule && p.policy === 'entropy');
    const lo = ent[0];
    const hi = ent[ent.length - 1];
    const st = (k: number) =>
      points.find((p) => p.schedule === schedule && p.policy === 'static' && p.classes === k)!;
    const saving = (p: Point) => st(p.classes).sim.energy_per_sample_j - p.sim.energy_per_sample_j;
    findings.push(
      `**${schedule}**: the entropy unit costs ${fmt((lo.sim.exit_unit.energy_j / lo.sim.samples) * 1e9)} nJ per sample at K=${lo.classes} (${pct1(lo.sim.exit_unit.energy_j / lo.sim.energy_j)} of the energy) and ${fmt((hi.sim.exit_unit.energy_j / hi.sim.samples) * 1e9)} nJ at K=${hi.classes} (${pct1(hi.sim.exit_unit.energy_j / hi.sim.energy_j)}); its latency is ${fmt((lo.sim.exit_unit.latency_s / lo.sim.samples) * 1e9)} ns → ${fmt((hi.sim.exit_unit.latency_s / hi.sim.samples) * 1e9)} ns per sample. The exit saves ${fmt(saving(lo) * 1e9)} nJ (K=${lo.classes}) and ${fmt(saving(hi) * 1e9)} nJ (K=${hi.classes}) per sample against static T=${T}, i.e. ${fmt(saving(lo) / Math.max(1e-30, lo.sim.exit_unit.energy_j / lo.sim.samples), 3)}× and ${fmt(saving(hi) / Math.max(1e-30, hi.sim.exit_unit.energy_j / hi.sim.samples), 3)}× its own cost.`,
    );
  }
  const pipe = points.filter((p) => p.schedule === 'timestep-pipelined' && p.policy === 'entropy');
  const wasted = pipe.map((p) => p.sim.wasted_j / p.sim.samples);
  findings.push(
    `Work wasted by exits under timestep pipelining (started on timesteps after the exit, then cancelled): ${range(fmt(Math.min(...wasted) * 1e9), fmt(Math.max(...wasted) * 1e9))} nJ per sample (${range(pct1(Math.min(...pipe.map((p) => p.sim.wasted_j / p.sim.energy_j))), pct1(Math.max(...pipe.map((p) => p.sim.wasted_j / p.sim.energy_j))))} of the energy); layer-sequential wastes ${fmt(Math.max(...points.filter((p) => p.schedule === 'layer-sequential').map((p) => p.sim.wasted_j)))} J.`,
    `Entropy-unit area: ${fmt(points[0].sim.exit_unit.area_m2 * 1e12)} µm² (${pct1(points[0].sim.exit_unit.area_m2 / points[0].sim.area_m2)} of the chip); the LUT-based unit is sized by its LUT entries and width, not by K — K sets how many class steps each decision takes.`,
  );
  const ent = points.filter((p) => p.policy === 'entropy');
  return {
    name: 'exit-overhead',
    title: 'The exit unit: overhead against savings',
    question:
      'What does the entropy exit unit cost as the number of classes grows, under each schedule, and how much work do exits waste under pipelining?',
    findings,
    assumptions: [
      ...chipAssumptions(runner, points[0].sim, 'layer-sequential and timestep-pipelined (one run each)'),
      `SYNTHETIC traces of the mnist-convnet topology with a K-class classifier, ${RATE * 100} % input spike rate, ${samples} samples per point, T=${T}; entropy-policy samples exit after t = 1..4 with probabilities ${EXIT_DISTRIBUTION.join(', ')} (drawn, seeded) — the exits are assumed, not computed from logits.`,
      'Entropy unit model: per class a LUT exp, accumulate, LUT log, multiply-add; per decision a reciprocal LUT, two multiplies and a compare (Horowitz ISSCC 2014 energies at 45 nm, scaled; area [our estimate]).',
    ],
    csvs: [{ file: 'exit-overhead.csv', rows }],
    tables: [],
    charts: [
      {
        name: 'exit-unit-energy-vs-classes',
        title: 'Entropy-unit energy per sample against the number of classes',
        spec: {
          data: {
            values: ent.map((p) => ({
              classes: p.classes,
              schedule: p.schedule,
              exit_nj: (p.sim.exit_unit.energy_j / p.sim.samples) * 1e9,
              share_pct: (100 * p.sim.exit_unit.energy_j) / p.sim.energy_j,
            })),
          },
          hconcat: [
            {
              width: 260,
              height: 220,
              mark: { type: 'line', point: true },
              encoding: {
                x: { field: 'classes', type: 'quantitative', scale: { type: 'log' }, title: 'classes K' },
                y: { field: 'exit_nj', type: 'quantitative', title: 'entropy unit energy per sample (nJ)' },
                color: { field: 'schedule', type: 'nominal' },
              },
            },
            {
              width: 260,
              height: 220,
              mark: { type: 'line', point: true },
              encoding: {
                x: { field: 'classes', type: 'quantitative', scale: { type: 'log' }, title: 'classes K' },
                y: { field: 'share_pct', type: 'quantitative', title: 'share of total energy (%)' },
                color: { field: 'schedule', type: 'nominal' },
              },
            },
          ],
        },
      },
      {
        name: 'exit-saving-vs-overhead',
        title: 'Energy per sample: static T=4 against the exit, by schedule',
        text: 'Wasted work is the part of the exit run spent on timesteps after the exit (pipelined schedule).',
        spec: {
          data: {
            values: points.flatMap((p) => [
              {
                classes: p.classes,
                run: `${p.schedule} / ${p.policy}`,
                part: 'useful',
                energy_nj:
                  ((p.sim.energy_j - p.sim.wasted_j - p.sim.exit_unit.energy_j) / p.sim.samples) * 1e9,
              },
              {
                classes: p.classes,
                run: `${p.schedule} / ${p.policy}`,
                part: 'exit unit',
                energy_nj: (p.sim.exit_unit.energy_j / p.sim.samples) * 1e9,
              },
              {
                classes: p.classes,
                run: `${p.schedule} / ${p.policy}`,
                part: 'wasted',
                energy_nj: (p.sim.wasted_j / p.sim.samples) * 1e9,
              },
            ]),
          },
          facet: { column: { field: 'classes', type: 'ordinal', title: 'classes K' } },
          spec: {
            width: 110,
            height: 200,
            mark: 'bar',
            encoding: {
              x: { field: 'run', type: 'nominal', title: null, axis: { labelAngle: -60 } },
              y: { field: 'energy_nj', type: 'quantitative', title: 'energy per sample (nJ)', stack: 'zero' },
              color: { field: 'part', type: 'nominal' },
            },
          },
        },
      },
    ],
    seconds: (performance.now() - t0) / 1000,
  };
}
