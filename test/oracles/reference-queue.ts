/**
 * The test oracle of src/sim/queue.ts: a plain binary heap over (time, phase, sequence) with the same
 * interface as `EventQueue`, simple enough to trust.
 */
import { PHASES, type Queue } from '../../src/sim/queue.js';

function badTime(time: number, now: number): never {
  throw new RangeError(`event time ${time} must be an integer cycle ≥ now (${now}) and ≤ 2^53`);
}

function badPhase(phase: number): never {
  throw new RangeError(`event phase ${phase} must be an integer in 0..${PHASES - 1}`);
}

/**
 * Reference queue: one binary heap over (time, phase, sequence), every field stored in the heap arrays.
 * Simple enough to trust; the tests compare `EventQueue` against it.
 */
export class ReferenceQueue implements Queue {
  time = 0;
  phase = 0;
  kind = 0;
  a = 0;
  b = 0;
  now = 0;
  size = 0;

  private seq = 0;
  declare private cap: number;
  declare private hTime: Float64Array;
  declare private hSeq: Float64Array;
  declare private hPhase: Int32Array;
  declare private hKind: Int32Array;
  declare private hA: Int32Array;
  declare private hB: Int32Array;

  constructor(capacity = 1024) {
    this.cap = Math.max(16, capacity | 0);
    this.hTime = new Float64Array(this.cap);
    this.hSeq = new Float64Array(this.cap);
    this.hPhase = new Int32Array(this.cap);
    this.hKind = new Int32Array(this.cap);
    this.hA = new Int32Array(this.cap);
    this.hB = new Int32Array(this.cap);
  }

  /** a before b? (indices into the heap) */
  private less(i: number, j: number): boolean {
    const ti = this.hTime[i];
    const tj = this.hTime[j];
    if (ti !== tj) return ti < tj;
    const pi = this.hPhase[i];
    const pj = this.hPhase[j];
    if (pi !== pj) return pi < pj;
    return this.hSeq[i] < this.hSeq[j];
  }

  private swap(i: number, j: number): void {
    let t = this.hTime[i];
    this.hTime[i] = this.hTime[j];
    this.hTime[j] = t;
    t = this.hSeq[i];
    this.hSeq[i] = this.hSeq[j];
    this.hSeq[j] = t;
    t = this.hPhase[i];
    this.hPhase[i] = this.hPhase[j];
    this.hPhase[j] = t;
    t = this.hKind[i];
    this.hKind[i] = this.hKind[j];
    this.hKind[j] = t;
    t = this.hA[i];
    this.hA[i] = this.hA[j];
    this.hA[j] = t;
    t = this.hB[i];
    this.hB[i] = this.hB[j];
    this.hB[j] = t;
  }

  private grow(): void {
    const cap = this.cap * 2;
    const f = (x: Float64Array) => {
      const y = new Float64Array(cap);
      y.set(x);
      return y;
    };
    const g = (x: Int32Array) => {
      const y = new Int32Array(cap);
      y.set(x);
      return y;
    };
    this.hTime = f(this.hTime);
    this.hSeq = f(this.hSeq);
    this.hPhase = g(this.hPhase);
    this.hKind = g(this.hKind);
    this.hA = g(this.hA);
    this.hB = g(this.hB);
    this.cap = cap;
  }

  schedule(time: number, phase: number, kind: number, a: number, b: number): void {
    if (!(time >= this.now) || !Number.isInteger(time) || time > 9007199254740992) badTime(time, this.now);
    if ((phase & (PHASES - 1)) !== phase) badPhase(phase);
    if (this.size === this.cap) this.grow();
    let i = this.size++;
    this.hTime[i] = time;
    this.hSeq[i] = this.seq++;
    this.hPhase[i] = phase;
    this.hKind[i] = kind;
    this.hA[i] = a;
    this.hB[i] = b;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  popUntil(limit: number): boolean {
    return this.size > 0 && this.hTime[0] <= limit && this.pop();
  }

  pop(): boolean {
    if (this.size === 0) return false;
    this.time = this.now = this.hTime[0];
    this.phase = this.hPhase[0];
    this.kind = this.hKind[0];
    this.a = this.hA[0];
    this.b = this.hB[0];
    const n = --this.size;
    if (n > 0) {
      this.swap(0, n);
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const c = l + 1 < n && this.less(l + 1, l) ? l + 1 : l;
        if (!this.less(c, i)) break;
        this.swap(i, c);
        i = c;
      }
    }
    return true;
  }

  peekTime(): number {
    return this.size === 0 ? -1 : this.hTime[0];
  }

  advanceTo(time: number): void {
    if (!(time >= this.now) || !Number.isInteger(time) || time > 9007199254740992) badTime(time, this.now);
    if (this.size > 0 && time > this.hTime[0]) {
      throw new RangeError(`cannot advance to ${time}: an event is pending at ${this.hTime[0]}`);
    }
    this.now = time;
  }

  clear(): void {
    this.size = 0;
    this.seq = 0;
    this.now = 0;
    this.time = 0;
    this.phase = 0;
    this.kind = 0;
    this.a = 0;
    this.b = 0;
  }
}
