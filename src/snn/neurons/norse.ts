/**
 * Norse LIFBox (docs/SOURCES.md §2): v = v + dt·τ⁻¹·((x + v_leak) − v); z = v > θ;
 * v = (1 − z)·v + z·v_reset (always a hard reset). Backward: the reset is detached, ∂v/∂x = dt/τ,
 * ∂v/∂v_prev = 1 − dt/τ.
 */
import { dtsnn } from './dtsnn.js';
import type { NeuronConvention, NeuronParams } from './types.js';

const f = Math.fround;

/** dt·τ⁻¹ rounded as Norse computes it in float32. */
const rate = (p: NeuronParams) => f(f(p.dt) * f(1 / p.tau));

function step(
  p: NeuronParams,
  u: Float32Array,
  x: Float32Array,
  s: Float32Array,
  v: Float32Array | null,
): number {
  const a = rate(p);
  const { threshold: thr, vReset, vLeak } = p;
  let n = 0;
  for (let i = 0; i < u.length; i++) {
    const vv = f(u[i] + f(a * f(f(x[i] + vLeak) - u[i])));
    if (v !== null) v[i] = vv;
    if (vv > thr) {
      s[i] = 1;
      n++;
      u[i] = vReset;
    } else {
      s[i] = 0;
      u[i] = vv;
    }
  }
  return n;
}

export const norse: NeuronConvention = {
  name: 'norse',
  summary: 'Norse LIFBox: v = v + dt/τ·((x + v_leak) − v); s = v > θ; reset to v_reset',
  step,
  dynamics: (p) => {
    const a = rate(p);
    return { decay: 1 - a, inputGain: a, normalised: false, hard: true, delayedReset: false };
  },
  trainableParams: false,
  nir: {
    // Norse's update always leaks: an IF uses the dtsnn update, exactly NIR's IF.
    fromIf: dtsnn.nir.fromIf,
    fromLif: ({ tau, dt, vLeak, vReset, threshold, r }) => ({
      neuron: {
        model: 'lif',
        convention: 'norse',
        tau,
        dt,
        v_leak: vLeak,
        v_reset: vReset,
        threshold,
        reset: 'hard',
      },
      gain: r,
    }),
    toNir: (n, thr) => ({
      type: 'LIF',
      tau: n.tau,
      r: 1,
      v_leak: n.v_leak,
      v_threshold: thr,
      v_reset: n.v_reset,
    }),
  },
};
