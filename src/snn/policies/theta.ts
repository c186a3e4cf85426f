/**
 * The exit threshold θ shared by the entropy and confidence policies; its default lives here only.
 * 0.9 keeps the static T=4 accuracy of the shipped MNIST model (docs/MODELS.md).
 */
import type { PolicyParam } from './types.js';

export const THETA: PolicyParam<number> = {
  default: 0.9,
  description: 'exit threshold θ in [0, 1]',
};
