/**
 * What a spike trace holds (docs/TRACE_FORMAT.md specifies the bytes). The SNN engine produces
 * TraceSamples; the hardware replay consumes them. One record per sample; nothing else is kept in memory.
 */
import type { InputEncoding, NetworkSpec } from '../network/schema.js';

export type PolicyName = 'static' | 'entropy' | 'confidence' | 'layerwise';

export interface TracePolicy {
  name: PolicyName;
  /** Maximum (static / entropy / confidence) timesteps. */
  timesteps: number;
  /** Exit threshold θ for entropy (1 − H > θ) and confidence (max softmax > θ). */
  theta?: number;
  /** Layerwise (LD-SNN): timesteps per mapped layer, and how frames are aligned between layers. */
  layer_timesteps?: number[];
  alignment?: 'repeat' | 'rate' | 'pad';
}

/** One weighted (crossbar-mapped) layer of the trace, in network order. */
export interface TraceLayer {
  name: string;
  /** Input elements per timestep (the layer's input, flattened C·H·W). */
  input_elements: number;
  /** 'spikes': binary, bit-packed. 'values': exact non-binary input (direct-encoded image, sums after pooling). */
  input_kind: 'spikes' | 'values';
  /** Largest number of timesteps this layer runs. */
  timesteps: number;
}

export interface TraceHeader {
  format: 'imcsim-trace';
  /** Bumped on any incompatible change. */
  format_version: number;
  engine_version: string;
  created: 'engine' | 'synthetic' | 'imported';
  synthetic: boolean;
  model: string;
  dataset: string | null;
  /** Split the samples came from (e.g. 'test'), null for synthetic. */
  split: string | null;
  network: NetworkSpec;
  policy: TracePolicy;
  encoding: InputEncoding;
  seed: number;
  classes: number;
  layers: TraceLayer[];
  /** Free-form provenance (rates used for synthetic traces, command line…). */
  notes?: Record<string, unknown>;
}

export interface TraceSample {
  /** Position in the trace (0-based). */
  index: number;
  /** True class, or −1 when unknown (synthetic traces). */
  label: number;
  /** argmax of the accumulated output at exit, or −1 when unknown. */
  prediction: number;
  /** Timesteps run by the output layer before the exit decision (1-based count). */
  exitTimestep: number;
  /** Output logits per timestep run: exitTimestep × classes, row-major (o_t, not accumulated). */
  logits: Float32Array;
  /**
   * inputs[layer][t] for t < timesteps that layer ran for this sample: for 'spikes' layers a bit-packed
   * Uint8Array (bit i of the flattened input is byte i>>3, bit i&7, LSB first); for 'values' layers a
   * Float32Array of input_elements values.
   */
  inputs: Array<Array<Uint8Array | Float32Array>>;
}

/** Summary kept in the trace footer, so `trace info` need not re-read every sample. */
export interface TraceSummary {
  samples: number;
  /** Fraction correct over samples with a label ≥ 0, or null. */
  accuracy: number | null;
  avg_timesteps: number;
  /** exit_histogram[t-1] = samples that exited after t timesteps. */
  exit_histogram: number[];
  /** spike_rate[layer][t] = mean fraction of active (non-zero) input elements over samples that ran t. */
  spike_rate: number[][];
}
