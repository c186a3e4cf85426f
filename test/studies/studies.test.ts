import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runStudy } from '../../src/studies/index.js';
import { runCli } from '../helpers/cli.js';
import { loadModel } from '../../src/snn/model.js';
import { loadDataset } from '../../src/snn/data/dataset.js';
import { evaluateModel } from '../../src/snn/run.js';

const dir = mkdtempSync(join(tmpdir(), 'imcsim-studies-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Rows of a CSV written by a study (no quoted commas in these files). */
function readCsv(file: string): Array<Record<string, string>> {
  const [head, ...lines] = readFileSync(file, 'utf8').trim().split('\n');
  const keys = head.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [keys[i], v])));
}

function checkFolder(out: string, csvs: string[], charts: string[]): void {
  for (const f of [...csvs, 'index.html', 'SUMMARY.md', ...charts.map((c) => `${c}.svg`)])
    expect(existsSync(join(out, f)), f).toBe(true);
  const html = readFileSync(join(out, 'index.html'), 'utf8');
  for (const c of charts) expect(html).toContain(`data-chart="${c}"`);
  expect(html).not.toMatch(/<script/);
  const md = readFileSync(join(out, 'SUMMARY.md'), 'utf8');
  expect(md).toMatch(/\*\*Findings\*\*/);
  expect(md).toMatch(/\*\*Assumptions\*\*/);
  // Units in every numeric column name (or a count / label / ratio).
  for (const f of csvs) {
    const head = readFileSync(join(out, f), 'utf8').split('\n')[0].split(',');
    for (const h of head)
      expect(h, `${f}: ${h}`).toMatch(
        /_(j|s|js|m2|w|bits)$|^(id|axis|value|points|pareto|network|policy|kind|schedule|group|layer_timesteps|timesteps|theta|classes|samples|accuracy|validation_accuracy|avg_timesteps|crossbar\.rows|crossbar\.columns|adc\.columns_per_adc|model|dataset|arithmetic|static_accuracy|dtsnn_accuracy|dtsnn_avg_timesteps|replayed_samples|keeps_float_accuracy)$|_per_sample$|_share$|_vs_t1$/,
      );
  }
}

describe('co-design studies (tiny configurations)', () => {
  it('dtsnn: static T against the entropy exit, the claim check, T scaling and the energy split', async () => {
    const out = join(dir, 'dtsnn');
    const { result } = await runStudy('dtsnn', { out, tiny: true });
    checkFolder(
      out,
      ['dtsnn-points.csv', 'dtsnn-t-scaling.csv', 'dtsnn-energy-split.csv'],
      ['accuracy-vs-timesteps', 'edp-vs-timesteps', 'energy-latency-vs-t', 'energy-split'],
    );
    const rows = readCsv(join(out, 'dtsnn-points.csv'));
    const mnist = rows.filter((r) => r.network === 'mnist-convnet-t4' && r.policy === 'static');
    expect(mnist.map((r) => Number(r.timesteps))).toEqual([1, 2, 3, 4]);
    // More timesteps cost more energy and time on the chip (static).
    for (let i = 1; i < mnist.length; i++) {
      expect(Number(mnist[i].energy_per_sample_j)).toBeGreaterThan(Number(mnist[i - 1].energy_per_sample_j));
      expect(Number(mnist[i].latency_per_sample_s)).toBeGreaterThan(
        Number(mnist[i - 1].latency_per_sample_s),
      );
    }
    const ent = rows.find((r) => r.policy === 'entropy')!;
    expect(Number(ent.avg_timesteps)).toBeLessThan(4);
    expect(rows.some((r) => r.network === 'vgg16-cifar10 (synthetic)')).toBe(true);
    // The split shares of each network sum to 1.
    const split = readCsv(join(out, 'dtsnn-energy-split.csv'));
    for (const n of new Set(split.map((r) => r.network)))
      expect(
        split.filter((r) => r.network === n).reduce((a, r) => a + Number(r.energy_share), 0),
      ).toBeCloseTo(1, 9);
    // The claim is stated with the numbers of the CSV.
    const st4 = mnist[3];
    const md = readFileSync(join(out, 'SUMMARY.md'), 'utf8');
    expect(md).toMatch(/claim .* \*\*(holds|does not hold)\*\*/);
    expect(result.tables[0].rows[0][2]).toBe(
      String(Number((Number(st4.edp_per_sample_js) * 1e12).toPrecision(4))),
    );
    expect(md).toMatch(/SYNTHETIC/);
  });

  it('exit-overhead: the entropy unit grows with the classes; only pipelining wastes work', async () => {
    const out = join(dir, 'exit');
    await runStudy('exit-overhead', { out, tiny: true });
    checkFolder(out, ['exit-overhead.csv'], ['exit-unit-energy-vs-classes', 'exit-saving-vs-overhead']);
    const rows = readCsv(join(out, 'exit-overhead.csv'));
    const e = (k: number, s: string) =>
      rows.find((r) => r.classes === String(k) && r.schedule === s && r.policy === 'entropy')!;
    for (const s of ['layer-sequential', 'timestep-pipelined']) {
      expect(Number(e(1000, s).exit_unit_energy_per_sample_j)).toBeGreaterThan(
        Number(e(10, s).exit_unit_energy_per_sample_j),
      );
      expect(Number(e(10, s).exit_unit_evaluations_per_sample)).toBeGreaterThan(0);
    }
    for (const r of rows) {
      if (r.schedule === 'layer-sequential' || r.policy === 'static')
        expect(Number(r.wasted_energy_per_sample_j)).toBe(0);
      if (r.policy === 'static') expect(Number(r.exit_unit_evaluations_per_sample)).toBe(0);
    }
    expect(Number(e(10, 'timestep-pipelined').wasted_energy_per_sample_j)).toBeGreaterThan(0);
  });

  it('iir: every stage simulated; T=1 keeps no membrane potential and costs less', async () => {
    const stages = join(dir, 'iir-model');
    const r = await runCli(
      'train',
      '--method',
      'iir',
      '--from-timesteps',
      '3',
      '--to-timesteps',
      '1',
      '--model',
      'models/mnist-convnet-t4',
      '--dataset',
      'mnist',
      '--epochs',
      '1',
      '--samples',
      '32',
      '--val-samples',
      '16',
      '--keep-stages',
      '--out',
      stages,
    );
    expect(r.code, r.err).toBe(0);
    const out = join(dir, 'iir');
    await runStudy('iir', { out, tiny: true, stagesDir: join(stages, 'stages') } as Parameters<
      typeof runStudy
    >[1]);
    checkFolder(out, ['iir-stages.csv'], ['iir-stages', 'iir-energy-by-component']);
    const rows = readCsv(join(out, 'iir-stages.csv'));
    expect(rows.map((x) => Number(x.timesteps))).toEqual([3, 2, 1]);
    expect(Number(rows[2].membrane_accesses_per_sample)).toBe(0);
    expect(Number(rows[0].membrane_accesses_per_sample)).toBeGreaterThan(0);
    expect(Number(rows[2].energy_per_sample_j)).toBeLessThan(Number(rows[0].energy_per_sample_j));
    // A missing stage folder is a clear input error.
    await expect(
      runStudy('iir', { out: join(dir, 'iir2'), stagesDir: join(dir, 'nope') } as Parameters<
        typeof runStudy
      >[1]),
    ).rejects.toThrow(/stage models/);
  });

  it('ldsnn: uniform T against per-layer timesteps, work and cost per point', async () => {
    const out = join(dir, 'ldsnn');
    await runStudy('ldsnn', { out, tiny: true });
    checkFolder(out, ['ldsnn-points.csv'], ['ldsnn-energy-latency', 'ldsnn-accuracy']);
    const rows = readCsv(join(out, 'ldsnn-points.csv'));
    const uni = rows.filter((r) => r.kind === 'uniform');
    expect(uni.map((r) => r.layer_timesteps)).toEqual(['1 1 1 1', '2 2 2 2', '3 3 3 3', '4 4 4 4']);
    for (let i = 1; i < uni.length; i++)
      expect(Number(uni[i].synaptic_updates_per_sample)).toBeGreaterThan(
        Number(uni[i - 1].synaptic_updates_per_sample),
      );
    const ld = rows.filter((r) => r.kind === 'ld-snn');
    expect(ld.length).toBeGreaterThan(0);
    for (const r of ld) expect(new Set(r.layer_timesteps.split(' ')).size).toBeGreaterThan(1);
  });

  it('hardware: a cycle-level sweep underneath, the Pareto front and sensitivities on top', async () => {
    const out = join(dir, 'hardware');
    const { result } = await runStudy('hardware', { out, tiny: true });
    checkFolder(
      out,
      ['hardware-points.csv', 'hardware-sensitivity.csv'],
      ['hardware-pareto', 'hardware-sensitivity'],
    );
    expect(existsSync(join(out, 'sweep', 'sweep.csv'))).toBe(true);
    expect(existsSync(join(out, 'sweep', 'sweep.html'))).toBe(true);
    const rows = readCsv(join(out, 'hardware-points.csv'));
    expect(rows.length).toBe(4);
    // The front: no point on it is beaten on both energy and latency by any point.
    const front = rows.filter((r) => r.pareto === '1');
    expect(front.length).toBeGreaterThan(0);
    for (const f of front)
      for (const r of rows)
        expect(
          Number(r.energy_per_sample_j) < Number(f.energy_per_sample_j) &&
            Number(r.latency_per_sample_s) < Number(f.latency_per_sample_s),
        ).toBe(false);
    const sens = readCsv(join(out, 'hardware-sensitivity.csv'));
    expect(sens.map((r) => `${r.axis}=${r.value}`)).toEqual([
      'crossbar.rows=64',
      'crossbar.rows=128',
      'adc.columns_per_adc=8',
      'adc.columns_per_adc=16',
    ]);
    // A marginal mean is the mean over the points sharing the value.
    const mean = (axis: string, v: string) => {
      const sel = rows.filter((r) => r[axis] === v);
      return sel.reduce((a, r) => a + Number(r.edp_per_sample_js), 0) / sel.length;
    };
    expect(Number(sens[0].mean_edp_per_sample_js)).toBeCloseTo(mean('crossbar.rows', '64'), 20);
    expect(result.tables[0].rows.length).toBe(front.length);
    // Each chip's spikes come from its own arithmetic: the sweep says so per point, and each point's
    // accuracy is set against the float engine on the same 4 samples (computed here by the engine).
    const sweepCsv = readCsv(join(out, 'sweep', 'sweep.csv'));
    expect(sweepCsv.every((r) => r.trace_arithmetic === 'chip')).toBe(true);
    const floatAcc = evaluateModel(loadModel('models/mnist-convnet-t4'), loadDataset('mnist', 'test'), {
      policy: { name: 'entropy', timesteps: 4, theta: 0.9 },
      samples: 4,
      seed: 0,
    }).accuracy;
    for (const r of rows) {
      const a = Number(r.accuracy);
      expect(a >= 0 && a <= 1).toBe(true);
      expect(r.keeps_float_accuracy).toBe(a >= floatAcc - 0.01 - 1e-12 ? '1' : '0');
    }
    expect(result.findings.join(' ')).toContain(`float engine ${(floatAcc * 100).toFixed(1)} %`);
  });

  it('accuracy: chip points next to the float engine, DT-SNN timesteps and EDP, the accuracy–EDP front', async () => {
    const out = join(dir, 'accuracy');
    const { result } = await runStudy('accuracy', { out, tiny: true, samples: 4 });
    checkFolder(out, ['accuracy-points.csv'], ['accuracy-vs-edp']);
    const rows = readCsv(join(out, 'accuracy-points.csv'));
    // float engine, default chip, adc.bits 2 and 3, programming σ 0.2 (σ = 0 is the default chip), then
    // the model fine-tuned for the 3-bit chip (train --arch) on that chip.
    expect(rows.map((r) => `${r.model}:${r.arithmetic}:${r.axis}:${r.value}`)).toEqual([
      'mnist-convnet-t4:float:float engine:',
      'mnist-convnet-t4:chip:default chip:',
      'mnist-convnet-t4:chip:adc.bits:2',
      'mnist-convnet-t4:chip:adc.bits:3',
      'mnist-convnet-t4:chip:device.programming_sigma:0.2',
      'mnist-convnet-t4-adc3:chip:fine-tuned for adc.bits=3:3',
    ]);
    // The fine-tuned point's accuracy is what `imcsim eval --arch` gives for that model on that chip.
    const tunedEval = await runCli(
      'eval',
      '--model',
      'models/mnist-convnet-t4-adc3',
      '--dataset',
      'mnist',
      '--split',
      'test',
      '--samples',
      '4',
      '--policy',
      'static',
      '--arch',
      'default',
      '--set',
      'adc.bits=3',
      '--set',
      'adc.calibration_samples=4',
      '--json',
    );
    expect(tunedEval.code, tunedEval.err).toBe(0);
    expect(Number(rows[5].static_accuracy)).toBe(JSON.parse(tunedEval.out).accuracy);
    expect(rows[5].pareto).toBe('');
    // The larger check of the recovery (tiny: the same 4 images) agrees with eval --arch too.
    const tunedPct = `${(JSON.parse(tunedEval.out).accuracy * 100).toFixed(1)} %`;
    expect(result.findings.join('\n')).toContain(`On all 4 test images (static T=4, same chip): `);
    expect(result.findings.join('\n')).toMatch(
      new RegExp(`same chip\\): [0-9.]+ % → ${tunedPct.replace('.', '\\.')}\\.`),
    );
    expect(result.findings.join('\n')).toMatch(
      /mnist-convnet-t4-adc3.*fine-tuned on the chip with adc\.bits=3/,
    );
    for (const r of rows) {
      expect(Number(r.static_accuracy)).toBeGreaterThanOrEqual(0);
      expect(Number(r.dtsnn_avg_timesteps)).toBeGreaterThanOrEqual(1);
      expect(Number(r.dtsnn_avg_timesteps)).toBeLessThanOrEqual(4);
      const edp = Number(r.energy_per_sample_j) * Number(r.latency_per_sample_s);
      expect(Math.abs(Number(r.edp_per_sample_js) - edp)).toBeLessThanOrEqual(1e-9 * edp);
    }
    // The front: no chip point is at least as accurate with a lower EDP than a point on it.
    const chip = rows.filter((r) => r.arithmetic === 'chip' && r.model === 'mnist-convnet-t4');
    const front = chip.filter((r) => r.pareto === 'yes');
    expect(front.length).toBeGreaterThan(0);
    for (const f of front)
      for (const r of chip)
        expect(
          Number(r.dtsnn_accuracy) > Number(f.dtsnn_accuracy) &&
            Number(r.edp_per_sample_js) < Number(f.edp_per_sample_js),
        ).toBe(false);
    // A 2-bit ADC spends more conversions' worth of time nowhere: its energy differs from the 3-bit chip's.
    expect(rows[2].energy_per_sample_j).not.toBe(rows[3].energy_per_sample_j);
    expect(result.findings.join('\n')).toMatch(/float engine .* on the default chip's arithmetic/);
  }, 240_000);

  it('the CLI runs a study and rejects an unknown one with exit code 2', async () => {
    const bad = await runCli('study', 'nonsense', '--out', join(dir, 'x'));
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/one of dtsnn, iir, ldsnn, exit-overhead, hardware, accuracy/);
    const ok = await runCli('study', 'exit-overhead', '--tiny', '--quiet', '--out', join(dir, 'cli'));
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toMatch(/exit unit/);
  });
});
