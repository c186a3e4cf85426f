/**
 * Pooling of a conv's pre-activations before its neuron (pool_before_neuron: conv → pool → LIF,
 * snnTorch's usual order). Shapes, the inference engine and the trainer's forward and gradients are
 * checked against a naive float64 reference written here (direct convolution, pooling, dtsnn LIF);
 * the hardware mapping refuses the form by name.
 */
import { describe, expect, it } from 'vitest';
import { parseNetwork } from '../../src/network/load.js';
import { inferShapes } from '../../src/network/shapes.js';
import { Engine } from '../../src/snn/engine.js';
import { initModel, type SnnModel } from '../../src/snn/model.js';
import { ATAN_ALPHA } from '../../src/snn/train/surrogate.js';
import { TrainNet } from '../../src/snn/train/net.js';
import { mapNetwork } from '../../src/chip/mapping.js';
import { loadArch } from '../../src/config/load.js';
import { InputError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';

type PoolType = 'maxpool2d' | 'avgpool2d' | 'sumpool2d';
interface PoolCase {
  type: PoolType;
  k: number;
  s: number;
  p: number;
}

function model(yaml: string, seed = 1): SnnModel {
  const { spec } = parseNetwork(yaml, 'test.yaml');
  return initModel(spec, seed);
}

/** Naive conv (OIHW weights, groups 1), float64: [cout][ho][wo]. */
function conv(
  x: Float64Array,
  cin: number,
  h: number,
  w: number,
  W: ArrayLike<number>,
  b: ArrayLike<number> | null,
  cout: number,
  k: number,
  s: number,
  p: number,
): { y: Float64Array; ho: number; wo: number } {
  const ho = Math.floor((h + 2 * p - k) / s) + 1;
  const wo = Math.floor((w + 2 * p - k) / s) + 1;
  const y = new Float64Array(cout * ho * wo);
  for (let o = 0; o < cout; o++)
    for (let oy = 0; oy < ho; oy++)
      for (let ox = 0; ox < wo; ox++) {
        let acc = b ? b[o] : 0;
        for (let c = 0; c < cin; c++)
          for (let ky = 0; ky < k; ky++)
            for (let kx = 0; kx < k; kx++) {
              const iy = oy * s - p + ky;
              const ix = ox * s - p + kx;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              acc += W[((o * cin + c) * k + ky) * k + kx] * x[(c * h + iy) * w + ix];
            }
        y[(o * ho + oy) * wo + ox] = acc;
      }
  return { y, ho, wo };
}

/** Naive pooling (PyTorch semantics: max ignores padding, avg divides by the full window). */
function pool(x: Float64Array, c: number, h: number, w: number, pc: PoolCase) {
  const ho = Math.floor((h + 2 * pc.p - pc.k) / pc.s) + 1;
  const wo = Math.floor((w + 2 * pc.p - pc.k) / pc.s) + 1;
  const y = new Float64Array(c * ho * wo);
  for (let ch = 0; ch < c; ch++)
    for (let oy = 0; oy < ho; oy++)
      for (let ox = 0; ox < wo; ox++) {
        const vals: number[] = [];
        for (let ky = 0; ky < pc.k; ky++)
          for (let kx = 0; kx < pc.k; kx++) {
            const iy = oy * pc.s - pc.p + ky;
            const ix = ox * pc.s - pc.p + kx;
            if (iy >= 0 && iy < h && ix >= 0 && ix < w) vals.push(x[(ch * h + iy) * w + ix]);
          }
        const sum = vals.reduce((a, v) => a + v, 0);
        y[(ch * ho + oy) * wo + ox] =
          pc.type === 'maxpool2d' ? Math.max(...vals) : pc.type === 'avgpool2d' ? sum / (pc.k * pc.k) : sum;
      }
  return { y, ho, wo };
}

const LEAK = 0.75;
const THR = 1.0;
const NEURON = `neuron: { convention: dtsnn, leak: ${LEAK}, threshold: ${THR}, reset: hard }\n`;
const poolYaml = (pc: PoolCase) => `{ type: ${pc.type}, kernel: ${pc.k}, stride: ${pc.s}, padding: ${pc.p} }`;

describe('pool_before_neuron: shapes', () => {
  it('the neuron runs at the pooled size; the conv keeps its own positions', () => {
    const { spec } = parseNetwork(
      `name: s\ninput: { shape: [2, 9, 9] }\nclasses: 30\nlayers:\n` +
        `  - { name: c1, type: conv2d, out_channels: 4, kernel: 3, padding: 1, pool_before_neuron: { type: maxpool2d, kernel: 3, stride: 2, padding: 1 } }\n` +
        `  - { name: c2, type: conv2d, out_channels: 6, kernel: 3, pool_before_neuron: { type: avgpool2d, kernel: 2 } }\n` +
        `  - { type: flatten }\n  - { name: fc, type: linear, out_features: 30, spiking: false }\n`,
      't.yaml',
    );
    const s = inferShapes(spec);
    // c1: conv 9×9 (padding 1) → pool k3 s2 p1: floor((9 + 2 − 3)/2) + 1 = 5.
    expect(s.layers[0].outShape).toEqual([4, 5, 5]);
    expect(s.layers[0].preNeuronPool?.convOutShape).toEqual([4, 9, 9]);
    expect(s.mapped[0].positions).toBe(81);
    expect(s.mapped[0].neurons).toBe(4 * 25);
    // c2: conv 5×5 → 3×3 → avg k2 s2: 1×1.
    expect(s.layers[1].outShape).toEqual([6, 1, 1]);
    expect(s.mapped[1].inputElements).toBe(4 * 25);
    expect(s.mapped[1].preNeuronPool).toEqual({ type: 'avgpool2d', window: 4 });
  });

  it('an empty pooled output is refused with the layer named', () => {
    const parse = () =>
      parseNetwork(
        `name: s\ninput: { shape: [1, 4, 4] }\nclasses: 2\nlayers:\n` +
          `  - { name: c1, type: conv2d, out_channels: 2, kernel: 3, pool_before_neuron: { type: maxpool2d, kernel: 3 } }\n` +
          `  - { type: flatten }\n  - { name: fc, type: linear, out_features: 2, spiking: false }\n`,
        't.yaml',
      );
    expect(parse).toThrow(InputError);
    expect(parse).toThrow(/layers\[0\].*pool_before_neuron output would be empty/s);
  });

  it('the hardware mapping refuses it by name (InputError), never pricing it as conv → LIF', () => {
    const { spec } = parseNetwork(
      `name: s\ninput: { shape: [1, 8, 8] }\nclasses: 2\nlayers:\n` +
        `  - { name: c1, type: conv2d, out_channels: 2, kernel: 3, pool_before_neuron: { type: maxpool2d, kernel: 2 } }\n` +
        `  - { type: flatten }\n  - { name: fc, type: linear, out_features: 2, spiking: false }\n`,
      't.yaml',
    );
    const arch = loadArch('arch-configs/default.yaml');
    let err: unknown;
    try {
      mapNetwork(arch, inferShapes(spec));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(
      /layer c1: pooling before the neuron \(pool_before_neuron, maxpool2d\)/,
    );
  });
});

/**
 * Two-layer net: conv c1 (bias, pool case a) → LIF → conv c2 (pool case b) → LIF → flatten → fc.
 * Reference forward, float64, dtsnn: u = λ·u + x; s = u > θ; u = u·(1 − s).
 */
function twoLayer(a: PoolCase, b: PoolCase) {
  const yaml =
    `name: p\ninput: { shape: [2, 9, 9] }\nclasses: 3\ntimesteps: 4\n${NEURON}layers:\n` +
    `  - { name: c1, type: conv2d, out_channels: 3, kernel: 3, padding: 1, bias: true, pool_before_neuron: ${poolYaml(a)} }\n` +
    `  - { name: c2, type: conv2d, out_channels: 4, kernel: 2, pool_before_neuron: ${poolYaml(b)} }\n` +
    `  - { type: flatten }\n` +
    `  - { name: fc, type: linear, out_features: 3, spiking: false }\n`;
  return model(yaml, 7);
}

function refForward(m: SnnModel, img: Float64Array, a: PoolCase, b: PoolCase, T: number) {
  const t = (n: string) => m.tensors.get(n)!.data;
  const c1 = conv(img, 2, 9, 9, t('c1.weight'), t('c1.bias'), 3, 3, 1, 1);
  const p1 = pool(c1.y, 3, c1.ho, c1.wo, a);
  const u1 = new Float64Array(p1.y.length);
  const logits: number[][] = [];
  let u2: Float64Array | null = null;
  let minMargin = Infinity;
  const spikes = [0, 0];
  for (let step = 0; step < T; step++) {
    const s1 = new Float64Array(u1.length);
    for (let i = 0; i < u1.length; i++) {
      u1[i] = LEAK * u1[i] + p1.y[i];
      minMargin = Math.min(minMargin, Math.abs(u1[i] - THR));
      s1[i] = u1[i] > THR ? 1 : 0;
      if (s1[i]) u1[i] = 0;
      spikes[0] += s1[i];
    }
    const c2 = conv(s1, 3, p1.ho, p1.wo, t('c2.weight'), null, 4, 2, 1, 0);
    const p2 = pool(c2.y, 4, c2.ho, c2.wo, b);
    u2 ??= new Float64Array(p2.y.length);
    const s2 = new Float64Array(p2.y.length);
    for (let i = 0; i < u2.length; i++) {
      u2[i] = LEAK * u2[i] + p2.y[i];
      minMargin = Math.min(minMargin, Math.abs(u2[i] - THR));
      s2[i] = u2[i] > THR ? 1 : 0;
      if (s2[i]) u2[i] = 0;
      spikes[1] += s2[i];
    }
    const W = t('fc.weight');
    const F = s2.length;
    logits.push([0, 1, 2].map((k) => s2.reduce((acc, v, i) => acc + W[k * F + i] * v, 0)));
  }
  return { logits, minMargin, spikes };
}

const CASES: Array<[PoolCase, PoolCase]> = [
  [
    { type: 'maxpool2d', k: 2, s: 2, p: 0 },
    { type: 'maxpool2d', k: 2, s: 1, p: 0 },
  ],
  [
    { type: 'avgpool2d', k: 3, s: 2, p: 1 },
    { type: 'sumpool2d', k: 2, s: 1, p: 0 },
  ],
  [
    { type: 'maxpool2d', k: 3, s: 2, p: 1 },
    { type: 'avgpool2d', k: 2, s: 2, p: 1 },
  ],
  [
    { type: 'sumpool2d', k: 2, s: 1, p: 0 },
    { type: 'maxpool2d', k: 3, s: 1, p: 1 },
  ],
];

describe('pool_before_neuron: inference engine and trainer forward against the float64 reference', () => {
  it.each(CASES)('%o then %o', (a, b) => {
    const m = twoLayer(a, b);
    // Scale the weights so that both layers spike but not everywhere.
    for (const [name, ten] of m.tensors)
      if (name.endsWith('.weight'))
        for (let i = 0; i < ten.data.length; i++)
          ten.data[i] *= name.startsWith('c2') ? 4 : a.type === 'avgpool2d' ? 10 : 2.5;
    const rng = new Rng(3);
    const T = 4;
    let checked = 0;
    const totalSpikes = [0, 0];
    for (let sample = 0; sample < 6; sample++) {
      const img = Float32Array.from({ length: 2 * 81 }, () => rng.next());
      const ref = refForward(m, Float64Array.from(img), a, b, T);
      // Float32 vs float64: only compare where no membrane lies within rounding of the threshold.
      if (ref.minMargin < 1e-4) continue;
      totalSpikes[0] += ref.spikes[0];
      totalSpikes[1] += ref.spikes[1];
      const r = new Engine(m).run(img, sample, { policy: { name: 'static', timesteps: T } });
      const tn = new TrainNet(m, { timesteps: T, surrogate: 'atan' });
      const out = tn.forward(img, { batch: 1, timesteps: T, train: false, seed: 0, ids: [0] });
      for (let step = 0; step < T; step++)
        for (let k = 0; k < 3; k++) {
          const want = ref.logits[step][k];
          expect(Math.abs(r.logits[step * 3 + k] - want)).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(want)));
          expect(Math.abs(out[step * 3 + k] - want)).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(want)));
        }
      // The neurons updated are the pooled ones.
      const n1 = m.shapes.mapped[0].neurons;
      const n2 = m.shapes.mapped[1].neurons;
      expect(r.neuronUpdates).toBe(T * (n1 + n2 + 3));
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(3);
    // Both layers spiked, and not everywhere (the pooled values decide).
    const n = [m.shapes.mapped[0].neurons, m.shapes.mapped[1].neurons];
    for (const l of [0, 1]) {
      expect(totalSpikes[l], `layer ${l} spikes`).toBeGreaterThan(0);
      expect(totalSpikes[l], `layer ${l} spikes`).toBeLessThan(checked * T * n[l]);
    }
  });
});

/** The smooth stand-in for the spike in the reference: S' is the atan surrogate. */
const smooth = (z: number) => Math.atan((Math.PI / 2) * ATAN_ALPHA * z) / Math.PI;

describe('pool_before_neuron: trainer gradients against finite differences of a float64 reference', () => {
  // One spiking conv layer with pooling before its neuron as the output; L = Σ_t Σ_i c[t,i]·S(z_t,i),
  // z = u − θ, the state update uses the exact spike (the reset detached), so dL/dW from the reference
  // by central differences is the surrogate gradient the trainer's BPTT must give.
  it.each([
    { type: 'maxpool2d', k: 2, s: 2, p: 0 },
    { type: 'maxpool2d', k: 3, s: 2, p: 1 },
    { type: 'avgpool2d', k: 3, s: 2, p: 1 },
    { type: 'sumpool2d', k: 2, s: 1, p: 0 },
  ] as PoolCase[])('%o: dW, db', (pc) => {
    const T = 3;
    const B = 2;
    const c1 = conv(new Float64Array(2 * 49), 2, 7, 7, new Float64Array(3 * 2 * 9), null, 3, 3, 1, 1);
    const p1 = pool(c1.y, 3, c1.ho, c1.wo, pc);
    const K = 3 * p1.ho * p1.wo;
    const m = model(
      `name: g\ninput: { shape: [2, 7, 7] }\nclasses: ${K}\ntimesteps: ${T}\n${NEURON}layers:\n` +
        `  - { name: c1, type: conv2d, out_channels: 3, kernel: 3, padding: 1, bias: true, pool_before_neuron: ${poolYaml(pc)} }\n`,
      4,
    );
    const rng = new Rng(21);
    const W = m.tensors.get('c1.weight')!.data;
    const bias = m.tensors.get('c1.bias')!.data;
    for (let i = 0; i < W.length; i++) W[i] = Math.fround((rng.next() - 0.3) * 0.8);
    for (let i = 0; i < bias.length; i++) bias[i] = Math.fround((rng.next() - 0.5) * 0.4);
    const x = Float32Array.from({ length: B * 98 }, () => rng.next());
    const c = Float64Array.from({ length: T * B * K }, () => rng.next() * 2 - 1);

    const net = new TrainNet(m, { timesteps: T, surrogate: 'atan' });
    net.zeroGrad();
    net.forward(x, { batch: B, timesteps: T, train: true, seed: 0, ids: [0, 1] });
    net.backward(Float32Array.from(c));
    const gW = Float32Array.from(net.params.find((p) => p.name === 'c1.weight')!.grad);
    const gb = Float32Array.from(net.params.find((p) => p.name === 'c1.bias')!.grad);

    const loss = (Wd: Float64Array, bd: Float64Array) => {
      let L = 0;
      for (let r = 0; r < B; r++) {
        const cv = conv(Float64Array.from(x.subarray(r * 98, (r + 1) * 98)), 2, 7, 7, Wd, bd, 3, 3, 1, 1);
        const pv = pool(cv.y, 3, cv.ho, cv.wo, pc).y;
        const u = new Float64Array(K);
        for (let t = 0; t < T; t++)
          for (let i = 0; i < K; i++) {
            const v = LEAK * u[i] + pv[i];
            const z = v - THR;
            L += c[(t * B + r) * K + i] * smooth(z);
            u[i] = z > 0 ? 0 : v;
          }
      }
      return L;
    };
    const W64 = Float64Array.from(W);
    const b64 = Float64Array.from(bias);
    const eps = 1e-6;
    const tol = (num: number) => 1e-4 + 2e-3 * Math.abs(num);
    let nonzero = 0;
    for (let i = 0; i < W64.length; i++) {
      const wp = Float64Array.from(W64);
      const wm = Float64Array.from(W64);
      wp[i] += eps;
      wm[i] -= eps;
      const num = (loss(wp, b64) - loss(wm, b64)) / (2 * eps);
      expect(Math.abs(gW[i] - num), `dW[${i}]: analytic ${gW[i]}, numeric ${num}`).toBeLessThanOrEqual(
        tol(num),
      );
      if (Math.abs(num) > 1e-3) nonzero++;
    }
    for (let i = 0; i < b64.length; i++) {
      const bp = Float64Array.from(b64);
      const bm = Float64Array.from(b64);
      bp[i] += eps;
      bm[i] -= eps;
      const num = (loss(W64, bp) - loss(W64, bm)) / (2 * eps);
      expect(Math.abs(gb[i] - num), `db[${i}]`).toBeLessThanOrEqual(tol(num));
    }
    expect(nonzero).toBeGreaterThan(W64.length / 2);
  });
});

describe('pool_before_neuron with the batchnorm directly after the conv: normalise, then pool, then the neuron', () => {
  it('engine (batchnorm folded) and trainer (running statistics) equal the float64 reference', () => {
    const m = model(
      `name: b\ninput: { shape: [2, 8, 8] }\nclasses: 3\ntimesteps: 3\n${NEURON}layers:\n` +
        `  - { name: c1, type: conv2d, out_channels: 3, kernel: 3, padding: 1, bias: true, pool_before_neuron: { type: maxpool2d, kernel: 2 } }\n` +
        `  - { name: bn1, type: batchnorm }\n` +
        `  - { type: flatten }\n` +
        `  - { name: fc, type: linear, out_features: 3, spiking: false }\n`,
      9,
    );
    const t = (n: string) => m.tensors.get(n)!.data;
    // Negative scales on some channels: max after normalising differs from normalising the max.
    t('bn1.weight').set([1.5, -2, 2.5]);
    t('bn1.bias').set([0.4, 1.2, 0.1]);
    t('bn1.running_mean').set([0.1, -0.2, 0.05]);
    t('bn1.running_var').set([0.5, 1.5, 0.8]);
    const W = t('c1.weight');
    for (let i = 0; i < W.length; i++) W[i] *= 2;
    const eps = 1e-5;
    const rng = new Rng(8);
    const T = 3;
    let checked = 0;
    let spikes = 0;
    for (let sample = 0; sample < 6; sample++) {
      const img = Float32Array.from({ length: 128 }, () => rng.next());
      const cv = conv(Float64Array.from(img), 2, 8, 8, W, t('c1.bias'), 3, 3, 1, 1);
      const bn = cv.y.map((v, i) => {
        const c = Math.floor(i / 64);
        return (
          ((v - t('bn1.running_mean')[c]) / Math.sqrt(t('bn1.running_var')[c] + eps)) * t('bn1.weight')[c] +
          t('bn1.bias')[c]
        );
      });
      const pl = pool(bn, 3, 8, 8, { type: 'maxpool2d', k: 2, s: 2, p: 0 }).y;
      const u = new Float64Array(pl.length);
      const want: number[] = [];
      let margin = Infinity;
      for (let step = 0; step < T; step++) {
        const s = new Float64Array(u.length);
        for (let i = 0; i < u.length; i++) {
          u[i] = LEAK * u[i] + pl[i];
          margin = Math.min(margin, Math.abs(u[i] - THR));
          s[i] = u[i] > THR ? 1 : 0;
          if (s[i]) u[i] = 0;
          spikes += s[i];
        }
        const F = t('fc.weight');
        for (let k = 0; k < 3; k++) want.push(s.reduce((a, v, i) => a + F[k * 48 + i] * v, 0));
      }
      if (margin < 1e-4) continue;
      const r = new Engine(m).run(img, sample, { policy: { name: 'static', timesteps: T } });
      const tn = new TrainNet(m, { timesteps: T, surrogate: 'atan' });
      const out = tn.forward(img, { batch: 1, timesteps: T, train: false, seed: 0, ids: [0] });
      for (let i = 0; i < want.length; i++) {
        expect(Math.abs(r.logits[i] - want[i])).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(want[i])));
        expect(Math.abs(out[i] - want[i])).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(want[i])));
      }
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(4);
    expect(spikes).toBeGreaterThan(0);
  });
});
