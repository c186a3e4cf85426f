/**
 * The priced record of a simulation: what the replay's `simulateTrace` returns and what a run folder
 * holds (docs/RUN_FOLDER.md). Reports read this type, never the replay itself.
 */
import type { ArchSpec } from '../config/schema.js';
import type { RunAssumptions } from './assumptions.js';
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
  /**
   * Per sample: energy (the run's energy / samples: dynamic + leakage over the run's wall time) and
   * latency (the mean of the samples' own latencies, entry to output); EDP = their product.
   */
  energy_per_sample_j: number;
  latency_per_sample_s: number;
  edp_per_sample_js: number;
  /**
   * Samples stream through the chip (timestep-pipelined: a sample enters the first layer as soon as it
   * finished the previous one); false: each sample starts on a drained chip (layer-sequential).
   */
  samples_overlap: boolean;
  /** Inferences per second: samples / the run's wall time (`latency_s`). */
  throughput_per_s: number;
  /** Average power over the run: `energy_j / latency_s` (W). */
  average_power_w: number;
  /** The exit unit; `power_gated` when the policy never uses it (static): then idle, no energy. */
  exit_unit: {
    energy_j: number;
    area_m2: number;
    evaluations: number;
    latency_s: number;
    power_gated: boolean;
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
  notes: string[];
  /** Component models, chip-wide choices and the mesh (summary.json `assumptions`, docs/RUN_FOLDER.md). */
  assumptions: RunAssumptions;
}
