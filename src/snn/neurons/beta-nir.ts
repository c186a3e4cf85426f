/**
 * NIR mapping shared by the β conventions (dtsnn, iir, snntorch), whose update is u = β·u + x with no
 * leak potential. Forward Euler of NIR's LIF with step dt gives β = 1 − dt/τ and input gain r·dt/τ; as
 * snnTorch's own importer does, the potential is measured in units of that gain, so the weights stay as
 * they are and the threshold and reset potential are divided by it (the gain is 1 for snnTorch's
 * exports, which write r = τ/dt). Export writes the inverse: τ = dt/(1 − β), r = τ/dt.
 */
import type { NeuronSpec } from '../../network/schema.js';
import type { ConventionName, NirFail, NirImport, NirLif, NirNeuronParams } from './types.js';

/** The IF node under a β convention: model 'if' with the convention's own reset rule. */
export function betaFromIf(
  convention: ConventionName,
  reset: 'hard' | 'soft',
  threshold: number,
  vReset: number,
): Record<string, unknown> {
  return {
    model: 'if',
    convention,
    leak: 1,
    threshold,
    reset,
    v_reset: vReset,
    ...(convention === 'snntorch' ? { reset_delay: false } : {}),
  };
}

export function betaFromLif(
  convention: ConventionName,
  reset: 'hard' | 'soft',
  lif: NirLif,
  fail: NirFail,
): NirImport {
  const { r, dt, tau, vLeak, vReset, threshold: thr } = lif;
  if (vLeak !== 0)
    fail(
      `the ${convention} convention has no leak potential, so v_leak must be 0 (use --convention norse)`,
      'v_leak',
      '0',
      String(vLeak),
    );
  const gain = (r * dt) / tau;
  const unit = Math.abs(gain - 1) <= 1e-6;
  return {
    neuron: {
      model: 'lif',
      convention,
      leak: Math.fround(1 - dt / tau),
      threshold: unit ? thr : Math.fround(thr / gain),
      reset,
      v_reset: unit ? vReset : Math.fround(vReset / gain),
      ...(convention === 'snntorch' ? { reset_delay: false } : {}),
    },
    gain: 1,
    thresholdScale: unit ? undefined : gain,
  };
}

/** A leak of 1 is an IF; otherwise τ = dt/(1 − β) and unit gain r = τ/dt (as snnTorch exports). */
export function betaToNir(n: NeuronSpec, thr: number, leak: number, dt: number): NirNeuronParams {
  if (leak >= 1) return { type: 'IF', r: 1, v_threshold: thr, v_reset: n.v_reset };
  const tau = dt / (1 - leak);
  return { type: 'LIF', tau, r: tau / dt, v_leak: 0, v_threshold: thr, v_reset: n.v_reset };
}
