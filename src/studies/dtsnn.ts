/**
 * Study `dtsnn`: what the entropy exit (DT-SNN, docs/SOURCES.md §1) buys on the chip. The shipped models on
 * their datasets: static T = 1..8 (the same model truncated or extended) against the entropy exit over a
 * θ sweep, each traced on real test images and replayed cycle by cycle; the claim check (static-T=4
 * accuracy at −80 % EDP or better); energy and latency against T; the energy split; the same T scaling
 * and split on VGG-16 CIFAR-shape synthetic traces.
 */
import { loadNetwork } from '../network/load.js';
import type { SimulationResult } from '../replay/simulate.js';
import type { ChartSpec } from '../report/vega.js';
import type { DatasetName, DatasetRef } from '../snn/data/dataset.js';
import { basename, resolve } from 'node:path';
import {
  chipAssumptions,
  energySplit,
  fmt,
  modelPath,
  pct1,
  runMetrics,
  StudyRunner,
  type CsvRow,
  type StudyOptions,
  type StudyResult,
} from './common.js';
import { THETA } from '../snn/policies/theta.js';

/** DT-SNN's published figures (docs/SOURCES.md §1). */
export const DTSNN_CLAIM = {
  edpReduction: 0.8,
  energyT8overT1: 4.9,
  latencyT8overT1: 8,
  split: { 'digital peripherals': 0.45, 'crossbar + ADC': 0.25, rest: 0.3 },
} as const;

export const DTSNN_MODELS: Array<{ model: string; dataset: DatasetName }> = [
  { model: 'mnist-convnet-t4', dataset: 'mnist' },
  { model: 'fmnist-convnet-t4', dataset: 'fashion-mnist' },
];

/** Datasets the study reads (the tiny configuration runs the first model only). */
export function dtsnnDatasets(tiny: boolean): DatasetName[] {
  return (tiny ? DTSNN_MODELS.slice(0, 1) : DTSNN_MODELS).map((m) => m.dataset);
}

const THETAS = [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99];
const TINY_THETAS = [THETA.default];

interface Point {
  network: string;
  policy: 'static' | 'entropy';
  timesteps: number;
  theta: number | null;
  sim: SimulationResult;
}

export async function dtsnnStudy(opts: StudyOptions): Promise<StudyResult> {
  const t0 = performance.now();
  const runner = new StudyRunner(opts, 500);
  const tiny = !!opts.tiny;
  const maxT = tiny ? 2 : 8;
  const points: Point[] = [];
  const claims: Array<Array<string | number>> = [];
  const findings: string[] = [];
  // Your model and data (--model, --dataset) replace the bundled pair(s).
  const models: Array<{ model: string; dataset: DatasetRef; dir?: string }> =
    opts.model !== undefined && opts.dataset !== undefined
      ? [{ model: basename(resolve(opts.model)), dataset: opts.dataset, dir: opts.model }]
      : tiny
        ? DTSNN_MODELS.slice(0, 1)
        : DTSNN_MODELS;
  for (const m of models) {
    const dir = m.dir ?? modelPath(m.model);
    const T = runner.model(dir).spec.timesteps;
    for (let t = 1; t <= (tiny ? T : Math.max(maxT, T)); t++) {
      const r = await runner.engineRun({
        label: `${m.model}-static-T${t}`,
        modelDir: dir,
        dataset: m.dataset,
        policy: { name: 'static', timesteps: t },
      });
      points.push({ network: m.model, policy: 'static', timesteps: t, theta: null, sim: r.sim });
    }
    for (const theta of tiny ? TINY_THETAS : THETAS) {
      const r = await runner.engineRun({
        label: `${m.model}-entropy-${theta}`,
        modelDir: dir,
        dataset: m.dataset,
        policy: { name: 'entropy', timesteps: T, theta },
      });
      points.push({ network: m.model, policy: 'entropy', timesteps: T, theta, sim: r.sim });
    }
    // The claim: the accuracy of static T (the trained T) at −80 % EDP or better.
    const ref = points.find((p) => p.network === m.model && p.policy === 'static' && p.timesteps === T);
    if (!ref) continue;
    const acc0 = ref.sim.accuracy ?? 0;
    const ok = points
      .filter((p) => p.network === m.model && p.policy === 'entropy' && (p.sim.accuracy ?? 0) >= acc0)
      .sort((a, b) => a.sim.edp_per_sample_js - b.sim.edp_per_sample_js);
    const best = ok[0];
    if (best) {
      const cut = 1 - best.sim.edp_per_sample_js / ref.sim.edp_per_sample_js;
      const holds = cut >= DTSNN_CLAIM.edpReduction;
      claims.push([
        m.model,
        pct1(acc0),
        fmt(ref.sim.edp_per_sample_js * 1e12),
        String(best.theta),
        pct1(best.sim.accuracy ?? 0),
        best.sim.avg_timesteps.toFixed(3),
        fmt(best.sim.edp_per_sample_js * 1e12),
        `−${pct1(cut)}`,
        holds ? 'yes' : 'no',
      ]);
      findings.push(
        `**${m.model}** (${m.dataset}, ${ref.sim.samples} test images): static T=${T} reaches ${pct1(acc0)} at ${fmt(ref.sim.edp_per_sample_js * 1e12)} pJ·s per sample; the entropy exit at θ = ${best.theta} keeps ${pct1(best.sim.accuracy ?? 0)} with ${best.sim.avg_timesteps.toFixed(3)} average timesteps and ${fmt(best.sim.edp_per_sample_js * 1e12)} pJ·s: EDP −${pct1(cut)}. DT-SNN's claim (same accuracy at −80 % EDP or better) **${holds ? 'holds' : 'does not hold'}** here.`,
      );
    } else
      findings.push(
        `**${m.model}**: no θ in the sweep keeps the static T=${T} accuracy (${pct1(acc0)}); DT-SNN's claim cannot be confirmed on these samples.`,
      );
  }

  // VGG-16 CIFAR-shape synthetic traces: T scaling and split (no trained model: rates are assumed).
  const vgg = loadNetwork(modelPath('vgg16-cifar10'));
  const rate = 0.1;
  const vggSamples = tiny ? 1 : 2;
  for (let t = 1; t <= maxT; t++) {
    const sim = await runner.syntheticRun({
      label: `vgg16-static-T${t}`,
      network: vgg.spec,
      rate,
      timesteps: t,
      samples: vggSamples,
    });
    points.push({ network: 'vgg16-cifar10 (synthetic)', policy: 'static', timesteps: t, theta: null, sim });
  }

  // T scaling relative to T=1 (static), per network.
  const networks = [...new Set(points.map((p) => p.network))];
  const scaling: CsvRow[] = [];
  const splitRows: CsvRow[] = [];
  const fixedParts: Array<{ n: string; share: number; fitRange: string }> = [];
  const growth: Array<{ n: string; T: number; e: number; l: number }> = [];
  const splits: Array<{ n: string; T: number; split: ReturnType<typeof energySplit> }> = [];
  for (const n of networks) {
    const st = points.filter((p) => p.network === n && p.policy === 'static');
    const one = st.find((p) => p.timesteps === 1)!;
    for (const p of st)
      scaling.push({
        network: n,
        timesteps: p.timesteps,
        energy_per_sample_j: p.sim.energy_per_sample_j,
        latency_per_sample_s: p.sim.latency_per_sample_s,
        energy_vs_t1: p.sim.energy_per_sample_j / one.sim.energy_per_sample_j,
        latency_vs_t1: p.sim.latency_per_sample_s / one.sim.latency_per_sample_s,
      });
    const last = st[st.length - 1];
    if (st.length >= 3) {
      // E(T) ≈ a + b·T by least squares: a / E(1) is the share of the T=1 energy that does not grow with T
      // (DT-SNN's 4.9× from T=1 to 8 implies ≈44 %, docs/SOURCES.md §1).
      const xs = st.map((p) => p.timesteps);
      const ys = st.map((p) => p.sim.energy_per_sample_j);
      const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
      const my = ys.reduce((a, b) => a + b, 0) / ys.length;
      const b =
        xs.reduce((acc, x, i) => acc + (x - mx) * (ys[i] - my), 0) /
        xs.reduce((acc, x) => acc + (x - mx) ** 2, 0);
      const a = my - b * mx;
      fixedParts.push({
        n,
        share: a / one.sim.energy_per_sample_j,
        fitRange: `${xs[0]}..${xs[xs.length - 1]}`,
      });
    }
    if (last.timesteps > 1)
      growth.push({
        n,
        T: last.timesteps,
        e: last.sim.energy_per_sample_j / one.sim.energy_per_sample_j,
        l: last.sim.latency_per_sample_s / one.sim.latency_per_sample_s,
      });
    const ref = st.find((p) => p.timesteps === 4) ?? last;
    const split = energySplit(ref.sim);
    for (const [group, share] of Object.entries(split))
      splitRows.push({ network: n, timesteps: ref.timesteps, group, energy_share: share });
    splits.push({ n, T: ref.timesteps, split });
  }
  // Each finding once, every network in it, the published reference stated once.
  if (fixedParts.length)
    findings.push(
      `Fixed part of the T=1 energy (a straight-line fit E(T) = a + b·T over T = ${fixedParts[0].fitRange}; DT-SNN's chip: ≈44 %): ` +
        fixedParts.map((f) => `**${f.n}** ${pct1(Math.max(0, f.share))}`).join(', ') +
        (fixedParts.every((f) => f.share < 0.2)
          ? ' — on this chip nearly all energy is spent per timestep (crossbar reads, conversions, membrane traffic), little per inference.'
          : fixedParts.some((f) => f.share < 0)
            ? ' (0 %: every timestep after the first costs more than the first, so nothing is fixed per inference).'
            : '.'),
    );
  if (growth.length)
    findings.push(
      `Static T=1 → T=${growth[0].T} per sample${growth[0].T === 8 ? ` (DT-SNN reports energy ×${DTSNN_CLAIM.energyT8overT1} and latency ×${DTSNN_CLAIM.latencyT8overT1} on its chip)` : ''}: ` +
        growth
          .map(
            (g) =>
              `**${g.n}** energy ×${fmt(g.e, 3)}, latency ×${fmt(g.l, 3)}${g.T !== growth[0].T ? ` (to T=${g.T})` : ''}`,
          )
          .join('; ') +
        '.',
    );
  if (splits.length)
    findings.push(
      `Energy split at static T=${splits[0].T} — digital peripherals / crossbar + ADC / rest (NoC, global buffer); DT-SNN: ≈45 % / ≈25 % / ≈30 %: ` +
        splits
          .map(
            (x) =>
              `**${x.n}** ${pct1(x.split['digital peripherals'])} / ${pct1(x.split['crossbar + ADC'])} / ${pct1(x.split.rest)}`,
          )
          .join('; ') +
        '.',
    );
  // What still separates these figures from DT-SNN's chip (the model's side is stated; theirs is not
  // published in enough detail to attribute the rest).
  findings.push(
    runner.spec.schedule.reuse_static_input
      ? 'Differences from DT-SNN that remain (schedule.reuse_static_input: true — the direct-encoded first layer is computed once per inference): ' +
          '(1) latency grows less than ×8 because the one-off first layer (8 bit-serial input planes over every output position) is the longest step of a T=1 inference; DT-SNN’s ×8 says its per-timestep latency does not shrink after the first timestep. ' +
          '(2) The fixed share is only the first layer’s crossbar work and input delivery; the spiking layers’ conversions, membrane traffic (none at T=1, read and write afterwards) and NoC grow with T, and later timesteps spike more, so less is fixed than DT-SNN’s ≈44 %, whose per-inference costs (input loading, control) are not itemised. ' +
          '(3) Crossbar + ADC take about twice DT-SNN’s ≈25 % because every row group read converts all used columns with the chip’s SAR ADCs (adc.* in the arch file); DT-SNN’s peripheral circuits are not published in enough detail to compare component by component.'
      : 'schedule.reuse_static_input: false — the direct-encoded first layer is recomputed every timestep (a chip without a pre-activation buffer), so nothing of its work is fixed per inference.',
  );
  for (const [group, share] of Object.entries(DTSNN_CLAIM.split))
    splitRows.push({ network: 'DT-SNN (published)', timesteps: 4, group, energy_share: share });

  const rows: CsvRow[] = points.map((p) => ({
    network: p.network,
    policy: p.policy,
    timesteps: p.timesteps,
    theta: p.theta,
    ...runMetrics(p.sim),
  }));
  const first = points[0].sim;
  const engine = points.filter((p) => !p.network.includes('synthetic'));
  return {
    name: 'dtsnn',
    title: 'DT-SNN: the entropy exit on the chip',
    question:
      'Does the entropy exit keep the accuracy of static T=4 at −80 % EDP or better on this chip, and how do energy and latency grow with T?',
    findings,
    assumptions: [
      ...chipAssumptions(runner, first),
      `Shipped models traced by the engine on the first ${runner.samples} test images of their dataset (seed 0, direct encoding); static T=t is the same model run for t timesteps (T > 4 extends the trained T=4 model).`,
      `Entropy exit: 1 − H(softmax(Σ_t o_t))/log K > θ (docs/SOURCES.md §1), θ ∈ {${(tiny ? TINY_THETAS : THETAS).join(', ')}}; the best θ is the lowest-EDP point whose accuracy is at least static T=4's.`,
      `VGG-16 CIFAR-10 shape: SYNTHETIC traces at a ${rate * 100} % input spike rate for every layer and timestep (${vggSamples} sample(s) per point) — no trained network; its numbers show the chip's scaling, not an accuracy.`,
      'Energy split groups [our design]: crossbar + ADC = crossbar, row drivers, ADCs, column muxes; digital peripherals = shift-add, output registers, LIF units, membrane buffers, tile buffers, tile bus, entropy unit; rest = global buffer, routers, links.',
    ],
    csvs: [
      { file: 'dtsnn-points.csv', rows },
      { file: 'dtsnn-t-scaling.csv', rows: scaling },
      { file: 'dtsnn-energy-split.csv', rows: splitRows },
    ],
    tables: claims.length
      ? [
          {
            title: 'The claim: static-T accuracy at −80 % EDP',
            head: [
              'model',
              'static T=4 acc.',
              'static EDP (pJ·s)',
              'best θ',
              'DT-SNN acc.',
              'avg T',
              'DT-SNN EDP (pJ·s)',
              'EDP change',
              'claim holds',
            ],
            rows: claims,
          },
        ]
      : [],
    charts: [
      {
        name: 'accuracy-vs-timesteps',
        title: 'Accuracy against average timesteps',
        text: 'Static T=1..8 (the same model truncated or extended) against the entropy exit over θ.',
        spec: facetedLines(
          engine.map((p) => ({ ...rowOf(p), accuracy_pct: 100 * (p.sim.accuracy ?? 0) })),
          { facet: 'network', x: 'avg_timesteps', xTitle: 'average timesteps', color: 'policy', order: true },
          { y: 'accuracy_pct', yTitle: 'accuracy (%)', zero: false },
        ),
      },
      {
        name: 'edp-vs-timesteps',
        title: 'EDP per sample against average timesteps',
        spec: facetedLines(
          engine.map(rowOf),
          { facet: 'network', x: 'avg_timesteps', xTitle: 'average timesteps', color: 'policy', order: true },
          { y: 'edp_pjs', yTitle: 'EDP per sample (pJ·s)' },
        ),
      },
      {
        name: 'energy-latency-vs-t',
        title: 'Energy and latency against T, relative to T=1 (static)',
        text: 'Each network relative to its own static T=1 run; the findings compare the growth with DT-SNN’s.',
        spec: facetedLines(
          scaling.flatMap((s) => [
            { network: s.network, timesteps: s.timesteps, metric: 'energy', ratio: s.energy_vs_t1 },
            { network: s.network, timesteps: s.timesteps, metric: 'latency', ratio: s.latency_vs_t1 },
          ]),
          { facet: 'metric', x: 'timesteps', xTitle: 'timesteps T', color: 'network', order: false },
          { y: 'ratio', yTitle: 'relative to T=1' },
        ),
      },
      {
        name: 'energy-split',
        title: 'Energy split at T=4: digital peripherals, crossbar + ADC, rest',
        spec: {
          data: { values: splitRows.map((r) => ({ ...r, share_pct: 100 * (r.energy_share as number) })) },
          width: 420,
          height: 200,
          mark: 'bar',
          encoding: {
            y: { field: 'network', type: 'nominal', title: null },
            x: { field: 'share_pct', type: 'quantitative', title: 'share of energy (%)', stack: 'zero' },
            color: { field: 'group', type: 'nominal', title: 'group' },
          },
        },
      },
    ],
    seconds: (performance.now() - t0) / 1000,
  };
}

function rowOf(p: Point) {
  return {
    network: p.network,
    policy: p.policy,
    timesteps: p.timesteps,
    theta: p.theta,
    avg_timesteps: p.sim.avg_timesteps,
    energy_uj: p.sim.energy_per_sample_j * 1e6,
    latency_us: p.sim.latency_per_sample_s * 1e6,
    edp_pjs: p.sim.edp_per_sample_js * 1e12,
  };
}

/** Line charts side by side, one per value of `facet` (Vega-Lite facet over a line-and-point layer). */
function facetedLines(
  values: object[],
  o: { facet: string; x: string; xTitle: string; color: string; order: boolean },
  y: { y: string; yTitle: string; zero?: boolean },
): ChartSpec {
  return {
    data: { values },
    facet: { column: { field: o.facet, type: 'nominal', title: null } },
    spec: {
      width: 300,
      height: 220,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: o.x, type: 'quantitative', title: o.xTitle },
        y: {
          field: y.y,
          type: 'quantitative',
          title: y.yTitle,
          ...(y.zero === false ? { scale: { zero: false } } : {}),
        },
        color: { field: o.color, type: 'nominal' },
        ...(o.order ? { order: { field: o.x, type: 'quantitative' } } : {}),
      },
    },
  } as ChartSpec;
}
