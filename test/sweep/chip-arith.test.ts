/**
 * Sweeps on the chip's arithmetic (workload.arithmetic: chip): every point's trace is made on its own chip,
 * one trace per distinct arithmetic hash, and sweep.csv carries that chip's accuracy and average timesteps.
 * The reference is `imcsim eval --arch` on the same samples (the CLI, an independent path from the sweep).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCsvLine } from '../../src/sweep/csv.js';
import { planSweep, type SweepPlan } from '../../src/sweep/plan.js';
import { runSweep } from '../../src/sweep/run.js';
import { loadSweepSpec } from '../../src/sweep/spec.js';
import { runCli } from '../helpers/cli.js';
import { ARCH, MNIST_MODEL, tempDir, writeSpec } from './helpers.js';

const SAMPLES = 8;
const CAL = 8; // adc.calibration_samples, small to keep the test quick

function spec(
  axes: Record<string, unknown[]>,
  arithmetic?: 'float' | 'chip',
  mode: 'analytic' | 'cycle' = 'analytic',
): Record<string, unknown> {
  return {
    mode,
    arch: ARCH,
    set: { 'adc.calibration_samples': CAL },
    workload: {
      model: MNIST_MODEL,
      dataset: 'mnist',
      samples: SAMPLES,
      ...(arithmetic ? { arithmetic } : {}),
    },
    axes,
    algorithm: { policy: ['entropy'], theta: [0.5] },
    metrics: ['accuracy', 'avg_timesteps', 'energy_per_sample_j'],
  };
}

async function planOf(s: object, dir = tempDir('chipplan')): Promise<SweepPlan> {
  return planSweep(loadSweepSpec(writeSpec(dir, s)));
}

const traces = (dir: string) => readdirSync(join(dir, 'traces')).filter((f) => f.endsWith('.trace'));

function rowsOf(dir: string, plan: SweepPlan): Array<(name: string) => string> {
  return readFileSync(join(dir, 'sweep.csv'), 'utf8')
    .trimEnd()
    .split('\n')
    .slice(1)
    .map(parseCsvLine)
    .map((f) => (name: string) => {
      const i = plan.columns.indexOf(name);
      if (i < 0) throw new Error(`no column ${name}`);
      return f[i];
    });
}

/** `imcsim eval --arch ARCH --set …` on the sweep's samples, policy and calibration (the reference). */
async function evalOnChip(set: string[]): Promise<{ accuracy: number; avg_timesteps: number }> {
  const ev = await runCli(
    'eval',
    '--model',
    MNIST_MODEL,
    '--dataset',
    'mnist',
    '--samples',
    String(SAMPLES),
    '--policy',
    'entropy',
    '--theta',
    '0.5',
    '--arch',
    ARCH,
    '--set',
    `adc.calibration_samples=${CAL}`,
    ...set.flatMap((x) => ['--set', x]),
    '--json',
  );
  expect(ev.code, ev.err).toBe(0);
  const ref = JSON.parse(ev.out) as { accuracy: number; avg_timesteps: number; samples: number };
  expect(ref.samples).toBe(SAMPLES);
  return ref;
}

describe('sweep on the chip’s arithmetic', () => {
  it('plans one trace per distinct arithmetic; float (stated or not) keeps one trace per algorithm point', async () => {
    const adcChip = await planOf(spec({ 'adc.bits': [2, 8] }, 'chip'));
    expect(adcChip.artifacts.length).toBe(2);
    expect(adcChip.columns).toContain('trace_arithmetic');
    expect(adcChip.points.map((p) => p.values.trace_arithmetic)).toEqual(['chip', 'chip']);
    const clockChip = await planOf(spec({ 'chip.clock_hz': [1e9, 5e8] }, 'chip'));
    expect(clockChip.artifacts.length).toBe(1);
    const adcFloat = await planOf(spec({ 'adc.bits': [2, 8] }, 'float'));
    expect(adcFloat.artifacts.length).toBe(1);
    expect(adcFloat.points.map((p) => p.values.trace_arithmetic)).toEqual(['float', 'float']);
    // Not stated: float, no trace_arithmetic column, the same points and trace as before the option existed.
    const plain = await planOf(spec({ 'adc.bits': [2, 8] }));
    expect(plain.columns).not.toContain('trace_arithmetic');
    expect(plain.artifacts.map((a) => a.key)).toEqual(adcFloat.artifacts.map((a) => a.key));
    expect(plain.points.map((p) => p.id)).toEqual(adcFloat.points.map((p) => p.id));
    // Chip points are other points than float ones (their spikes differ).
    expect(adcChip.points[0].id).not.toBe(plain.points[0].id);
  });

  it('adc.bits 2 vs 8: each point’s accuracy and average timesteps are `eval --arch` on that chip', async () => {
    const plan = await planOf(spec({ 'adc.bits': [2, 8] }, 'chip'));
    const dir = tempDir('chiprun');
    const r = await runSweep(plan, { out: dir, workers: 0 });
    expect(r.failed).toEqual([]);
    expect(traces(dir).length).toBe(2);
    expect(readFileSync(join(dir, 'sweep.html'), 'utf8')).toContain(
      'spikes computed on the arithmetic of each point’s chip',
    );
    const rows = rowsOf(dir, plan);
    const got: Array<{ acc: number; avg: number }> = [];
    for (const [i, bits] of [2, 8].entries()) {
      const row = rows[i];
      expect(row('adc.bits')).toBe(String(bits));
      expect(row('trace_arithmetic')).toBe('chip');
      const ref = await evalOnChip([`adc.bits=${bits}`]);
      expect(Number(row('accuracy'))).toBeCloseTo(ref.accuracy, 12);
      expect(Number(row('avg_timesteps'))).toBeCloseTo(ref.avg_timesteps, 12);
      got.push({ acc: Number(row('accuracy')), avg: Number(row('avg_timesteps')) });
    }
    // The 2-bit ADC changes what the chip computes: its accuracy is not the 8-bit chip's.
    expect(got[0].acc).not.toBe(got[1].acc);
  });

  it('cycle mode: a sweep over clock_hz alone makes one chip trace, shared by both points', async () => {
    const plan = await planOf(spec({ 'chip.clock_hz': [1e9, 5e8] }, 'chip', 'cycle'));
    const dir = tempDir('chipclock');
    const r = await runSweep(plan, { out: dir, workers: 0 });
    expect(r.failed).toEqual([]);
    expect(traces(dir).length).toBe(1);
    const rows = rowsOf(dir, plan);
    expect(rows[0]('accuracy')).toBe(rows[1]('accuracy'));
    expect(rows[0]('avg_timesteps')).toBe(rows[1]('avg_timesteps'));
    // The replayed trace is the base chip's (clock does not enter the arithmetic): eval --arch on it.
    const ref = await evalOnChip([]);
    expect(Number(rows[0]('accuracy'))).toBeCloseTo(ref.accuracy, 12);
    expect(Number(rows[0]('avg_timesteps'))).toBeCloseTo(ref.avg_timesteps, 12);
    expect(rows[0]('trace_arithmetic')).toBe('chip');
  });
});
