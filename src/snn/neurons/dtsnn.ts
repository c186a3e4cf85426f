/**
 * DT-SNN (the SEENN code, docs/SOURCES.md §1/§2): u = leak·u + x; s = u > θ; hard: u = v_reset where
 * s = 1; soft: u = u − θ·s.
 */
import { betaFromIf, betaFromLif, betaToNir } from './beta-nir.js';
import type { NeuronConvention, NeuronParams } from './types.js';

const f = Math.fround;

function step(
  p: NeuronParams,
  u: Float32Array,
  x: Float32Array,
  s: Float32Array,
  v: Float32Array | null,
): number {
  const { leak, threshold: thr, vReset } = p;
  const hard = p.reset === 'hard';
  let n = 0;
  for (let i = 0; i < u.length; i++) {
    const vv = f(f(leak * u[i]) + x[i]);
    if (v !== null) v[i] = vv;
    if (vv > thr) {
      s[i] = 1;
      n++;
      u[i] = hard ? vReset : f(vv - thr);
    } else {
      s[i] = 0;
      u[i] = vv;
    }
  }
  return n;
}

export const dtsnn: NeuronConvention = {
  name: 'dtsnn',
  summary: 'DT-SNN (SEENN): u = λ·u + x; s = u > θ; hard reset to v_reset or subtract θ',
  step,
  dynamics: (p) => ({
    decay: p.leak,
    inputGain: 1,
    normalised: false,
    hard: p.reset === 'hard',
    delayedReset: false,
  }),
  trainableParams: true,
  nir: {
    fromIf: (thr, vReset) => betaFromIf('dtsnn', 'hard', thr, vReset),
    fromLif: (lif, fail) => betaFromLif('dtsnn', 'hard', lif, fail),
    toNir: betaToNir,
  },
};
