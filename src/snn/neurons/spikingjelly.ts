/**
 * SpikingJelly LIFNode with decay_input (docs/SOURCES.md §2): h = v + (x − (v − v_r))/τ; s = h ≥ θ;
 * hard: v = v_r where s = 1; soft: v = h − θ·s. Backward: the reset is detached (SpikingJelly's
 * detach_reset = True), ∂h/∂x = 1/τ, ∂h/∂v = 1 − 1/τ.
 */
import { dtsnn } from './dtsnn.js';
import type { NeuronConvention, NeuronParams } from './types.js';

const f = Math.fround;

function step(
  p: NeuronParams,
  u: Float32Array,
  x: Float32Array,
  s: Float32Array,
  v: Float32Array | null,
): number {
  const { threshold: thr, vReset } = p;
  const tau = f(p.tau);
  const hard = p.reset === 'hard';
  let n = 0;
  for (let i = 0; i < u.length; i++) {
    const h = f(u[i] + f(f(x[i] - f(u[i] - vReset)) / tau));
    if (v !== null) v[i] = h;
    if (h >= thr) {
      s[i] = 1;
      n++;
      u[i] = hard ? vReset : f(h - thr);
    } else {
      s[i] = 0;
      u[i] = h;
    }
  }
  return n;
}

export const spikingjelly: NeuronConvention = {
  name: 'spikingjelly',
  summary: 'SpikingJelly LIFNode: h = v + (x − (v − v_r))/τ; s = h ≥ θ; hard or soft reset',
  step,
  dynamics: (p) => {
    const tau = f(p.tau);
    return {
      decay: 1 - 1 / tau,
      inputGain: 1 / tau,
      normalised: false,
      hard: p.reset === 'hard',
      delayedReset: false,
    };
  },
  trainableParams: false,
  nir: {
    // SpikingJelly's update always leaks: an IF uses the dtsnn update, exactly NIR's IF.
    fromIf: dtsnn.nir.fromIf,
    fromLif: ({ tau, dt, vLeak, vReset, threshold, r }, fail) => {
      if (vLeak !== vReset)
        fail(
          'the spikingjelly convention decays towards v_reset, so v_leak must equal v_reset (use --convention norse)',
          'v_leak',
          String(vReset),
          String(vLeak),
        );
      return {
        neuron: {
          model: 'lif',
          convention: 'spikingjelly',
          tau: Math.fround(tau / dt),
          threshold,
          reset: 'hard',
          v_reset: vReset,
        },
        gain: r,
      };
    },
    toNir: (n, thr, _leak, dt) => ({
      type: 'LIF',
      tau: n.tau * dt,
      r: 1,
      v_leak: n.v_reset,
      v_threshold: thr,
      v_reset: n.v_reset,
    }),
  },
};
