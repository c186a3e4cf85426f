/**
 * snnTorch Leaky (docs/SOURCES.md §2): with reset_delay the reset comes from the previous potential,
 * r = H(u − θ), and u = β·u + x − r·θ (subtract) or, for the zero reset, u = v_reset where r = 1; then
 * s = H(u − θ). Without reset_delay the new potential is reset in the same step it spikes.
 * Backward: snnTorch detaches the reset (its default), so ∂u_t/∂u_{t−1} = β (0 after a zero reset).
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
  const { leak: beta, threshold: thr, vReset } = p;
  const hard = p.reset === 'hard';
  const len = u.length;
  let n = 0;
  // The settings are fixed for the call: one loop per case (the same arithmetic in each, branch-free
  // of the settings inside; the engine and the trainer run this over every neuron of every timestep).
  if (p.resetDelay && !hard && v === null && f(thr) === thr) {
    // Inference with a float32 threshold: for float32 a and θ, f(a − θ) > 0 exactly when a > θ (the
    // difference of two float32 values is a non-zero multiple of 2^−149 or 0, so neither rounding to
    // double nor to float32 changes its sign or makes it 0; NaN and ±∞ compare alike), so the compares
    // skip the subtraction. The reset's f(base − θ) is kept.
    for (let i = 0; i < len; i++) {
      const ui = u[i];
      const base = f(f(beta * ui) + x[i]);
      const vv = ui > thr ? f(base - thr) : base;
      const spike = vv > thr;
      s[i] = spike ? 1 : 0;
      if (spike) n++;
      u[i] = vv;
    }
    return n;
  }
  if (p.resetDelay && !hard && v !== null) {
    // The usual snnTorch setting (subtract reset one step late), as the trainer records it.
    for (let i = 0; i < len; i++) {
      const ui = u[i];
      const base = f(f(beta * ui) + x[i]);
      const vv = f(ui - thr) > 0 ? f(base - thr) : base;
      v[i] = vv;
      const spike = f(vv - thr) > 0;
      s[i] = spike ? 1 : 0;
      if (spike) n++;
      u[i] = vv;
    }
    return n;
  }
  if (p.resetDelay && !hard) {
    for (let i = 0; i < len; i++) {
      const ui = u[i];
      const base = f(f(beta * ui) + x[i]);
      const vv = f(ui - thr) > 0 ? f(base - thr) : base;
      const spike = f(vv - thr) > 0;
      s[i] = spike ? 1 : 0;
      if (spike) n++;
      u[i] = vv;
    }
    return n;
  }
  for (let i = 0; i < len; i++) {
    let vv: number;
    if (p.resetDelay) {
      const r = f(u[i] - thr) > 0 ? 1 : 0;
      const base = f(f(beta * u[i]) + x[i]);
      vv = r ? (hard ? vReset : f(base - thr)) : base;
      if (v !== null) v[i] = vv;
      const spike = f(vv - thr) > 0;
      s[i] = spike ? 1 : 0;
      if (spike) n++;
      u[i] = vv;
    } else {
      vv = f(f(beta * u[i]) + x[i]);
      if (v !== null) v[i] = vv;
      const spike = f(vv - thr) > 0;
      s[i] = spike ? 1 : 0;
      if (spike) {
        n++;
        vv = hard ? vReset : f(vv - thr);
      }
      u[i] = vv;
    }
  }
  return n;
}

export const snntorch: NeuronConvention = {
  name: 'snntorch',
  summary: 'snnTorch Leaky: u = β·u + x − r·θ (r from the previous step with reset_delay); s = H(u − θ)',
  step,
  dynamics: (p) => ({
    decay: p.leak,
    inputGain: 1,
    normalised: false,
    hard: p.reset === 'hard',
    delayedReset: p.resetDelay,
  }),
  trainableParams: false,
  nir: {
    fromIf: (thr, vReset) => betaFromIf('snntorch', 'hard', thr, vReset),
    fromLif: (lif, fail) => betaFromLif('snntorch', 'hard', lif, fail),
    toNir: betaToNir,
  },
};
