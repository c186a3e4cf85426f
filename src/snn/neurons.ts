/**
 * Neuron updates, one function per convention (docs/SOURCES.md §2; the rules are written out on
 * NeuronSchema in src/network/schema.ts). Every intermediate result is rounded to float32 (Math.fround)
 * in the order the source engine computes it, so traces match PyTorch-based engines bit for bit.
 *
 * Each update takes the membrane potentials `u` (updated in place), this timestep's input current `x`
 * and writes spikes (0/1) to `s`; it returns the number of spikes.
 */
import type { NeuronSpec } from '../network/schema.js';

const f = Math.fround;

export interface NeuronParams {
  convention: NeuronSpec['convention'];
  /** Leak per step (1 for IF). */
  leak: number;
  threshold: number;
  reset: 'hard' | 'soft';
  vReset: number;
  /** norse: dt·τ⁻¹; spikingjelly: τ. */
  tau: number;
  dt: number;
  vLeak: number;
  resetDelay: boolean;
}

export function neuronParams(
  n: NeuronSpec,
  overrides: { threshold?: number; leak?: number } = {},
): NeuronParams {
  return {
    convention: n.convention,
    leak: n.model === 'if' ? 1 : f(overrides.leak ?? n.leak),
    threshold: f(overrides.threshold ?? n.threshold),
    reset: n.convention === 'iir' ? 'soft' : n.reset,
    vReset: f(n.v_reset),
    tau: n.tau,
    dt: n.dt,
    vLeak: f(n.v_leak),
    resetDelay: n.reset_delay,
  };
}

export function neuronStep(p: NeuronParams, u: Float32Array, x: Float32Array, s: Float32Array): number {
  switch (p.convention) {
    case 'dtsnn':
      return dtsnnStep(p, u, x, s);
    case 'iir':
      return iirStep(p, u, x, s);
    case 'snntorch':
      return snntorchStep(p, u, x, s);
    case 'spikingjelly':
      return spikingjellyStep(p, u, x, s);
    case 'norse':
      return norseStep(p, u, x, s);
  }
}

/** DT-SNN (SEENN code): u = leak·u + x; s = u > thr; hard: u = u·(1 − s) (+ s·v_reset); soft: u − thr·s. */
function dtsnnStep(p: NeuronParams, u: Float32Array, x: Float32Array, s: Float32Array): number {
  const { leak, threshold: thr, vReset } = p;
  const hard = p.reset === 'hard';
  let n = 0;
  for (let i = 0; i < u.length; i++) {
    const v = f(f(leak * u[i]) + x[i]);
    if (v > thr) {
      s[i] = 1;
      n++;
      u[i] = hard ? vReset : f(v - thr);
    } else {
      s[i] = 0;
      u[i] = v;
    }
  }
  return n;
}

/** IIR-SNN: u = λ·u + x; s = (u/θ − 1 > 0); u = u − θ·s (soft reset). */
function iirStep(p: NeuronParams, u: Float32Array, x: Float32Array, s: Float32Array): number {
  const { leak, threshold: thr } = p;
  let n = 0;
  for (let i = 0; i < u.length; i++) {
    const v = f(f(leak * u[i]) + x[i]);
    if (f(f(v / thr) - 1) > 0) {
      s[i] = 1;
      n++;
      u[i] = f(v - thr);
    } else {
      s[i] = 0;
      u[i] = v;
    }
  }
  return n;
}

/**
 * snnTorch Leaky: with reset_delay the reset comes from the previous potential, r = H(u − thr), and
 * u = β·u + x − r·thr (subtract) or, for the zero reset, u = v_reset where r = 1; then s = H(u − thr).
 * Without reset_delay the new potential is reset in the same step it spikes.
 */
function snntorchStep(p: NeuronParams, u: Float32Array, x: Float32Array, s: Float32Array): number {
  const { leak: beta, threshold: thr, vReset } = p;
  const hard = p.reset === 'hard';
  let n = 0;
  for (let i = 0; i < u.length; i++) {
    let v: number;
    if (p.resetDelay) {
      const r = f(u[i] - thr) > 0 ? 1 : 0;
      const base = f(f(beta * u[i]) + x[i]);
      v = r ? (hard ? vReset : f(base - thr)) : base;
      const spike = f(v - thr) > 0;
      s[i] = spike ? 1 : 0;
      if (spike) n++;
      u[i] = v;
    } else {
      v = f(f(beta * u[i]) + x[i]);
      const spike = f(v - thr) > 0;
      s[i] = spike ? 1 : 0;
      if (spike) {
        n++;
        v = hard ? vReset : f(v - thr);
      }
      u[i] = v;
    }
  }
  return n;
}

/** SpikingJelly LIFNode (decay_input): h = v + (x − (v − v_r))/τ; s = h ≥ v_th; hard v = v_r, soft v = h − v_th. */
function spikingjellyStep(p: NeuronParams, u: Float32Array, x: Float32Array, s: Float32Array): number {
  const { threshold: thr, vReset } = p;
  const tau = f(p.tau);
  const hard = p.reset === 'hard';
  let n = 0;
  for (let i = 0; i < u.length; i++) {
    const h = f(u[i] + f(f(x[i] - f(u[i] - vReset)) / tau));
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

/** Norse LIFBox: v = v + dt·τ⁻¹·((x + v_leak) − v); z = v > v_th; v = (1 − z)·v + z·v_reset. */
function norseStep(p: NeuronParams, u: Float32Array, x: Float32Array, s: Float32Array): number {
  const a = f(f(p.dt) * f(1 / p.tau));
  const { threshold: thr, vReset, vLeak } = p;
  let n = 0;
  for (let i = 0; i < u.length; i++) {
    const v = f(u[i] + f(a * f(f(x[i] + vLeak) - u[i])));
    if (v > thr) {
      s[i] = 1;
      n++;
      u[i] = vReset;
    } else {
      s[i] = 0;
      u[i] = v;
    }
  }
  return n;
}
