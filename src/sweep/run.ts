/**
 * Running a sweep into an output folder:
 *
 *   DIR/sweep.csv    one row per point, appended as points finish; rewritten in point order at the end
 *   DIR/sweep.html   Pareto frontiers and per-axis sensitivity (written when every point is done)
 *   DIR/sweep.json   the plan: axes, metrics, columns, every point's id and axis values
 *   DIR/traces/      traces of the algorithm points (cycle mode, and analytic mode with a model), by hash
 *
 * Re-running the same spec into the same folder resumes: points whose id is in sweep.csv are skipped.
 * Points run on local worker threads (or the calling thread) or, with `queue`, on Redis workers.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { located } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { registerTemp, releaseTemp } from '../util/temp-files.js';
import { SweepCsv, formatCsvLine } from './csv.js';
import { artifactPath } from './evaluate.js';
import type { SweepPlan } from './plan.js';
import { createExecutor, defaultWorkers, mapLimit, type Executor } from './pool.js';
import { runQueued, type QueueRunOptions } from './queue.js';
import { rowsFromCsv, sweepHtml } from './report.js';
import type { PointFailure, PointMetrics, SweepPoint } from './types.js';

export interface SweepProgress {
  /** Points with a result (including those already in sweep.csv). */
  done: number;
  total: number;
  /** Points that failed so far. */
  failed: number;
  /** Traces being made before points run (cycle mode), or null once points run. */
  phase: 'traces' | 'points';
}

export interface SweepRunOptions {
  /** Output folder. */
  out: string;
  /** Local worker threads (default: one per core); 0 runs every point in the calling thread. */
  workers?: number;
  /** Run on this executor instead (kept open: a pool reused across sweeps); `workers` is then ignored. */
  executor?: Executor;
  /** Run the points on Redis workers instead of local threads. */
  queue?: QueueRunOptions;
  /** Trace cache (default DIR/traces). */
  cacheDir?: string;
  onProgress?: (p: SweepProgress) => void;
  /** Informational lines (queue status, repaired files). */
  onMessage?: (line: string) => void;
}

export interface SweepOutcome {
  total: number;
  /** Points found done in sweep.csv when the run started. */
  resumed: number;
  /** Points computed by this run. */
  ran: number;
  failed: PointFailure[];
  csv: string;
  /** null when points failed (the page is written once every point is done). */
  html: string | null;
  json: string;
}

/** The folder's lock: one sweep writes a folder at a time (a stale lock of a dead process is taken over). */
function lockFolder(dir: string): () => void {
  const file = join(dir, 'sweep.lock');
  const me = `${hostname()} ${process.pid}`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, me + '\n');
      closeSync(fd);
      // Ctrl-C / SIGTERM removes the lock with the temporary files (util/temp-files.ts).
      registerTemp(file);
      return () => {
        releaseTemp(file);
        rmSync(file, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const [host, pidText] = readFileSync(file, 'utf8').trim().split(' ');
      const pid = Number(pidText);
      let alive = host !== hostname(); // another machine's lock: trust it
      if (host === hostname() && Number.isInteger(pid) && pid > 0) {
        try {
          process.kill(pid, 0);
          alive = true;
        } catch (err) {
          alive = (err as NodeJS.ErrnoException).code === 'EPERM';
        }
      }
      if (alive)
        throw located(
          `another sweep is writing this folder (${host} pid ${pidText}); wait for it or remove the lock`,
          {
            file,
          },
        );
      rmSync(file, { force: true });
    }
  }
  throw located('cannot lock the output folder', { file });
}

/** sweep.json: the plan as data (deterministic: no dates, no absolute paths). */
export function planJson(plan: SweepPlan): string {
  const s = plan.spec;
  return (
    JSON.stringify(
      {
        sweep: s.name,
        description: s.description,
        mode: s.mode,
        imcsim: plan.version,
        workload:
          plan.workload.kind === 'network'
            ? {
                kind: 'network',
                network: plan.workload.network.name,
                hash: plan.workload.hash,
                rates: plan.workload.rates,
                samples: plan.workload.samples,
                seed: plan.workload.seed,
              }
            : plan.workload.kind === 'model'
              ? {
                  kind: 'model',
                  model: plan.workloadPath,
                  hash: plan.workload.hash,
                  dataset: plan.workload.dataset,
                  split: plan.workload.split,
                  samples: plan.workload.samples,
                  seed: plan.workload.seed,
                }
              : {
                  kind: 'trace',
                  trace: plan.workloadPath,
                  hash: plan.workload.hash,
                  samples: plan.workload.samples,
                },
        axes: plan.axes,
        metrics: plan.metrics,
        columns: plan.columns,
        points: plan.points.map((p) => ({ id: p.id, ...p.values })),
      },
      null,
      2,
    ) + '\n'
  );
}

export function csvLineOf(plan: SweepPlan, p: SweepPoint, metrics: PointMetrics): string {
  const axisCols = plan.columns.slice(1, plan.columns.length - plan.metrics.length);
  return formatCsvLine([
    p.id,
    ...axisCols.map((c) => p.values[c] ?? null),
    ...plan.metrics.map((m) => metrics[m] ?? null),
  ]);
}

async function runLocal(
  plan: SweepPlan,
  pending: SweepPoint[],
  exec: Executor,
  cacheDir: string,
  onResult: (p: SweepPoint, m: PointMetrics) => void,
  onFailure: (f: PointFailure) => void,
  onTrace: () => void,
): Promise<void> {
  // Traces first, each once (the points of one algorithm point share it), then the points.
  const needed = new Map<string, NonNullable<SweepPoint['task']['artifact']>>();
  for (const p of pending) {
    const a = p.task.artifact;
    if (a && !needed.has(a.key) && !existsSync(artifactPath(cacheDir, a.key))) needed.set(a.key, a);
  }
  const broken = new Map<string, { message: string; input: boolean }>();
  await mapLimit([...needed.values()], exec.threads, async (a) => {
    const o = await exec.run({ kind: 'artifact', task: a, cacheDir });
    if (!o.ok) broken.set(a.key, o);
    onTrace();
  });
  const runnable: SweepPoint[] = [];
  for (const p of pending) {
    const b = p.task.artifact ? broken.get(p.task.artifact.key) : undefined;
    if (b)
      onFailure({
        id: p.id,
        index: p.index,
        message: `making its trace failed: ${b.message}`,
        input: b.input,
      });
    else runnable.push(p);
  }
  await mapLimit(runnable, exec.threads, async (p) => {
    const o = await exec.run({ kind: 'point', task: p.task, cacheDir });
    if (o.ok) onResult(p, o.value as PointMetrics);
    else onFailure({ id: p.id, index: p.index, message: o.message, input: o.input });
  });
}

/** Runs (or resumes) a planned sweep into `opts.out`. */
export async function runSweep(plan: SweepPlan, opts: SweepRunOptions): Promise<SweepOutcome> {
  const out = resolve(opts.out);
  mkdirSync(out, { recursive: true });
  const unlock = lockFolder(out);
  const csvPath = join(out, 'sweep.csv');
  const htmlPath = join(out, 'sweep.html');
  const jsonPath = join(out, 'sweep.json');
  const cacheDir = opts.cacheDir ?? join(out, 'traces');
  let csv: SweepCsv | undefined;
  try {
    csv = SweepCsv.open(csvPath, plan.columns);
    const r = csv.report;
    if (r.tornBytes)
      opts.onMessage?.(`sweep.csv: cut off a torn last line (${r.tornBytes} bytes) from an interrupted run`);
    if (r.badLines) opts.onMessage?.(`sweep.csv: ${r.badLines} unreadable lines will be dropped`);
    if (r.duplicates) opts.onMessage?.(`sweep.csv: ${r.duplicates} duplicate rows will be dropped`);
    writeFileAtomic(jsonPath, planJson(plan));

    const pending = plan.points.filter((p) => !csv!.rows.has(p.id));
    const total = plan.points.length;
    const resumed = total - pending.length;
    let done = resumed;
    const failed: PointFailure[] = [];
    let phase: SweepProgress['phase'] = 'points';
    const progress = () => opts.onProgress?.({ done, total, failed: failed.length, phase });
    const onResult = (p: SweepPoint, m: PointMetrics) => {
      csv!.append(p.id, csvLineOf(plan, p, m));
      done++;
      phase = 'points';
      progress();
    };
    const onFailure = (f: PointFailure) => {
      failed.push(f);
      progress();
    };
    progress();
    if (pending.length > 0) {
      if (opts.queue) {
        await runQueued(
          pending,
          {
            ...opts.queue,
            onMessage: opts.queue.onMessage ?? opts.onMessage,
            recorded: plan.points.filter((p) => csv!.rows.has(p.id)).map((p) => p.id),
          },
          onResult,
          onFailure,
        );
      } else {
        const exec = opts.executor ?? createExecutor(opts.workers ?? defaultWorkers());
        try {
          if (pending.some((p) => p.task.artifact)) {
            phase = 'traces';
            progress();
          }
          await runLocal(plan, pending, exec, cacheDir, onResult, onFailure, progress);
        } finally {
          if (!opts.executor) await exec.close();
        }
      }
    }
    failed.sort((a, b) => a.index - b.index);
    let html: string | null = null;
    if (failed.length === 0) {
      csv.finalize(plan.points.map((p) => p.id));
      writeFileAtomic(htmlPath, await sweepHtml(plan, rowsFromCsv(plan, csv.rows)));
      html = htmlPath;
    }
    return { total, resumed, ran: done - resumed, failed, csv: csvPath, html, json: jsonPath };
  } finally {
    csv?.close();
    unlock();
  }
}
