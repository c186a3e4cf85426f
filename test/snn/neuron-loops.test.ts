import { describe, expect, it } from 'vitest';
import { neuronConvention, type NeuronParams } from '../../src/snn/neurons/registry.js';

/**
 * The snnTorch step runs one loop per setting (src/snn/neurons/snntorch.ts), the inference loop with
 * compares a > θ in place of f(a − θ) > 0. Oracle: snnTorch's Leaky written out here in float32
 * (docs/SOURCES.md §2), element by element, over values chosen to break a wrong shortcut: potentials
 * at, just above and just below θ (one float32 ulp), ±0, subnormals, ±∞, NaN, huge magnitudes.
 */
const f = Math.fround;

function oracle(p: NeuronParams, u: Float32Array, x: Float32Array, s: Float32Array, v: Float32Array): void {
  const thr = p.threshold;
  for (let i = 0; i < u.length; i++) {
    let vv: number;
    if (p.resetDelay) {
      const r = f(u[i] - thr) > 0;
      const base = f(f(p.leak * u[i]) + x[i]);
      vv = r ? (p.reset === 'hard' ? p.vReset : f(base - thr)) : base;
    } else vv = f(f(p.leak * u[i]) + x[i]);
    v[i] = vv;
    s[i] = f(vv - thr) > 0 ? 1 : 0;
    if (!p.resetDelay && s[i]) vv = p.reset === 'hard' ? p.vReset : f(vv - thr);
    u[i] = vv;
  }
}

function nextUp(x: number): number {
  const b = new Float32Array([x]);
  const i = new Int32Array(b.buffer);
  i[0] += x >= 0 ? 1 : -1;
  return b[0];
}
function nextDown(x: number): number {
  const b = new Float32Array([x]);
  const i = new Int32Array(b.buffer);
  i[0] -= x > 0 ? 1 : -1;
  return b[0];
}

function values(thr: number, seed: number): Float32Array {
  const special = [
    0,
    -0,
    1e-45,
    -1e-45,
    1e-38,
    thr,
    nextUp(thr),
    nextDown(thr),
    -thr,
    Infinity,
    -Infinity,
    NaN,
    3e38,
    -3e38,
    0.5,
    1,
  ];
  let st = seed >>> 0;
  const rnd = () => (st = (Math.imul(st, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const out = new Float32Array(400);
  for (let i = 0; i < out.length; i++)
    out[i] =
      i < special.length
        ? special[i]
        : rnd() < 0.3
          ? special[Math.floor(rnd() * special.length)]
          : (rnd() - 0.3) * 3 * thr;
  return out;
}

describe('snnTorch step loops = the formula, bit for bit', () => {
  for (const thr of [1, 0.75, f(0.3), 0.3, 2.5e-40])
    for (const reset of ['soft', 'hard'] as const)
      for (const resetDelay of [true, false])
        for (const record of [true, false])
          it(`θ=${thr}, ${reset} reset, reset_delay=${resetDelay}, ${record ? 'recording v' : 'inference'}`, () => {
            const p: NeuronParams = {
              convention: 'snntorch',
              leak: 0.5,
              threshold: thr,
              reset,
              vReset: 0,
              tau: 2,
              dt: 1e-3,
              vLeak: 0,
              resetDelay,
            };
            const step = neuronConvention('snntorch').step;
            const n = 400;
            const u = values(thr, 1);
            const uo = u.slice();
            const s = new Float32Array(n);
            const so = new Float32Array(n);
            const vo = new Float32Array(n);
            const v = record ? new Float32Array(n) : null;
            for (let t = 0; t < 4; t++) {
              const x = values(thr, 10 + t);
              step(p, u, x, s, v);
              oracle(p, uo, x, so, vo);
              expect(Buffer.from(s.buffer).equals(Buffer.from(so.buffer)), `spikes t=${t}`).toBe(true);
              expect(Buffer.from(u.buffer).equals(Buffer.from(uo.buffer)), `potentials t=${t}`).toBe(true);
              if (v) expect(Buffer.from(v.buffer).equals(Buffer.from(vo.buffer)), `v t=${t}`).toBe(true);
            }
          });
});
