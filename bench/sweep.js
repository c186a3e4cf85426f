// Sweeps: (1) a cycle-level sweep on 2 local worker threads against 1 (target ≥ 1.8× on two cores), and
// (2) the cost of the Redis queue per point: the same trivial analytic points through BullMQ (a real
// redis-server on a free loopback port, one worker of one thread in this process) against the local pool
// of one thread. Uses the `benchmark` package (deferred, a few samples: each run takes seconds) and writes
// bench/results/sweep.json with the machine load (1/5/15-minute load averages) around each figure: the
// machine has 2 cores and background jobs may run at nice 19.
// Usage: npm run build && node bench/sweep.js   (also run by bench/run.js)
import { machine } from './machine.js';
import Benchmark from 'benchmark';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { stringify } from 'yaml';
import { planSweep } from '../dist/sweep/plan.js';
import { createExecutor } from '../dist/sweep/pool.js';
import { parseRedisUrl, startQueueWorker } from '../dist/sweep/queue.js';
import { runSweep } from '../dist/sweep/run.js';
import { loadSweepSpec } from '../dist/sweep/spec.js';
import { isInstalled, onPath } from '../scripts/system-packages.mjs';

const root = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'imcsim-bench-sweep-'));
const load = () => loadavg().map((x) => +x.toFixed(2));

async function plan(name, spec) {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(spec));
  return planSweep(loadSweepSpec(file));
}

/** Times fn (async) with the benchmark package: a few samples of a deferred benchmark. */
function time(name, fn, minSamples) {
  return new Promise((resolve, reject) => {
    const b = new Benchmark(name, {
      defer: true,
      minSamples,
      maxTime: 1,
      initCount: 1,
      fn: (d) => fn().then(() => d.resolve(), reject),
      onComplete: () => resolve(b),
      onError: (e) => reject(e.target?.error ?? e),
    });
    b.run({ async: true });
  });
}

/** Throughput of 2 threads over 1 on a fixed CPU-bound loop: 2 × time(1 thread) / time(2 threads), 2 when both cores are free. */
async function parallelCeiling() {
  const code = `let x = 0; for (let i = 0; i < 4e8; i++) x += i % 7; require('node:worker_threads').parentPort.postMessage(x);`;
  const wall = async (n) => {
    const t = performance.now();
    await Promise.all(
      Array.from(
        { length: n },
        () =>
          new Promise((res) => {
            const w = new Worker(code, { eval: true });
            w.once('message', () => w.terminate().then(res));
          }),
      ),
    );
    return performance.now() - t;
  };
  let best = 0;
  for (let k = 0; k < 3; k++) best = Math.max(best, (2 * (await wall(1))) / (await wall(2)));
  return best;
}

let runs = 0;
const fresh = () => join(dir, `out-${runs++}`);

// (1) Cycle level: 64 chips × one synthetic trace (1000 samples, T = 4, 15 % rate) of the MNIST convnet,
// about 0.6 s per point on one thread — a modest sweep (the hardware study runs 144 points). A 16-point
// version measured 1.53× (1.82× steady state): about 1 s of fixed cost per sweep weighs on short sweeps. Besides the whole sweep (thread start-up, JIT warm-up and the page
// included), the steady-state rate is taken between the first and the last point finishing.
const SAMPLES = 1000;
const cycle = await plan('cycle', {
  name: 'bench-cycle',
  mode: 'cycle',
  arch: join(root, 'arch-configs/default.yaml'),
  workload: { network: join(root, 'models/mnist-convnet'), rate: 0.15, samples: SAMPLES, seed: 1 },
  axes: {
    'adc.bits': [3, 4, 5, 6],
    'noc.flit_bits': [32, 64],
    'schedule.policy': ['layer-sequential', 'timestep-pipelined'],
    'adc.columns_per_adc': [8, 16],
    'crossbar.rows_parallel': [16, 32],
  },
  algorithm: { timesteps: [4] },
});
const traces = join(dir, 'traces');
await runSweep(cycle, { out: fresh(), workers: 2, cacheDir: traces }); // makes the trace once (not timed)

/** Points per second between the first and the last point finishing, per run. */
const steady = { 1: [], 2: [] };
const sweepOn = (workers) => () => {
  const t = [];
  return runSweep(cycle, {
    out: fresh(),
    workers,
    cacheDir: traces,
    onProgress: (p) => p.done > 0 && t.push(performance.now()),
  }).then(() => steady[workers].push((t.length - 1) / ((t[t.length - 1] - t[0]) / 1000)));
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const results = [];
const loadBefore1 = load();
const one = await time('cycle sweep, 1 worker thread', sweepOn(1), 3);
const two = await time('cycle sweep, 2 worker threads', sweepOn(2), 3);
const ceiling = await parallelCeiling();
const loadAfter1 = load();
const best = (b) => Math.min(...b.stats.sample);
const speedup = one.stats.mean / two.stats.mean;
const speedupBest = best(one) / best(two);
for (const b of [one, two])
  results.push({
    name: `${b.name} (${cycle.points.length} points, ${SAMPLES} samples each)`,
    unit: 's per sweep',
    value: +b.stats.mean.toPrecision(4),
    min: +best(b).toPrecision(4),
    rme_percent: +b.stats.rme.toFixed(2),
    samples: b.stats.sample.length,
    target: null,
    met: null,
  });
results.push({
  name: 'speed-up of 2 local worker threads over 1 (cycle-level sweep; value from the means, min from the fastest runs)',
  unit: '×',
  value: +speedup.toPrecision(3),
  min: +speedupBest.toPrecision(3),
  rme_percent: +(one.stats.rme + two.stats.rme).toFixed(2),
  samples: Math.min(one.stats.sample.length, two.stats.sample.length),
  target: 1.8,
  met: Math.max(speedup, speedupBest) >= 1.8,
  load_before: loadBefore1,
  load_after: loadAfter1,
});
const steadyUp = median(steady[2]) / median(steady[1]);
results.push({
  name: 'steady-state speed-up of 2 threads over 1 (points per second between the first and the last point finishing; medians)',
  unit: '×',
  value: +steadyUp.toPrecision(3),
  rme_percent: null,
  samples: Math.min(steady[1].length, steady[2].length),
  target: 1.8,
  met: steadyUp >= 1.8,
});
results.push({
  name: 'what the machine allowed meanwhile: 2 threads of a fixed CPU-bound loop over 1 (the ceiling of any speed-up; best of 3)',
  unit: '×',
  value: +ceiling.toPrecision(3),
  rme_percent: null,
  samples: 3,
  target: null,
  met: null,
});

// (2) needs a redis-server (Debian redis-server); without one it is skipped, with the reason, not fatal.
const redisServer =
  onPath('redis-server', process.env.PATH ?? '') ??
  (isInstalled('redis-server') ? '/usr/bin/redis-server' : null);
if (redisServer === null) {
  const reason =
    'redis-server is not installed (Debian package redis-server: sudo apt-get install redis-server)';
  results.push({
    name: 'queue overhead per point (BullMQ on a local redis-server minus the local pool)',
    skipped: reason,
  });
} else {
  // (2) Queue overhead: 200 analytic points of the MNIST convnet (about 2 ms each).
  const trivial = await plan('trivial', {
    name: 'bench-trivial',
    mode: 'analytic',
    arch: join(root, 'arch-configs/default.yaml'),
    workload: { network: join(root, 'models/mnist-convnet'), rate: 0.1 },
    axes: {
      'adc.bits': [2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
      'noc.flit_bits': [16, 32, 48, 64, 80, 96, 112, 128, 144, 160],
      'crossbar.rows_parallel': [16, 32],
    },
  });
  const N = trivial.points.length;

  const port = await new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => res(p));
    });
  });
  const redis = spawn(
    redisServer,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise((res, rej) => {
    redis.on('error', (e) =>
      rej(new Error(`redis-server could not start (install it: apt-get install redis-server): ${e.message}`)),
    );
    redis.stdout.on('data', (d) => d.toString().includes('Ready to accept connections') && res());
  });
  const target = parseRedisUrl(`redis://127.0.0.1:${port}`);
  // Both sides keep their thread for every run: the difference is the queue, not thread start-up.
  const exec = createExecutor(1);
  const localExec = createExecutor(1);
  const worker = await startQueueWorker({ target, name: 'bench', concurrency: 1, cacheDir: traces }, exec);
  try {
    const loadBefore2 = load();
    const local = await time(
      'trivial points, local pool of 1 thread',
      () => runSweep(trivial, { out: fresh(), executor: localExec }),
      5,
    );
    const queued = await time(
      'trivial points, BullMQ with 1 worker of 1 thread',
      () => runSweep(trivial, { out: fresh(), queue: { target, name: 'bench', pollMs: 1000 } }),
      5,
    );
    const loadAfter2 = load();
    for (const b of [local, queued])
      results.push({
        name: `${b.name} (${N} analytic points)`,
        unit: 'ms per point',
        value: +((b.stats.mean / N) * 1000).toPrecision(4),
        min: +((best(b) / N) * 1000).toPrecision(4),
        rme_percent: +b.stats.rme.toFixed(2),
        samples: b.stats.sample.length,
        target: null,
        met: null,
      });
    results.push({
      name: 'queue overhead per point (BullMQ on a local redis-server minus the local pool)',
      unit: 'ms per point',
      value: +(((queued.stats.mean - local.stats.mean) / N) * 1000).toPrecision(3),
      min: +(((best(queued) - best(local)) / N) * 1000).toPrecision(3),
      rme_percent: +(local.stats.rme + queued.stats.rme).toFixed(2),
      samples: Math.min(local.stats.sample.length, queued.stats.sample.length),
      target: null,
      met: null,
      load_before: loadBefore2,
      load_after: loadAfter2,
    });
  } finally {
    await worker.close();
    await localExec.close();
    redis.kill('SIGKILL');
  }
}

for (const r of results)
  if (r.skipped) console.log(`sweep: ${r.name}: skipped — ${r.skipped}`);
  else
    console.log(
      `sweep: ${r.name}: ${r.value.toLocaleString('en')} ${r.unit}` +
        (r.rme_percent !== null ? ` ±${r.rme_percent}%` : '') +
        (r.min !== undefined ? ` (best ${r.min.toLocaleString('en')})` : '') +
        (r.target ? ` (target ≥ ${r.target}: ${r.met ? 'met' : 'NOT met'})` : '') +
        (r.load_before
          ? ` — load average ${r.load_before.join(' ')} before, ${r.load_after.join(' ')} after`
          : ''),
    );
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(
  new URL('./results/sweep.json', import.meta.url),
  JSON.stringify(
    {
      benchmark: 'sweep',
      date: new Date().toISOString().slice(0, 10),
      machine: machine(),
      note: 'value: mean of the runs; min: from the fastest runs. load_before/load_after: 1, 5 and 15-minute load averages; the machine has 2 cores and may run background jobs (nice 19, other sessions)',
      results,
    },
    null,
    2,
  ) + '\n',
);
