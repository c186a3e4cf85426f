/**
 * IIR-SNN (docs/SOURCES.md §1): u = λ·u + x; s = (u/θ − 1 > 0); u = u − θ·s (the reset is always soft).
 * The surrogate sees the normalised distance m = u/θ − 1.
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
  const { leak, threshold: thr } = p;
  let n = 0;
  for (let i = 0; i < u.length; i++) {
    const vv = f(f(leak * u[i]) + x[i]);
    if (v !== null) v[i] = vv;
    if (f(f(vv / thr) - 1) > 0) {
      s[i] = 1;
      n++;
      u[i] = f(vv - thr);
    } else {
      s[i] = 0;
      u[i] = vv;
    }
  }
  return n;
}

export const iir: NeuronConvention = {
  name: 'iir',
  summary: 'IIR-SNN: u = λ·u + x; s = u/θ − 1 > 0; soft reset (subtract θ)',
  reset: 'soft',
  step,
  dynamics: (p) => ({ decay: p.leak, inputGain: 1, normalised: true, hard: false, delayedReset: false }),
  trainableParams: true,
  nir: {
    fromIf: (thr, vReset) => betaFromIf('iir', 'soft', thr, vReset),
    fromLif: (lif, fail) => betaFromLif('iir', 'soft', lif, fail),
    toNir: betaToNir,
  },
};
