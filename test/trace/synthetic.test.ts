import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { loadNetwork } from '../../src/network/load.js';
import { NetworkSchema } from '../../src/network/schema.js';
import { popcount, TraceReader } from '../../src/trace/format.js';
import { formatTraceInfo, traceInfo } from '../../src/trace/info.js';
import { generateSyntheticTrace } from '../../src/trace/synthetic.js';

const dir = mkdtempSync(join(tmpdir(), 'imcsim-synth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let seq = 0;
const tmp = () => join(dir, `synthetic-${seq++}.imct`);

const mnist = loadNetwork('models/mnist-convnet');
/** Rate-encoded input (a spikes first layer), max pooling (stays binary), average pooling (values). */
const small = NetworkSchema.parse({
  name: 'small',
  input: { shape: [2, 8, 8], encoding: 'rate' },
  classes: 10,
  layers: [
    { name: 'c1', type: 'conv2d', out_channels: 4, kernel: 3, padding: 1 },
    { name: 'p1', type: 'maxpool2d', kernel: 2 },
    { name: 'c2', type: 'conv2d', out_channels: 8, kernel: 3, padding: 1 },
    { name: 'p2', type: 'avgpool2d', kernel: 2 },
    { name: 'f', type: 'flatten' },
    { name: 'fc', type: 'linear', out_features: 10, spiking: false },
  ],
});

interface Measured {
  /** Measured fraction of active elements, per layer per timestep. */
  rate: number[][];
  valuesSeen: Set<number>[];
  samples: number;
}

async function measure(path: string): Promise<Measured> {
  const r = await TraceReader.open(path);
  const layers = r.header.layers;
  const active = layers.map((l) => new Array<number>(l.timesteps).fill(0));
  const valuesSeen = layers.map(() => new Set<number>());
  let samples = 0;
  let outOfRange = 0;
  for await (const s of r) {
    samples++;
    expect(s.label).toBe(-1);
    expect(s.prediction).toBe(-1);
    expect(s.exitTimestep).toBe(r.header.policy.timesteps);
    expect(s.logits.every((x) => x === 0)).toBe(true);
    s.inputs.forEach((frames, l) => {
      expect(frames).toHaveLength(layers[l].timesteps);
      frames.forEach((f, t) => {
        if (f instanceof Uint8Array) active[l][t] += popcount(f);
        else
          for (const x of f)
            if (x !== 0) {
              active[l][t]++;
              if (valuesSeen[l].size < 1000) valuesSeen[l].add(x);
              if (!(x > 0 && x <= 1)) outOfRange++;
            }
      });
    });
  }
  await r.close();
  expect(outOfRange).toBe(0); // values lie in (0, 1]
  return {
    rate: active.map((row, l) => row.map((a) => a / (samples * layers[l].input_elements))),
    valuesSeen,
    samples,
  };
}

describe('synthetic traces', () => {
  it('draws exit timesteps from a distribution under a dynamic policy and records no frames after the exit', async () => {
    const path = tmp();
    const dist = [0.5, 0.3, 0, 0.2];
    const summary = await generateSyntheticTrace({
      network: mnist.spec,
      shapes: mnist.shapes,
      rates: 0.1,
      samples: 400,
      seed: 5,
      timesteps: 4,
      out: path,
      policy: { name: 'entropy', timesteps: 4, theta: 0.9 },
      exitDistribution: dist,
    });
    const r = await TraceReader.open(path);
    expect(r.header.policy).toEqual({ name: 'entropy', timesteps: 4, theta: 0.9 });
    const hist = [0, 0, 0, 0];
    for await (const x of r) {
      hist[x.exitTimestep - 1]++;
      for (const frames of x.inputs) expect(frames.length).toBe(x.exitTimestep);
      expect(x.logits.length).toBe(x.exitTimestep * 10);
    }
    await r.close();
    expect(summary.exit_histogram).toEqual(hist);
    expect(hist[2]).toBe(0);
    dist.forEach((p, t) => {
      const tol = 5 * Math.sqrt((p * (1 - p)) / 400) + 1e-12;
      expect(Math.abs(hist[t] / 400 - p), `t=${t + 1}`).toBeLessThanOrEqual(tol);
    });
    // Bad distributions are named.
    const base = { network: mnist.spec, rates: 0.1, samples: 1, seed: 0, timesteps: 4, out: tmp() };
    const entropy = { name: 'entropy' as const, timesteps: 4, theta: 0.9 };
    await expect(generateSyntheticTrace({ ...base, policy: entropy })).rejects.toThrow(/exitDistribution/);
    await expect(
      generateSyntheticTrace({ ...base, policy: entropy, exitDistribution: [0.5, 0.5, 0.5, 0] }),
    ).rejects.toThrow(/summing to 1/);
    await expect(generateSyntheticTrace({ ...base, exitDistribution: [1, 0, 0, 0] })).rejects.toThrow(
      /none with the static policy/,
    );
  });

  it('meets the requested per-layer, per-timestep rates', async () => {
    const path = tmp();
    const rates = {
      default: 0.2,
      layers: { conv1: 1.0, conv2: [0.3, 0.02, 0.7, 0], fc2: [0.5, 0.05, 0.9, 0.1] },
    };
    const summary = await generateSyntheticTrace({
      network: mnist.spec,
      shapes: mnist.shapes,
      rates,
      samples: 150,
      seed: 11,
      timesteps: 4,
      out: path,
    });
    const requested = [
      [1, 1, 1, 1],
      [0.3, 0.02, 0.7, 0],
      [0.2, 0.2, 0.2, 0.2],
      [0.5, 0.05, 0.9, 0.1],
    ];
    const m = await measure(path);
    expect(m.samples).toBe(150);
    mnist.shapes.mapped.forEach((l, i) =>
      requested[i].forEach((p, t) => {
        // 5 standard deviations of the mean of 150·n Bernoulli trials.
        const tol = 5 * Math.sqrt((p * (1 - p)) / (150 * l.inputElements)) + 1e-12;
        expect(Math.abs(m.rate[i][t] - p)).toBeLessThanOrEqual(tol);
        expect(summary.spike_rate[i][t]).toBeCloseTo(m.rate[i][t], 12);
      }),
    );
    // conv1 (direct-encoded image), conv2 and fc1 (after average pooling) take values; fc2 spikes.
    const r = await TraceReader.open(path);
    expect(r.header.layers.map((l) => l.input_kind)).toEqual(['values', 'values', 'values', 'spikes']);
    expect(r.header.synthetic).toBe(true);
    expect(r.header.created).toBe('synthetic');
    expect(r.header.policy).toEqual({ name: 'static', timesteps: 4 });
    expect(r.header.model).toBe('mnist-convnet');
    expect(r.header.seed).toBe(11);
    expect(r.header.notes?.rates).toEqual({
      conv1: requested[0],
      conv2: requested[1],
      fc1: requested[2],
      fc2: requested[3],
    });
    expect(r.header.notes?.rates_requested).toEqual(rates);
    await r.close();
    for (const l of [0, 1, 2]) expect(m.valuesSeen[l].size).toBeGreaterThan(100); // not binary
    expect(summary).toMatchObject({
      samples: 150,
      accuracy: null,
      avg_timesteps: 4,
      exit_histogram: [0, 0, 0, 150],
    });
  });

  it('takes one rate for every layer and timestep; spikes after max pooling, values after average pooling', async () => {
    const path = tmp();
    await generateSyntheticTrace({
      network: small,
      rates: 0.15,
      samples: 300,
      seed: 3,
      timesteps: 3,
      out: path,
      model: 'tiny',
    });
    const r = await TraceReader.open(path);
    expect(r.header.layers.map((l) => [l.name, l.input_kind, l.input_elements])).toEqual([
      ['c1', 'spikes', 128],
      ['c2', 'spikes', 64],
      ['fc', 'values', 32],
    ]);
    expect(r.header.model).toBe('tiny');
    expect(r.header.encoding).toBe('rate');
    await r.close();
    const m = await measure(path);
    m.rate.forEach((row, l) =>
      row.forEach((x) => {
        const n = r.header.layers[l].input_elements;
        expect(Math.abs(x - 0.15)).toBeLessThanOrEqual(5 * Math.sqrt((0.15 * 0.85) / (300 * n)));
      }),
    );
    const info = await traceInfo(path);
    expect(info.synthetic).toBe(true);
    expect(info.file_bytes).toBe(statSync(path).size);
    const text = formatTraceInfo(info);
    expect(text).toMatch(/Samples\s+300/);
    expect(text).toMatch(/synthetic/);
    expect(text).toMatch(/Accuracy\s+n\/a/);
    expect(text).toMatch(/Policy\s+static, T=3/);
    expect(text).toMatch(/c2\s+spikes\s+64\s+0\.1\d+\s+0\.1\d+\s+0\.1\d+/);
  });

  it('is deterministic by seed', async () => {
    const opts = { network: small, rates: 0.1, samples: 50, timesteps: 4 };
    const [a, b, c] = [tmp(), tmp(), tmp()];
    await generateSyntheticTrace({ ...opts, seed: 1, out: a });
    await generateSyntheticTrace({ ...opts, seed: 1, out: b });
    await generateSyntheticTrace({ ...opts, seed: 2, out: c });
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
    expect(readFileSync(a).equals(readFileSync(c))).toBe(false);
  });

  it('rejects bad options', async () => {
    const base = { network: small, samples: 1, seed: 1, timesteps: 2, out: tmp() };
    await expect(generateSyntheticTrace({ ...base, rates: 1.5 })).rejects.toThrow(
      /rates.*expected a rate in \[0, 1\]/,
    );
    await expect(generateSyntheticTrace({ ...base, rates: { layers: { nope: 0.1 } } })).rejects.toThrow(
      /spike rates name a layer the network does not have/,
    );
    await expect(generateSyntheticTrace({ ...base, rates: { layers: { c1: [0.1] } } })).rejects.toThrow(
      /cover too few timesteps/,
    );
    await expect(generateSyntheticTrace({ ...base, rates: 0.1, timesteps: 0 })).rejects.toThrow(/timesteps/);
  });

  it('streams: 2,000 samples written and read in bounded memory', async () => {
    setFlagsFromString('--expose_gc');
    const gc = runInNewContext('gc') as () => void;
    const used = () => {
      gc();
      gc(); // the second lets freed array buffers leave the count
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const base = used();
    let peakWrite = 0;
    const timer = setInterval(() => {
      peakWrite = Math.max(peakWrite, used() - base);
    }, 10);
    const path = tmp();
    try {
      await generateSyntheticTrace({
        network: mnist.spec,
        shapes: mnist.shapes,
        rates: 0.2,
        samples: 2000,
        seed: 5,
        timesteps: 4,
        out: path,
      });
    } finally {
      clearInterval(timer);
    }
    const fileBytes = statSync(path).size;
    expect(fileBytes).toBeGreaterThan(40e6);

    const base2 = used();
    let peakRead = 0;
    let n = 0;
    const r = await TraceReader.open(path);
    for await (const s of r) {
      if (++n % 100 === 0) {
        peakRead = Math.max(peakRead, used() - base2);
      }
      expect(s.index).toBe(n - 1);
    }
    expect(await r.readSummary()).toMatchObject({ samples: 2000 });
    await r.close();
    expect(n).toBe(2000);
    // One chunk (≤ 4 MiB here) in memory at a time, not the file.
    expect(peakWrite).toBeLessThan(fileBytes / 4);
    expect(peakRead).toBeLessThan(fileBytes / 4);
    rmSync(path);
  });
});
