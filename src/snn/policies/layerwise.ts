/**
 * Layerwise (LD-SNN, docs/SOURCES.md §1): layer l runs its own T_l timesteps (policy.layer_timesteps),
 * frames aligned between layers by `alignment`; no exit decision (the exit follows the output layer's
 * last timestep), no exit hardware.
 */
import type { ExitPolicyModule } from './types.js';

export const layerwisePolicy: ExitPolicyModule = {
  name: 'layerwise',
  summary: 'per-layer timesteps T_l (LD-SNN), frames aligned between layers',
  params: {
    alignment: {
      default: 'repeat',
      description: 'frame alignment between layers: repeat | rate | pad',
    },
  },
  exits: null,
  exitUnitClass: null,
};
