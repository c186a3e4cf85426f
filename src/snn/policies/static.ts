/** Static: every sample runs all T timesteps; no exit decision, no exit hardware. */
import type { ExitPolicyModule } from './types.js';

export const staticPolicy: ExitPolicyModule = {
  name: 'static',
  summary: 'run all T timesteps',
  params: {},
  exits: null,
  exitUnitClass: null,
};
