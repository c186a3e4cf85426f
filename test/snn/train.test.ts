import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseNetwork } from '../../src/network/load.js';
import type { Dataset } from '../../src/snn/data/dataset.js';
import { Engine } from '../../src/snn/engine.js';
import { initModel, loadModel, type SnnModel } from '../../src/snn/model.js';
import { evaluateModel } from '../../src/snn/run.js';
import { computeLoss, LOSSES, TET_LAMBDA, type LossName } from '../../src/snn/train/loss.js';
import { NeuronOp, TrainNet, type Param } from '../../src/snn/train/net.js';
import { calibrateThresholds, calibrateWeights, quantile } from '../../src/snn/train/iir.js';
import { learningRate, Optimizer } from '../../src/snn/train/optim.js';
import {
  ATAN_ALPHA,
  DSPIKE_TEMPERATURE,
  FAST_SIGMOID_SLOPE,
  PWL_GAIN,
  SURROGATES,
  surrogateGrad,
  type SurrogateName,
} from '../../src/snn/train/surrogate.js';
import { createTrainer, trainRun, type TrainConfig } from '../../src/snn/train/trainer.js';
import { Rng } from '../../src/util/rng.js';

const tmp = mkdtempSync(join(tmpdir(), 'imcsim-train-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function model(yaml: string, seed = 1): SnnModel {
  const { spec } = parseNetwork(yaml, 'test.yaml');
  return initModel(spec, seed);
}

function randomize(m: SnnModel, seed: number, scale = 1): void {
  const rng = new Rng(seed);
  for (const [name, t] of m.tensors) {
    if (name.endsWith('running_var')) for (let i = 0; i < t.data.length; i++) t.data[i] = 0.5 + rng.next();
    else if (name.endsWith('running_mean') || name.endsWith('.bias'))
      for (let i = 0; i < t.data.length; i++) t.data[i] = 0.2 * (rng.next() - 0.5);
    else if (name.endsWith('.weight') && t.shape.length === 1)
      for (let i = 0; i < t.data.length; i++) t.data[i] = 0.5 + rng.next();
    else if (name.endsWith('.weight')) for (let i = 0; i < t.data.length; i++) t.data[i] *= scale;
  }
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Loss of the whole network for a batch, in float64 from the float32 outputs. */
function netLoss(net: TrainNet, x: Float32Array, labels: number[], kind: LossName, seed = 5): number {
  const B = labels.length;
  const T = net.timesteps;
  const out = net.forward(x, { batch: B, timesteps: T, train: true, seed, ids: ids(B) });
  return computeLoss(kind, out, T, B, net.classes, labels, 1 / B, null).loss / B;
}

function netGrad(net: TrainNet, x: Float32Array, labels: number[], kind: LossName, seed = 5): void {
  const B = labels.length;
  const T = net.timesteps;
  net.zeroGrad();
  const out = net.forward(x, { batch: B, timesteps: T, train: true, seed, ids: ids(B) });
  const g = new Float32Array(out.length);
  computeLoss(kind, out, T, B, net.classes, labels, 1 / B, g);
  net.backward(g);
}

/** Central differences on sampled entries of every parameter. */
function checkParams(
  net: TrainNet,
  x: Float32Array,
  labels: number[],
  kind: LossName,
  eps: number,
  rtol: number,
  atol: number,
) {
  netGrad(net, x, labels, kind);
  const analytic = new Map(net.params.map((p) => [p.name, Float32Array.from(p.grad)]));
  const rng = new Rng(11);
  let checked = 0;
  for (const p of net.params) {
    const n = p.data.length;
    const picks = n <= 12 ? ids(n) : Array.from({ length: 12 }, () => rng.int(n));
    for (const i of picks) {
      const v = p.data[i];
      p.data[i] = v + eps;
      const lp = netLoss(net, x, labels, kind);
      p.data[i] = v - eps;
      const lm = netLoss(net, x, labels, kind);
      p.data[i] = v;
      const num = (lp - lm) / (Math.fround(v + eps) - Math.fround(v - eps));
      const a = analytic.get(p.name)![i];
      expect(Math.abs(a - num), `${p.name}[${i}]: analytic ${a}, numeric ${num}`).toBeLessThanOrEqual(
        atol + rtol * Math.abs(num),
      );
      checked++;
    }
  }
  return checked;
}

describe('gradients against finite differences (non-spiking paths)', () => {
  it.each([
    [1, 0, 1, 1, 'avgpool2d'],
    [2, 1, 1, 2, 'sumpool2d'],
    [1, 2, 2, 1, 'maxpool2d'],
    [2, 1, 1, 1, 'avgpool2d'],
  ] as const)(
    'conv2d stride %i padding %i dilation %i groups %i, %s, batchnorm, dropout, linear',
    (s, p, d, g, pool) => {
      const m = model(
        `name: g\ninput: { shape: [2, 7, 7] }\nclasses: 3\ntimesteps: 2\nlayers:\n` +
          `  - { name: conv1, type: conv2d, out_channels: 4, kernel: 3, stride: ${s}, padding: ${p}, dilation: ${d}, groups: ${g}, bias: true, spiking: false }\n` +
          `  - { name: bn1, type: batchnorm }\n` +
          `  - { name: pool, type: ${pool}, kernel: 2, stride: 1 }\n` +
          `  - { name: conv2, type: conv2d, out_channels: 4, kernel: 2, groups: 2, spiking: false }\n` +
          `  - { type: flatten }\n` +
          `  - { name: bn2, type: batchnorm }\n` +
          `  - { name: drop, type: dropout, p: 0.3 }\n` +
          `  - { name: fc, type: linear, out_features: 3, bias: true, spiking: false }\n`,
        3,
      );
      randomize(m, 4);
      const net = new TrainNet(m, { timesteps: 2, surrogate: 'atan' });
      const rng = new Rng(9);
      const B = 4;
      const x = Float32Array.from({ length: B * 98 }, () => rng.next() * 2 - 0.5);
      const n = checkParams(net, x, [0, 1, 2, 1], 'sum-ce', 2e-3, 2e-2, 2e-4);
      expect(n).toBeGreaterThan(40);
    },
  );

  it('gradient reaches the input of a layer through linear, conv and pooling (dx by the chain rule)', () => {
    // A 3-layer non-spiking net: the first layer's weight gradient depends on every later dx.
    const m = model(
      `name: g\ninput: { shape: [1, 6, 6] }\nclasses: 2\ntimesteps: 1\nlayers:\n` +
        `  - { name: c1, type: conv2d, out_channels: 3, kernel: 3, padding: 1, spiking: false }\n` +
        `  - { type: maxpool2d, kernel: 2 }\n` +
        `  - { name: c2, type: conv2d, out_channels: 2, kernel: 3, padding: 1, spiking: false }\n` +
        `  - { type: sumpool2d, kernel: 3 }\n` +
        `  - { type: flatten }\n` +
        `  - { name: f1, type: linear, out_features: 5, spiking: false }\n` +
        `  - { name: f2, type: linear, out_features: 2, spiking: false }\n`,
      5,
    );
    const net = new TrainNet(m, { timesteps: 1, surrogate: 'atan' });
    const rng = new Rng(2);
    const x = Float32Array.from({ length: 3 * 36 }, () => rng.next());
    checkParams(net, x, [0, 1, 1], 'sum-ce', 2e-3, 2e-2, 2e-4);
  });
});

/** Antiderivatives S of each surrogate (S' = surrogate): the smooth stand-in for H in the reference. */
function smoothStep(kind: SurrogateName, z: number): number {
  switch (kind) {
    case 'atan':
      return Math.atan((Math.PI / 2) * ATAN_ALPHA * z) / Math.PI;
    case 'fast-sigmoid':
      return z / (1 + FAST_SIGMOID_SLOPE * Math.abs(z));
    case 'pwl': {
      const c = Math.max(-1, Math.min(1, z));
      return PWL_GAIN * (c - (c * Math.abs(c)) / 2);
    }
    case 'dspike': {
      const b = DSPIKE_TEMPERATURE;
      const c = Math.max(-0.5, Math.min(0.5, z));
      return Math.tanh(b * c) / (2 * Math.tanh(b / 2));
    }
  }
}

/**
 * Float64 reference of the neuron over T steps whose output is the smooth S(z) while the state update
 * uses the exact spike H(z): its derivative is the surrogate gradient with the reset detached.
 */
function refNeuron(
  conv: 'dtsnn' | 'iir',
  hard: boolean,
  sur: SurrogateName,
  x: Float64Array,
  T: number,
  n: number,
  isStatic: boolean,
  leak: number,
  thr: number,
  c: Float64Array,
): number {
  const u = new Float64Array(n);
  let L = 0;
  for (let t = 0; t < T; t++)
    for (let i = 0; i < n; i++) {
      const v = leak * u[i] + x[(isStatic ? 0 : t * n) + i];
      const z = conv === 'iir' ? v / thr - 1 : v - thr;
      L += c[t * n + i] * smoothStep(sur, z);
      const s = z > 0 ? 1 : 0;
      u[i] = s ? (hard ? 0 : v - thr) : v;
    }
  return L;
}

describe('surrogate gradients through LIF over time (BPTT)', () => {
  const cases: Array<[SurrogateName, 'dtsnn' | 'iir', boolean, boolean]> = [];
  for (const s of SURROGATES)
    for (const [conv, hard] of [
      ['dtsnn', true],
      ['dtsnn', false],
      ['iir', false],
    ] as const)
      for (const isStatic of [true, false]) cases.push([s, conv, hard, isStatic]);
  it.each(cases)(
    '%s, %s convention, hard reset %s, static input %s: dx, dλ, dθ',
    (sur, conv, hard, isStatic) => {
      const T = 4;
      const B = 3;
      const F = 5;
      const n = B * F;
      const rng = new Rng(17);
      const xs = Float32Array.from({ length: isStatic ? n : T * n }, () => 0.3 + 0.9 * rng.next());
      const c = Float64Array.from({ length: T * n }, () => rng.next() * 2 - 1);
      const leak0 = 0.8;
      const thr0 = 1.1;
      const leak: Param = {
        name: 'l',
        data: Float32Array.of(leak0),
        grad: new Float32Array(1),
        decay: false,
      };
      const thr: Param = { name: 't', data: Float32Array.of(thr0), grad: new Float32Array(1), decay: false };
      const op = new NeuronOp('n', F, {
        convention: conv,
        leak,
        threshold: thr,
        hard,
        vReset: 0,
        surrogate: sur,
      });
      const ctx = { batch: B, timesteps: T, train: true, seed: 0, ids: ids(B) };
      op.forward(xs, isStatic ? B : T * B, ctx);
      const dx = op.backward(Float32Array.from(c), ctx, true)!;
      const lf = Math.fround(leak0);
      const tf = Math.fround(thr0);
      const x64 = Float64Array.from(xs);
      const L = (x: Float64Array, l: number, t: number) =>
        refNeuron(conv, hard, sur, x, T, n, isStatic, l, t, c);
      const eps = 1e-6;
      const tol = (num: number) => 1e-4 + 1e-3 * Math.abs(num);
      for (let i = 0; i < x64.length; i++) {
        const xp = Float64Array.from(x64);
        const xm = Float64Array.from(x64);
        xp[i] += eps;
        xm[i] -= eps;
        const num = (L(xp, lf, tf) - L(xm, lf, tf)) / (2 * eps);
        expect(Math.abs(dx[i] - num), `dx[${i}]`).toBeLessThanOrEqual(tol(num));
      }
      const numLeak = (L(x64, lf + eps, tf) - L(x64, lf - eps, tf)) / (2 * eps);
      expect(Math.abs(leak.grad[0] - numLeak), 'dλ').toBeLessThanOrEqual(tol(numLeak) * 2);
      const numThr = (L(x64, lf, tf + eps) - L(x64, lf, tf - eps)) / (2 * eps);
      expect(Math.abs(thr.grad[0] - numThr), 'dθ').toBeLessThanOrEqual(tol(numThr) * 2);
      // The check is meaningful: some neurons spiked and some gradient flowed.
      expect(dx.some((v) => Math.abs(v) > 1e-3)).toBe(true);
    },
  );

  it('surrogate shapes: peak values and support', () => {
    expect(surrogateGrad('atan', 0)).toBeCloseTo(ATAN_ALPHA / 2, 12);
    expect(surrogateGrad('fast-sigmoid', 0)).toBe(1);
    expect(surrogateGrad('pwl', 0)).toBeCloseTo(0.3, 12);
    expect(surrogateGrad('pwl', 1.5)).toBe(0);
    expect(surrogateGrad('dspike', 0.6)).toBe(0);
    // Dspike integrates to 1 over its window (the step it stands for has height 1).
    let area = 0;
    for (let z = -0.5; z < 0.5; z += 1e-4) area += surrogateGrad('dspike', z + 5e-5) * 1e-4;
    expect(area).toBeCloseTo(1, 4);
  });
});

describe('losses against finite differences', () => {
  it.each(LOSSES)('%s', (kind) => {
    const T = 3;
    const B = 2;
    const K = 4;
    const rng = new Rng(21);
    const out = Float32Array.from({ length: T * B * K }, () => rng.next() * 4 - 2);
    const labels = [1, 3];
    const g = new Float32Array(out.length);
    computeLoss(kind, out, T, B, K, labels, 1 / B, g);
    for (let i = 0; i < out.length; i++) {
      const o = out[i];
      const eps = 1e-2;
      out[i] = o + eps;
      const lp = computeLoss(kind, out, T, B, K, labels, 1, null).loss / B;
      out[i] = o - eps;
      const lm = computeLoss(kind, out, T, B, K, labels, 1, null).loss / B;
      out[i] = o;
      const num = (lp - lm) / (Math.fround(o + eps) - Math.fround(o - eps));
      expect(Math.abs(g[i] - num)).toBeLessThanOrEqual(1e-4 + 1e-3 * Math.abs(num));
    }
  });

  it('tet is (1−λ)·mean_t CE(o_t) + λ·MSE(o, 1); sum-ce is CE of the summed output', () => {
    const out = Float32Array.of(1, 0, 0, 1); // T = 2, B = 1, K = 2
    const ce = (a: number, b: number, y: number) => Math.log(Math.exp(a) + Math.exp(b)) - (y === 0 ? a : b);
    const tet = computeLoss('tet', out, 2, 1, 2, [0], 1, null).loss;
    const mse = (0 + 1 + 1 + 0) / 4;
    expect(tet).toBeCloseTo((1 - TET_LAMBDA) * 0.5 * (ce(1, 0, 0) + ce(0, 1, 0)) + TET_LAMBDA * mse, 12);
    expect(computeLoss('sum-ce', out, 2, 1, 2, [0], 1, null).loss).toBeCloseTo(ce(1, 1, 0), 12);
    expect(computeLoss('acc-ce', out, 2, 1, 2, [0], 1, null).loss).toBeCloseTo(
      0.5 * (ce(1, 0, 0) + ce(1, 1, 0)),
      12,
    );
  });
});

const ENGINE_NET = (conv: string) =>
  `name: e\ninput: { shape: [2, 12, 12] }\nclasses: 5\ntimesteps: 4\n` +
  `neuron: { model: lif, convention: ${conv}, leak: 0.7, threshold: 0.8, reset: ${conv === 'iir' ? 'soft' : 'hard'} }\n` +
  `layers:\n` +
  `  - { name: c1, type: conv2d, out_channels: 6, kernel: 3, stride: 2, padding: 1, groups: 2, bias: true }\n` +
  `  - { name: bn1, type: batchnorm }\n` +
  `  - { name: c2, type: conv2d, out_channels: 8, kernel: 3, padding: 2, dilation: 2 }\n` +
  `  - { type: avgpool2d, kernel: 2 }\n` +
  `  - { name: bn2, type: batchnorm }\n` +
  `  - { name: c3, type: conv2d, out_channels: 8, kernel: 1 }\n` +
  `  - { type: maxpool2d, kernel: 3, stride: 1, padding: 1 }\n` +
  `  - { type: sumpool2d, kernel: 3 }\n` +
  `  - { type: flatten }\n` +
  `  - { name: drop, type: dropout, p: 0.2 }\n` +
  `  - { name: fc1, type: linear, out_features: 16 }\n` +
  `  - { name: fc2, type: linear, out_features: 5, bias: true, spiking: false }\n`;

describe('training forward = inference Engine', () => {
  it.each([
    ['dtsnn', 'direct'],
    ['iir', 'direct'],
    ['dtsnn', 'rate'],
  ] as const)('%s neurons, %s encoding: same logits at every timestep (1e-4)', (conv, encoding) => {
    const m = model(ENGINE_NET(conv), 7);
    randomize(m, 8, 2.5);
    if (conv === 'iir') {
      m.tensors.set('c1.threshold', { shape: [1], data: Float32Array.of(0.6) });
      m.tensors.set('c2.leak', { shape: [1], data: Float32Array.of(0.9) });
    }
    const T = 4;
    const B = 6;
    const net = new TrainNet(m, { timesteps: T, surrogate: 'atan', encoding });
    const rng = new Rng(1);
    const x = Float32Array.from({ length: B * 288 }, () => rng.next());
    const seed = 3;
    const out = net.forward(x, { batch: B, timesteps: T, train: false, seed, ids: ids(B) });
    const eng = new Engine(m);
    let spikes = 0;
    for (let b = 0; b < B; b++) {
      const r = eng.run(x.subarray(b * 288, (b + 1) * 288), b, {
        policy: { name: 'static', timesteps: T },
        encoding,
        seed,
      });
      spikes += r.spikeCounts.flat().reduce((a, v) => a + v, 0);
      for (let t = 0; t < T; t++)
        for (let k = 0; k < 5; k++)
          expect(Math.abs(out[(t * B + b) * 5 + k] - r.logits[t * 5 + k])).toBeLessThan(1e-4);
    }
    expect(spikes).toBeGreaterThan(100);
  });
});

/** Two classes of 20-input spike patterns: class 0 fires mostly in the first half, class 1 in the second. */
function toyData(n: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const images = new Float32Array(n * 20);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const y = i % 2;
    labels[i] = y;
    for (let j = 0; j < 20; j++) {
      const favoured = j < 10 === (y === 0);
      images[i * 20 + j] = rng.next() < (favoured ? 0.6 : 0.15) ? 1 : 0;
    }
  }
  return {
    name: 'toy',
    split: 'train',
    count: n,
    shape: [1, 1, 20],
    classes: 2,
    classNames: ['a', 'b'],
    images,
    labels,
    source: 'synthetic',
  };
}

const TOY = `name: toy\ninput: { shape: [20] }\nclasses: 2\ntimesteps: 4\nneuron: { model: lif, convention: dtsnn, leak: 0.5, threshold: 1.0, reset: hard }\nlayers:\n  - { name: fc1, type: linear, out_features: 16 }\n  - { name: drop, type: dropout, p: 0.1 }\n  - { name: fc2, type: linear, out_features: 2, spiking: false }\n`;

const toyCfg = (over: Partial<TrainConfig> = {}): TrainConfig => ({
  timesteps: 4,
  loss: 'tet',
  epochs: 2,
  seed: 5,
  lr: 0.01,
  batch: 32,
  optimizer: 'adam',
  schedule: 'cosine',
  surrogate: 'atan',
  weightDecay: 1e-4,
  workers: 1,
  augment: 0,
  ...over,
});

function sameTensors(a: SnnModel, b: SnnModel): void {
  expect([...a.tensors.keys()].sort()).toEqual([...b.tensors.keys()].sort());
  for (const [name, t] of a.tensors)
    expect(
      Buffer.from(b.tensors.get(name)!.data.buffer.slice(0)).equals(Buffer.from(t.data.buffer.slice(0))),
      name,
    ).toBe(true);
}

function copyData(m: SnnModel): SnnModel {
  const tensors = new Map(
    [...m.tensors].map(([k, t]) => [k, { shape: t.shape, data: Float32Array.from(t.data) }]),
  );
  return { ...m, tensors };
}

describe('training', () => {
  it('a tiny network learns separable spike patterns to ≥ 95 %', async () => {
    const m = model(TOY, 2);
    const r = await trainRun({
      model: m,
      train: toyData(400, 1),
      validation: null,
      cfg: toyCfg({ epochs: 6 }),
    });
    const acc = evaluateModel(r.model, toyData(400, 99), {
      policy: { name: 'static', timesteps: 4 },
    }).accuracy;
    expect(acc).toBeGreaterThanOrEqual(0.95);
  });

  it.each(['acc-ce', 'sum-ce'] as const)(
    '%s and SGD with a step schedule learn the toy task too',
    async (loss) => {
      const m = model(TOY, 3);
      const r = await trainRun({
        model: m,
        train: toyData(400, 1),
        validation: null,
        cfg: toyCfg({
          epochs: 6,
          loss,
          optimizer: 'sgd',
          schedule: 'step',
          lr: 0.1,
          surrogate: 'fast-sigmoid',
        }),
      });
      const acc = evaluateModel(r.model, toyData(400, 99), {
        policy: { name: 'static', timesteps: 4 },
      }).accuracy;
      expect(acc).toBeGreaterThanOrEqual(0.95);
    },
  );

  it('is deterministic: the same seed gives identical weights after 2 steps', () => {
    const run = () => {
      const m = model(TOY, 4);
      const tr = createTrainer(m, toyData(64, 1), toyCfg());
      tr.epoch(0);
      return m;
    };
    const a = run();
    const b = run();
    sameTensors(a, b);
    const c = model(TOY, 4);
    expect(
      Buffer.from(c.tensors.get('fc1.weight')!.data.buffer).equals(
        Buffer.from(a.tensors.get('fc1.weight')!.data.buffer),
      ),
    ).toBe(false);
  });

  it('--resume continues exactly as an uninterrupted run', async () => {
    const data = toyData(96, 1);
    const full = await trainRun({
      model: model(TOY, 6),
      train: data,
      validation: null,
      cfg: toyCfg({ epochs: 3 }),
    });
    const out = join(tmp, 'resume');
    const part = await trainRun({
      model: model(TOY, 6),
      train: data,
      validation: null,
      cfg: toyCfg({ epochs: 3 }),
      out,
      stopAfter: 1,
    });
    expect(part.complete).toBe(false);
    const resumed = await trainRun({
      model: model(TOY, 6),
      train: data,
      validation: null,
      cfg: toyCfg({ epochs: 3 }),
      out,
      resume: true,
    });
    expect(resumed.complete).toBe(true);
    expect(resumed.log.length).toBe(3);
    sameTensors(full.model, resumed.model);
  });

  it('iir: trainable leak and threshold move, the leak stays ≤ 1', async () => {
    const m = model(
      TOY.replace('convention: dtsnn', 'convention: iir').replace('reset: hard', 'reset: soft'),
      2,
    );
    const net0 = new TrainNet(m, { timesteps: 4, surrogate: 'pwl' });
    const data = toyData(200, 1);
    const th = calibrateThresholds(net0, data.images.subarray(0, 64 * 20), 64);
    // Independent of quantile(): θ splits the layer's input currents 90 / 10 (the definition of the
    // 90th percentile, up to one order statistic).
    const cur0 = net0.forward(
      data.images.subarray(0, 64 * 20),
      { batch: 64, timesteps: 4, train: true, seed: 0, ids: ids(64) },
      1,
    );
    const below = cur0.reduce((n, v) => n + (v <= th[0] ? 1 : 0), 0) / cur0.length;
    expect(below).toBeGreaterThanOrEqual(0.9 - 1 / cur0.length);
    expect(below).toBeLessThanOrEqual(0.9 + 2 / cur0.length);
    m.tensors.get('fc1.leak')!.data[0] = 1;
    const before = copyData(m);
    const r = await trainRun({
      model: m,
      train: data,
      validation: null,
      cfg: toyCfg({ epochs: 3, loss: 'sum-ce', surrogate: 'pwl', lr: 0.05 }),
    });
    const l = r.model.tensors.get('fc1.leak')!.data[0];
    expect(l).toBeLessThanOrEqual(1);
    expect(r.model.tensors.get('fc1.threshold')!.data[0]).not.toBe(
      before.tensors.get('fc1.threshold')!.data[0],
    );
  });

  it('calibrated initialisation makes about 10 % of the first layer fire', () => {
    const m = model(TOY, 2);
    const net = new TrainNet(m, { timesteps: 4, surrogate: 'atan' });
    const data = toyData(128, 1);
    calibrateWeights(net, data.images.subarray(0, 128 * 20), 128);
    const cur = net.forward(
      data.images.subarray(0, 128 * 20),
      { batch: 128, timesteps: 4, train: true, seed: 0, ids: ids(128) },
      1,
    );
    // About 10 % of the currents exceed the threshold (1) at the first timestep, counted directly.
    const firing = cur.reduce((n, v) => n + (v > 1 ? 1 : 0), 0) / cur.length;
    expect(firing).toBeGreaterThan(0.09);
    expect(firing).toBeLessThan(0.11);
  });

  it('quantile: hand-worked order statistics with linear interpolation', () => {
    // [1..5]: position 0.9·4 = 3.6 → 4 + 0.6·(5 − 4) = 4.6; unsorted input is sorted first.
    expect(quantile(Float32Array.of(5, 1, 4, 2, 3), 0.9)).toBeCloseTo(4.6, 6);
    expect(quantile(Float32Array.of(3, 1, 2), 0.5)).toBe(2);
    expect(quantile(Float32Array.of(7), 0.9)).toBe(7);
    expect(quantile(new Float32Array(0), 0.9)).toBeNaN();
  });

  it('schedules: cosine ends near 0, step decays by 10× every third of the run', () => {
    const o = { kind: 'cosine' as const, lr: 1, epochs: 3, stepsPerEpoch: 10 };
    expect(learningRate(o, 0)).toBe(1);
    expect(learningRate(o, 15)).toBeCloseTo(0.5, 12);
    expect(learningRate({ ...o, kind: 'step' }, 10)).toBeCloseTo(0.1, 12);
    expect(learningRate({ ...o, kind: 'step' }, 29)).toBeCloseTo(0.01, 12);
  });

  it('optimiser state round-trips (Adam moments restored bit for bit)', () => {
    const p: Param = {
      name: 'w',
      data: Float32Array.of(1, 2),
      grad: Float32Array.of(0.5, -0.5),
      decay: true,
    };
    const a = new Optimizer([p], { kind: 'adam', weightDecay: 0.01 });
    a.update(0.1);
    const q: Param = {
      name: 'w',
      data: Float32Array.from(p.data),
      grad: Float32Array.of(0.5, -0.5),
      decay: true,
    };
    const b = new Optimizer([q], { kind: 'adam', weightDecay: 0.01 });
    b.load(a.state(), a.step);
    a.update(0.1);
    b.update(0.1);
    expect(Array.from(q.data)).toEqual(Array.from(p.data));
  });

  it('the trained model saves and loads with its leak and threshold tensors', async () => {
    const m = model(
      TOY.replace('convention: dtsnn', 'convention: iir').replace('reset: hard', 'reset: soft'),
      2,
    );
    const out = join(tmp, 'saved');
    await trainRun({
      model: m,
      train: toyData(64, 1),
      validation: null,
      cfg: toyCfg({ epochs: 1 }),
      out,
      stopAfter: 1,
    });
    const back = loadModel(join(out, 'checkpoint'));
    expect(back.tensors.get('fc1.threshold')!.shape).toEqual([1]);
    expect(back.tensors.get('fc1.leak')!.shape).toEqual([1]);
  });
});

describe('DT-SNN curve and LD-SNN search', () => {
  it('the offline entropy exit equals the Engine’s entropy policy; static t = T equals static eval', async () => {
    const { dtsnnCurve } = await import('../../src/snn/train/dtsnn.js');
    const m = model(TOY, 2);
    const r0 = await trainRun({
      model: m,
      train: toyData(200, 1),
      validation: null,
      cfg: toyCfg({ epochs: 2 }),
    });
    const ds = toyData(150, 42);
    const c = dtsnnCurve(r0.model, ds, { thetas: [0.3, 0.8] });
    for (const th of [0.3, 0.8]) {
      const e = evaluateModel(r0.model, ds, { policy: { name: 'entropy', timesteps: 4, theta: th } });
      const p = c.points.find((q) => q.curve === 'entropy' && q.theta === th)!;
      expect(p.accuracy).toBe(e.accuracy);
      expect(p.avg_timesteps).toBeCloseTo(e.avg_timesteps, 12);
    }
    const s = evaluateModel(r0.model, ds, { policy: { name: 'static', timesteps: 4 } });
    expect(c.points.find((q) => q.curve === 'static' && q.timesteps === 4)!.accuracy).toBe(s.accuracy);
    const oracle = c.points.find((q) => q.curve === 'oracle')!;
    expect(oracle.accuracy).toBeGreaterThanOrEqual(
      Math.max(...c.points.filter((q) => q.curve === 'static').map((q) => q.accuracy)),
    );
    expect(oracle.avg_timesteps).toBeLessThanOrEqual(4);
  });

  it('the LD-SNN search never goes below the budget and never raises the synaptic updates', async () => {
    const { ldsnnSearch } = await import('../../src/snn/train/ldsnn.js');
    const m = model(TOY, 2);
    const r0 = await trainRun({
      model: m,
      train: toyData(200, 1),
      validation: null,
      cfg: toyCfg({ epochs: 2 }),
    });
    const r = ldsnnSearch(r0.model, toyData(100, 7), { budget: 2 });
    expect(r.best.accuracy).toBeGreaterThanOrEqual(r.uniform.accuracy - 0.02 - 1e-12);
    for (let i = 1; i < r.path.length; i++) {
      expect(r.path[i].synops).toBeLessThanOrEqual(r.path[i - 1].synops);
      expect(r.path[i].layer_timesteps.reduce((a, b) => a + b)).toBe(
        r.path[i - 1].layer_timesteps.reduce((a, b) => a + b) - 1,
      );
    }
    expect(r.synops_reduction).toBeGreaterThanOrEqual(1);
  });
});
