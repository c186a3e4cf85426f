/**
 * Neuron conventions by name (docs/SOURCES.md §2). A new convention is one file in this folder plus its
 * line below (and its name in NEURON_CONVENTIONS, src/network/schema.ts, which the type here enforces).
 */
import type { NeuronSpec } from '../../network/schema.js';
import { dtsnn } from './dtsnn.js';
import { iir } from './iir.js';
import { norse } from './norse.js';
import { snntorch } from './snntorch.js';
import { spikingjelly } from './spikingjelly.js';
import type { ConventionName, NeuronConvention, NeuronParams } from './types.js';

export type { BpttDynamics, ConventionName, NeuronConvention, NeuronParams, NeuronStep } from './types.js';

const CONVENTIONS: { readonly [K in ConventionName]: NeuronConvention } = {
  dtsnn,
  iir,
  snntorch,
  spikingjelly,
  norse,
};

export const NEURON_CONVENTION_NAMES = Object.keys(CONVENTIONS) as ConventionName[];

export function neuronConvention(name: ConventionName): NeuronConvention {
  return CONVENTIONS[name];
}

const f = Math.fround;

/** A layer's neuron parameters: the spec's values, or the layer's trained threshold / leak tensors. */
export function neuronParams(
  n: NeuronSpec,
  overrides: { threshold?: number; leak?: number } = {},
): NeuronParams {
  return {
    convention: n.convention,
    leak: n.model === 'if' ? 1 : f(overrides.leak ?? n.leak),
    threshold: f(overrides.threshold ?? n.threshold),
    reset: CONVENTIONS[n.convention].reset ?? n.reset,
    vReset: f(n.v_reset),
    tau: n.tau,
    dt: n.dt,
    vLeak: f(n.v_leak),
    resetDelay: n.reset_delay,
  };
}

/** One timestep of the convention's update (see NeuronStep); returns the number of spikes. */
export function neuronStep(p: NeuronParams, u: Float32Array, x: Float32Array, s: Float32Array): number {
  return CONVENTIONS[p.convention].step(p, u, x, s, null);
}
