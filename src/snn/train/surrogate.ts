/**
 * Surrogate derivatives of the Heaviside spike function s = H(z), used in the backward pass only (the
 * forward pass always emits exact 0/1 spikes, as the inference engine does). z is the neuron's distance
 * to threshold: z = u − θ for the dtsnn convention, m = u/θ − 1 for iir (docs/SOURCES.md §1).
 *
 *   atan          (α/2) / (1 + (π/2·α·z)²), α = 2            (snnTorch's ATan, docs/SOURCES.md §2)
 *   fast-sigmoid  1 / (1 + k·|z|)², k = 25                     (snnTorch's fast_sigmoid default slope)
 *   pwl           0.3 · max(0, 1 − |z|)                        (IIR-SNN, docs/SOURCES.md §1)
 *   dspike        b / (2·tanh(b/2)) · sech²(b·z) for |z| ≤ ½, else 0, b = 3
 *                 (Dspike, Li et al. NeurIPS 2021, the surrogate of DT-SNN; the window is one threshold
 *                 wide and centred on it; the temperature b = 3 is [our design])
 */
export const SURROGATES = ['atan', 'fast-sigmoid', 'pwl', 'dspike'] as const;
export type SurrogateName = (typeof SURROGATES)[number];

export const ATAN_ALPHA = 2;
export const FAST_SIGMOID_SLOPE = 25;
export const PWL_GAIN = 0.3;
export const DSPIKE_TEMPERATURE = 3;

const DSPIKE_SCALE = DSPIKE_TEMPERATURE / (2 * Math.tanh(DSPIKE_TEMPERATURE / 2));

/** ∂s/∂z of the named surrogate. */
export function surrogateGrad(kind: SurrogateName, z: number): number {
  switch (kind) {
    case 'atan': {
      const a = (Math.PI / 2) * ATAN_ALPHA * z;
      return ATAN_ALPHA / 2 / (1 + a * a);
    }
    case 'fast-sigmoid': {
      const d = 1 + FAST_SIGMOID_SLOPE * Math.abs(z);
      return 1 / (d * d);
    }
    case 'pwl': {
      const r = 1 - Math.abs(z);
      return r > 0 ? PWL_GAIN * r : 0;
    }
    case 'dspike': {
      if (z > 0.5 || z < -0.5) return 0;
      const c = Math.cosh(DSPIKE_TEMPERATURE * z);
      return DSPIKE_SCALE / (c * c);
    }
  }
}

/** The named surrogate as a dedicated function (keeps the neuron's inner loop monomorphic). */
export function surrogateFn(kind: SurrogateName): (z: number) => number {
  switch (kind) {
    case 'atan':
      return (z) => {
        const a = (Math.PI / 2) * ATAN_ALPHA * z;
        return ATAN_ALPHA / 2 / (1 + a * a);
      };
    case 'fast-sigmoid':
      return (z) => {
        const d = 1 + FAST_SIGMOID_SLOPE * (z < 0 ? -z : z);
        return 1 / (d * d);
      };
    case 'pwl':
      return (z) => {
        const r = 1 - (z < 0 ? -z : z);
        return r > 0 ? PWL_GAIN * r : 0;
      };
    case 'dspike':
      return (z) => {
        if (z > 0.5 || z < -0.5) return 0;
        const c = Math.cosh(DSPIKE_TEMPERATURE * z);
        return DSPIKE_SCALE / (c * c);
      };
  }
}
