/**
 * Action counts: what the analytic model and the discrete-event replay both produce, and the only thing
 * pricing needs. Indexed [row][timestep][action], where rows are the mapped layers followed by one
 * "exit" row (entropy unit, logits to the I/O node, final output write).
 */
import { NUM_ACTIONS } from './actions.js';

export class ActionCounts {
  readonly rows: number;
  readonly timesteps: number;
  readonly data: Float64Array;

  constructor(rows: number, timesteps: number) {
    this.rows = rows;
    this.timesteps = timesteps;
    this.data = new Float64Array(rows * timesteps * NUM_ACTIONS);
  }

  index(row: number, t: number, action: number): number {
    return (row * this.timesteps + t) * NUM_ACTIONS + action;
  }

  add(row: number, t: number, action: number, n: number): void {
    this.data[(row * this.timesteps + t) * NUM_ACTIONS + action] += n;
  }

  get(row: number, t: number, action: number): number {
    return this.data[(row * this.timesteps + t) * NUM_ACTIONS + action];
  }

  /** Total of one action over every row and timestep. */
  total(action: number): number {
    let s = 0;
    for (let i = action; i < this.data.length; i += NUM_ACTIONS) s += this.data[i];
    return s;
  }
}

/** Per row and timestep, the time that row is busy (s); the run's end-to-end latency. */
export interface Timing {
  /** busy[row * timesteps + t] */
  busy_s: Float64Array;
  latency_s: number;
}
