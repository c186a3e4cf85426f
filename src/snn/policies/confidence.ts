/**
 * Confidence exit: after timestep t, exit when max softmax(A_t) > θ, A_t = Σ_{τ≤t} o_τ. Evaluated on the
 * chip by a max-softmax unit (src/hw/components/max-softmax-unit.ts), not by the entropy unit.
 */
import { THETA } from './theta.js';
import type { ExitPolicyModule } from './types.js';

/** max_k softmax(a)_k = 1 / Σ_k exp(a_k − max a). */
export function maxSoftmax(a: ArrayLike<number>): number {
  let max = -Infinity;
  for (let k = 0; k < a.length; k++) max = Math.max(max, a[k]);
  let z = 0;
  for (let k = 0; k < a.length; k++) z += Math.exp(a[k] - max);
  return 1 / z;
}

export const confidencePolicy: ExitPolicyModule = {
  name: 'confidence',
  summary: 'exit when max softmax(A_t) > θ',
  params: { theta: THETA },
  exits: (acc, theta) => maxSoftmax(acc) > theta,
  exitUnitClass: 'max_softmax_unit',
};
