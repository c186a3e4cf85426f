import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/snn/model.js';
import { runCli } from '../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'imcsim-train-hw-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const args = (out: string, ...extra: string[]) => [
  'train',
  '--model',
  'models/mnist-convnet-t4',
  '--dataset',
  'mnist',
  '--timesteps',
  '2',
  '--epochs',
  '1',
  '--samples',
  '24',
  '--val-samples',
  '8',
  '--batch',
  '8',
  '--seed',
  '3',
  '--out',
  out,
  ...extra,
];
const chip = ['--arch', 'default', '--set', 'adc.bits=3', '--set', 'adc.calibration_samples=4'];

describe('imcsim train --arch', () => {
  it('hardware-aware: deterministic with programming noise, recorded in the metadata, not the float run', async () => {
    const noisy = [...chip, '--set', 'device.programming_sigma=0.1'];
    const a = await runCli(...args(join(tmp, 'a'), ...noisy));
    expect(a.err).toBe('');
    expect(a.code).toBe(0);
    const b = await runCli(...args(join(tmp, 'b'), ...noisy));
    expect(b.code).toBe(0);
    const f = await runCli(...args(join(tmp, 'f')));
    expect(f.code).toBe(0);
    const q = await runCli(...args(join(tmp, 'q'), ...chip));
    expect(q.code).toBe(0);
    const ma = loadModel(join(tmp, 'a'));
    const mb = loadModel(join(tmp, 'b'));
    // Same seed, same noise draws: every tensor bit for bit (metadata differ: paths and seconds).
    for (const [name, t] of ma.tensors)
      expect(Array.from(mb.tensors.get(name)!.data)).toEqual(Array.from(t.data));
    const mf = loadModel(join(tmp, 'f'));
    expect(ma.metadata.hw_arch).toBe('default');
    expect(ma.metadata.hw_adc_bits).toBe('3');
    expect(ma.metadata.hw_programming_sigma).toBe('0.1');
    expect(mf.metadata.hw_arch).toBeUndefined();
    const x = ma.tensors.get('fc1.weight')!.data;
    const y = mf.tensors.get('fc1.weight')!.data;
    let diff = 0;
    for (let i = 0; i < x.length; i++) diff = Math.max(diff, Math.abs(x[i] - y[i]));
    expect(diff).toBeGreaterThan(1e-6);
    // The noise reaches training: the same chip without programming noise trains other weights.
    const z = loadModel(join(tmp, 'q')).tensors.get('fc1.weight')!.data;
    let dn = 0;
    for (let i = 0; i < x.length; i++) dn = Math.max(dn, Math.abs(x[i] - z[i]));
    expect(dn).toBeGreaterThan(1e-6);
  }, 120_000);

  it('bad input: --arch with two workers, --set without --arch (exit 2, no stack)', async () => {
    const r = await runCli(...args(join(tmp, 'w'), ...chip, '--workers', '2'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/one worker/);
    expect(r.err).not.toMatch(/\n\s+at /);
    const s = await runCli(...args(join(tmp, 's'), '--set', 'adc.bits=3'));
    expect(s.code).toBe(2);
    expect(s.err).toMatch(/--set needs --arch/);
  });
});
