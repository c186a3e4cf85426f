import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../../src/snn/data/dataset.js';
import { initModel, loadModel, type SnnModel } from '../../src/snn/model.js';
import { loadNetwork } from '../../src/network/load.js';
import { createTrainer, type TrainConfig } from '../../src/snn/train/trainer.js';
import { runCli } from '../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'imcsim-train-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const common = [
  '--model',
  'models/mnist-convnet',
  '--dataset',
  'mnist',
  '--timesteps',
  '2',
  '--epochs',
  '1',
  '--samples',
  '64',
  '--val-samples',
  '40',
  '--seed',
  '3',
];

describe('imcsim train', () => {
  it('trains, validates, logs and writes the model with its metadata', async () => {
    const out = join(tmp, 'm');
    const r = await runCli('train', ...common, '--workers', '1', '--out', out);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/epoch 1: .*val acc/);
    const m = loadModel(out);
    expect(m.spec.timesteps).toBe(2);
    expect(m.spec.name).toBe('m');
    expect(m.metadata.dataset).toBe('mnist');
    expect(m.metadata.split).toBe('train');
    expect(m.metadata.seed).toBe('3');
    expect(m.metadata.epochs).toBe('1');
    expect(m.metadata.command).toMatch(/^imcsim train /);
    const log = readFileSync(join(out, 'train-log.csv'), 'utf8').trim().split('\n');
    expect(log[0]).toBe('epoch,lr,train_loss,train_acc,val_acc,seconds,timesteps');
    expect(log).toHaveLength(2);
    expect(existsSync(join(out, 'checkpoint'))).toBe(false);
  });

  it('resume: a stopped run continued with --resume ends with the weights of an uninterrupted one', async () => {
    const args = [
      '--model',
      'models/mnist-convnet',
      '--dataset',
      'mnist',
      '--timesteps',
      '2',
      '--epochs',
      '2',
      '--samples',
      '32',
      '--val-samples',
      '20',
      '--workers',
      '1',
    ];
    const a = join(tmp, 'full');
    const b = join(tmp, 'part');
    expect((await runCli('train', ...args, '--out', a)).code).toBe(0);
    const stop = await runCli('train', ...args, '--out', b, '--stop-after', '1');
    expect(stop.out).toMatch(/continue with --resume/);
    expect(existsSync(join(b, 'checkpoint', 'optimizer.safetensors'))).toBe(true);
    expect((await runCli('train', ...args, '--out', b, '--resume')).code).toBe(0);
    const wa = readFileSync(join(a, 'weights.safetensors'));
    const ma = loadModel(a);
    const mb = loadModel(b);
    for (const [name, t] of ma.tensors)
      expect(Array.from(mb.tensors.get(name)!.data), name).toEqual(Array.from(t.data));
    expect(wa.length).toBeGreaterThan(0);
  });

  it('bad input is exit code 2 with a located message', async () => {
    const r = await runCli(
      'train',
      '--model',
      'models/mnist-convnet',
      '--dataset',
      'mnist',
      '--out',
      join(tmp, 'x'),
      '--loss',
      'mse',
    );
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--loss/);
    const r2 = await runCli(
      'train',
      '--model',
      'no/such/model',
      '--dataset',
      'mnist',
      '--out',
      join(tmp, 'y'),
    );
    expect(r2.code).toBe(2);
    const r3 = await runCli('train', '--model', 'models/mnist-convnet', '--out', join(tmp, 'z'));
    expect(r3.code).toBe(2);
    expect(r3.err).toMatch(/--dataset is required/);
  });

  it('iir: stages T = 3 → 1 with trained thresholds and leaks, accuracy per stage in the log', async () => {
    const out = join(tmp, 'iir');
    const r = await runCli(
      'train',
      '--method',
      'iir',
      '--from-timesteps',
      '3',
      '--to-timesteps',
      '1',
      '--model',
      'models/mnist-convnet',
      '--dataset',
      'mnist',
      '--epochs',
      '1',
      '--samples',
      '32',
      '--val-samples',
      '20',
      '--workers',
      '1',
      '--keep-stages',
      '--out',
      out,
    );
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/T=3: validation accuracy/);
    // --keep-stages: each stage's model stays, at its own T, for the IIR hardware study.
    for (const T of [3, 2, 1]) expect(loadModel(join(out, 'stages', `T${T}`)).spec.timesteps).toBe(T);
    expect(existsSync(join(out, 'checkpoint-stages'))).toBe(false);
    expect(r.out).toMatch(/T=1: validation accuracy/);
    const m = loadModel(out);
    expect(m.spec.timesteps).toBe(1);
    expect(m.spec.neuron.convention).toBe('iir');
    expect(m.tensors.get('conv1.threshold')!.data[0]).toBeGreaterThan(0);
    expect(m.tensors.get('fc1.leak')!.data[0]).toBeLessThanOrEqual(1);
    const log = readFileSync(join(out, 'train-log.csv'), 'utf8').trim().split('\n');
    expect(log.slice(1).map((l) => l.split(',')[6])).toEqual(['3', '2', '1']);
    expect(JSON.parse(m.metadata.stages).map((s: { timesteps: number }) => s.timesteps)).toEqual([3, 2, 1]);
  });

  it('dtsnn-curve writes the CSV and SVG; ldsnn-search writes per-layer timesteps', async () => {
    const src = join(tmp, 'm');
    const curve = join(tmp, 'curve');
    const r = await runCli(
      'dtsnn-curve',
      '--model',
      src,
      '--dataset',
      'mnist',
      '--samples',
      '30',
      '--thetas',
      '0.5,0.9',
      '--out',
      curve,
    );
    expect(r.code).toBe(0);
    const csv = readFileSync(join(curve, 'dtsnn-curve.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('curve,theta,timesteps,accuracy,avg_timesteps');
    expect(csv).toHaveLength(1 + 2 + 2 + 1);
    expect(readFileSync(join(curve, 'dtsnn-curve.svg'), 'utf8')).toMatch(/^<svg /);
    const ld = join(tmp, 'ld');
    const s = await runCli(
      'ldsnn-search',
      '--model',
      src,
      '--dataset',
      'mnist',
      '--samples',
      '20',
      '--budget',
      '100',
      '--no-test',
      '--out',
      ld,
    );
    expect(s.code).toBe(0);
    const m = loadModel(ld);
    const lt = m.spec.layers
      .filter((l) => l.type === 'conv2d' || l.type === 'linear')
      .map((l) => ('timesteps' in l ? l.timesteps : undefined));
    // A budget of 100 points accepts every move: every layer ends at one timestep.
    expect(lt).toEqual([1, 1, 1, 1]);
    expect(s.out).toMatch(/synaptic updates .*× fewer/);
  });
});

describe('two workers (data parallel, needs the built worker: npm run build)', () => {
  const cfg: TrainConfig = {
    timesteps: 2,
    loss: 'tet',
    epochs: 1,
    seed: 9,
    lr: 1e-3,
    batch: 16,
    optimizer: 'adam',
    schedule: 'cosine',
    surrogate: 'atan',
    weightDecay: 0,
    workers: 2,
    augment: 1,
  };
  const run = async (workers: number): Promise<SnnModel> => {
    const m = initModel(loadNetwork('models/mnist-convnet').spec, 1);
    const tr = createTrainer(m, loadDataset('mnist', 'train', { limit: 32 }), { ...cfg, workers });
    try {
      tr.epoch(0);
    } finally {
      await tr.close();
    }
    return m;
  };
  it('is deterministic and agrees with one worker up to float rounding', async () => {
    const a = await run(2);
    const b = await run(2);
    const c = await run(1);
    for (const [name, t] of a.tensors) {
      expect(Array.from(b.tensors.get(name)!.data), name).toEqual(Array.from(t.data));
      const d = c.tensors.get(name)!.data;
      for (let i = 0; i < d.length; i++) expect(Math.abs(d[i] - t.data[i])).toBeLessThan(1e-5);
    }
  });
});
