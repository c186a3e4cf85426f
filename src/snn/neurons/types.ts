/**
 * What a neuron convention module declares (one file per convention in this folder, registered in
 * registry.ts): its forward update (shared by the inference engine and the trainer), the linearised
 * dynamics its surrogate-gradient (BPTT) path needs, and its mapping to and from NIR's continuous-time
 * LIF/IF nodes. The rules themselves are written out on NeuronSchema (src/network/schema.ts) and in
 * docs/SOURCES.md §2.
 */
import type { NeuronSpec } from '../../network/schema.js';

export type ConventionName = NeuronSpec['convention'];

/** A neuron's parameters resolved for the update (every value already rounded to float32). */
export interface NeuronParams {
  convention: ConventionName;
  /** Leak per step (1 for IF). */
  leak: number;
  threshold: number;
  reset: 'hard' | 'soft';
  vReset: number;
  /** norse: τ (s); spikingjelly: τ (steps). */
  tau: number;
  dt: number;
  vLeak: number;
  resetDelay: boolean;
}

/**
 * One timestep of a layer of neurons: updates the membrane potentials `u` in place from the input
 * current `x`, writes spikes (0/1) to `s` and, when `v` is given, the potential the spike decision was
 * taken on (before the reset; the trainer keeps it for the backward pass). Returns the number of spikes.
 * Every intermediate result is rounded to float32 in the order the source engine computes it.
 */
export type NeuronStep = (
  p: NeuronParams,
  u: Float32Array,
  x: Float32Array,
  s: Float32Array,
  v: Float32Array | null,
) => number;

/**
 * The update linearised for backpropagation through time. With v_t the potential the spike decision is
 * taken on and u_t the state kept after the reset:
 *   ∂v_t/∂x_t = inputGain; ∂v_t/∂u_{t−1} = decay (0 where a delayed hard reset replaced the potential);
 *   z_t = v_t − θ, or v_t/θ − 1 when `normalised`; s_t = H(z_t), ∂s_t/∂z_t = surrogate(z_t);
 *   ∂u_t/∂v_t = 0 where a hard reset fired in the same step, else 1 (the spike in the reset is detached);
 *   `delayedReset`: the reset of step t comes from s_{t−1} (snnTorch's reset_delay), applied in v_t.
 */
export interface BpttDynamics {
  decay: number;
  inputGain: number;
  normalised: boolean;
  hard: boolean;
  delayedReset: boolean;
}

/** NIR's LIF node parameters (per-layer scalars), with the integration step chosen for the import. */
export interface NirLif {
  tau: number;
  r: number;
  vLeak: number;
  vReset: number;
  threshold: number;
  dt: number;
}

export type NirNeuronParams =
  | { type: 'IF'; r: number; v_threshold: number; v_reset: number }
  | { type: 'LIF'; r: number; v_threshold: number; v_reset: number; tau: number; v_leak: number };

/** Raises an import error on the NIR node being read: message, parameter, expected, found. */
export type NirFail = (message: string, param: string, expected: string, found: string) => never;

/** Our neuron (NeuronSchema input fields) for a NIR node, and how the node's input gain is applied. */
export interface NirImport {
  neuron: Record<string, unknown>;
  /** Folded into the weights and bias. */
  gain: number;
  /** Divided into the threshold and reset potential (β conventions). */
  thresholdScale?: number;
}

export interface NeuronConvention {
  readonly name: ConventionName;
  /** One line: whose update this is. */
  readonly summary: string;
  /** Forced reset rule (iir always subtracts θ); otherwise the spec's reset applies. */
  readonly reset?: 'hard' | 'soft';
  readonly step: NeuronStep;
  readonly dynamics: (p: NeuronParams) => BpttDynamics;
  /** Whether the trainer can learn per-layer leak and threshold under this update. */
  readonly trainableParams: boolean;
  readonly nir: {
    /** Our neuron for a NIR IF node (exactly NIR's IF: u = u + r·I; s = u > θ; reset to v_reset). */
    fromIf(threshold: number, vReset: number): Record<string, unknown>;
    /** Our neuron for a NIR LIF node (forward Euler with step dt, in this convention's order). */
    fromLif(lif: NirLif, fail: NirFail): NirImport;
    /** NIR parameters with unit input gain; `threshold` and `leak` are the layer's values. */
    toNir(n: NeuronSpec, threshold: number, leak: number, dt: number): NirNeuronParams;
  };
}
