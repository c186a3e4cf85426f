/**
 * Study `iir`: the IIR-SNN stages T = 5 → 1 (docs/SOURCES.md §1) on the chip. Each stage's model (kept by
 * `imcsim train --method iir --keep-stages`) is traced on real test images at its own T and replayed
 * cycle by cycle: accuracy, energy, latency, membrane-buffer traffic, and the membrane storage a T=1
 * design no longer needs (at T=1 no potential is kept between timesteps).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { located } from '../util/errors.js';
import type { SimulationResult } from '../replay/simulate.js';
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

export interface IirStudyOptions extends StudyOptions {
  /** Folder of stage models T<n>/ (default models/mnist-convnet-t1/stages). */
  stagesDir?: string;
}

function membraneAccesses(r: SimulationResult): number {
  let n = 0;
  for (const a of Object.values(r.components.membrane_buffer.actions)) n += a.count;
  return n;
}

export async function iirStudy(opts: IirStudyOptions): Promise<StudyResult> {
  const t0 = performance.now();
  const runner = new StudyRunner(opts, 500);
  const stagesDir = opts.stagesDir ?? join(modelPath('mnist-convnet-t1'), 'stages');
  const stageTs = existsSync(stagesDir)
    ? readdirSync(stagesDir)
        .map((d) => /^T(\d+)$/.exec(d))
        .filter((m): m is RegExpExecArray => !!m && existsSync(join(stagesDir, m[0], 'weights.safetensors')))
        .map((m) => Number(m[1]))
        .sort((a, b) => b - a)
    : [];
  if (stageTs.length < 2 || !stageTs.includes(1))
    throw located('the IIR study needs the stage models of an IIR-SNN training, down to T=1', {
      file: stagesDir,
      expected:
        'folders T5/ … T1/ with weights.safetensors (imcsim train --method iir --keep-stages, docs/MODELS.md)',
      found: stageTs.length ? stageTs.map((t) => `T${t}`).join(', ') : 'none',
    });
  const stages: Array<{ T: number; sim: SimulationResult; valAcc: number | null }> = [];
  for (const T of stageTs) {
    const dir = join(stagesDir, `T${T}`);
    const model = runner.model(dir);
    const r = await runner.engineRun({
      label: `iir-T${T}`,
      modelDir: dir,
      dataset: 'mnist',
      policy: { name: 'static', timesteps: T },
    });
    const log = model.metadata.stages
      ? (JSON.parse(model.metadata.stages) as Array<{ timesteps: number; val_acc: number }>)
      : [];
    stages.push({ T, sim: r.sim, valAcc: log.find((s) => s.timesteps === T)?.val_acc ?? null });
  }
  const rows: CsvRow[] = stages.map((s) => ({
    timesteps: s.T,
    validation_accuracy: s.valAcc,
    ...runMetrics(s.sim),
    membrane_accesses_per_sample: membraneAccesses(s.sim) / s.sim.samples,
    membrane_buffer_area_m2: s.sim.components.membrane_buffer.area_m2,
    membrane_buffer_leakage_w: s.sim.components.membrane_buffer.leakage_w,
  }));
  const first = stages[0];
  const last = stages[stages.length - 1];
  const mb = last.sim.components.membrane_buffer;
  const leakPerSample = mb.leakage_w * last.sim.latency_per_sample_s;
  const findings = [
    `Accuracy on ${first.sim.samples} MNIST test images: T=${first.T} ${pct1(first.sim.accuracy ?? 0)} → T=1 ${pct1(last.sim.accuracy ?? 0)} (${(100 * ((last.sim.accuracy ?? 0) - (first.sim.accuracy ?? 0))).toFixed(1)} points on these images; IIR-SNN's target: within 1 point; docs/MODELS.md gives the full test split).`,
    `Energy per sample: T=${first.T} ${fmt(first.sim.energy_per_sample_j * 1e6)} µJ → T=1 ${fmt(last.sim.energy_per_sample_j * 1e6)} µJ (×${fmt(first.sim.energy_per_sample_j / last.sim.energy_per_sample_j, 3)} less); latency ${fmt(first.sim.latency_per_sample_s * 1e6)} µs → ${fmt(last.sim.latency_per_sample_s * 1e6)} µs (×${fmt(first.sim.latency_per_sample_s / last.sim.latency_per_sample_s, 3)} faster); EDP ×${fmt(first.sim.edp_per_sample_js / last.sim.edp_per_sample_js, 3)} lower.`,
    `Membrane-buffer traffic: ${fmt(membraneAccesses(first.sim) / first.sim.samples)} accesses per sample at T=${first.T}, ${fmt(membraneAccesses(last.sim) / last.sim.samples)} at T=1 — at T=1 no potential is kept between timesteps.`,
    `What a T=1 design no longer needs: the membrane-potential buffers, ${fmt(mb.area_m2 * 1e6)} mm² (${pct1(mb.area_m2 / last.sim.area_m2)} of the chip's ${fmt(last.sim.area_m2 * 1e6)} mm²) and ${fmt(mb.leakage_w * 1e3)} mW of leakage (${fmt(leakPerSample * 1e9)} nJ per T=1 inference, ${pct1(leakPerSample / last.sim.energy_per_sample_j)} of its energy).`,
  ];
  return {
    name: 'iir',
    title: 'IIR-SNN: from T=5 to one timestep',
    question:
      'What does each IIR-SNN stage cost on the chip, and what does a one-timestep network let the hardware drop?',
    findings,
    assumptions: [
      ...chipAssumptions(runner, first.sim),
      `Stage models from ${shownPath(stagesDir)} (one IIR-SNN training, each stage initialised from the previous one; docs/MODELS.md), traced by the engine on the first ${runner.samples} MNIST test images at their own T.`,
      'The membrane-buffer area and leakage are those of the configured buffers (membrane_buffer.capacity_bits per tile); a T=1 chip could omit them because the replay records no membrane traffic at T=1.',
    ],
    csvs: [{ file: 'iir-stages.csv', rows }],
    tables: [
      {
        title: 'Stages',
        head: [
          'T',
          'test acc.',
          'energy / sample (µJ)',
          'latency / sample (µs)',
          'EDP (pJ·s)',
          'membrane accesses / sample',
        ],
        rows: stages.map((s) => [
          s.T,
          pct1(s.sim.accuracy ?? 0),
          fmt(s.sim.energy_per_sample_j * 1e6),
          fmt(s.sim.latency_per_sample_s * 1e6),
          fmt(s.sim.edp_per_sample_js * 1e12),
          fmt(membraneAccesses(s.sim) / s.sim.samples),
        ]),
      },
    ],
    charts: [
      {
        name: 'iir-stages',
        title: 'Accuracy, energy and latency per stage',
        spec: {
          data: {
            values: stages.flatMap((s) => [
              { T: s.T, metric: 'accuracy (%)', value: 100 * (s.sim.accuracy ?? 0) },
              { T: s.T, metric: 'energy per sample (µJ)', value: s.sim.energy_per_sample_j * 1e6 },
              { T: s.T, metric: 'latency per sample (µs)', value: s.sim.latency_per_sample_s * 1e6 },
              {
                T: s.T,
                metric: 'membrane accesses per sample',
                value: membraneAccesses(s.sim) / s.sim.samples,
              },
            ]),
          },
          facet: { column: { field: 'metric', type: 'nominal', title: null } },
          spec: {
            width: 170,
            height: 180,
            mark: { type: 'bar' },
            encoding: {
              x: { field: 'T', type: 'ordinal', title: 'stage T', sort: 'descending' },
              y: { field: 'value', type: 'quantitative', title: null },
            },
          },
          resolve: { scale: { y: 'independent' } },
        },
      },
      {
        name: 'iir-energy-by-component',
        title: 'Energy per sample by component, per stage',
        spec: {
          data: {
            values: stages.flatMap((s) =>
              Object.values(s.sim.components).map((c) => ({
                T: s.T,
                component: c.component,
                energy_nj: (c.energy_j / s.sim.samples) * 1e9,
              })),
            ),
          },
          width: 420,
          height: 220,
          mark: 'bar',
          encoding: {
            x: { field: 'T', type: 'ordinal', title: 'stage T', sort: 'descending' },
            y: { field: 'energy_nj', type: 'quantitative', title: 'energy per sample (nJ)', stack: 'zero' },
            color: { field: 'component', type: 'nominal' },
          },
        },
      },
    ],
    seconds: (performance.now() - t0) / 1000,
  };
}
