// Discrete-event kernel: empty events per second (schedule + pop, no work per event) for the calendar queue
// (EventQueue, 4096-bucket ring + far heap), the queue the replay runs on, on deterministic random delays
// (the reference binary heap is a test oracle, test/oracles/, and is no longer benchmarked).
// - burst: schedule 10,000 events at random near times (now + [0, 4096)), then pop them all;
// - hold model: steady state with P pending events, each pop schedules one event at now + random delay;
//   near delays are uniform in [0, 2048) (all in the ring), far ones in [0, 2^20) (mostly in the heap);
// - times beyond 2^30 are doubles in V8 rather than small integers: the last case starts at cycle 2^40.
// Target: ≥ 30 M events/s for the calendar hold model with ~1,000 pending.
import { EventQueue } from '../dist/sim/queue.js';

// Deterministic delays (xorshift32), looked up from a table so the generator costs almost nothing.
const TABLE = 1 << 16;
function delays(range, seed) {
  const d = new Int32Array(TABLE);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < TABLE; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    d[i] = x % range;
  }
  return d;
}
const near = delays(2048, 0x9e3779b9);
const burstTimes = delays(4096, 0x85ebca6b);
const far = delays(1 << 20, 0xc2b2ae35);

// Each benchmark runs its own copy of its loop (compiled from source), so that the type feedback gathered
// on one queue class cannot make another benchmark's loop polymorphic.
const fresh = (f) => new Function(`return (${f})`)();
const MASK = TABLE - 1;

const BURST = 10_000;
const burstLoop = (q, times, n, mask) => {
  let k = 0;
  return () => {
    const now = q.now;
    for (let i = 0; i < n; i++) {
      const d = times[k++ & mask];
      q.schedule(now + d, d & 3, 1, i, d);
    }
    while (q.pop());
  };
};
const burst = (q) => fresh(burstLoop)(q, burstTimes, BURST, MASK);

const HOLDS = 100_000;
const holdLoop = (q, table, k, n, mask) => () => {
  for (let i = 0; i < n; i++) {
    q.pop();
    const d = table[k++ & mask];
    q.schedule(q.now + d, d & 3, q.kind, q.a, d);
  }
};
function hold(q, pending, table, start = 0) {
  if (start > 0) {
    q.schedule(start, 0, 0, 0, 0);
    q.pop();
  }
  let k = 0;
  for (let i = 0; i < pending; i++) {
    const d = table[k++ & MASK];
    q.schedule(q.now + d, d & 3, 1, i, d);
  }
  return fresh(holdLoop)(q, table, k, HOLDS, MASK);
}

const M = 1e6;
// Order matters: once any EventQueue holds a time ≥ 2^30 (the far-delay cases get there), V8 stores `now`
// and `time` of every EventQueue as doubles for the rest of the process (slower), so the small-time cases
// run first and the far ones last.
export const benchmarks = [
  {
    name: 'calendar hold, 1,000 pending, near delays',
    target: 30 * M,
    q: () => hold(new EventQueue(), 1000, near),
  },
  { name: 'calendar hold, 100,000 pending, near delays', q: () => hold(new EventQueue(), 100_000, near) },
  { name: 'calendar burst, 10,000 near events', q: () => burst(new EventQueue()), ops: BURST },
  { name: 'calendar hold, 1,000 pending, far delays', q: () => hold(new EventQueue(), 1000, far) },
  { name: 'calendar hold, 100,000 pending, far delays', q: () => hold(new EventQueue(), 100_000, far) },
  {
    name: 'calendar hold, 1,000 pending, near delays, times ≥ 2^40 (doubles)',
    q: () => hold(new EventQueue(), 1000, near, 2 ** 40),
  },
].map(({ name, target, q, ops }) => {
  let fn = null;
  return {
    name,
    unit: 'events/s',
    target,
    opsPerCall: ops ?? HOLDS,
    // Built lazily (in setup) so each benchmark's queue exists only while it runs.
    setup: () => {
      fn = q();
    },
    fn: () => fn(),
  };
});
