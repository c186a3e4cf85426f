import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { EventQueue, type Queue } from '../../src/sim/queue.js';
import { ReferenceQueue } from '../oracles/reference-queue.js';

const runs = { numRuns: 200, seed: 20261122 };

/**
 * One step of a random script: schedule at now + delay or at a shared absolute time, pop, or advance now by
 * up to delay (not past the next event).
 */
type Op =
  | { op: 'schedule'; delay: number; phase: number; kind: number; a: number; b: number }
  | { op: 'at'; time: number; phase: number; kind: number; a: number; b: number }
  | { op: 'pop' }
  | { op: 'advance'; delay: number };

/** Delays mixing same-cycle ties, near events, the ring boundary (small rings), far and huge gaps. */
const delay = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 0, max: 3 }),
  fc.integer({ min: 0, max: 40 }),
  fc.integer({ min: 28, max: 36 }),
  fc.integer({ min: 0, max: 80 }),
  fc.integer({ min: 4090, max: 4100 }),
  fc.integer({ min: 0, max: 10_000 }),
  fc.integer({ min: 0, max: 1_000_000 }),
  fc.constant(1e12),
  fc.integer({ min: 0, max: 2 ** 40 }),
);

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('schedule' as const),
      delay,
      phase: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 15 })),
      kind: fc.integer({ min: 0, max: 255 }),
      a: fc.integer(),
      b: fc.integer(),
    }),
  },
  {
    // Absolute times shared by many events: ties among far (heap) events and with later near ones.
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('at' as const),
      time: fc.constantFrom(40, 41, 64, 100, 5000, 5001, 1e12),
      phase: fc.integer({ min: 0, max: 2 }),
      kind: fc.integer({ min: 0, max: 255 }),
      a: fc.integer(),
      b: fc.integer(),
    }),
  },
  { weight: 3, arbitrary: fc.constant({ op: 'pop' as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('advance' as const), delay }) },
);

function popAll(q: Queue, out: number[][]): void {
  while (q.pop()) out.push([q.time, q.phase, q.kind, q.a, q.b]);
}

/** Runs the script on both queues, comparing every pop, then drains both. */
function replay(q: Queue, ops: Op[]): number[][] {
  const out: number[][] = [];
  for (const o of ops) {
    if (o.op === 'schedule') q.schedule(q.now + o.delay, o.phase, o.kind, o.a, o.b);
    else if (o.op === 'at') q.schedule(Math.max(q.now, o.time), o.phase, o.kind, o.a, o.b);
    else if (o.op === 'advance') {
      const next = q.peekTime();
      q.advanceTo(next < 0 ? q.now + o.delay : Math.min(next, q.now + o.delay));
    } else if (q.pop()) out.push([q.time, q.phase, q.kind, q.a, q.b]);
    else out.push([]);
    out.push([q.size, q.now, q.peekTime()]);
  }
  popAll(q, out);
  return out;
}

describe('EventQueue vs ReferenceQueue', () => {
  for (const ringBits of [5, 7, 12]) {
    it(`random scripts give the same events in the same order (ring 2^${ringBits})`, () => {
      fc.assert(
        fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
          const cal = new EventQueue({ ringBits, capacity: 16 });
          const ref = new ReferenceQueue(16);
          expect(replay(cal, ops)).toEqual(replay(ref, ops));
          expect(cal.size).toBe(0);
        }),
        runs,
      );
    });
  }

  it('ring/heap boundary: a far event runs before later-scheduled events at its key (exhaustive)', () => {
    // Far event at T; time moves to X (an event there, or advanceTo); more events at T, T − 1 and T + 1
    // — every position of T relative to the window [X, X + 32) of a 32-bucket ring.
    for (let T = 20; T <= 100; T++) {
      for (let X = 0; X < T; X++) {
        for (const how of ['pop', 'advance'] as const) {
          const run = (q: Queue) => {
            const out: number[][] = [];
            q.schedule(T, 1, 0, 1, 0);
            q.schedule(T + 1, 1, 0, 2, 0);
            if (how === 'pop') {
              q.schedule(X, 0, 0, 3, 0);
              q.pop();
              out.push([q.time, q.a]);
            } else q.advanceTo(X);
            q.schedule(T, 1, 0, 4, 0);
            q.schedule(T, 0, 0, 5, 0);
            q.schedule(T - 1, 1, 0, 6, 0);
            q.schedule(T + 1, 1, 0, 7, 0);
            popAll(q, out);
            return out;
          };
          expect(run(new EventQueue({ ringBits: 5 }))).toEqual(run(new ReferenceQueue()));
        }
      }
    }
  });

  it('schedule-all then pop-all (including far events and growth)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(delay, fc.integer({ min: 0, max: 15 }), fc.integer()), { maxLength: 3000 }),
        (evs) => {
          const cal = new EventQueue({ ringBits: 6, capacity: 16 });
          const ref = new ReferenceQueue(16);
          for (const q of [cal, ref]) for (const [d, p, a] of evs) q.schedule(d, p, 1, a, -a | 0);
          const x: number[][] = [];
          const y: number[][] = [];
          popAll(cal, x);
          popAll(ref, y);
          expect(x).toEqual(y);
          expect(x.length).toBe(evs.length);
        },
      ),
      { ...runs, numRuns: 40 },
    );
  });

  it('clear() returns to the initial state; pop(limit) and advanceTo agree with the reference', () => {
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 200 }),
        fc.array(op, { maxLength: 200 }),
        fc.integer({ min: 0, max: 5000 }),
        (ops1, ops2, lim) => {
          const qs: Queue[] = [new EventQueue({ ringBits: 5, capacity: 16 }), new ReferenceQueue(16)];
          const outs = qs.map((q) => {
            replay(q, ops1.concat(ops1.filter((o) => o.op === 'schedule')));
            for (const o of ops1)
              if (o.op === 'schedule') q.schedule(q.now + o.delay, o.phase, o.kind, o.a, o.b);
            q.clear();
            expect([q.size, q.now, q.peekTime(), q.pop()]).toEqual([0, 0, -1, false]);
            const out: number[][] = [];
            for (const o of ops2)
              if (o.op === 'schedule') q.schedule(q.now + o.delay, o.phase, o.kind, o.a, o.b);
            const limit = q.now + lim;
            while (q.popUntil(limit)) out.push([q.time, q.phase, q.kind, q.a, q.b]);
            const next = q.peekTime();
            out.push([q.now, next]);
            q.advanceTo(next < 0 ? limit : Math.min(limit, next));
            out.push([q.now, q.peekTime()]);
            for (const o of ops2)
              if (o.op === 'schedule') q.schedule(q.now + o.delay, o.phase, o.kind, o.a, o.b);
            popAll(q, out);
            return out;
          });
          expect(outs[0]).toEqual(outs[1]);
        },
      ),
      { ...runs, numRuns: 80 },
    );
  });
});

describe('EventQueue', () => {
  it('orders same-time events by phase, then insertion order', () => {
    const q = new EventQueue();
    q.schedule(5, 2, 0, 1, 0);
    q.schedule(5, 0, 0, 2, 0);
    q.schedule(5, 2, 0, 3, 0);
    q.schedule(5, 1, 0, 4, 0);
    q.schedule(5, 0, 0, 5, 0);
    q.schedule(4, 15, 0, 6, 0);
    const got: number[] = [];
    while (q.pop()) got.push(q.a);
    expect(got).toEqual([6, 2, 5, 4, 1, 3]);
  });

  it('events scheduled while processing at the current (time, phase) run after those already queued', () => {
    for (const q of [new EventQueue(), new ReferenceQueue()]) {
      q.schedule(10, 1, 0, 0, 0);
      q.schedule(10, 1, 0, 1, 0);
      q.schedule(10, 2, 0, 2, 0);
      const got: number[] = [];
      while (q.pop()) {
        got.push(q.a);
        if (q.a < 3) q.schedule(q.now, 1, 0, q.a + 10, 0);
      }
      expect(got).toEqual([0, 1, 10, 11, 2, 12]);
    }
  });

  it('jumps over large idle gaps without ticking', () => {
    const q = new EventQueue({ ringBits: 12 });
    q.schedule(1e12, 0, 0, 1, 0);
    q.schedule(3, 0, 0, 0, 0);
    q.schedule(2 ** 53, 3, 0, 3, 0);
    q.schedule(1e12 + 4095, 0, 0, 2, 0);
    const t0 = performance.now();
    const got: number[][] = [];
    while (q.pop()) {
      got.push([q.time, q.a]);
      if (q.a === 1) q.schedule(q.now + 1, 0, 0, 4, 0);
    }
    expect(got).toEqual([
      [3, 0],
      [1e12, 1],
      [1e12 + 1, 4],
      [1e12 + 4095, 2],
      [2 ** 53, 3],
    ]);
    expect(performance.now() - t0).toBeLessThan(50);
  });

  it('grows beyond its initial capacity in both the ring and the heap', () => {
    const q = new EventQueue({ ringBits: 5, capacity: 16 });
    const ref = new ReferenceQueue(16);
    for (let i = 0; i < 10_000; i++) {
      const t = (i * 7919) % 20_000;
      q.schedule(t, i % 3, i & 7, i, -i);
      ref.schedule(t, i % 3, i & 7, i, -i);
    }
    expect(q.size).toBe(10_000);
    const x: number[][] = [];
    const y: number[][] = [];
    popAll(q, x);
    popAll(ref, y);
    expect(x).toEqual(y);
  });

  it('rejects times in the past, fractional or beyond 2^53, and bad phases', () => {
    for (const q of [new EventQueue(), new ReferenceQueue()]) {
      q.schedule(100, 0, 0, 0, 0);
      expect(q.pop()).toBe(true);
      expect(() => q.schedule(99, 0, 0, 0, 0)).toThrow(RangeError);
      expect(() => q.schedule(100.5, 0, 0, 0, 0)).toThrow(RangeError);
      expect(() => q.schedule(NaN, 0, 0, 0, 0)).toThrow(RangeError);
      expect(() => q.schedule(2 ** 53 + 2, 0, 0, 0, 0)).toThrow(RangeError);
      expect(() => q.schedule(100, 16, 0, 0, 0)).toThrow(RangeError);
      expect(() => q.schedule(100, -1, 0, 0, 0)).toThrow(RangeError);
      expect(q.size).toBe(0);
      q.schedule(100, 0, 0, 7, 0);
      expect(q.pop() && q.a).toBe(7);
    }
  });

  it('forgets an emptied bucket when time moves on while the queue is empty (no stale bucket)', () => {
    const q = new EventQueue({ ringBits: 5 });
    q.schedule(5, 0, 0, 1, 0);
    expect(q.pop()).toBe(true);
    expect(q.pop()).toBe(false);
    q.advanceTo(10);
    q.schedule(40, 0, 0, 2, 0); // bucket scanned after the wrap, beyond the bucket of cycle 5
    expect(q.peekTime()).toBe(40);
    expect(q.pop() && [q.time, q.a]).toEqual([40, 2]);
  });

  it('advanceTo refuses to pass a pending event', () => {
    const q = new EventQueue();
    q.schedule(50, 0, 0, 0, 0);
    expect(() => q.advanceTo(51)).toThrow(RangeError);
    q.advanceTo(50);
    expect(q.now).toBe(50);
    expect(() => q.advanceTo(49)).toThrow(RangeError);
    q.schedule(60, 0, 0, 1, 0);
    expect(q.popUntil(50)).toBe(true);
    expect(q.popUntil(59)).toBe(false);
    expect(q.now).toBe(50);
    expect(q.popUntil(60)).toBe(true);
  });
});

describe('EventQueue speed guard', () => {
  // V8 inlines a callee only when its bytecode is under 460 bytes (--max-inlined-bytecode-size); `pop` and
  // `schedule` inlined into the dispatch loop run about twice as fast, so an edit that grows them past the
  // limit is a silent 2× regression. Compile the source as the build does and ask V8 for the sizes.
  it('pop and schedule stay under the inlining limit of V8, the slow path of pop over it', () => {
    const js = ts.transpileModule(readFileSync('src/sim/queue.ts', 'utf8'), {
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
    }).outputText;
    const dir = mkdtempSync(join(tmpdir(), 'imcsim-queue-'));
    try {
      writeFileSync(join(dir, 'queue.mjs'), js);
      writeFileSync(
        join(dir, 'main.mjs'),
        "import { EventQueue } from './queue.mjs';\n" +
          'const q = new EventQueue();\n' +
          'for (let i = 0; i < 100; i++) q.schedule(q.now + (i % 7) * 1000, i & 3, 1, i, i);\n' +
          'while (q.pop());\n',
      );
      const size = (fn: string) => {
        const args = ['--print-bytecode', `--print-bytecode-filter=${fn}`, 'main.mjs'];
        const r = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8' });
        const sizes = [...r.stdout.matchAll(/Bytecode length: (\d+)/g)].map((m) => Number(m[1]));
        expect(sizes.length, `no bytecode printed for ${fn}`).toBeGreaterThan(0);
        return Math.max(...sizes);
      };
      expect(size('pop'), 'pop bytecode bytes').toBeLessThan(460);
      expect(size('schedule'), 'schedule bytecode bytes').toBeLessThan(460);
      // And the slow path of pop must never be inlined into it (see the comment on `migrate`).
      expect(size('migrate'), 'migrate bytecode bytes').toBeGreaterThan(460);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
