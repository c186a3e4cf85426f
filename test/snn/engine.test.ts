import { describe, expect, it } from 'vitest';
import { parseNetwork } from '../../src/network/load.js';
import {
  alignFrames,
  argmax,
  compileModel,
  Engine,
  maxSoftmax,
  normalizedEntropy,
} from '../../src/snn/engine.js';
import { initModel, type SnnModel } from '../../src/snn/model.js';
import { Rng } from '../../src/util/rng.js';

/** Dense reference conv2d (direct definition), CHW layout, weights OIHW. */
function refConv(
  x: Float32Array,
  c: number,
  h: number,
  w: number,
  W: Float32Array,
  o: number,
  k: number,
  s: number,
  p: number,
  d: number,
  groups = 1,
) {
  const ho = Math.floor((h + 2 * p - d * (k - 1) - 1) / s) + 1;
  const wo = Math.floor((w + 2 * p - d * (k - 1) - 1) / s) + 1;
  const out = new Float64Array(o * ho * wo);
  const cpg = c / groups;
  const opg = o / groups;
  for (let oc = 0; oc < o; oc++) {
    const g = Math.floor(oc / opg);
    for (let oy = 0; oy < ho; oy++)
      for (let ox = 0; ox < wo; ox++) {
        let acc = 0;
        for (let cl = 0; cl < cpg; cl++)
          for (let ky = 0; ky < k; ky++)
            for (let kx = 0; kx < k; kx++) {
              const y = oy * s - p + ky * d;
              const xx = ox * s - p + kx * d;
              if (y < 0 || y >= h || xx < 0 || xx >= w) continue;
              acc += x[((g * cpg + cl) * h + y) * w + xx] * W[((oc * cpg + cl) * k + ky) * k + kx];
            }
        out[(oc * ho + oy) * wo + ox] = acc;
      }
  }
  return out;
}

function model(yaml: string, seed = 1): SnnModel {
  const { spec } = parseNetwork(yaml, 'test.yaml');
  return initModel(spec, seed);
}

describe('layers against direct definitions', () => {
  it.each([
    [1, 0, 1, 1],
    [2, 1, 1, 1],
    [1, 2, 2, 1],
    [2, 1, 1, 2],
  ])('conv2d stride %i padding %i dilation %i groups %i (sparse scatter = dense reference)', (s, p, d, g) => {
    const m = model(
      `name: c\ninput: { shape: [4, 9, 9] }\nclasses: 8\nlayers:\n  - { name: conv, type: conv2d, out_channels: 8, kernel: 3, stride: ${s}, padding: ${p}, dilation: ${d}, groups: ${g}, spiking: false }\n  - { type: flatten }\n  - { name: fc, type: linear, out_features: 8, spiking: false }\n`,
    );
    const net = compileModel(m);
    const rng = new Rng(3);
    const x = Float32Array.from({ length: 4 * 81 }, () =>
      rng.next() < 0.3 ? 1 : rng.next() < 0.2 ? rng.next() : 0,
    );
    const st = net.stages[0];
    const out = new Float32Array(st.outSize);
    // forwardStage is private; run the engine for one static step and read the first layer via record.
    const eng = new Engine(net);
    const W = m.tensors.get('conv.weight')!.data;
    const ref = refConv(x, 4, 9, 9, W, 8, 3, s, p, d, g);
    const r = eng.run(x, 0, { policy: { name: 'static', timesteps: 1 }, record: true });
    const fcIn = r.inputs![1][0];
    expect(fcIn.length).toBe(ref.length);
    for (let i = 0; i < ref.length; i++) expect(fcIn[i]).toBeCloseTo(ref[i], 5);
    void out;
  });

  it('linear with bias, and sum/avg/max pooling', () => {
    const m = model(
      `name: l\ninput: { shape: [1, 4, 4] }\nclasses: 2\nlayers:\n  - { name: pool, type: avgpool2d, kernel: 2 }\n  - { type: flatten }\n  - { name: fc, type: linear, out_features: 2, bias: true, spiking: false }\n`,
    );
    m.tensors.get('fc.weight')!.data.set([1, 0, 0, 0, 0, 1, 1, 1]);
    m.tensors.get('fc.bias')!.data.set([0.5, -1]);
    const x = Float32Array.from([1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
    const r = new Engine(m).run(x, 0, { policy: { name: 'static', timesteps: 1 }, record: true });
    expect(Array.from(r.inputs![0][0])).toEqual([1, 0, 0, 0.5]); // avg over 2×2 windows
    expect(Array.from(r.logits)).toEqual([1.5, -0.5]);
  });

  it('batchnorm folded into the preceding layer equals applying it', () => {
    const text = (bn: boolean) =>
      `name: b\ninput: { shape: [3] }\nclasses: 3\nlayers:\n  - { name: fc, type: linear, out_features: 3, spiking: false }\n${bn ? '  - { name: bn, type: batchnorm, eps: 0.001 }\n' : ''}`;
    const withBn = model(text(true));
    withBn.tensors.get('bn.weight')!.data.set([2, 1, 0.5]);
    withBn.tensors.get('bn.bias')!.data.set([0.1, 0, -0.2]);
    withBn.tensors.get('bn.running_mean')!.data.set([0.3, -0.1, 0]);
    withBn.tensors.get('bn.running_var')!.data.set([4, 1, 0.25]);
    const x = Float32Array.from([1, 0, 1]);
    const r = new Engine(withBn).run(x, 0, { policy: { name: 'static', timesteps: 1 } });
    const W = withBn.tensors.get('fc.weight')!.data;
    for (let o = 0; o < 3; o++) {
      const z = W[o * 3] + W[o * 3 + 2];
      const g = [2, 1, 0.5][o],
        b = [0.1, 0, -0.2][o],
        mu = [0.3, -0.1, 0][o],
        v = [4, 1, 0.25][o];
      expect(r.logits[o]).toBeCloseTo(((z - mu) * g) / Math.sqrt(v + 0.001) + b, 5);
    }
  });
});

/**
 * Exit oracles written here, independent of the engine's code: the normalised entropy of softmax(a) as
 * H = (log Σ_k e^{a_k} − Σ_k p_k·a_k) / log K (the same quantity as −Σ p log p / log K, computed another
 * way), and the largest softmax probability as e^{max a} / Σ_k e^{a_k}.
 */
function refEntropy(a: ArrayLike<number>): number {
  const v = Array.from(a);
  const m = Math.max(...v);
  const z = v.reduce((s, x) => s + Math.exp(x - m), 0);
  const mean = v.reduce((s, x) => s + (Math.exp(x - m) / z) * (x - m), 0);
  return (Math.log(z) - mean) / Math.log(v.length);
}
function refMaxSoftmax(a: ArrayLike<number>): number {
  const v = Array.from(a);
  const m = Math.max(...v);
  return 1 / v.reduce((s, x) => s + Math.exp(x - m), 0);
}

describe('exit rules', () => {
  it('normalised entropy matches the formula', () => {
    expect(normalizedEntropy([0, 0, 0, 0])).toBeCloseTo(1, 12);
    // Hand-worked: logits (ln 3, 0) give p = (3/4, 1/4), H = −(¾ ln ¾ + ¼ ln ¼)/ln 2 = 0.811278124459133;
    // logits (ln 2, 0, 0) give p = (½, ¼, ¼), H = (½ ln 2 + ½ ln 4)/ln 3 = 1.5 ln 2 / ln 3 = 0.946394630357186.
    expect(normalizedEntropy([Math.log(3), 0])).toBeCloseTo(0.811278124459133, 12);
    expect(normalizedEntropy([Math.log(2), 0, 0])).toBeCloseTo(0.946394630357186, 12);
    expect(maxSoftmax([Math.log(3), 0])).toBeCloseTo(0.75, 12);
    expect(maxSoftmax([Math.log(2), 0, 0])).toBeCloseTo(0.5, 12);
    // Shifting every logit by a constant changes nothing; one dominant logit gives H → 0.
    expect(normalizedEntropy([1000 + Math.log(3), 1000])).toBeCloseTo(0.811278124459133, 9);
    expect(normalizedEntropy([60, 0, 0, 0])).toBeLessThan(1e-20);
    // The test's own oracle agrees with the hand-worked values.
    expect(refEntropy([Math.log(3), 0])).toBeCloseTo(0.811278124459133, 12);
    expect(refEntropy([Math.log(2), 0, 0])).toBeCloseTo(0.946394630357186, 12);
    const a = [2, 0, -1];
    const z = a.reduce((s, v) => s + Math.exp(v), 0);
    const p = a.map((v) => Math.exp(v) / z);
    expect(normalizedEntropy(a)).toBeCloseTo(-p.reduce((s, q) => s + q * Math.log(q), 0) / Math.log(3), 12);
    expect(maxSoftmax(a)).toBeCloseTo(Math.max(...p), 12);
    expect(argmax([0, 3, 3, 1])).toBe(1);
  });

  const net = `name: e\ninput: { shape: [1, 6, 6] }\nclasses: 4\nlayers:\n  - { name: conv, type: conv2d, out_channels: 4, kernel: 3, padding: 1 }\n  - { type: flatten }\n  - { name: fc, type: linear, out_features: 4, spiking: false }\n`;
  const m = model(net, 7);
  // Seeded weights alone give logits so small that no θ ≥ 0.2 ever exits early; scaled, the exits spread
  // over 1…6 timesteps, so the exit checks below see early exits and full runs.
  for (const [k, t] of m.tensors)
    if (k.endsWith('.weight'))
      for (let i = 0; i < t.data.length; i++) t.data[i] *= k.startsWith('fc') ? 20 : 3;
  const eng = new Engine(m);
  const rng = new Rng(11);
  const images = Array.from({ length: 30 }, () => Float32Array.from({ length: 36 }, () => rng.next()));

  it('entropy exit never runs more timesteps than static T, and exits at the first t with 1 − H > θ', () => {
    const decided = new Set<number>();
    for (const img of images) {
      for (const theta of [0, 0.2, 0.5, 0.9, 0.999]) {
        const s = eng.run(img, 0, { policy: { name: 'static', timesteps: 6 } });
        const e = eng.run(img, 0, { policy: { name: 'entropy', timesteps: 6, theta } });
        expect(e.exitTimestep).toBeGreaterThanOrEqual(1);
        expect(e.exitTimestep).toBeLessThanOrEqual(6);
        // The engine really stops: it computed exactly exitTimestep timesteps, identical to static's first ones.
        expect(Array.from(e.logits)).toEqual(Array.from(s.logits.slice(0, e.exitTimestep * 4)));
        // Expected exit from the static run's logits and the test's own entropy formula.
        const acc = new Float64Array(4);
        let expected = 6;
        for (let t = 0; t < 6; t++) {
          for (let k = 0; k < 4; k++) acc[k] += s.logits[t * 4 + k];
          // A uniform output has H = 1 exactly (no spike reached the classifier yet).
          const uniform = acc.every((v) => v === acc[0]);
          const margin = uniform ? -theta : 1 - refEntropy(acc) - theta;
          // A decision within rounding of θ could go either way; no such case occurs in this data.
          if (!uniform) expect(Math.abs(margin)).toBeGreaterThan(1e-9);
          if (margin > 0) {
            expected = t + 1;
            break;
          }
        }
        expect(e.exitTimestep).toBe(expected);
        if (theta > 0 && theta < 0.999) decided.add(expected);
      }
    }
    // The data exercise early exits and runs to the end, so the check above cannot pass vacuously.
    expect(decided.size).toBeGreaterThan(1);
  });
  it('θ = 0 exits at once whenever the output is not uniform; θ ≥ 1 never exits early', () => {
    const r = eng.run(images[0], 0, { policy: { name: 'entropy', timesteps: 5, theta: 1 } });
    expect(r.exitTimestep).toBe(5);
  });
  it('confidence exit uses max softmax of the accumulated output', () => {
    const r = eng.run(images[1], 0, { policy: { name: 'confidence', timesteps: 5, theta: 0 } });
    expect(r.exitTimestep).toBe(1);
    const decided = new Set<number>();
    for (const img of images) {
      const s = eng.run(img, 0, { policy: { name: 'static', timesteps: 5 } });
      for (const theta of [0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99]) {
        const c = eng.run(img, 0, { policy: { name: 'confidence', timesteps: 5, theta } });
        const acc = new Float64Array(4);
        let expected = 5;
        for (let t = 0; t < 5; t++) {
          for (let k = 0; k < 4; k++) acc[k] += s.logits[t * 4 + k];
          if (refMaxSoftmax(acc) > theta) {
            expected = t + 1;
            break;
          }
        }
        expect(c.exitTimestep).toBe(expected);
        decided.add(expected);
      }
    }
    expect(decided.size).toBeGreaterThan(2);
  });
  it('a batch gives the same results as samples run one by one', () => {
    const batch = new Float32Array(3 * 36);
    images.slice(0, 3).forEach((img, k) => batch.set(img, k * 36));
    const opts = {
      policy: { name: 'entropy' as const, timesteps: 4, theta: 0.3 },
      encoding: 'rate' as const,
      seed: 4,
    };
    const rs = eng.runBatch(batch, 3, 10, opts);
    rs.forEach((r, k) =>
      expect(Array.from(r.logits)).toEqual(Array.from(eng.run(images[k], 10 + k, opts).logits)),
    );
  });
  it('rate encoding is seeded per sample, independent of order', () => {
    const a = eng.run(images[2], 5, {
      policy: { name: 'static', timesteps: 3 },
      encoding: 'rate',
      seed: 9,
      record: true,
    });
    eng.run(images[3], 6, { policy: { name: 'static', timesteps: 3 }, encoding: 'rate', seed: 9 });
    const b = eng.run(images[2], 5, {
      policy: { name: 'static', timesteps: 3 },
      encoding: 'rate',
      seed: 9,
      record: true,
    });
    expect(Array.from(b.logits)).toEqual(Array.from(a.logits));
    expect(a.inputs![0][0].every((v) => v === 0 || v === 1)).toBe(true);
  });
});

describe('layerwise (LD-SNN)', () => {
  it('aligns frames: repeat expands and sums, rate averages, pad zero-fills', () => {
    const f = [
      Float32Array.from([1, 0]),
      Float32Array.from([0, 1]),
      Float32Array.from([1, 1]),
      Float32Array.from([0, 0]),
    ];
    expect(alignFrames(f, 2, 'repeat').map((x) => Array.from(x))).toEqual([
      [1, 1],
      [1, 1],
    ]);
    expect(alignFrames(f.slice(0, 2), 4, 'repeat').map((x) => Array.from(x))).toEqual([
      [1, 0],
      [1, 0],
      [0, 1],
      [0, 1],
    ]);
    expect(alignFrames(f, 1, 'rate').map((x) => Array.from(x))).toEqual([[0.5, 0.5]]);
    expect(alignFrames(f.slice(0, 1), 2, 'pad').map((x) => Array.from(x))).toEqual([
      [1, 0],
      [0, 0],
    ]);
  });
  it('runs each layer its own number of timesteps and counts fewer neuron updates', () => {
    const m = model(
      `name: ld\ninput: { shape: [1, 6, 6] }\nclasses: 4\nlayers:\n  - { name: conv, type: conv2d, out_channels: 4, kernel: 3, padding: 1 }\n  - { type: flatten }\n  - { name: fc1, type: linear, out_features: 16 }\n  - { name: fc2, type: linear, out_features: 4, spiking: false }\n`,
    );
    const eng = new Engine(m);
    const img = Float32Array.from({ length: 36 }, (_, i) => (i % 3) / 2);
    const uni = eng.run(img, 0, { policy: { name: 'static', timesteps: 4 }, record: true });
    const ld = eng.run(img, 0, {
      policy: { name: 'layerwise', timesteps: 4, layer_timesteps: [4, 2, 2], alignment: 'repeat' },
      record: true,
    });
    expect(ld.inputs!.map((l) => l.length)).toEqual([4, 2, 2]);
    expect(ld.exitTimestep).toBe(2);
    expect(ld.neuronUpdates).toBeLessThan(uni.neuronUpdates);
    expect(eng.inputKinds('direct', { name: 'layerwise', timesteps: 4, layer_timesteps: [4, 2, 2] })).toEqual(
      ['values', 'values', 'spikes'],
    );
  });
});

describe('sparsity', () => {
  it('synaptic operations follow the active inputs (zeros are skipped)', () => {
    const m = model(
      `name: s\ninput: { shape: [100] }\nclasses: 10\nlayers:\n  - { name: fc, type: linear, out_features: 10, spiking: false }\n`,
    );
    const eng = new Engine(m);
    const x = new Float32Array(100);
    for (let i = 0; i < 7; i++) x[i * 13] = 1;
    expect(eng.run(x, 0, { policy: { name: 'static', timesteps: 2 } }).synops).toBe(2 * 7 * 10);
  });
});
