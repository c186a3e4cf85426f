/**
 * The discrete-event kernel: a simulator loop over an integer-cycle event queue, and `Resource`, the
 * reservation model of finite hardware resources (ports, ADCs, LIF units, links).
 *
 * Events carry no objects: a handler receives (kind, a, b, time, phase) and dispatches on kind; it schedules
 * further events through `sim.schedule(delay, …)` (relative to now) or `sim.at(time, …)`. Events with the
 * same (time, phase) run in the order they were scheduled, so a run is fully deterministic.
 */
import { EventQueue, type EventQueueOptions, type Queue } from './queue.js';

export type EventHandler = (kind: number, a: number, b: number, time: number, phase: number) => void;

export interface SimulatorOptions extends EventQueueOptions {
  /** Use this queue instead of a new `EventQueue` (tests pass a `ReferenceQueue`). */
  queue?: Queue;
}

export class Simulator {
  // `declare`: assigned once in the constructor with its final type (a class field would first hold
  // undefined, and V8 would then check the type on every access).
  declare readonly queue: Queue;
  /** Events dispatched to handlers since construction (or `reset()`); updated when `run` returns. */
  eventsProcessed = 0;
  private stopped = false;
  private running = false;

  constructor(options: SimulatorOptions = {}) {
    this.queue = options.queue ?? new EventQueue(options);
  }

  /** Current cycle: the time of the event being (or last) processed. */
  get now(): number {
    return this.queue.now;
  }

  /** Pending events. */
  get pending(): number {
    return this.queue.size;
  }

  /** Schedules an event `delay` ≥ 0 cycles from now. */
  schedule(delay: number, phase: number, kind: number, a: number, b: number): void {
    this.queue.schedule(this.queue.now + delay, phase, kind, a, b);
  }

  /** Schedules an event at absolute cycle `time` ≥ now. */
  at(time: number, phase: number, kind: number, a: number, b: number): void {
    this.queue.schedule(time, phase, kind, a, b);
  }

  /**
   * Pops and dispatches events in (time, phase, sequence) order until the queue is empty, `stop()` is called
   * or the next event is after `until` (inclusive bound: events at `until` run). When `until` is given and
   * the run was not stopped, now ends at `until` (later events stay queued). Handlers may schedule events,
   * including at the current time and phase (they run after those already queued with that key).
   */
  run(handler: EventHandler, until: number = Infinity): void {
    if (this.running) throw new Error('Simulator.run is not reentrant');
    const q = this.queue;
    if (until < q.now) throw new RangeError(`run until ${until} is before now (${q.now})`);
    this.running = true;
    this.stopped = false;
    let n = 0;
    try {
      if (until === Infinity) {
        while (q.pop()) {
          n++;
          handler(q.kind, q.a, q.b, q.time, q.phase);
          if (this.stopped) break;
        }
      } else {
        while (q.popUntil(until)) {
          n++;
          handler(q.kind, q.a, q.b, q.time, q.phase);
          if (this.stopped) break;
        }
        if (!this.stopped) q.advanceTo(until);
      }
    } finally {
      this.eventsProcessed += n;
      this.running = false;
    }
  }

  /** Makes `run` return after the current handler (pending events stay queued). */
  stop(): void {
    this.stopped = true;
  }

  /** Drops pending events, returns to cycle 0 and zeroes the counter. */
  reset(): void {
    this.queue.clear();
    this.eventsProcessed = 0;
    this.stopped = false;
  }
}

/**
 * A finite resource of `units` identical units under a reservation model: `acquire(time, duration)` books
 * the unit that becomes free earliest (ties to the lowest index) from max(time, its free-at time) for
 * `duration` cycles and returns the start time. Requests are served in call order (FIFO), whatever their
 * times. Statistics: `busyCycles` (sum of booked durations), `maxWait` and `totalWait` (start − request
 * time), `requests`.
 */
export class Resource {
  declare readonly units: number;
  /** Cycle at which each unit becomes free. */
  declare readonly freeAt: Float64Array;
  declare readonly name: string;
  busyCycles = 0;
  maxWait = 0;
  totalWait = 0;
  requests = 0;
  /** Unit booked by the last `acquire`. */
  lastUnit = -1;

  constructor(units: number, name = 'resource') {
    this.name = name;
    if (!Number.isInteger(units) || units < 1)
      throw new RangeError(`${name}: units ${units} must be an integer ≥ 1`);
    this.units = units;
    this.freeAt = new Float64Array(units);
  }

  /** Books the earliest free unit for `duration` ≥ 0 cycles from `time` on; returns the start cycle. */
  acquire(time: number, duration: number): number {
    if (!(duration >= 0)) throw new RangeError(`${this.name}: duration ${duration} must be ≥ 0`);
    const f = this.freeAt;
    let u = 0;
    let best = f[0];
    for (let i = 1; i < f.length; i++) {
      if (f[i] < best) {
        best = f[i];
        u = i;
      }
    }
    const start = best > time ? best : time;
    f[u] = start + duration;
    const wait = start - time;
    this.busyCycles += duration;
    this.totalWait += wait;
    if (wait > this.maxWait) this.maxWait = wait;
    this.requests++;
    this.lastUnit = u;
    return start;
  }

  /** Earliest cycle ≥ time at which a unit is free (no booking). */
  earliest(time: number): number {
    let best = this.freeAt[0];
    for (let i = 1; i < this.freeAt.length; i++) if (this.freeAt[i] < best) best = this.freeAt[i];
    return best > time ? best : time;
  }

  /** Frees every unit and zeroes the statistics. */
  reset(): void {
    this.freeAt.fill(0);
    this.busyCycles = 0;
    this.maxWait = 0;
    this.totalWait = 0;
    this.requests = 0;
    this.lastUnit = -1;
  }
}
