/**
 * Hardware-aware inference (src/snn/chip-arith.ts). Oracles written here: the float engine on weights the
 * chip represents exactly; hand-worked crossbars (slices, groups, ADC clipping and rounding, offset and
 * differential encodings); sample statistics of faults and variation against the rates asked; the replay's
 * own row-group count (replay/work.ts FrameWork) against the reads the arithmetic performs.
 */
import { describe, expect, it } from 'vitest';
import { parseArch } from '../../src/config/load.js';
import type { ArchSpec } from '../../src/config/schema.js';
import { mapNetwork } from '../../src/chip/mapping.js';
import { parseNetwork } from '../../src/network/load.js';
import { FrameWork, layerGeometry } from '../../src/replay/work.js';
import { ChipArithmetic } from '../../src/snn/chip-arith.js';
import type { Dataset } from '../../src/snn/data/dataset.js';
import { Engine } from '../../src/snn/engine.js';
import { initModel, type SnnModel } from '../../src/snn/model.js';
import { prepareEngine } from '../../src/snn/run.js';
import { Rng } from '../../src/util/rng.js';
import { inMemoryDataset } from '../helpers/in-memory-dataset.js';

function arch(yaml: string): ArchSpec {
  return parseArch(yaml, 'test-arch.yaml');
}

function setWeights(m: SnnModel, name: string, values: number[]): void {
  const t = m.tensors.get(name)!;
  expect(t.data.length).toBe(values.length);
  t.data.set(values);
}

/** A chip engine calibrated on `cal` (static policy, T timesteps). */
function chipEngine(
  m: SnnModel,
  spec: ArchSpec,
  cal: Dataset,
  T = 1,
  encoding: 'direct' | 'rate' = 'direct',
) {
  return prepareEngine(m, {
    policy: { name: 'static', timesteps: T },
    encoding,
    chip: { spec, name: 't', calibration: cal },
  });
}

describe('the chip equals the float engine where its arithmetic is exact', () => {
  // Dyadic weights (k · 2^-5, |k| ≤ 255, the largest exactly 255 per layer) are represented exactly by
  // 8-bit weights; images k/256 with max 255/256 are exactly 8-bit codes; a 16-bit ADC over the full scale
  // and 64-bit potentials lose nothing. Then every spike and logit must be the float engine's, bit for bit.
  const net = `name: exact
input: { shape: [2, 9, 9], encoding: direct }
classes: 5
timesteps: 3
neuron: { model: lif, convention: dtsnn, leak: 0.5, threshold: 1, reset: hard }
layers:
  - { name: conv1, type: conv2d, out_channels: 8, kernel: 3, padding: 1, groups: 2, spiking: true, bias: true }
  - { name: pool1, type: maxpool2d, kernel: 2 }
  - { name: conv2, type: conv2d, out_channels: 6, kernel: 3, padding: 0, spiking: true }
  - { type: flatten }
  - { name: fc, type: linear, out_features: 5, spiking: false, bias: true }
`;
  function exactModel(seed: number, kmax = 255): SnnModel {
    const { spec } = parseNetwork(net, 'exact.yaml');
    const m = initModel(spec, seed);
    const rng = new Rng(seed * 7 + 1);
    for (const [name, t] of m.tensors) {
      if (name.endsWith('.weight')) {
        for (let i = 0; i < t.data.length; i++) t.data[i] = (rng.int(2 * kmax + 1) - kmax) / 32;
        t.data[rng.int(t.data.length)] = (rng.next() < 0.5 ? -kmax : kmax) / 32;
        // Scale so that layers spike at a useful rate (a power of two keeps them dyadic).
        const fanIn = t.data.length / t.shape[0];
        const shift = (kmax < 255 ? 2 : 1) * 2 ** -Math.ceil(Math.log2(Math.sqrt(fanIn)));
        for (let i = 0; i < t.data.length; i++) t.data[i] *= shift;
      } else if (name.endsWith('.bias'))
        for (let i = 0; i < t.data.length; i++) t.data[i] = (rng.int(33) - 16) / 64;
    }
    return m;
  }
  function images(n: number, seed: number): Float32Array {
    const rng = new Rng(seed);
    const size = 2 * 81;
    const out = new Float32Array(n * size);
    for (let s = 0; s < n; s++) {
      for (let i = 0; i < size; i++) out[s * size + i] = rng.next() < 0.4 ? rng.int(256) / 256 : 0;
      out[s * size + rng.int(size)] = 255 / 256;
    }
    return out;
  }
  it.each([
    ['differential', 4, true],
    ['offset', 3, true],
    ['differential', 16, false],
    ['differential', 16, true],
  ] as const)(
    'signed %s, %i rows per read, zero-skipping %s: spikes and logits bit for bit',
    (signed, rp, zs) => {
      const spec = arch(
        `crossbar: { rows: 16, columns: 64, weight_bits: 8, cell_bits: 2, signed_weights: ${signed}, rows_parallel: ${rp}, zero_skipping: ${zs}, input_bits: 8 }\nadc: { bits: 16, range: full-scale }\nshift_add: { bits: 32 }\nlif_unit: { potential_bits: 64 }\n`,
      );
      for (const seed of [1, 2]) {
        // Offset weights span [−128, 127]: the largest magnitude 127 keeps the scale 2^-5.
        const m = exactModel(seed, signed === 'offset' ? 127 : 255);
        const imgs = images(12, seed + 10);
        const { engine } = chipEngine(m, spec, inMemoryDataset(imgs.slice(0, 4 * 162), [2, 9, 9], 5), 3);
        const float = new Engine(m);
        const spikes = [0, 0];
        for (let i = 0; i < 12; i++) {
          const x = imgs.subarray(i * 162, (i + 1) * 162);
          const a = float.run(x, i, { policy: { name: 'static', timesteps: 3 }, record: true });
          const b = engine.run(x, i, { policy: { name: 'static', timesteps: 3 }, record: true });
          expect(Array.from(b.logits)).toEqual(Array.from(a.logits));
          expect(b.spikeCounts).toEqual(a.spikeCounts);
          for (let l = 0; l < a.inputs!.length; l++)
            for (let t = 0; t < a.inputs![l].length; t++) expect(b.inputs![l][t]).toEqual(a.inputs![l][t]);
          for (let l = 0; l < 2; l++) spikes[l] += a.spikeCounts[l].reduce((s, v) => s + v, 0);
        }
        // Both spiking layers do spike: the comparison is not between silent layers.
        expect(spikes[0]).toBeGreaterThan(50);
        expect(spikes[1]).toBeGreaterThan(5);
      }
    },
  );

  it('the same, on non-dyadic images: logits within 1e-6 relative of the float engine', () => {
    const spec = arch(
      `crossbar: { rows: 16, columns: 64, weight_bits: 8, cell_bits: 2, rows_parallel: 8, input_bits: 8 }\nadc: { bits: 16, range: full-scale }\nlif_unit: { potential_bits: 64 }\n`,
    );
    const m = exactModel(3);
    const rng = new Rng(5);
    const imgs = new Float32Array(6 * 162);
    for (let s = 0; s < 6; s++) {
      for (let i = 0; i < 162; i++) imgs[s * 162 + i] = rng.next() < 0.4 ? rng.int(256) / 255 : 0;
      imgs[s * 162 + rng.int(162)] = 1;
    }
    const { engine } = chipEngine(m, spec, inMemoryDataset(imgs, [2, 9, 9], 5), 3);
    const float = new Engine(m);
    for (let i = 0; i < 6; i++) {
      const x = imgs.subarray(i * 162, (i + 1) * 162);
      const a = float.run(x, i, { policy: { name: 'static', timesteps: 3 } });
      const b = engine.run(x, i, { policy: { name: 'static', timesteps: 3 } });
      let scale = 0;
      for (const v of a.logits) scale = Math.max(scale, Math.abs(v));
      for (let k = 0; k < a.logits.length; k++)
        expect(Math.abs(b.logits[k] - a.logits[k])).toBeLessThanOrEqual(1e-6 * scale);
    }
  });
});

describe('hand-worked crossbars', () => {
  // One linear layer, 4 inputs → 2 outputs, 4-bit weights on 2-bit cells (two slices), 2 rows per read:
  // rows {0, 1} then {2, 3}. Inputs all 1 (input_bits 1: one plane, code 1).
  const net = `name: hand
input: { shape: [4, 1, 1], encoding: direct }
classes: 2
timesteps: 1
layers:
  - { type: flatten }
  - { name: fc, type: linear, out_features: 2, spiking: false }
`;
  function handModel(w: number[]): SnnModel {
    const { spec } = parseNetwork(net, 'hand.yaml');
    const m = initModel(spec, 1);
    setWeights(m, 'fc.weight', w);
    return m;
  }
  const ones = new Float32Array([1, 1, 1, 1]);
  const run = (m: SnnModel, spec: ArchSpec) => {
    const { engine, chip } = chipEngine(m, spec, inMemoryDataset(ones, [4, 1, 1], 2));
    return { logits: engine.run(ones, 0, { policy: { name: 'static', timesteps: 1 } }).logits, chip: chip! };
  };
  const hw = (signed: string, adcBits: number, extra = '', adc = `{ bits: ${adcBits}, range: full-scale }`) =>
    arch(
      `crossbar: { rows: 8, columns: 16, weight_bits: 4, cell_bits: 2, signed_weights: ${signed}, rows_parallel: 2, input_bits: 1 }\nadc: ${adc}\n${extra}`,
    );

  it('differential pairs: slices, groups, a 2-bit ADC that rounds and clips, and an 8-bit one that does not', () => {
    // Scale 1/15: q(neuron 0) = [9, −3, 6, 15], q(neuron 1) = [−15, 3, 0, 12].
    const m = handModel([0.6, -0.2, 0.4, 1.0, -1.0, 0.2, 0.0, 0.8]);
    // Full scale: 2 rows × level 3 = 6; 2-bit ADC: 3 codes, step 2^⌈log2(6/3)⌉ = 2: y → min(3, round(y/2))·2.
    const adc2 = (y: number) => Math.min(3, Math.round(y / 2)) * 2;
    // Neuron 0. Rows 0,1: + column slices (lo, hi) = (1, 2) [9 = 0b1001]; − column (3, 0) [3].
    //           Rows 2,3: + (2 + 3, 1 + 3) [6 = 0b0110, 15 = 0b1111]; − (0, 0).
    const n0 = adc2(1) + 4 * adc2(2) - (adc2(3) + 4 * adc2(0)) + adc2(5) + 4 * adc2(4);
    // Neuron 1. Rows 0,1: + (3, 0) [3]; − (3, 3) [15]. Rows 2,3: + (0, 3) [12 = 0b1100]; −: nothing.
    const n1 = adc2(3) + 4 * adc2(0) - (adc2(3) + 4 * adc2(3)) + adc2(0) + 4 * adc2(3);
    expect(n0).toBe(28); // the exact sum is 27
    const a = run(m, hw('differential', 2));
    expect(a.logits[0]).toBeCloseTo(n0 / 15, 6);
    expect(a.logits[1]).toBeCloseTo(n1 / 15, 6);
    const b = run(m, hw('differential', 8));
    expect(b.logits[0]).toBeCloseTo(27 / 15, 6);
    expect(b.logits[1]).toBeCloseTo(0, 6);
  });

  it('offset encoding: 2^(b−1) per active row subtracted after the ADC', () => {
    // Scale max|w| / 7: q = [6, −2, 3, 7] stored as q + 8 = [14, 6, 11, 15].
    const m = handModel([6 / 7, -2 / 7, 3 / 7, 1, 0, 0, 0, 0]);
    const adc2 = (y: number) => Math.min(3, Math.round(y / 2)) * 2;
    // Rows 0,1: slices (lo, hi) of 14 = (2, 3), of 6 = (2, 1) → (4, 4). Rows 2,3: 11 = (3, 2), 15 = (3, 3) → (6, 5).
    const n0 = adc2(4) + 4 * adc2(4) - 8 * 2 + adc2(6) + 4 * adc2(5) - 8 * 2;
    expect(n0).toBe(18); // the exact sum is 14
    expect(run(m, hw('offset', 2)).logits[0]).toBeCloseTo(n0 / 7, 6);
    expect(run(m, hw('offset', 8)).logits[0]).toBeCloseTo(14 / 7, 6);
    // Neuron 1 (all weights 0, stored 8 = (0, 2) in every row): 4 + ... − 16 per group, exactly 0 at 8 bits.
    expect(run(m, hw('offset', 8)).logits[1]).toBeCloseTo(0, 6);
  });

  it('a calibrated range is the percentile of the conversions seen (100: the largest)', () => {
    const m = handModel([0.6, -0.2, 0.4, 1.0, -1.0, 0.2, 0.0, 0.8]);
    // Conversions (16): neuron 0 (+lo, +hi, −lo, −hi) per group: (1, 2, 3, 0), (5, 4, 0, 0);
    // neuron 1: (3, 0, 3, 3), (0, 3, 0, 0). Largest 5; the 8th smallest of 16 is 1.
    const top = run(
      m,
      hw('differential', 2, '', '{ bits: 2, range: calibrated, calibration_percentile: 100 }'),
    );
    const r = top.chip.adcRanges()[0]!;
    expect(r.range).toBe(5);
    expect(r.step).toBe(2); // 2^⌈log2(5/3)⌉
    const med = run(
      m,
      hw('differential', 2, '', '{ bits: 2, range: calibrated, calibration_percentile: 50 }'),
    );
    const rm = med.chip.adcRanges()[0]!;
    // Histogram bins of 4 × full scale / 8192 = 24/8192: the bin holding 1 ends within one bin above it.
    expect(rm.range).toBeGreaterThanOrEqual(1);
    expect(rm.range).toBeLessThanOrEqual(1 + 24 / 8192);
  });

  it('finite on/off ratio: the off-current is subtracted digitally, so an ideal ADC gives the same sums', () => {
    const m = handModel([0.6, -0.2, 0.4, 1.0, -1.0, 0.2, 0.0, 0.8]);
    const on = run(m, hw('differential', 16, 'device: { finite_on_off_ratio: true }\n'));
    expect(on.logits[0]).toBeCloseTo(27 / 15, 4);
    expect(on.logits[1]).toBeCloseTo(0, 4);
    // g0 = 3 / (hrs/lrs − 1) = 3/9 per cell: full scale 2 × (3 + 1/3).
    expect(on.chip.layers[0]!.fullScale).toBeCloseTo(2 * (3 + 1 / 3), 12);
  });

  it('drift scales every conductance by (t/t0)^−ν', () => {
    const m = handModel([0.6, -0.2, 0.4, 1.0, -1.0, 0.2, 0.0, 0.8]);
    const d = run(m, hw('differential', 16, 'device: { drift_nu: 0.1, drift_time_s: 100 }\n'));
    const f = 100 ** -0.1;
    expect(d.logits[0]).toBeCloseTo((27 / 15) * f, 4);
    const G = d.chip.layers[0]!.G;
    // Row 0, neuron 0, + column, low slice holds level 1.
    expect(G[0]).toBeCloseTo(f, 6);
  });

  it('first-order IR drop of one active cell: V(1 − r_w ΔG (G·1 + G·(R − i)))', () => {
    // One weight per neuron column (cell_bits = weight_bits = 2, unsigned): q = 3 → level 3, at crossbar row i.
    const { spec: ns } = parseNetwork(net, 'hand.yaml');
    const m = initModel(ns, 1);
    setWeights(m, 'fc.weight', [0, 0, 1, 0, 0, 0, 0, 0]);
    const spec = arch(
      `crossbar: { rows: 8, columns: 16, weight_bits: 2, cell_bits: 2, signed_weights: unsigned, rows_parallel: 2, input_bits: 1 }\nadc: { bits: 16, range: full-scale }\ndevice: { wire_resistance_ohm: 50 }\n`,
    );
    const x = new Float32Array([0, 0, 1, 0]);
    const { engine } = chipEngine(m, spec, inMemoryDataset(x, [4, 1, 1], 2));
    const out = engine.run(x, 0, { policy: { name: 'static', timesteps: 1 } }).logits[0];
    const dG = 1 / spec.crossbar.lrs_ohm / 3; // S per level
    const G = 3; // levels; the only cell of row 2 with current (neuron 1's cell in that row is level 0)
    const att = 1 - 50 * dG * (G * 1 + G * (8 - 2));
    expect(att).toBeLessThan(1);
    // Output: level sum × att through an exact ADC (step ≤ 2^-12), × scale 1/3.
    expect(out).toBeCloseTo((G * att) / 3, 3);
  });
});

describe('faults and variation are what was asked', () => {
  const net = `name: big
input: { shape: [256, 1, 1], encoding: direct }
classes: 64
timesteps: 1
layers:
  - { type: flatten }
  - { name: fc, type: linear, out_features: 64, spiking: false }
`;
  function bigModel(): SnnModel {
    const { spec } = parseNetwork(net, 'big.yaml');
    const m = initModel(spec, 1);
    const w = m.tensors.get('fc.weight')!.data;
    // Unsigned, 4-bit: every weight 5/15 (q = 5 = 0b0101: both cells at level 1), one weight 1 (the scale).
    w.fill(5 / 15);
    w[0] = 1;
    return m;
  }
  const build = (device: string): ChipArithmetic => {
    const m = bigModel();
    const spec = arch(
      `crossbar: { rows: 256, columns: 64, weight_bits: 4, cell_bits: 2, signed_weights: unsigned, rows_parallel: 64 }\ndevice: { ${device} }\n`,
    );
    return new ChipArithmetic(new Engine(m).net, spec, m.shapes, 't');
  };

  it('stuck-at-off and stuck-at-on rates (16 384 cells, 4 seeds): within 4σ of the rates asked', () => {
    let off = 0;
    let on = 0;
    let n = 0;
    for (const seed of [1, 2, 3, 4]) {
      const G = build(`stuck_at_off_rate: 0.05, stuck_at_on_rate: 0.02, seed: ${seed}`).layers[0]!.G;
      for (let i = 2; i < G.length; i++) {
        n++;
        if (G[i] === 0) off++;
        else if (G[i] === 3) on++;
        else expect(G[i]).toBe(1);
      }
    }
    const check = (count: number, p: number) =>
      expect(Math.abs(count / n - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / n));
    check(off, 0.05);
    check(on, 0.02);
  });

  it('programming σ: relative spread of the conductances within 3 % of σ; same seed, same chip', () => {
    for (const sigma of [0.05, 0.2]) {
      const G = build(`programming_sigma: ${sigma}, seed: 9`).layers[0]!.G;
      let s = 0;
      let s2 = 0;
      let n = 0;
      for (let i = 2; i < G.length; i++) {
        const e = G[i] - 1;
        s += e;
        s2 += e * e;
        n++;
      }
      const mean = s / n;
      const sd = Math.sqrt(s2 / n - mean * mean);
      expect(Math.abs(sd / sigma - 1)).toBeLessThan(0.03);
      expect(Math.abs(mean)).toBeLessThan((4 * sigma) / Math.sqrt(n));
    }
    expect(build('programming_sigma: 0.1, seed: 3').layers[0]!.G).toEqual(
      build('programming_sigma: 0.1, seed: 3').layers[0]!.G,
    );
    expect(build('programming_sigma: 0.1, seed: 3').layers[0]!.G).not.toEqual(
      build('programming_sigma: 0.1, seed: 4').layers[0]!.G,
    );
  });

  it('read noise: the output spread over reads is σ_r √(Σ 4^k Σ_rows G²) × scale, redrawn per sample', () => {
    const m = bigModel();
    const spec = arch(
      `crossbar: { rows: 256, columns: 64, weight_bits: 4, cell_bits: 2, signed_weights: unsigned, rows_parallel: 64, input_bits: 1 }\nadc: { bits: 16, range: full-scale }\ndevice: { read_noise_sigma: 0.05 }\n`,
    );
    const x = new Float32Array(256).fill(1);
    const { engine } = chipEngine(m, spec, inMemoryDataset(x, [256, 1, 1], 64));
    const vals: number[] = [];
    for (let i = 0; i < 400; i++)
      vals.push(engine.run(x, i, { policy: { name: 'static', timesteps: 1 } }).logits[5]);
    const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
    const sd = Math.sqrt(vals.reduce((a, b) => a + (b - mean) ** 2, 0) / (vals.length - 1));
    // Neuron 5: 256 rows, both cells at level 1, 4 groups of 64 rows; scale 1/15. Per group and slice the
    // column noise is 0.05·√64; slices weigh 1 and 4: per group √(1 + 16)·0.05·8; 4 groups: ×2.
    const expected = (2 * Math.sqrt(17) * 0.05 * 8) / 15;
    expect(Math.abs(sd / expected - 1)).toBeLessThan(0.15);
    expect(mean).toBeCloseTo((256 * 5) / 15, 0);
    // Deterministic: the same sample index draws the same noise.
    expect(engine.run(x, 7, { policy: { name: 'static', timesteps: 1 } }).logits[5]).toBe(vals[7]);
  });
});

describe('the rows the arithmetic groups are the rows the replay counts', () => {
  const net = `name: rows
input: { shape: [3, 8, 8], encoding: direct }
classes: 4
timesteps: 3
neuron: { model: lif, convention: dtsnn, leak: 0.9, threshold: 0.5, reset: hard }
layers:
  - { name: conv1, type: conv2d, out_channels: 8, kernel: 3, padding: 1, spiking: true }
  - { name: pool1, type: avgpool2d, kernel: 2 }
  - { name: conv2, type: conv2d, out_channels: 8, kernel: 3, padding: 1, stride: 2, spiking: true }
  - { type: flatten }
  - { name: fc, type: linear, out_features: 4, spiking: false }
`;
  it.each([
    [4, true],
    [16, true],
    [4, false],
  ])(
    'rows_parallel %i, zero-skipping %s: reads per layer = FrameWork row groups of the recorded frames',
    (rp, zs) => {
      const { spec: ns } = parseNetwork(net, 'rows.yaml');
      const m = initModel(ns, 4);
      const spec = arch(
        `crossbar: { rows: 16, columns: 32, rows_parallel: ${rp}, zero_skipping: ${zs}, input_bits: 4 }\n`,
      );
      const rng = new Rng(2);
      const imgs = Float32Array.from({ length: 3 * 192 }, () => (rng.next() < 0.5 ? rng.next() : 0));
      const { engine, chip } = chipEngine(m, spec, inMemoryDataset(imgs, [3, 8, 8], 4), 3);
      const mapping = mapNetwork(spec, m.shapes);
      const kinds = engine.inputKinds('direct', { name: 'static', timesteps: 3 });
      for (let s = 0; s < 3; s++) {
        chip!.resetReadCounts();
        const r = engine.run(imgs.subarray(s * 192, (s + 1) * 192), s, {
          policy: { name: 'static', timesteps: 3 },
          record: true,
        });
        const reads = chip!.readCounts();
        mapping.layers.forEach((lm, l) => {
          const geo = layerGeometry(spec, lm, kinds[l] === 'spikes');
          const fw = new FrameWork();
          let groups = 0;
          // The first layer's image is read once (reuse_static_input): the replay counts t = 0 only.
          const frames = l === 0 ? r.inputs![l].slice(0, 1) : r.inputs![l];
          for (const f of frames) {
            fw.extract(spec, geo, f);
            groups += fw.groupsTotal;
          }
          expect(reads[l]).toBe(groups);
          expect(groups).toBeGreaterThan(0);
        });
      }
    },
  );
});
