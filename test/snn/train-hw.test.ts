/**
 * Hardware-aware training (src/snn/train/hw.ts). Oracles written here: the chip's inference path
 * (Engine + ChipArithmetic, as `eval --arch` runs it) for the trainer's quantised forward; a naive
 * quantiser (weights to levels, slices, rows grouped in reads, ADC rounding and clipping) for one layer;
 * central differences of the float layer for the straight-through gradient; sample statistics of the
 * programming noise over batch seeds.
 */
import { describe, expect, it } from 'vitest';
import { parseArch } from '../../src/config/load.js';
import type { ArchSpec } from '../../src/config/schema.js';
import { parseNetwork } from '../../src/network/load.js';
import { initModel, type SnnModel } from '../../src/snn/model.js';
import { prepareEngine } from '../../src/snn/run.js';
import { ChipTraining } from '../../src/snn/train/hw.js';
import { TrainNet } from '../../src/snn/train/net.js';
import { Rng } from '../../src/util/rng.js';
import { inMemoryDataset } from '../helpers/in-memory-dataset.js';

const ids = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('the trainer’s quantised forward is the chip’s inference path', () => {
  const net = `name: small
input: { shape: [2, 8, 8], encoding: direct }
classes: 5
timesteps: 3
neuron: { model: lif, convention: dtsnn, leak: 0.5, threshold: 1, reset: hard }
layers:
  - { name: conv1, type: conv2d, out_channels: 6, kernel: 3, padding: 1, spiking: true }
  - { name: pool1, type: avgpool2d, kernel: 2 }
  - { type: flatten }
  - { name: fc1, type: linear, out_features: 20, spiking: true }
  - { name: fc2, type: linear, out_features: 5, spiking: false }
`;
  it.each([
    ['differential', 4, 3],
    ['offset', 8, 4],
    ['differential', 16, 2],
  ] as const)(
    '%s weights, %i rows per read, %i-b ADC (calibrated): logits at every timestep within 1e-4',
    (signed, rp, adcBits) => {
      const spec = parseArch(
        `crossbar: { rows: 32, columns: 64, weight_bits: 4, cell_bits: 2, signed_weights: ${signed}, rows_parallel: ${rp}, input_bits: 4 }\nadc: { bits: ${adcBits}, calibration_samples: 8 }\nlif_unit: { potential_bits: 64 }\n`,
        't.yaml',
      );
      const { spec: ns } = parseNetwork(net, 'small.yaml');
      const m = initModel(ns, 4);
      for (const [name, t] of m.tensors)
        if (name.endsWith('.weight')) for (let i = 0; i < t.data.length; i++) t.data[i] *= 2.5;
      const rng = new Rng(9);
      const B = 6;
      const T = 3;
      const x = Float32Array.from({ length: B * 128 }, () => (rng.next() < 0.6 ? rng.next() : 0));
      const cal = inMemoryDataset(
        Float32Array.from({ length: 8 * 128 }, () => rng.next()),
        [2, 8, 8],
        5,
      );
      const tn = new TrainNet(m, { timesteps: T, surrogate: 'atan' });
      const hw = new ChipTraining(tn, { spec, name: 't', calibration: cal });
      hw.beginBatch(11);
      const out = Float32Array.from(
        tn.forward(x, { batch: B, timesteps: T, train: false, seed: 1, ids: ids(B) }),
      );
      hw.detach();
      const float = tn.forward(x, { batch: B, timesteps: T, train: false, seed: 1, ids: ids(B) });
      const { engine } = prepareEngine(m, {
        policy: { name: 'static', timesteps: T },
        chip: { spec, name: 't', calibration: cal },
      });
      let differs = 0;
      for (let b = 0; b < B; b++) {
        const r = engine.run(x.subarray(b * 128, (b + 1) * 128), b, {
          policy: { name: 'static', timesteps: T },
        });
        for (let t = 0; t < T; t++)
          for (let k = 0; k < 5; k++) {
            const i = (t * B + b) * 5 + k;
            expect(Math.abs(out[i] - r.logits[t * 5 + k])).toBeLessThan(1e-4);
            if (Math.abs(out[i] - float[i]) > 1e-3) differs++;
          }
      }
      // The chip's arithmetic is not the float one here: the comparison is not float against float.
      expect(differs).toBeGreaterThan(10);
    },
  );
});

/**
 * Naive model of one layer on one crossbar piece: differential weights, level q = round(|w|/s) with
 * s = max|w| / (2^b − 1), slices of cb bits, active (non-zero, binary) inputs taken in row order in reads
 * of rp rows, each column sum y to code min(levels, round(y / step)), codes shift-added by 4^k, + minus −,
 * × s. Returns outputs and whether any of each output's conversions clipped.
 */
function naiveLayer(
  W: Float32Array,
  nOut: number,
  nIn: number,
  x: Float32Array,
  o: { wbits: number; cb: number; rp: number; step: number; levels: number },
): { y: Float64Array; clipped: boolean[] } {
  let m = 0;
  for (const w of W) m = Math.max(m, Math.abs(w));
  const s = m / (2 ** o.wbits - 1);
  const slices = Math.ceil(o.wbits / o.cb);
  const mask = 2 ** o.cb - 1;
  const active: number[] = [];
  for (let i = 0; i < nIn; i++) if (x[i] !== 0) active.push(i);
  const y = new Float64Array(nOut);
  const clipped = new Array<boolean>(nOut).fill(false);
  for (let j = 0; j < nOut; j++) {
    let total = 0;
    for (let a = 0; a < active.length; a += o.rp) {
      const rows = active.slice(a, a + o.rp);
      for (let k = 0; k < slices; k++)
        for (const sign of [1, -1]) {
          let col = 0;
          for (const i of rows) {
            const w = W[j * nIn + i];
            const q = Math.round(Math.abs(w) / s);
            if (Math.sign(w) === sign) col += Math.floor(q / 2 ** (k * o.cb)) & mask;
          }
          let code = Math.round(col / o.step);
          if (code > o.levels) {
            code = o.levels;
            clipped[j] = true;
          }
          total += sign * code * o.step * 2 ** (k * o.cb);
        }
    }
    y[j] = total * s;
  }
  return { y, clipped };
}

describe('one layer against a naive quantiser; straight-through gradients', () => {
  const nIn = 24;
  const nOut = 7;
  const net = `name: one
input: { shape: [1, 1, ${nIn}], encoding: direct }
classes: ${nOut}
timesteps: 1
neuron: { model: lif, convention: dtsnn, leak: 0.5, threshold: 1, reset: hard }
layers:
  - { type: flatten }
  - { name: fc, type: linear, out_features: ${nOut}, spiking: false }
`;
  // σ = 1e-9 is below float32's resolution of a level: the same conductances, but the chip's float path
  // (per-cell device effects) instead of its packed-integer one.
  const setup = (range: string, adcBits: number, sigma = 0) => {
    const spec = parseArch(
      `crossbar: { rows: 32, columns: 64, weight_bits: 4, cell_bits: 2, signed_weights: differential, rows_parallel: 5, input_bits: 1 }\nadc: { bits: ${adcBits}, range: ${range}, calibration_percentile: 60, calibration_samples: 16 }\ndevice: { programming_sigma: ${sigma} }\n`,
      't.yaml',
    );
    const { spec: ns } = parseNetwork(net, 'one.yaml');
    const m = initModel(ns, 2);
    const W = m.tensors.get('fc.weight')!.data;
    const rng = new Rng(5);
    for (let i = 0; i < W.length; i++) W[i] = (rng.next() - 0.45) * 0.8;
    const bin = (n: number) => Float32Array.from({ length: n * nIn }, () => (rng.next() < 0.5 ? 1 : 0));
    const cal = inMemoryDataset(bin(16), [1, 1, nIn], nOut);
    const tn = new TrainNet(m as SnnModel, { timesteps: 1, surrogate: 'atan' });
    const hw = new ChipTraining(tn, { spec, name: 't', calibration: cal });
    return { spec, tn, hw, W, x: bin(4) };
  };

  it.each([
    ['full-scale', 3],
    ['calibrated', 3],
    ['calibrated', 2],
    ['calibrated', 2, 1e-9],
  ] as const)(
    '%s range, %i-b ADC, σ %s: the naive quantiser’s outputs and clipping',
    (range, adcBits, sigma: number = 0) => {
      const { tn, hw, W, x } = setup(range, adcBits, sigma);
      const chip = hw.beginBatch(1);
      const B = 4;
      const out = tn.forward(x, { batch: B, timesteps: 1, train: true, seed: 1, ids: ids(B) });
      // The step: full scale is rows per read × (2^cb − 1) = 15 level steps over 2^3 − 1 codes → 2^⌈log2(15/7)⌉
      // = 4 (hand-worked); the calibrated range is the chip's (its percentile rule is tested in chip-arith).
      const levels = 2 ** adcBits - 1;
      const step =
        range === 'full-scale' ? 2 ** Math.ceil(Math.log2(15 / levels)) : chip.adcRanges()[0]!.step;
      if (range === 'full-scale' && adcBits === 3) expect(step).toBe(4);
      let clips = 0;
      let unclipped = 0;
      for (let b = 0; b < B; b++) {
        const nv = naiveLayer(W, nOut, nIn, x.subarray(b * nIn, (b + 1) * nIn), {
          wbits: 4,
          cb: 2,
          rp: 5,
          step,
          levels,
        });
        for (let j = 0; j < nOut; j++) {
          expect(out[b * nOut + j]).toBeCloseTo(nv.y[j], 5);
          if (nv.clipped[j]) clips++;
          else unclipped++;
        }
      }
      if (range === 'calibrated') expect(clips).toBeGreaterThan(0);
      expect(unclipped).toBeGreaterThan(0);
    },
  );

  it.each([0, 1e-9])(
    'gradient (σ %s): the float gradient (central differences) where no conversion clipped, zero where one did',
    (sigma) => {
      const { tn, hw, W, x } = setup('calibrated', 2, sigma);
      const chip = hw.beginBatch(1);
      const step = chip.adcRanges()[0]!.step;
      const B = 4;
      // Loss L = Σ c·out: dL/dout = c.
      const c = Float32Array.from({ length: B * nOut }, (_, i) => ((i * 7) % 5) - 2 + 0.5);
      tn.zeroGrad();
      tn.forward(x, { batch: B, timesteps: 1, train: true, seed: 1, ids: ids(B) });
      tn.backward(c);
      const G = Float64Array.from(tn.params[0].grad);
      // Float layer: central differences of L(W) = Σ_b Σ_j c_bj (W x_b)_j.
      hw.detach();
      const lossAt = () => {
        const o = tn.forward(x, { batch: B, timesteps: 1, train: true, seed: 1, ids: ids(B) });
        let l = 0;
        for (let i = 0; i < o.length; i++) l += c[i] * o[i];
        return l;
      };
      const h = 1e-2;
      let zeros = 0;
      let passed = 0;
      for (let j = 0; j < nOut; j++)
        for (let i = 0; i < nIn; i++) {
          const w0 = W[j * nIn + i];
          W[j * nIn + i] = w0 + h;
          const lp = lossAt();
          W[j * nIn + i] = w0 - h;
          const lm = lossAt();
          W[j * nIn + i] = w0;
          // Only the samples whose output j did not clip (naive quantiser) contribute.
          let expected = 0;
          for (let b = 0; b < B; b++) {
            const xb = x.subarray(b * nIn, (b + 1) * nIn);
            const nv = naiveLayer(W, nOut, nIn, xb, { wbits: 4, cb: 2, rp: 5, step, levels: 3 });
            if (!nv.clipped[j]) expected += c[b * nOut + j] * xb[i];
          }
          const fd = (lp - lm) / (2 * h);
          // The finite difference of the float layer is Σ_b c_bj x_bi (hand-worked), all samples.
          let all = 0;
          for (let b = 0; b < B; b++) all += c[b * nOut + j] * x[b * nIn + i];
          expect(fd).toBeCloseTo(all, 3);
          expect(G[j * nIn + i]).toBeCloseTo(expected, 5);
          if (expected === 0 && all !== 0) zeros++;
          if (expected !== 0 && expected === all) passed++;
        }
      expect(zeros).toBeGreaterThan(0);
      expect(passed).toBeGreaterThan(0);
    },
  );
});

describe('programming noise per batch', () => {
  it('relative σ of the programmed conductances is the σ asked, redrawn per batch seed, repeatable', () => {
    const net = `name: one
input: { shape: [1, 1, 32], encoding: direct }
classes: 16
timesteps: 1
neuron: { model: lif, convention: dtsnn, leak: 0.5, threshold: 1, reset: hard }
layers:
  - { type: flatten }
  - { name: fc, type: linear, out_features: 16, spiking: false }
`;
    const arch = (sigma: number): ArchSpec =>
      parseArch(
        `crossbar: { rows: 32, columns: 64, weight_bits: 4, cell_bits: 4, signed_weights: differential, rows_parallel: 32, input_bits: 1 }\nadc: { bits: 8, range: full-scale, calibration_samples: 2 }\ndevice: { programming_sigma: ${sigma} }\n`,
        't.yaml',
      );
    const { spec: ns } = parseNetwork(net, 'one.yaml');
    const m = initModel(ns, 3);
    const cal = inMemoryDataset(new Float32Array(2 * 32).fill(1), [1, 1, 32], 16);
    const tn = new TrainNet(m, { timesteps: 1, surrogate: 'atan' });
    type L = { G: Float32Array };
    const cells = (sigma: number, seed: number) =>
      Float64Array.from(
        (
          new ChipTraining(tn, { spec: arch(sigma), name: 't', calibration: cal }).beginBatch(seed)
            .layers[0] as unknown as L
        ).G,
      );
    const nominal = cells(0, 1);
    const sigma = 0.1;
    let n = 0;
    let sum = 0;
    let sum2 = 0;
    const draws: Float64Array[] = [];
    for (let seed = 1; seed <= 10; seed++) {
      const g = cells(sigma, seed);
      draws.push(g);
      for (let i = 0; i < g.length; i++)
        if (nominal[i] > 0) {
          const r = g[i] / nominal[i] - 1;
          n++;
          sum += r;
          sum2 += r * r;
        }
    }
    const mean = sum / n;
    const sd = Math.sqrt(sum2 / n - mean * mean);
    expect(n).toBeGreaterThan(2000);
    // Standard errors: σ/√n ≈ 0.002 for the mean, σ/√(2n) ≈ 0.0015 for the σ.
    expect(Math.abs(mean)).toBeLessThan(0.008);
    expect(Math.abs(sd - sigma)).toBeLessThan(0.006);
    // Another batch seed, another draw (correlation of the errors ≈ 0); the same seed, the same draw.
    let c = 0;
    let a2 = 0;
    let b2 = 0;
    for (let i = 0; i < nominal.length; i++)
      if (nominal[i] > 0) {
        const a = draws[0][i] / nominal[i] - 1;
        const b = draws[1][i] / nominal[i] - 1;
        c += a * b;
        a2 += a * a;
        b2 += b * b;
      }
    expect(Math.abs(c / Math.sqrt(a2 * b2))).toBeLessThan(0.15);
    expect(Array.from(cells(sigma, 1))).toEqual(Array.from(draws[0]));
  });
});
