/**
 * Distributed sweeps against a real redis-server (started here on a free loopback port, no persistence):
 * worker processes of the built CLI, one SIGKILLed mid-point; a submitter killed and resumed; broken and
 * unreachable servers. The tests fail (never skip) when redis-server or the build is missing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/util/errors.js';
import { planSweep } from '../../src/sweep/plan.js';
import { parseRedisUrl } from '../../src/sweep/queue.js';
import { runSweep } from '../../src/sweep/run.js';
import { loadSweepSpec } from '../../src/sweep/spec.js';
import {
  MNIST_NET,
  ROOT,
  cycleSpec,
  freePort,
  imcsim,
  startRedis,
  tempDir,
  writeSpec,
  type RedisServer,
  type Spawned,
} from './helpers.js';

const csvOf = (dir: string) => readFileSync(join(dir, 'sweep.csv'), 'utf8');
const dataRows = (dir: string) =>
  existsSync(join(dir, 'sweep.csv'))
    ? csvOf(dir)
        .split('\n')
        .slice(1)
        .filter((l) => /^[0-9a-f]{12},/.test(l)).length
    : 0;

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A local (in-process, single-thread) run of the same spec: the reference bytes (sweep.csv, sweep.html). */
async function localRun(specFile: string): Promise<{ csv: string; html: string }> {
  const out = tempDir('ref');
  await runSweep(await planSweep(loadSweepSpec(specFile)), { out, workers: 0 });
  return { csv: csvOf(out), html: readFileSync(join(out, 'sweep.html'), 'utf8') };
}

/** 8 cycle-level points of a few hundred milliseconds each: long enough to kill a worker in the middle of one. */
const slowSpec = () =>
  cycleSpec({
    workload: { network: MNIST_NET, rate: 0.15, samples: 300, seed: 3 },
    axes: { 'adc.bits': [3, 4, 5, 6], 'noc.flit_bits': [32, 64] },
    algorithm: { timesteps: [4] },
  });

describe('Redis URLs', () => {
  it('accept redis:// and rediss:// with user, password, port and database', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6390')).toMatchObject({
      host: '127.0.0.1',
      port: 6390,
      db: 0,
      tls: false,
    });
    expect(parseRedisUrl('redis://h')).toMatchObject({ host: 'h', port: 6379 });
    const t = parseRedisUrl('rediss://me:s%40cret@example.org:7000/3');
    expect(t).toMatchObject({
      host: 'example.org',
      port: 7000,
      db: 3,
      username: 'me',
      password: 's@cret',
      tls: true,
    });
    expect(t.display).toBe('rediss://me@example.org:7000/3'); // no password in messages
    expect(parseRedisUrl('redis://[::1]:6380')).toMatchObject({ host: '::1', port: 6380 });
  });

  it('refuse anything else as bad input', () => {
    for (const bad of [
      'localhost:6379',
      'http://h:1',
      'redis://',
      'redis://h:0',
      'redis://h:99999',
      'redis://h:1/x',
      'redis://h:1?a=b',
    ])
      expect(() => parseRedisUrl(bad), bad).toThrow(InputError);
    expect(() => parseRedisUrl('redis//h')).toThrow(/--queue: not a usable Redis URL/);
  });
});

describe('distributed sweeps on a real redis-server', () => {
  let redis: RedisServer;
  const procs: Spawned[] = [];
  const spawnCli = (args: string[]) => {
    const p = imcsim(args);
    procs.push(p);
    return p;
  };
  const worker = (queue: string, cache: string) =>
    spawnCli([
      'worker',
      '--queue',
      redis.url,
      '--queue-name',
      queue,
      '--concurrency',
      '1',
      '--cache',
      cache,
      '--lock-duration',
      '1500',
      '--stalled-interval',
      '500',
    ]);

  /** Keys of point jobs left in Redis for a queue. */
  const jobKeys = async (queue: string) => {
    const client = new Redis(redis.port, '127.0.0.1');
    try {
      return await client.keys(`bull:${queue}:pt-*`);
    } finally {
      client.disconnect();
    }
  };

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js')))
      throw new Error('the CLI tests run the built library: run npm run build first');
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const p of procs) if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGKILL');
    await redis?.stop();
  });

  it('two workers, one SIGKILLed mid-point: every point exactly once, the same bytes as a local run', async () => {
    const dir = tempDir('q-kill');
    const spec = writeSpec(dir, slowSpec());
    const reference = localRun(spec);
    const a = worker('kill', join(dir, 'cache-a'));
    const b = worker('kill', join(dir, 'cache-b'));
    await Promise.all([a.waitFor(/worker ready/), b.waitFor(/worker ready/)]);
    const out = join(dir, 'out');
    const sub = spawnCli(['sweep', spec, '--out', out, '--queue', redis.url, '--queue-name', 'kill']);
    // A's second point, the moment it starts: kill A in the middle of it.
    const m = await a.waitFor(/done[\s\S]*point ([0-9a-f]{12}) started/, 20_000);
    a.proc.kill('SIGKILL');
    const victim = m[1];
    expect(await a.exited).toBe('SIGKILL');
    expect(a.out()).not.toMatch(new RegExp(`point ${victim} done`));
    expect(await sub.exited).toBe(0);
    // The killed worker's point ran again on the other worker.
    expect(b.out()).toMatch(new RegExp(`point ${victim} done`));
    const csv = csvOf(out);
    const ids = csv
      .trimEnd()
      .split('\n')
      .slice(1)
      .map((l) => l.split(',')[0]);
    expect(ids).toHaveLength(8);
    expect(new Set(ids).size).toBe(8);
    expect(csv).toBe((await reference).csv);
    expect(readFileSync(join(out, 'sweep.html'), 'utf8')).toBe((await reference).html);
    expect(sub.out()).toMatch(/8 run on Redis workers/);
    expect(await jobKeys('kill')).toEqual([]); // every result recorded, every job removed
    b.proc.kill('SIGTERM');
    expect(await b.exited).toBe(0);
    expect(b.out()).toMatch(/worker: stopped/);
  });

  it('a submitter stopped mid-sweep resumes: rows it wrote are kept, results finished meanwhile are collected', async () => {
    const dir = tempDir('q-resume');
    const spec = writeSpec(dir, slowSpec());
    const reference = localRun(spec);
    const w = worker('resume', join(dir, 'cache'));
    await w.waitFor(/worker ready/);
    const out = join(dir, 'out');
    const first = spawnCli(['sweep', spec, '--out', out, '--queue', redis.url, '--queue-name', 'resume']);
    await until(() => dataRows(out) >= 2, 20_000, 'two rows in sweep.csv');
    first.proc.kill('SIGKILL');
    await first.exited;
    const written = dataRows(out);
    // Points keep finishing with no submitter listening.
    const doneBefore = (w.out().match(/ done/g) ?? []).length;
    await until(() => (w.out().match(/ done/g) ?? []).length >= doneBefore + 2, 20_000, 'two more points');
    const second = spawnCli(['sweep', spec, '--out', out, '--queue', redis.url, '--queue-name', 'resume']);
    expect(await second.exited).toBe(0);
    expect(second.out(), second.out()).toMatch(
      new RegExp(`${8 - written} run on Redis workers \\([^)]*\\), ${written} already done, 0 failed`),
    );
    expect(csvOf(out)).toBe((await reference).csv);
    expect(await jobKeys('resume')).toEqual([]);
    w.proc.kill('SIGTERM');
    await w.exited;
  });

  it('an unreachable server: exit code 1 and a clear message; a malformed URL: exit code 2', async () => {
    const dir = tempDir('q-bad');
    const spec = writeSpec(dir, cycleSpec());
    const port = await freePort();
    const un = spawnCli(['sweep', spec, '--out', join(dir, 'o1'), '--queue', `redis://127.0.0.1:${port}`]);
    expect(await un.exited).toBe(1);
    expect(un.err()).toMatch(
      new RegExp(`imcsim: error: cannot reach Redis at redis://127\\.0\\.0\\.1:${port}: connection refused`),
    );
    expect(un.err()).not.toMatch(/internal error/);
    const wk = spawnCli(['worker', '--queue', `redis://127.0.0.1:${port}`]);
    expect(await wk.exited).toBe(1);
    expect(wk.err()).toMatch(/cannot reach Redis/);
    const bad = spawnCli(['sweep', spec, '--out', join(dir, 'o2'), '--queue', 'redis://127.0.0.1:notaport']);
    expect(await bad.exited).toBe(2);
    expect(bad.err()).toMatch(/imcsim: error: --queue: not a usable Redis URL/);
  });

  it('a server lost mid-sweep: the submitter stops with exit code 1 instead of waiting forever', async () => {
    const own = await startRedis();
    try {
      const dir = tempDir('q-lost');
      const spec = writeSpec(dir, cycleSpec());
      const sub = spawnCli([
        'sweep',
        spec,
        '--out',
        join(dir, 'out'),
        '--queue',
        own.url,
        '--queue-name',
        'lost',
      ]);
      await sub.waitFor(/waiting for workers/);
      await own.stop();
      expect(await sub.exited).toBe(1);
      expect(sub.err()).toMatch(
        new RegExp(`imcsim: error: lost the connection to Redis at ${own.url.replace(/\./g, '\\.')}`),
      );
    } finally {
      await own.stop();
    }
  });
});
