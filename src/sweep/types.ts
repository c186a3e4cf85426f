/**
 * What travels between the sweep planner, the local worker threads and the Redis workers: plain JSON
 * (structured-clone and JSON safe), so a point computed anywhere gives the same bytes.
 */
import type { SpikeRatesSpec } from '../network/rates.js';
import type { ArchSpec } from '../config/schema.js';
import type { NetworkSpec } from '../network/schema.js';
import type { MetricName, Scalar, SweepMode } from './spec.js';

/** The workload of every point, resolved: content hashes identify it, paths only say where to read it. */
export type WorkloadRef =
  | {
      kind: 'network';
      /** The validated topology itself (small), so a remote worker needs no file. */
      network: NetworkSpec;
      /** sha256 of canonical JSON of the topology. */
      hash: string;
      /** Synthetic spike rates: one rate, a rates spec, or null (analytic: every input active). */
      rates: SpikeRatesSpec | number | null;
      samples: number;
      seed: number;
    }
  | {
      kind: 'model';
      /** Absolute model directory on the submitting machine. */
      dir: string;
      /** The same directory relative to the submitter's working directory (tried by remote workers). */
      rel: string;
      /** sha256 over network.yaml and weights.safetensors: a worker with other files refuses the point. */
      hash: string;
      dataset: string;
      split: string;
      data_dir: string | null;
      samples: number;
      seed: number;
      /**
       * Whose arithmetic computes the spikes: 'chip' traces every point on its own chip (one trace per
       * arithmetic hash); absent means float (kept out of the identity so float sweeps keep their ids).
       */
      arithmetic?: 'float' | 'chip';
    }
  | {
      kind: 'trace';
      file: string;
      rel: string;
      /** sha256 of the trace file. */
      hash: string;
      samples: number | null;
    };

/** An algorithm point: exit policy, θ (entropy only) and timesteps (the maximum, under entropy). */
export interface Algorithm {
  policy: string;
  theta: number | null;
  timesteps: number;
}

/** A spike trace every point of one algorithm point replays (or, analytic, reads rates and exits from). */
export interface ArtifactTask {
  /** Content hash: the file is `<cache>/<key>.trace`. */
  key: string;
  workload: WorkloadRef;
  algorithm: Algorithm;
  /**
   * Chip arithmetic (workload.arithmetic: chip): the chip whose arithmetic computes the spikes (the first
   * point with this arithmetic hash), its name as recorded in the trace, and the hash the key includes.
   */
  chip?: { arch: ArchSpec; name: string; arithmetic_hash: string };
}

/** Everything needed to compute one point, anywhere. */
export interface PointTask {
  /** imcsim version of the submitter; a worker of another version refuses the point. */
  version: string;
  id: string;
  mode: SweepMode;
  /** The point's validated arch config (base + set + axis values). */
  arch: ArchSpec;
  workload: WorkloadRef;
  algorithm: Algorithm;
  /** The trace this point needs, or null (analytic sweeps over a topology). */
  artifact: ArtifactTask | null;
  metrics: MetricName[];
}

/** Metric values of one point; null where a value is unknown (accuracy of unlabelled samples). */
export type PointMetrics = Partial<Record<MetricName, number | null>>;

export interface SweepPoint {
  /** Position in point order (the row order of the final sweep.csv). */
  index: number;
  id: string;
  /** Axis column → value: each arch axis path, then policy, theta, timesteps. */
  values: Record<string, Scalar | null>;
  task: PointTask;
}

/** The message of a point that failed; `input` marks bad input (exit code 2) rather than a failure. */
export interface PointFailure {
  id: string;
  index: number;
  message: string;
  input: boolean;
}
