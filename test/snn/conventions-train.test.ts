/**
 * Training under every neuron convention the engine runs: the BPTT backward pass of each convention
 * against finite differences of an independent float64 reference written here, the training forward
 * against the inference Engine, and a short seeded training run that learns (issue 15).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseNetwork } from '../../src/network/load.js';
import { NeuronSchema } from '../../src/network/schema.js';
import type { Dataset } from '../../src/snn/data/dataset.js';
import { Engine } from '../../src/snn/engine.js';
import { initModel, loadModel, type SnnModel } from '../../src/snn/model.js';
import { NEURON_CONVENTION_NAMES, neuronParams } from '../../src/snn/neurons/registry.js';
import { NeuronOp, TrainNet } from '../../src/snn/train/net.js';
import { ATAN_ALPHA } from '../../src/snn/train/surrogate.js';
import { trainRun, type TrainConfig } from '../../src/snn/train/trainer.js';
import { Rng } from '../../src/util/rng.js';
import { runCli } from '../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'imcsim-conv-train-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const ids = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Antiderivative of snnTorch's ATan surrogate (α = 2): the smooth stand-in for H in the reference. */
const smooth = (z: number) => Math.atan((Math.PI / 2) * ATAN_ALPHA * z) / Math.PI;

interface Case {
  label: string;
  spec: Record<string, unknown>;
  /**
   * One step of the convention in float64 from the state u and input x: the potential the spike is
   * decided on (h), the spike, and the next state. Written from the published update rules.
   */
  step(u: number, x: number): { h: number; spike: boolean; next: number };
}

const THR = 1.1;
const cases: Case[] = [];
for (const hard of [true, false])
  for (const delay of [false, true]) {
    const beta = Math.fround(0.8);
    cases.push({
      label: `snntorch ${hard ? 'zero' : 'subtract'} reset${delay ? ', reset_delay' : ''}`,
      spec: {
        convention: 'snntorch',
        leak: 0.8,
        threshold: THR,
        reset: hard ? 'hard' : 'soft',
        reset_delay: delay,
      },
      step: delay
        ? (u, x) => {
            // reset from the previous potential, then u = βu + x − r·θ (or 0); spike on the new u.
            const r = u - Math.fround(THR) > 0;
            const base = beta * u + x;
            const h = r ? (hard ? 0 : base - Math.fround(THR)) : base;
            return { h, spike: h > Math.fround(THR), next: h };
          }
        : (u, x) => {
            const h = beta * u + x;
            const spike = h > Math.fround(THR);
            return { h, spike, next: spike ? (hard ? 0 : h - Math.fround(THR)) : h };
          },
    });
  }
for (const hard of [true, false])
  cases.push({
    label: `spikingjelly ${hard ? 'hard' : 'soft'} reset`,
    spec: { convention: 'spikingjelly', tau: 2.5, threshold: THR, reset: hard ? 'hard' : 'soft' },
    step: (u, x) => {
      const h = u + (x - u) / 2.5;
      const spike = h >= Math.fround(THR);
      return { h, spike, next: spike ? (hard ? 0 : h - Math.fround(THR)) : h };
    },
  });
cases.push({
  label: 'norse',
  spec: { convention: 'norse', tau: 0.002, dt: 0.001, v_leak: 0.2, threshold: THR },
  step: (u, x) => {
    const a = Math.fround(Math.fround(0.001) * Math.fround(1 / 0.002));
    const h = u + a * (x + Math.fround(0.2) - u);
    const spike = h > Math.fround(THR);
    return { h, spike, next: spike ? 0 : h };
  },
});

describe('BPTT under the snntorch, spikingjelly and norse conventions (finite differences)', () => {
  it.each(cases.flatMap((c) => [true, false].map((s) => [c.label, s, c] as const)))(
    '%s, static input %s: dx',
    (_label, isStatic, c) => {
      const T = 5;
      const B = 2;
      const F = 6;
      const n = B * F;
      const rng = new Rng(23);
      const xs = Float32Array.from({ length: isStatic ? n : T * n }, () => 0.2 + 1.2 * rng.next());
      const coef = Float64Array.from({ length: T * n }, () => rng.next() * 2 - 1);
      const op = new NeuronOp('n', F, {
        neuron: neuronParams(NeuronSchema.parse(c.spec)),
        leak: NeuronSchema.parse(c.spec).leak,
        threshold: THR,
        surrogate: 'atan',
      });
      const ctx = { batch: B, timesteps: T, train: true, seed: 0, ids: ids(B) };
      const s = op.forward(xs, isStatic ? B : T * B, ctx);
      const dx = op.backward(Float32Array.from(coef), ctx, true)!;
      // L = Σ c·S(z): exact spikes drive the state, the smooth S stands in for H in the loss.
      const ref = (x: Float64Array) => {
        const u = new Float64Array(n);
        let L = 0;
        let spikes = 0;
        for (let t = 0; t < T; t++)
          for (let i = 0; i < n; i++) {
            const r = c.step(u[i], x[(isStatic ? 0 : t * n) + i]);
            L += coef[t * n + i] * smooth(r.h - Math.fround(THR));
            if (r.spike) spikes++;
            u[i] = r.next;
          }
        return { L, spikes };
      };
      const x64 = Float64Array.from(xs);
      // The float32 forward spikes where the float64 reference does.
      let opSpikes = 0;
      for (let i = 0; i < T * n; i++) opSpikes += s[i];
      expect(opSpikes).toBe(ref(x64).spikes);
      expect(opSpikes).toBeGreaterThan(0);
      const eps = 1e-6;
      for (let i = 0; i < x64.length; i++) {
        const xp = Float64Array.from(x64);
        const xm = Float64Array.from(x64);
        xp[i] += eps;
        xm[i] -= eps;
        const num = (ref(xp).L - ref(xm).L) / (2 * eps);
        expect(Math.abs(dx[i] - num), `dx[${i}]`).toBeLessThanOrEqual(1e-4 + 1e-3 * Math.abs(num));
      }
      expect(dx.some((v) => Math.abs(v) > 1e-3)).toBe(true);
    },
  );
});

const neuronLine: Record<string, string> = {
  dtsnn: '{ model: lif, convention: dtsnn, leak: 0.5, threshold: 1.0, reset: hard }',
  iir: '{ model: lif, convention: iir, leak: 0.8, threshold: 1.0, reset: soft }',
  snntorch: '{ model: lif, convention: snntorch, leak: 0.7, threshold: 1.0, reset: soft }',
  spikingjelly: '{ model: lif, convention: spikingjelly, tau: 2.0, threshold: 0.6, reset: hard }',
  norse: '{ model: lif, convention: norse, tau: 0.005, dt: 0.001, threshold: 0.3 }',
};

const toyNet = (conv: string) =>
  `name: toy\ninput: { shape: [20] }\nclasses: 2\ntimesteps: 4\nneuron: ${neuronLine[conv]}\n` +
  `layers:\n  - { name: fc1, type: linear, out_features: 16 }\n  - { name: fc2, type: linear, out_features: 2, spiking: false }\n`;

/** Two classes of 20-input spike patterns: class 0 fires mostly in the first half, class 1 in the second. */
function toyData(n: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const images = new Float32Array(n * 20);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const y = i % 2;
    labels[i] = y;
    for (let j = 0; j < 20; j++)
      images[i * 20 + j] = rng.next() < (j < 10 === (y === 0) ? 0.6 : 0.15) ? 1 : 0;
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

function model(yaml: string, seed: number): SnnModel {
  return initModel(parseNetwork(yaml, 'toy.yaml').spec, seed);
}

const cfg: TrainConfig = {
  timesteps: 4,
  loss: 'tet',
  epochs: 4,
  seed: 5,
  lr: 0.01,
  batch: 32,
  optimizer: 'adam',
  schedule: 'constant',
  surrogate: 'atan',
  weightDecay: 0,
  workers: 1,
  augment: 0,
};

describe('training under every convention the engine runs', () => {
  it('the registry lists exactly the conventions of the network schema', () => {
    expect([...NEURON_CONVENTION_NAMES].sort()).toEqual(
      [...NeuronSchema.shape.convention.unwrap().options].sort(),
    );
  });

  it.each(NEURON_CONVENTION_NAMES)('%s: the training forward gives the Engine logits', (conv) => {
    const m = model(toyNet(conv), 11);
    const B = 5;
    const T = 4;
    const data = toyData(B, 3);
    const net = new TrainNet(m, { timesteps: T, surrogate: 'atan' });
    const out = net.forward(data.images, { batch: B, timesteps: T, train: false, seed: 0, ids: ids(B) });
    const eng = new Engine(m);
    for (let b = 0; b < B; b++) {
      const r = eng.run(data.images.subarray(b * 20, (b + 1) * 20), b, {
        policy: { name: 'static', timesteps: T },
      });
      for (let t = 0; t < T; t++)
        for (let k = 0; k < 2; k++)
          // Same spikes; the accumulation order of the two kernels differs (float32 rounding only).
          expect(Math.abs(out[(t * B + b) * 2 + k] - r.logits[t * 2 + k])).toBeLessThan(1e-5);
    }
  });

  it.each(NEURON_CONVENTION_NAMES)(
    '%s: a short seeded run lowers the loss and learns the toy task',
    async (conv) => {
      const r = await trainRun({
        model: model(toyNet(conv), 2),
        train: toyData(256, 1),
        validation: null,
        cfg,
      });
      const first = r.log[0];
      const last = r.log[r.log.length - 1];
      expect(last.train_loss).toBeLessThan(first.train_loss);
      const eng = new Engine(r.model);
      const test = toyData(200, 77);
      let correct = 0;
      for (let i = 0; i < test.count; i++)
        if (
          eng.run(test.images.subarray(i * 20, (i + 1) * 20), i, { policy: { name: 'static', timesteps: 4 } })
            .prediction === test.labels[i]
        )
          correct++;
      expect(correct / test.count).toBeGreaterThanOrEqual(0.85);
    },
  );

  it('conventions whose leak and threshold cannot be trained say so', () => {
    const m = model(toyNet('snntorch'), 2);
    expect(() => new TrainNet(m, { timesteps: 4, surrogate: 'atan', trainNeuronParams: true })).toThrow(
      /leak and threshold .* snntorch/,
    );
  });
});

describe('imcsim train --model <snntorch topology>', () => {
  it('trains an snnTorch-convention network on MNIST and writes a model the engine loads', async () => {
    const net = join(tmp, 'snntorch.yaml');
    writeFileSync(
      net,
      'name: st\ninput: { shape: [1, 28, 28], encoding: direct }\nclasses: 10\ntimesteps: 2\n' +
        'neuron: { model: lif, convention: snntorch, leak: 0.5, threshold: 1.0, reset: soft }\n' +
        'layers:\n  - { name: c1, type: conv2d, out_channels: 4, kernel: 5, stride: 3 }\n' +
        '  - { type: flatten }\n  - { name: fc, type: linear, out_features: 10, spiking: false }\n',
    );
    const out = join(tmp, 'st');
    const r = await runCli(
      'train',
      '--model',
      net,
      '--dataset',
      'mnist',
      '--epochs',
      '1',
      '--samples',
      '64',
      '--val-samples',
      '32',
      '--out',
      out,
    );
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(loadModel(out).spec.neuron.convention).toBe('snntorch');
  });
});
