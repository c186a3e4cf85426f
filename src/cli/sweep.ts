/** Commands of design-space sweeps: `sweep` (local threads or a Redis queue) and `worker` (Redis). */
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { located } from '../util/errors.js';
import { loadSweepSpec } from '../sweep/spec.js';
import { planSweep } from '../sweep/plan.js';
import { createExecutor, defaultWorkers } from '../sweep/pool.js';
import {
  DEFAULT_QUEUE_NAME,
  QueueUnavailableError,
  parseRedisUrl,
  startQueueWorker,
} from '../sweep/queue.js';
import { runSweep, type SweepProgress } from '../sweep/run.js';
import { OperationalError, parsePositiveInt, processIo, type Io } from './common.js';
import { checkOutputDir } from '../util/fs-errors.js';
import { etaText, progressEnabled } from './progress.js';

function parseCount(flag: string, min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isInteger(n) || n < min)
      throw located(`${flag} must be an integer ≥ ${min}`, { path: flag, found: JSON.stringify(v) });
    return n;
  };
}

/** Exit code 1 with a clear message (not an internal error): Redis unreachable or lost, points failed. */
function operationalFailure(lines: string[]): never {
  throw new OperationalError(lines);
}

/** The sweep's bar: on stderr like every imcsim bar; only on a terminal (stdout and stderr), not with IMCSIM_QUIET. */
function progressBar(io: Io): { update: (p: SweepProgress) => void; stop: () => void } {
  const tty = io === processIo && Boolean(process.stdout.isTTY) && progressEnabled();
  if (!tty) return { update: () => undefined, stop: () => undefined };
  let bar: cliProgress.SingleBar | null = null;
  let t0 = 0;
  let done0 = 0;
  return {
    update: (p) => {
      if (!bar) {
        // A resumed sweep starts with points already done: the rate counts this session's points only.
        t0 = performance.now();
        done0 = p.done;
        bar = new cliProgress.SingleBar(
          {
            format: 'sweep [{bar}] {value}/{total} points | {phase} | {failed} failed | eta {eta_text}',
            hideCursor: true,
            clearOnComplete: true,
            stream: process.stderr,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(p.total, p.done, { phase: '', failed: 0, eta_text: etaText(0, 0, 0) });
      }
      bar.update(p.done, {
        phase: p.phase === 'traces' ? 'making traces' : 'running points',
        failed: p.failed,
        eta_text: etaText(p.done - done0, p.total - done0, (performance.now() - t0) / 1000),
      });
    },
    stop: () => {
      bar?.stop();
      bar = null;
    },
  };
}

export function registerSweepCommands(program: Command, io: Io): void {
  program
    .command('sweep')
    .description(
      'Run a design-space sweep (arch axes × policy, θ, T) on local worker threads or Redis workers: sweep.csv, sweep.html',
    )
    .argument('<spec>', 'sweep spec (YAML; docs/SWEEPS.md)')
    .requiredOption(
      '--out <dir>',
      'output folder (sweep.csv, sweep.html, sweep.json, traces/); re-running resumes',
    )
    .option(
      '--workers <N>',
      'local worker threads (default: one per core; 0 runs the points in this thread)',
      parseCount('--workers', 0),
    )
    .option('--queue <url>', 'run the points on Redis workers (imcsim worker): redis://HOST:PORT')
    .option('--queue-name <name>', 'BullMQ queue name', DEFAULT_QUEUE_NAME)
    .option('--list', 'print the points (id and axis values) and exit')
    .action(
      async (
        specFile: string,
        o: { out: string; workers?: number; queue?: string; queueName: string; list?: boolean },
      ) => {
        const target = o.queue !== undefined ? parseRedisUrl(o.queue) : undefined;
        if (target && o.workers !== undefined)
          throw located('--workers is for local runs; Redis workers set their own --concurrency', {
            path: '--workers',
          });
        const spec = loadSweepSpec(specFile);
        const plan = await planSweep(spec);
        if (o.list) {
          const cols = plan.columns.slice(0, plan.columns.length - plan.metrics.length);
          io.out(cols.join(','));
          for (const p of plan.points)
            io.out([p.id, ...cols.slice(1).map((c) => p.values[c] ?? '')].join(','));
          return;
        }
        checkOutputDir(o.out);
        const bar = progressBar(io);
        const started = performance.now();
        let outcome;
        try {
          outcome = await runSweep(plan, {
            out: o.out,
            workers: o.workers,
            ...(target ? { queue: { target, name: o.queueName } } : {}),
            onProgress: bar.update,
            onMessage: (line) => io.out(line),
          });
        } catch (e) {
          bar.stop();
          if (e instanceof QueueUnavailableError) {
            operationalFailure([e.message]);
          }
          throw e;
        }
        bar.stop();
        const secs = ((performance.now() - started) / 1000).toFixed(1);
        const nw = o.workers ?? defaultWorkers();
        const where = target
          ? `Redis workers (${target.display})`
          : nw === 0
            ? 'this thread'
            : `${nw} local worker thread${nw === 1 ? '' : 's'}`;
        io.out(
          `sweep ${spec.name}: ${outcome.total} points, ${spec.mode} mode — ${outcome.ran} run on ${where}, ${outcome.resumed} already done, ${outcome.failed.length} failed (${secs} s)`,
        );
        if (outcome.failed.length) {
          const byId = new Map(plan.points.map((p) => [p.id, p]));
          const lines = outcome.failed.map((f) => {
            const vals = Object.entries(byId.get(f.id)?.values ?? {})
              .filter(([, v]) => v !== null)
              .map(([k, v]) => `${k}=${String(v)}`)
              .join(', ');
            return `point ${f.index} (${f.id}; ${vals}) failed: ${f.message}`;
          });
          lines.push(
            `${outcome.failed.length} of ${outcome.total} points failed; the others are in ${relative(process.cwd(), outcome.csv) || outcome.csv} (re-run the same command to retry only the failed points)`,
          );
          if (outcome.failed.every((f) => f.input)) {
            for (const l of lines) io.err(`imcsim: error: ${l}`);
            throw located(`sweep ${spec.name}: points failed on bad input`);
          }
          operationalFailure(lines);
        }
        io.out(`wrote ${outcome.csv}, ${outcome.html}`);
      },
    );

  program
    .command('worker')
    .description('Process sweep points from a Redis queue (run on any number of machines; Ctrl-C stops)')
    .requiredOption('--queue <url>', 'Redis server: redis://HOST:PORT')
    .option('--queue-name <name>', 'BullMQ queue name', DEFAULT_QUEUE_NAME)
    .option(
      '--concurrency <N>',
      'points at once, one worker thread each (default: one per core)',
      parsePositiveInt('--concurrency'),
    )
    .option('--cache <dir>', 'where traces made here are kept (default: $TMPDIR/imcsim-sweep-cache)')
    .option(
      '--lock-duration <ms>',
      'job lock: a point of a worker that died runs elsewhere after at most this long (default 30000)',
      parsePositiveInt('--lock-duration'),
    )
    .option(
      '--stalled-interval <ms>',
      'how often this worker looks for points of dead workers (default 30000)',
      parsePositiveInt('--stalled-interval'),
    )
    .action(
      async (o: {
        queue: string;
        queueName: string;
        concurrency?: number;
        cache?: string;
        lockDuration?: number;
        stalledInterval?: number;
      }) => {
        const target = parseRedisUrl(o.queue);
        const concurrency = o.concurrency ?? defaultWorkers();
        const exec = createExecutor(concurrency);
        let w;
        try {
          w = await startQueueWorker(
            {
              target,
              name: o.queueName,
              concurrency,
              cacheDir: o.cache ?? join(tmpdir(), 'imcsim-sweep-cache'),
              lockDurationMs: o.lockDuration,
              stalledIntervalMs: o.stalledInterval,
              onMessage: (line) => io.out(line),
            },
            exec,
          );
        } catch (e) {
          await exec.close();
          if (e instanceof QueueUnavailableError) {
            operationalFailure([e.message]);
          }
          throw e;
        }
        const stop = () => {
          io.out('worker: stopping after the points in progress');
          void w.close();
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        try {
          await w.finished;
          io.out('worker: stopped');
        } catch (e) {
          if (e instanceof QueueUnavailableError) operationalFailure([e.message]);
          else throw e;
        } finally {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
        }
      },
    );
}
