/**
 * Integer-cycle event queues for the discrete-event kernel.
 *
 * An event is five numbers: time (integer cycle, 0 ≤ time ≤ 2^53), phase (0..15, orders events of the same
 * cycle), kind, a and b (int32 payload: stored in Int32Arrays, so other values wrap). Events are popped in
 * (time, phase, sequence) order, where sequence is the insertion counter, so equal keys run first-in
 * first-out and a run never depends on anything but the order of calls. No per-event objects: events live in
 * typed-array pools with a free list that grow by doubling; `pop()` copies the popped event into the public
 * fields `time, phase, kind, a, b`.
 *
 * `EventQueue` is the fast one: a calendar of B one-cycle buckets (a ring covering [now, now + B)) for near
 * events and a binary heap for far ones (time ≥ now + B), which migrate into the ring as time advances.
 * The tests compare it with a plain binary heap of the same interface (test/oracles/reference-queue.ts).
 */

/** The queue interface (the replay uses `EventQueue`; the tests' reference heap implements it too). */
export interface Queue {
  /** Popped event (valid after `pop()` returned true). */
  time: number;
  phase: number;
  kind: number;
  a: number;
  b: number;
  /** Current time: the time of the last popped event (or where `advanceTo` moved it); 0 initially. */
  readonly now: number;
  /** Number of pending events. */
  readonly size: number;
  schedule(time: number, phase: number, kind: number, a: number, b: number): void;
  /** Removes the next event into the public fields `time, phase, kind, a, b`; false when empty. */
  pop(): boolean;
  /** `pop()` unless the next event is after `limit` (then false, and nothing changes). */
  popUntil(limit: number): boolean;
  /** Time of the next event, or −1 when empty. */
  peekTime(): number;
  /** Moves `now` forward to `time` without popping; `time` must not pass the next event. */
  advanceTo(time: number): void;
  /** Drops every event and returns to the initial state (now = 0, sequence = 0). */
  clear(): void;
}

/** Number of phases (0..PHASES−1). */
export const PHASES = 16;

export interface EventQueueOptions {
  /**
   * log2 of the number of one-cycle buckets in the ring (5..20); default 12: 4096 buckets, 272 KiB of list
   * heads (16 phases × 4 bytes per bucket) plus masks.
   */
  ringBits?: number;
  /** Initial capacity of the event pool and of the far-event heap (grow by doubling); default 1024. */
  capacity?: number;
}

function badTime(time: number, now: number): never {
  throw new RangeError(`event time ${time} must be an integer cycle ≥ now (${now}) and ≤ 2^53`);
}

function badPhase(phase: number): never {
  throw new RangeError(`event phase ${phase} must be an integer in 0..${PHASES - 1}`);
}

/**
 * Calendar queue: ring of B = 2^ringBits buckets of one cycle, bucket (cursor + (t − now)) mod B holds the
 * events at time t ∈ [now, now + B). Each bucket has one list per phase — circular singly linked lists
 * addressed by their tail (tail.next is the head), appended in insertion order, so a list is in sequence
 * order. A 16-bit mask per bucket marks its non-empty phases and a bitmap marks non-empty buckets, so pop
 * finds the lowest phase with one count-leading-zeros and the next non-empty bucket by scanning words: idle
 * cycles are jumped over, never ticked. Events at t ≥ now + B wait in a binary heap ordered by (time,
 * sequence) and move into the ring as soon as now + B passes them — before anything else can be scheduled
 * at the new times, so a migrated event always precedes (by sequence) events appended later to its list.
 *
 * Speed notes (V8; `test/sim/queue.test.ts` guards the sizes):
 * - every field is created with its final type (typed-array fields are `declare`d and assigned once in the
 *   constructor, never first set to undefined by a class field), so optimised code needs no type checks;
 * - `schedule` and `pop` are kept under 460 bytes of bytecode, V8's limit for inlining a callee (with ~920
 *   cumulated per caller): inlined into the dispatch loop they run about twice as fast. The scan for the next
 *   bucket is inline in `pop` (a call per bucket change costs as much as not inlining); far events, errors
 *   and growth go through separate methods, and the heap-to-ring migration is one method over the limit so
 *   it never gets inlined into `pop`;
 * - times up to 2^30 are small integers for V8; once any queue holds a larger time, `now` and `time` of all
 *   EventQueues become doubles for the rest of the process (about 15–20 % slower, and a handler that is not
 *   inlined receives a boxed number).
 */
export class EventQueue implements Queue {
  time = 0;
  phase = 0;
  kind = 0;
  a = 0;
  b = 0;
  now = 0;
  size = 0;

  /** Sequence counter of heap events (ring events are ordered by their position in their list). */
  private seq = 0;
  declare private readonly ringSize: number;
  declare private readonly ringMask: number;
  /** Bucket of time `now`. */
  private cursor = 0;
  /** Tail event of each (bucket, phase) list at index bucket·16 + phase, −1 when empty. */
  declare private readonly tails: Int32Array;
  /** Bit p set when the bucket's phase-p list is non-empty. */
  declare private readonly pmask: Int32Array;
  /**
   * Bit (bucket & 31) of word bucket >> 5 set when the bucket is non-empty — exact for every bucket but the
   * cursor's, whose bit may stay set after it empties (pop does not clear it; it is cleared whenever the
   * cursor moves on, and by `nextBucket`).
   */
  declare private readonly occ: Int32Array;
  /** Words in the bitmap − 1. */
  declare private readonly wordMask: number;

  // Event pool (struct of arrays); pNext links the ring lists and the free list.
  declare private cap: number;
  private freeHead = 0;
  declare private pNext: Int32Array;
  declare private pKind: Int32Array;
  declare private pA: Int32Array;
  declare private pB: Int32Array;
  /** Phase of events waiting in the heap (ring events keep it implicitly in their list). */
  declare private pPhase: Int32Array;

  // Far-event heap: keys (time, seq) inline, plus the pool index.
  declare private hCap: number;
  private hSize = 0;
  /** hTime[0] − B: once now passes it, the heap minimum belongs in the ring (Infinity when empty). */
  private heapDue = Infinity;
  declare private hTime: Float64Array;
  declare private hSeq: Float64Array;
  declare private hEv: Int32Array;

  constructor(options: EventQueueOptions = {}) {
    const bits = options.ringBits ?? 12;
    if (!Number.isInteger(bits) || bits < 5 || bits > 20)
      throw new RangeError(`ringBits ${bits} not in 5..20`);
    const cap = Math.max(16, options.capacity ?? 1024) | 0;
    this.ringSize = 1 << bits;
    this.ringMask = this.ringSize - 1;
    this.tails = new Int32Array(this.ringSize * PHASES).fill(-1);
    this.pmask = new Int32Array(this.ringSize);
    this.occ = new Int32Array(this.ringSize >>> 5);
    this.wordMask = this.occ.length - 1;
    this.cap = cap;
    this.pNext = new Int32Array(cap);
    this.pKind = new Int32Array(cap);
    this.pA = new Int32Array(cap);
    this.pB = new Int32Array(cap);
    this.pPhase = new Int32Array(cap);
    this.linkFree(0, cap);
    this.hCap = cap;
    this.hTime = new Float64Array(cap);
    this.hSeq = new Float64Array(cap);
    this.hEv = new Int32Array(cap);
  }

  /** Number of buckets in the ring (events closer than this many cycles skip the heap). */
  get buckets(): number {
    return this.ringSize;
  }

  private linkFree(from: number, to: number): void {
    const next = this.pNext;
    for (let i = from; i < to - 1; i++) next[i] = i + 1;
    next[to - 1] = -1;
    this.freeHead = from;
  }

  /** Doubles the pool; returns a free slot (the free list is empty when this is called). */
  private growPool(): number {
    const old = this.cap;
    const cap = old * 2;
    const grow = (x: Int32Array): Int32Array => {
      const y = new Int32Array(cap);
      y.set(x);
      return y;
    };
    this.pNext = grow(this.pNext);
    this.pKind = grow(this.pKind);
    this.pA = grow(this.pA);
    this.pB = grow(this.pB);
    this.pPhase = grow(this.pPhase);
    this.cap = cap;
    this.linkFree(old, cap);
    return old;
  }

  private growHeap(): void {
    const cap = this.hCap * 2;
    const t = new Float64Array(cap);
    t.set(this.hTime);
    const s = new Float64Array(cap);
    s.set(this.hSeq);
    const e = new Int32Array(cap);
    e.set(this.hEv);
    this.hTime = t;
    this.hSeq = s;
    this.hEv = e;
    this.hCap = cap;
  }

  schedule(time: number, phase: number, kind: number, a: number, b: number): void {
    const d = time - this.now;
    // d >>> 0 === d: an integer in [0, 2^32) (rejects negative, fractional, NaN).
    if (d >>> 0 !== d || d >= this.ringSize || (phase & 15) !== phase) {
      this.scheduleFar(time, phase, kind, a, b);
      return;
    }
    let e = this.freeHead;
    if (e < 0) e = this.growPool();
    const next = this.pNext;
    this.freeHead = next[e];
    this.pKind[e] = kind;
    this.pA[e] = a;
    this.pB[e] = b;
    const bucket = (this.cursor + d) & this.ringMask;
    const li = (bucket << 4) | phase;
    const t = this.tails[li];
    if (t < 0) {
      next[e] = e;
      const m = this.pmask[bucket];
      if (m === 0) this.occ[bucket >>> 5] |= 1 << bucket;
      this.pmask[bucket] = m | (1 << phase);
    } else {
      next[e] = next[t];
      next[t] = e;
    }
    this.tails[li] = e;
    this.size++;
  }

  /** Validates and queues an event at or beyond the ring's horizon (or throws). */
  private scheduleFar(time: number, phase: number, kind: number, a: number, b: number): void {
    if (!(time >= this.now) || !Number.isInteger(time) || time > 9007199254740992) badTime(time, this.now);
    if ((phase & 15) !== phase) badPhase(phase);
    let e = this.freeHead;
    if (e < 0) e = this.growPool();
    this.freeHead = this.pNext[e];
    this.pKind[e] = kind;
    this.pA[e] = a;
    this.pB[e] = b;
    this.pPhase[e] = phase;
    // Only heap events need a sequence number: ring lists are in insertion order, and every heap event at
    // time t predates every ring event at t.
    this.heapPush(time, this.seq++, e);
    this.size++;
  }

  private heapPush(time: number, seq: number, e: number): void {
    if (this.hSize === this.hCap) this.growHeap();
    const ht = this.hTime;
    const hs = this.hSeq;
    const he = this.hEv;
    let i = this.hSize++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = ht[p];
      if (pt < time || (pt === time && hs[p] < seq)) break;
      ht[i] = pt;
      hs[i] = hs[p];
      he[i] = he[p];
      i = p;
    }
    ht[i] = time;
    hs[i] = seq;
    he[i] = e;
    if (i === 0) this.heapDue = time - this.ringSize;
  }

  /**
   * The slow path of `pop`: when `jump` (the ring is empty), first moves now to the heap minimum (false when
   * the heap is empty too); then moves every heap event with time < now + B into its ring bucket, in (time,
   * sequence) order. One method with the heap removal written inline, on purpose: its bytecode is over V8's
   * inlining limit, so it is never inlined into `pop` — which must stay small enough to be inlined into its
   * callers whatever the workload (a far-event-heavy phase would otherwise teach V8 to inline this path
   * into `pop`, and near events would run at half speed for the rest of the process).
   */
  private migrate(jump: boolean): boolean {
    let n = this.hSize;
    const ht = this.hTime;
    if (jump) {
      if (n === 0) return false;
      this.now = ht[0];
    }
    const now = this.now;
    const horizon = now + this.ringSize;
    const hs = this.hSeq;
    const he = this.hEv;
    const next = this.pNext;
    const tails = this.tails;
    const pmask = this.pmask;
    const occ = this.occ;
    const cursor = this.cursor;
    const mask = this.ringMask;
    while (n > 0 && ht[0] < horizon) {
      const e = he[0];
      const bucket = (cursor + (ht[0] - now)) & mask;
      // Remove the root, bottom-up (Floyd): the hole walks down to a leaf along the smaller children (one
      // comparison per level), then the last element climbs from there — usually a level or two.
      n--;
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n) {
          const ct = ht[c];
          const rt = ht[c + 1];
          // Branch-free choice (+boolean) when the times differ: random keys make the branch unpredictable.
          if (rt === ct) {
            if (hs[c + 1] < hs[c]) c++;
          } else c += +(rt < ct);
        }
        ht[i] = ht[c];
        hs[i] = hs[c];
        he[i] = he[c];
        i = c;
      }
      if (i !== n) {
        const time = ht[n];
        const seq = hs[n];
        const last = he[n];
        while (i > 0) {
          const p = (i - 1) >> 1;
          const pt = ht[p];
          if (pt < time || (pt === time && hs[p] < seq)) break;
          ht[i] = pt;
          hs[i] = hs[p];
          he[i] = he[p];
          i = p;
        }
        ht[i] = time;
        hs[i] = seq;
        he[i] = last;
      }
      // Append to the (bucket, phase) list.
      const phase = this.pPhase[e];
      const li = (bucket << 4) | phase;
      const t = tails[li];
      if (t < 0) {
        next[e] = e;
        const m = pmask[bucket];
        if (m === 0) occ[bucket >>> 5] |= 1 << bucket;
        pmask[bucket] = m | (1 << phase);
      } else {
        next[e] = next[t];
        next[t] = e;
      }
      tails[li] = e;
    }
    this.hSize = n;
    this.heapDue = n === 0 ? Infinity : ht[0] - this.ringSize;
    return true;
  }

  /**
   * First non-empty bucket after the (empty) cursor bucket, cyclically, or −1 when the ring is empty.
   * Clears the cursor bucket's stale bit.
   */
  private nextBucket(): number {
    const occ = this.occ;
    const c = this.cursor;
    let w = c >>> 5;
    let bits = (occ[w] &= ~(1 << c)) & (-1 << c);
    if (this.size === this.hSize) return -1;
    // Terminates: the ring is not empty (a wrap revisits the first word with all its bits). A linear scan
    // of the 128 words of a 4096-bucket ring beats a summary level: it is a tight loop.
    while (bits === 0) bits = occ[(w = (w + 1) & this.wordMask)];
    return (w << 5) | (31 - Math.clz32(bits & -bits));
  }

  /**
   * Makes the cursor bucket hold the next event if it is at ≤ limit: jumps to the next non-empty bucket of
   * the ring, or to the heap minimum when the ring is empty, and migrates the heap events that entered the
   * ring's window. False (nothing changed but the cursor's stale bit) when empty or the next event is later.
   */
  private advance(limit: number): boolean {
    if (this.pmask[this.cursor] !== 0) return true;
    const bucket = this.nextBucket();
    let t: number;
    if (bucket >= 0) {
      t = this.now + ((bucket - this.cursor) & this.ringMask);
      if (t > limit) return false;
      this.cursor = bucket;
    } else {
      if (this.hSize === 0) return false;
      t = this.hTime[0];
      if (t > limit) return false;
    }
    this.now = t;
    this.migrate(false);
    return true;
  }

  popUntil(limit: number): boolean {
    return this.advance(limit) && this.pop();
  }

  pop(): boolean {
    const pmask = this.pmask;
    let c = this.cursor;
    let m = pmask[c];
    if (m === 0) {
      // The cursor's cycle is done: find the next non-empty bucket. Inline on purpose (see the class
      // comment); `nextBucket` + `advance` are the readable version of these lines.
      if (this.size === this.hSize) {
        // The ring is empty: jump to the heap minimum (which migrates into the cursor bucket).
        if (!this.migrate(true)) return false;
      } else {
        const occ = this.occ;
        let w = c >>> 5;
        let bits = (occ[w] &= ~(1 << c)) & (-1 << c);
        while (bits === 0) bits = occ[(w = (w + 1) & this.wordMask)];
        const bucket = (w << 5) | (31 - Math.clz32(bits & -bits));
        const now = (this.now += (bucket - c) & this.ringMask);
        this.cursor = c = bucket;
        if (now > this.heapDue) this.migrate(false);
      }
      m = pmask[c];
    }
    const bit = m & -m;
    const li = (c << 4) | (31 - Math.clz32(bit));
    const tails = this.tails;
    const next = this.pNext;
    const t = tails[li];
    const h = next[t];
    if (h === t) {
      tails[li] = -1;
      pmask[c] = m ^ bit;
    } else {
      next[t] = next[h];
    }
    this.time = this.now;
    this.phase = li & 15;
    this.kind = this.pKind[h];
    this.a = this.pA[h];
    this.b = this.pB[h];
    next[h] = this.freeHead;
    this.freeHead = h;
    this.size--;
    return true;
  }

  peekTime(): number {
    if (this.size === 0) return -1;
    if (this.pmask[this.cursor] !== 0) return this.now;
    const bucket = this.nextBucket();
    if (bucket >= 0) return this.now + ((bucket - this.cursor) & this.ringMask);
    return this.hTime[0];
  }

  advanceTo(time: number): void {
    const d = time - this.now;
    if (!(d >= 0) || !Number.isInteger(time) || time > 9007199254740992) badTime(time, this.now);
    const next = this.peekTime();
    if (next >= 0 && time > next) {
      throw new RangeError(`cannot advance to ${time}: an event is pending at ${next}`);
    }
    if (d === 0) return;
    // Every ring event is at ≥ time > now, so the buckets from the old cursor up to the new one are empty
    // (clear the cursor's possibly stale bit before it stops being the cursor); when d ≥ B the ring is
    // empty and any bucket may stand for the new now.
    const c = this.cursor;
    this.occ[c >>> 5] &= ~(1 << c);
    if (d < this.ringSize) this.cursor = (this.cursor + d) & this.ringMask;
    this.now = time;
    this.migrate(false);
  }

  clear(): void {
    // Empty the ring lists bucket by bucket (only buckets marked in the bitmap can be non-empty).
    const occ = this.occ;
    for (let w = 0; w < occ.length; w++) {
      let bits = occ[w];
      while (bits !== 0) {
        const bucket = (w << 5) | (31 - Math.clz32(bits & -bits));
        bits &= bits - 1;
        this.tails.fill(-1, bucket * PHASES, (bucket + 1) * PHASES);
        this.pmask[bucket] = 0;
      }
      occ[w] = 0;
    }
    this.hSize = 0;
    this.heapDue = Infinity;
    this.linkFree(0, this.cap);
    this.size = 0;
    this.seq = 0;
    this.now = 0;
    this.cursor = 0;
    this.time = 0;
    this.phase = 0;
    this.kind = 0;
    this.a = 0;
    this.b = 0;
  }
}
