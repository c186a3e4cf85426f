import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NeuronSchema } from '../../src/network/schema.js';
import { neuronParams, neuronStep } from '../../src/snn/neurons/registry.js';

/** Golden traces from the NIR repository (copied from ../shared/data/nir): columns input, v, spike. */
function golden(file: string): number[][] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(',').map(Number));
}

function replay(params: ReturnType<typeof neuronParams>, rows: number[][]) {
  const u = new Float32Array(1);
  const x = new Float32Array(1);
  const s = new Float32Array(1);
  return rows.map(([input]) => {
    x[0] = input;
    neuronStep(params, u, x, s);
    return [u[0], s[0]];
  });
}

describe('golden LIF traces, bit for bit', () => {
  it('Norse LIFBox (τ⁻¹ = 400, dt = 1e-4, v_th = 0.1)', () => {
    const rows = golden('test/fixtures/nir/lif_norse.csv');
    const p = neuronParams(
      NeuronSchema.parse({
        convention: 'norse',
        tau: 1 / 400,
        dt: 1e-4,
        threshold: 0.1,
        v_reset: 0,
        v_leak: 0,
      }),
    );
    const out = replay(p, rows);
    let spikes = 0;
    rows.forEach(([, v, spike], t) => {
      expect(out[t][0], `v at ${t}`).toBe(Math.fround(v));
      expect(out[t][1], `spike at ${t}`).toBe(spike);
      spikes += spike;
    });
    expect(spikes).toBeGreaterThan(0);
  });
  it('snnTorch Leaky (β = fround(0.96), thr = 2.5, reset to zero, no delay)', () => {
    const rows = golden('test/fixtures/nir/lif_snntorch.csv');
    const p = neuronParams(
      NeuronSchema.parse({
        convention: 'snntorch',
        leak: 0.96,
        threshold: 2.5,
        reset: 'hard',
        reset_delay: false,
      }),
    );
    const out = replay(p, rows);
    rows.forEach(([, v, spike], t) => {
      expect(out[t][0], `v at ${t}`).toBe(Math.fround(v));
      expect(out[t][1], `spike at ${t}`).toBe(spike);
    });
  });
});

describe('conventions against hand-computed steps', () => {
  const run = (spec: object, inputs: number[]) => {
    const p = neuronParams(NeuronSchema.parse(spec));
    return replay(
      p,
      inputs.map((i) => [i]),
    );
  };
  it('dtsnn: u = 0.5u + x, spike on >, hard reset to 0', () => {
    expect(run({ convention: 'dtsnn', leak: 0.5, threshold: 1 }, [0.6, 0.8, 1.0, 0])).toEqual([
      [Math.fround(0.6), 0],
      [0, 1], // 0.3 + 0.8 = 1.1 > 1
      [1, 0], // 0 + 1.0 = 1.0, not > 1
      [0.5, 0],
    ]);
  });
  it('iir: soft reset keeps the excess', () => {
    const out = run({ convention: 'iir', leak: 1, threshold: 1 }, [0.75, 0.75]);
    expect(out[1]).toEqual([0.5, 1]);
  });
  it('spikingjelly: τ = 2, spike on ≥', () => {
    const out = run({ convention: 'spikingjelly', tau: 2, threshold: 1 }, [2, 1]);
    expect(out[0]).toEqual([0, 1]); // h = 0 + (2 − 0)/2 = 1 ≥ 1
    expect(out[1]).toEqual([0.5, 0]);
  });
  it('snntorch with reset delay resets one step late', () => {
    // Step 0: u = 1.5 spikes but keeps 1.5; step 1: r = H(1.5 − 1) = 1, u = 1.5 + 0 − 1 = 0.5.
    const out = run(
      { convention: 'snntorch', leak: 1, threshold: 1, reset: 'soft', reset_delay: true },
      [1.5, 0, 0],
    );
    expect(out).toEqual([
      [1.5, 1],
      [0.5, 0],
      [0.5, 0],
    ]);
  });
  it('if ignores the leak', () => {
    const out = run({ convention: 'dtsnn', model: 'if', leak: 0.1, threshold: 10 }, [1, 1, 1]);
    expect(out[2][0]).toBe(3);
  });
});
