/**
 * Distributed sweeps on Redis with BullMQ. The submitter enqueues one job per pending point (job id from
 * the point id, so enqueueing twice is a no-op) and collects results as workers finish them; `imcsim
 * worker` processes points on any machine, one per worker thread.
 *
 * - A worker that dies mid-point loses its job lock; another worker's stalled-job check puts the job back
 *   in the wait list and it runs again (BullMQ lockDuration / stalledInterval).
 * - Results stay in Redis until the submitter has written them to sweep.csv, then the job is removed: a
 *   submitter that stops and is started again collects what finished meanwhile.
 * - Connections time out (connectTimeout), reconnect a bounded number of times, and a watchdog client
 *   pings the server: a broken URL is an InputError, an unreachable or lost server a QueueUnavailableError;
 *   nothing waits forever on a dead connection.
 */
import { existsSync } from 'node:fs';
import type { Job, RedisOptions } from 'bullmq';
import { located } from '../util/errors.js';
import { artifactPath } from './evaluate.js';
import type { Executor } from './pool.js';
import type { PointFailure, PointMetrics, PointTask, SweepPoint } from './types.js';

/**
 * BullMQ and ioredis, loaded on first use: importing them costs ≈ 0.5 s, which every other command would
 * pay at start-up otherwise. Every entry point below awaits this before constructing a client.
 */
type QueueLibs = { bull: typeof import('bullmq'); Redis: typeof import('ioredis').Redis };
let queueLibs: Promise<QueueLibs> | undefined;
function loadQueueLibs(): Promise<QueueLibs> {
  queueLibs ??= Promise.all([import('bullmq'), import('ioredis')]).then(([bull, io]) => ({
    bull,
    Redis: io.Redis,
  }));
  return queueLibs;
}

export const DEFAULT_QUEUE_NAME = 'imcsim-sweep';

/** An operational failure of the queue (server unreachable, connection lost): exit code 1, clear message. */
export class QueueUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueueUnavailableError';
  }
}

export interface RedisTarget {
  /** The URL without its password, for messages. */
  display: string;
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls: boolean;
}

/** Parses redis://[user:password@]host[:port][/db] (rediss:// for TLS); anything else is an InputError. */
export function parseRedisUrl(text: string, flag = '--queue'): RedisTarget {
  const bad = (why: string): never => {
    throw located(`not a usable Redis URL: ${why}`, {
      path: flag,
      expected: 'redis://HOST:PORT (or rediss://, optionally user:password@ and /DB)',
      found: JSON.stringify(text),
    });
  };
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return bad('not a URL');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    bad(`unsupported scheme ${JSON.stringify(u.protocol)}`);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) bad('no host');
  let port = 6379;
  if (u.port !== '') {
    port = Number(u.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) bad('bad port');
  } else if (/:\d*$/.test(u.host) && !/\]$/.test(u.host)) bad('empty port');
  let db = 0;
  const path = u.pathname.replace(/^\//, '');
  if (path !== '') {
    if (!/^\d+$/.test(path)) bad(`database must be a number, found ${JSON.stringify(path)}`);
    db = Number(path);
  }
  if (u.search || u.hash) bad('query strings and fragments are not supported');
  const username = u.username ? decodeURIComponent(u.username) : undefined;
  const password = u.password ? decodeURIComponent(u.password) : undefined;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    display: `${u.protocol}//${username ? `${username}@` : ''}${shownHost}:${port}${db ? `/${db}` : ''}`,
    host,
    port,
    db,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    tls: u.protocol === 'rediss:',
  };
}

/** How patient connections are. The defaults give up about 15 s after the server went away. */
export interface ConnectionTuning {
  connectTimeoutMs: number;
  /** Reconnection attempts after a lost connection before giving up. */
  reconnectAttempts: number;
  reconnectDelayMs: number;
  /** The watchdog's ping period; three failed pings in a row count as a lost connection. */
  pingIntervalMs: number;
}

export const DEFAULT_TUNING: ConnectionTuning = Object.freeze({
  connectTimeoutMs: 5000,
  reconnectAttempts: 10,
  reconnectDelayMs: 1000,
  pingIntervalMs: 2000,
});

function tuned(t?: Partial<ConnectionTuning>): ConnectionTuning {
  return { ...DEFAULT_TUNING, ...(t ?? {}) };
}

/** ioredis options for BullMQ connections (blocking ones get maxRetriesPerRequest null, as BullMQ needs). */
export function connectionOptions(t: RedisTarget, tuning: ConnectionTuning, blocking: boolean): RedisOptions {
  return {
    host: t.host,
    port: t.port,
    db: t.db,
    ...(t.username ? { username: t.username } : {}),
    ...(t.password ? { password: t.password } : {}),
    ...(t.tls ? { tls: {} } : {}),
    connectTimeout: tuning.connectTimeoutMs,
    maxRetriesPerRequest: blocking ? null : 3,
    retryStrategy: (times: number) => (times > tuning.reconnectAttempts ? null : tuning.reconnectDelayMs),
  };
}

function reason(e: unknown): string {
  const err = e as NodeJS.ErrnoException & { errors?: unknown[] };
  if (err?.code === 'ECONNREFUSED') return 'connection refused';
  if (err?.code === 'ENOTFOUND' || err?.code === 'EAI_AGAIN') return 'host not found';
  if (err?.code === 'ETIMEDOUT' || /timed? ?out/i.test(String(err?.message))) return 'connection timed out';
  if (/RESP|protocol/i.test(String(err?.message)))
    return 'the server there does not speak the Redis protocol';
  return err?.message || err?.code || String(e);
}

/** Connects once (no retries) and pings; throws QueueUnavailableError with the cause when that fails. */
export async function checkRedis(t: RedisTarget, tuning?: Partial<ConnectionTuning>): Promise<void> {
  const tu = tuned(tuning);
  const { Redis } = await loadQueueLibs();
  const client = new Redis({
    ...connectionOptions(t, tu, false),
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    commandTimeout: tu.connectTimeoutMs,
    enableOfflineQueue: false,
  });
  let first: unknown;
  client.on('error', (e) => (first ??= e));
  try {
    await client.connect();
    await client.ping();
  } catch (e) {
    // connect() rejects with "Connection is closed"; the socket's own error says why.
    throw new QueueUnavailableError(`cannot reach Redis at ${t.display}: ${reason(first ?? e)}`);
  } finally {
    client.disconnect();
  }
}

/**
 * A watchdog: its own connection, pinged periodically; `lost` rejects with a QueueUnavailableError once the
 * connection cannot be re-established (or three pings in a row fail).
 */
function watchRedis(
  Redis: QueueLibs['Redis'],
  t: RedisTarget,
  tuning?: Partial<ConnectionTuning>,
): { lost: Promise<never>; close(): void } {
  const tu = tuned(tuning);
  let fail!: (e: Error) => void;
  const lost = new Promise<never>((_, reject) => (fail = reject));
  lost.catch(() => undefined);
  let closed = false;
  let misses = 0;
  let lastError = '';
  let socketError = '';
  const client = new Redis({
    ...connectionOptions(t, tu, false),
    commandTimeout: Math.max(tu.connectTimeoutMs, tu.pingIntervalMs),
    maxRetriesPerRequest: 0,
  });
  const give = (why: string) => {
    if (closed) return;
    closed = true;
    clearInterval(timer);
    client.disconnect();
    fail(new QueueUnavailableError(`lost the connection to Redis at ${t.display}: ${why}`));
  };
  client.on('error', (e) => (socketError = reason(e)));
  client.on('ready', () => (socketError = ''));
  client.on('end', () =>
    give(
      `gave up after ${tu.reconnectAttempts} reconnection attempts${socketError ? ` (${socketError})` : ''}`,
    ),
  );
  const timer = setInterval(() => {
    client.ping().then(
      () => (misses = 0),
      (e) => {
        lastError = reason(e);
        if (++misses >= 3) give(`no reply to 3 pings (${socketError || lastError})`);
      },
    );
  }, tu.pingIntervalMs);
  timer.unref();
  return {
    lost,
    close: () => {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      client.disconnect();
    },
  };
}

/** BullMQ job id of a point: custom ids must not be integers, so the hex id gets a prefix. */
export function jobIdOf(pointId: string): string {
  return `pt-${pointId}`;
}

interface JobResult {
  id: string;
  metrics: PointMetrics;
}

const INPUT_MARK = '[input] ';

function parseReturn(v: unknown): JobResult | undefined {
  let r = v;
  if (typeof r === 'string') {
    try {
      r = JSON.parse(r);
    } catch {
      return undefined;
    }
  }
  if (typeof r !== 'object' || r === null) return undefined;
  const o = r as Partial<JobResult>;
  return typeof o.id === 'string' && typeof o.metrics === 'object' && o.metrics !== null
    ? (o as JobResult)
    : undefined;
}

/** Waits at most `ms` for `what`; returns whether it finished in time. */
async function closeWithin(what: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const inTime = await Promise.race([
    what.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((r) => {
      timer = setTimeout(() => r(false), ms); // not unref'd: it keeps the process alive while we wait
    }),
  ]);
  clearTimeout(timer);
  return inTime;
}

/** Closes a BullMQ queue or event listener; when the server is gone, drops its connections instead. */
async function shut(x: { close(): Promise<void>; disconnect(): Promise<void> }, ms: number): Promise<void> {
  await closeWithin(x.close(), ms);
  await closeWithin(x.disconnect(), ms);
}

export interface QueueRunOptions {
  target: RedisTarget;
  name?: string;
  tuning?: Partial<ConnectionTuning>;
  /** How often pending jobs are looked up directly (besides the completion events), ms. */
  pollMs?: number;
  /**
   * Ids of points already recorded: their jobs are removed if still in Redis (a submitter that stopped
   * between writing a result and removing its job leaves one behind).
   */
  recorded?: readonly string[];
  onMessage?: (line: string) => void;
}

/**
 * Enqueues the points and resolves when every one has a result or has failed. `onResult` is called once
 * per point (the point is removed from Redis after it returns).
 */
export async function runQueued(
  points: readonly SweepPoint[],
  opts: QueueRunOptions,
  onResult: (p: SweepPoint, metrics: PointMetrics) => void,
  onFailure: (f: PointFailure) => void,
): Promise<void> {
  if (points.length === 0) return;
  const tuning = tuned(opts.tuning);
  const name = opts.name ?? DEFAULT_QUEUE_NAME;
  await checkRedis(opts.target, tuning);
  const { bull, Redis } = await loadQueueLibs();
  const { Queue, QueueEvents } = bull;
  const watch = watchRedis(Redis, opts.target, tuning);
  const queue = new Queue(name, { connection: connectionOptions(opts.target, tuning, false) });
  const events = new QueueEvents(name, { connection: connectionOptions(opts.target, tuning, true) });
  queue.on('error', () => undefined);
  events.on('error', () => undefined);
  const pending = new Map<string, SweepPoint>(points.map((p) => [jobIdOf(p.id), p]));
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  const removals: Promise<unknown>[] = [];

  const settle = (jobId: string, result: JobResult | undefined, failed: string | undefined) => {
    const p = pending.get(jobId);
    if (!p) return;
    if (failed === undefined && (!result || result.id !== p.id))
      failed = 'the worker returned an unreadable result';
    pending.delete(jobId);
    if (failed !== undefined) {
      const input = failed.startsWith(INPUT_MARK);
      onFailure({
        id: p.id,
        index: p.index,
        message: input ? failed.slice(INPUT_MARK.length) : failed,
        input,
      });
    } else onResult(p, result!.metrics);
    // Recorded: the job is no longer needed in Redis (a failed one stays for inspection until re-run).
    if (failed === undefined) removals.push(queue.remove(jobId).catch(() => undefined));
    if (pending.size === 0) finish();
  };

  events.on('completed', ({ jobId, returnvalue }) => settle(jobId, parseReturn(returnvalue), undefined));
  events.on('failed', ({ jobId, failedReason }) => settle(jobId, undefined, failedReason || 'failed'));

  /**
   * Looks every pending job up: finished ones are settled, and the points without a job are returned. On
   * the first pass, a job that failed in an earlier run is removed (its id would block a new one) and its
   * point returned to be queued again.
   */
  const reconcile = async (first: boolean): Promise<SweepPoint[]> => {
    const missing: SweepPoint[] = [];
    const ids = [...pending.keys()];
    for (let i = 0; i < ids.length; i += 200) {
      const chunk = ids.slice(i, i + 200);
      const jobs = await Promise.all(chunk.map((id) => queue.getJob(id)));
      for (let k = 0; k < chunk.length; k++) {
        const job = jobs[k] as Job | undefined;
        const p = pending.get(chunk[k]);
        if (!p) continue;
        if (!job) missing.push(p);
        else if (job.finishedOn && job.failedReason) {
          if (first) {
            await queue.remove(chunk[k]);
            missing.push(p);
          } else settle(chunk[k], undefined, job.failedReason);
        } else if (job.finishedOn) settle(chunk[k], parseReturn(job.returnvalue), undefined);
      }
    }
    return missing;
  };

  const addJobs = async (list: SweepPoint[]) => {
    for (let i = 0; i < list.length; i += 500)
      await queue.addBulk(
        list.slice(i, i + 500).map((p) => ({
          name: 'point',
          data: { task: p.task },
          opts: { jobId: jobIdOf(p.id), attempts: 1, removeOnComplete: false, removeOnFail: false },
        })),
      );
  };

  const work = async () => {
    await events.waitUntilReady();
    const recorded = opts.recorded ?? [];
    for (let i = 0; i < recorded.length; i += 200)
      await Promise.all(recorded.slice(i, i + 200).map((id) => queue.remove(jobIdOf(id))));
    // Points that completed while no submitter listened are collected here; failed ones run again.
    const missing = await reconcile(true);
    await addJobs(missing);
    if (pending.size > 0)
      opts.onMessage?.(
        `${pending.size} points on ${opts.target.display} (queue ${name}), ${missing.length} newly queued; waiting for workers (imcsim worker --queue ${opts.target.display})`,
      );
    else finish();
    const pollMs = opts.pollMs ?? 2000;
    while (pending.size > 0 && !stopped) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([done, new Promise<void>((r) => (timer = setTimeout(r, pollMs)))]);
      clearTimeout(timer);
      if (pending.size === 0) break;
      try {
        const gone = await reconcile(false);
        if (gone.length) await addJobs(gone); // removed by someone (e.g. an obliterated queue): queue again
      } catch {
        // The connection is down: ioredis reconnects; the watchdog gives up if it stays down.
      }
    }
    await Promise.all(removals);
  };

  let stopped = false;
  const working = work().catch((e: unknown) => {
    if (e instanceof Error && /connection|max retries|ECONN|EPIPE|socket/i.test(`${e.name} ${e.message}`))
      throw new QueueUnavailableError(`lost the connection to Redis at ${opts.target.display}: ${reason(e)}`);
    throw e;
  });
  working.catch(() => undefined); // after a lost connection the race below has already rejected
  try {
    await Promise.race([working, watch.lost]);
  } finally {
    stopped = true;
    watch.close();
    await shut(events, 3000);
    await shut(queue, 3000);
  }
}

export interface QueueWorkerOptions {
  target: RedisTarget;
  name?: string;
  /** Points processed at once (worker threads). */
  concurrency: number;
  /** Where this worker keeps the traces it makes. */
  cacheDir: string;
  /** Job lock, ms (BullMQ default 30 s): a dead worker's point is retried after at most this long. */
  lockDurationMs?: number;
  /** Period of the stalled-job check, ms (BullMQ default 30 s). */
  stalledIntervalMs?: number;
  tuning?: Partial<ConnectionTuning>;
  onMessage?: (line: string) => void;
}

export interface RunningWorker {
  /** Resolves after close(); rejects with QueueUnavailableError when the connection is lost. */
  finished: Promise<void>;
  /** Stops taking points, waits for the running ones, disconnects. */
  close(): Promise<void>;
}

/** Starts a worker processing points from the queue on `executor` (its threads set the concurrency). */
export async function startQueueWorker(opts: QueueWorkerOptions, executor: Executor): Promise<RunningWorker> {
  const tuning = tuned(opts.tuning);
  const name = opts.name ?? DEFAULT_QUEUE_NAME;
  await checkRedis(opts.target, tuning);
  const { bull, Redis } = await loadQueueLibs();
  const { UnrecoverableError, Worker } = bull;
  const watch = watchRedis(Redis, opts.target, tuning);
  const making = new Map<string, ReturnType<Executor['run']>>();

  const processJob = async (job: Job): Promise<JobResult> => {
    const task = (job.data as { task: PointTask }).task;
    const fail = (o: { message: string; input: boolean }): never => {
      throw new UnrecoverableError((o.input ? INPUT_MARK : '') + o.message);
    };
    const a = task.artifact;
    if (a && !existsSync(artifactPath(opts.cacheDir, a.key))) {
      let p = making.get(a.key);
      if (!p) {
        p = executor.run({ kind: 'artifact', task: a, cacheDir: opts.cacheDir });
        making.set(a.key, p);
        void p.finally(() => making.delete(a.key));
      }
      const o = await p;
      if (!o.ok) fail(o);
    }
    const o = await executor.run({ kind: 'point', task, cacheDir: opts.cacheDir });
    if (!o.ok) fail(o);
    return { id: task.id, metrics: (o as { value: PointMetrics }).value };
  };

  const worker = new Worker(name, processJob, {
    connection: connectionOptions(opts.target, tuning, true),
    concurrency: opts.concurrency,
    lockDuration: opts.lockDurationMs ?? 30_000,
    stalledInterval: opts.stalledIntervalMs ?? 30_000,
    maxStalledCount: 2,
    autorun: true,
  });
  let lastError = '';
  worker.on('error', (e) => {
    const m = reason(e);
    if (m !== lastError) opts.onMessage?.(`worker: redis error: ${m}`);
    lastError = m;
  });
  worker.on('active', (job: Job) => opts.onMessage?.(`point ${String(job.id).replace(/^pt-/, '')} started`));
  worker.on('completed', (job: Job) => opts.onMessage?.(`point ${String(job.id).replace(/^pt-/, '')} done`));
  worker.on('failed', (job: Job | undefined, e: Error) =>
    opts.onMessage?.(
      `point ${String(job?.id ?? '?').replace(/^pt-/, '')} failed: ${e.message.split('\n')[0]}`,
    ),
  );
  await Promise.race([worker.waitUntilReady(), watch.lost]);
  opts.onMessage?.(
    `worker ready: ${opts.target.display}, queue ${name}, ${opts.concurrency} thread${opts.concurrency === 1 ? '' : 's'}, traces in ${opts.cacheDir}`,
  );

  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await closeWithin(worker.close(), 60_000);
      watch.close();
      await executor.close();
      stop();
    })());
  const finished = Promise.race([stopped, watch.lost]).catch(async (e) => {
    watch.close();
    await closeWithin(worker.close(true), 3000);
    await closeWithin(worker.disconnect(), 3000);
    await executor.close();
    throw e;
  });
  return { finished, close };
}
