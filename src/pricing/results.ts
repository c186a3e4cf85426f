/**
 * The priced record of a simulation: what the replay's `simulateTrace` returns and what a run folder
 * holds (docs/RUN_FOLDER.md). Reports read this type, never the replay itself.
 */
import type { ArchSpec } from '../config/schema.js';
import type { ChipConfiguration, RunAssumptions } from './assumptions.js';
import type { RunEfficiency } from './efficiency.js';
import type { Priced } from './price.js';

/** One replayed sample: where it started and how long it took, in seconds. */
export interface SampleOutcome {
  index: number;
  label: number;
  prediction: number;
  exitTimestep: number;
  start_s: number;
  latency_s: number;
}

export interface SampleRow extends SampleOutcome {
  dynamic_energy_j: number;
  energy_j: number;
}

export interface SimulationResult extends Priced {
  kind: 'simulation';
  engine_version: string;
  arch: string;
  network: string;
  trace: string;
  synthetic: boolean;
  policy: string;
  accounting: ArchSpec['accounting'];
  adc_family: ArchSpec['adc']['family'];
  schedule: ArchSpec['schedule']['policy'];
  samples: number;
  accuracy: number | null;
  avg_timesteps: number;
  /** Per sample means (the totals above are for the whole trace). */
  energy_per_sample_j: number;
  latency_per_sample_s: number;
  edp_per_sample_js: number;
  /** The exit unit; `power_gated` when the policy never uses it (static): then idle, no energy. */
  exit_unit: {
    energy_j: number;
    area_m2: number;
    evaluations: number;
    latency_s: number;
    power_gated: boolean;
    /** By the model, used or not: energy of one evaluation (K class steps + decision), J. */
    energy_per_evaluation_j: number;
    /** By the model: static power of the unit while powered (0 under the static policy: gated), W. */
    leakage_when_powered_w: number;
  };
  wasted_j: number;
  noc: {
    sent: number;
    packets: number;
    flits: number;
    avg_hops: number;
    max_link_utilisation: number;
    mean_link_utilisation: number;
    max_queueing_cycles: number;
    backpressure_cycles: number;
    link_utilisation: number[];
  };
  events: number;
  contention_free: boolean;
  sample_rows: SampleRow[];
  /** Which chip this is (summary.json `configuration`). */
  configuration: ChipConfiguration;
  /** Throughput, power, energy per SOP… (pricing/efficiency.ts). */
  efficiency: RunEfficiency;
  /** Input firing rates and synaptic operations (replay/activity.ts), per layer and per timestep. */
  activity: {
    sops: number;
    layers: Array<{
      layer: string;
      input_kind: 'spikes' | 'values';
      input_elements: number;
      frames: number;
      active_inputs: number;
      firing_rate: number;
      sops: number;
    }>;
    timesteps: Array<{ timestep: number; samples: number; firing_rate: number; sops: number }>;
  };
  /** Busy time / run time: per layer (its busy time) and per component (actions × latency / instances). */
  utilisation: {
    layers: Array<{ layer: string; busy_s: number; utilisation: number }>;
    components: Record<string, number | null>;
  };
  notes: string[];
  /** Component models, chip-wide choices and the mesh (summary.json `assumptions`, docs/RUN_FOLDER.md). */
  assumptions: RunAssumptions;
}
