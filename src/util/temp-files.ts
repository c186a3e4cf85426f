/**
 * Temporary files (`<out>.tmp-<pid>`) that outlive one synchronous call (a trace being streamed, a NIRData
 * file being filled) are registered here, so Ctrl-C (SIGINT) or SIGTERM removes them before the process
 * exits; and a temporary file left by a process that was killed outright (SIGKILL, power loss) is removed
 * by the next writer of the same path (its pid is no longer running).
 */
import { readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const live = new Set<string>();

export function registerTemp(path: string): void {
  live.add(path);
}

export function releaseTemp(path: string): void {
  live.delete(path);
}

/** Removes every registered temporary file (synchronously; safe to call from a signal handler). */
export function removeTemps(): number {
  let n = 0;
  for (const p of live) {
    try {
      rmSync(p, { force: true });
      n++;
    } catch {
      // Best effort: the process is exiting.
    }
  }
  live.clear();
  return n;
}

const EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

/**
 * The CLI's signal handling: on SIGINT or SIGTERM remove the temporary files, say so on stderr, exit
 * 130 / 143. A command with its own graceful stop (the sweep worker) listens too: then this does nothing
 * and that command decides.
 */
export function installSignalCleanup(err: (s: string) => void): () => void {
  const handler = (sig: NodeJS.Signals) => {
    if (process.listenerCount(sig) > 1) return;
    const n = removeTemps();
    err(`imcsim: interrupted (${sig})${n ? `; removed ${n} temporary file${n > 1 ? 's' : ''}` : ''}`);
    process.exit(EXIT[sig] ?? 1);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes `<path>.tmp-<pid>` files beside path whose process is gone (left by a killed writer). */
export function removeStaleTemps(path: string): void {
  const dir = dirname(path);
  const prefix = `${basename(path)}.tmp-`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !running(pid))
      rmSync(join(dir, name), { force: true });
  }
}
