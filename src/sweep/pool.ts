/**
 * Executors: where trace making and point computations run. `inline` runs them in this thread one at a
 * time; `pool` runs them on worker threads (tinypool) that load the built library, one task per thread.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Tinypool from 'tinypool';
import { ensureArtifact, evaluatePoint, outcome, type TaskOutcome } from './evaluate.js';
import type { PoolMessage } from './pool-worker.js';
import type { PointMetrics } from './types.js';

export interface Executor {
  /** Tasks that run at the same time (threads; 1 inline). */
  readonly threads: number;
  run(msg: PoolMessage): Promise<TaskOutcome<string | PointMetrics>>;
  close(): Promise<void>;
}

/** Default number of worker threads: one per core. */
export function defaultWorkers(): number {
  return availableParallelism();
}

/** The worker-thread script: dist/sweep/pool-worker.js beside this file (also when running from sources). */
export function poolWorkerFile(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) {
    const js = here.replace(/([\\/])src([\\/]sweep[\\/])pool\.ts$/, '$1dist$2pool-worker.js');
    if (!existsSync(js))
      throw new Error(`sweep worker threads need the built library (${js}): run npm run build`);
    return js;
  }
  return join(here, '..', 'pool-worker.js');
}

class InlineExecutor implements Executor {
  readonly threads = 1;
  private tail: Promise<unknown> = Promise.resolve();
  run(msg: PoolMessage): Promise<TaskOutcome<string | PointMetrics>> {
    // One at a time, in submission order: tasks are CPU-bound, interleaving them would only add memory.
    const next = this.tail.then((): Promise<TaskOutcome<string | PointMetrics>> =>
      msg.kind === 'artifact'
        ? outcome<string | PointMetrics>(() => ensureArtifact(msg.task, msg.cacheDir))
        : outcome<string | PointMetrics>(() => evaluatePoint(msg.task, msg.cacheDir)),
    );
    this.tail = next;
    return next;
  }
  async close(): Promise<void> {
    await this.tail;
  }
}

class PoolExecutor implements Executor {
  private readonly pool: Tinypool;
  constructor(readonly threads: number) {
    this.pool = new Tinypool({
      filename: poolWorkerFile(),
      minThreads: threads,
      maxThreads: threads,
      concurrentTasksPerWorker: 1,
      idleTimeout: 0,
    });
  }
  async run(msg: PoolMessage): Promise<TaskOutcome<string | PointMetrics>> {
    try {
      return (await this.pool.run(msg)) as TaskOutcome<string | PointMetrics>;
    } catch (e) {
      // The thread itself died (out of memory, a native crash): report it as the task's failure.
      return {
        ok: false,
        message: `worker thread failed: ${(e as Error)?.message ?? String(e)}`,
        input: false,
      };
    }
  }
  async close(): Promise<void> {
    await this.pool.destroy();
  }
}

/** `workers` threads, or the calling thread when workers is 0. */
export function createExecutor(workers: number): Executor {
  if (!Number.isInteger(workers) || workers < 0)
    throw new Error(`workers must be an integer ≥ 0, got ${workers}`);
  return workers === 0 ? new InlineExecutor() : new PoolExecutor(workers);
}

/** Runs fn over items with at most `limit` in flight, in order of submission. */
export async function mapLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) await fn(items[next++]);
  });
  await Promise.all(lanes);
}
