/**
 * Entropy exit (DT-SNN, docs/SOURCES.md §1): after timestep t, exit when 1 − H(softmax A_t)/log K > θ,
 * A_t = Σ_{τ≤t} o_τ. Evaluated on the chip by the entropy unit.
 */
import { THETA } from './theta.js';
import type { ExitPolicyModule } from './types.js';

/** Normalised entropy of softmax(a): −Σ p log p / log K, in [0, 1]. */
export function normalizedEntropy(a: ArrayLike<number>): number {
  const K = a.length;
  let max = -Infinity;
  for (let k = 0; k < K; k++) max = Math.max(max, a[k]);
  let z = 0;
  for (let k = 0; k < K; k++) z += Math.exp(a[k] - max);
  let h = 0;
  for (let k = 0; k < K; k++) {
    const p = Math.exp(a[k] - max) / z;
    if (p > 0) h -= p * Math.log(p);
  }
  return h / Math.log(K);
}

export const entropyPolicy: ExitPolicyModule = {
  name: 'entropy',
  summary: 'exit when 1 − H(softmax A_t)/log K > θ (DT-SNN)',
  params: { theta: THETA },
  exits: (acc, theta) => 1 - normalizedEntropy(acc) > theta,
  exitUnitClass: 'entropy_unit',
};
