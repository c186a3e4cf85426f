/** Shared pieces of the sweep tests: temporary folders, spec files, a real redis-server. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ARCH = join(ROOT, 'arch-configs', 'default.yaml');
export const MNIST_NET = join(ROOT, 'models', 'mnist-convnet');
export const MNIST_MODEL = join(ROOT, 'models', 'mnist-convnet-t4');
export const BIN = join(ROOT, 'bin', 'imcsim.js');

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `imcsim-sweep-${prefix}-`));
}

/** Writes a spec (an object, or YAML text) into dir/name and returns its path. */
export function writeSpec(dir: string, spec: object | string, name = 'spec.yaml'): string {
  const file = join(dir, name);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, typeof spec === 'string' ? spec : stringify(spec));
  return file;
}

/** A small analytic sweep of the MNIST convnet: 3 × 2 × 2 = 12 points. */
export function analyticSpec(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'tiny-analytic',
    mode: 'analytic',
    arch: ARCH,
    workload: { network: MNIST_NET, rate: 0.2 },
    axes: { 'adc.bits': [3, 4, 5], 'adc.columns_per_adc': [4, 8], 'crossbar.rows_parallel': [8, 16] },
    ...extra,
  };
}

/** A small cycle-level sweep: synthetic MNIST-convnet traces (few samples), 2 × 2 hardware points. */
export function cycleSpec(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'tiny-cycle',
    mode: 'cycle',
    arch: ARCH,
    workload: { network: MNIST_NET, rate: 0.15, samples: 3, seed: 7 },
    axes: { 'adc.bits': [4, 6], 'noc.flit_bits': [32, 64] },
    algorithm: { timesteps: [2] },
    ...extra,
  };
}

/** A free TCP port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface RedisServer {
  port: number;
  url: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

const REDIS_SERVER = '/usr/bin/redis-server';

/**
 * Starts a real redis-server on a free loopback port (no persistence) in a temporary folder. Fails (never
 * skips) when redis-server is not installed: `npm test` installs it (scripts/test-setup.mjs).
 */
export async function startRedis(): Promise<RedisServer> {
  const bin = existsSync(REDIS_SERVER) ? REDIS_SERVER : 'redis-server';
  const dir = tempDir('redis');
  const port = await freePort();
  const proc = spawn(
    bin,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let log = '';
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`redis-server did not start within 10 s:\n${log}`)),
      10_000,
    );
    proc.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        e.code === 'ENOENT'
          ? new Error(
              'redis-server is not installed: install it (apt-get install redis-server); the sweep queue tests need a real server',
            )
          : e,
      );
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code}):\n${log}`));
    });
    proc.stdout!.on('data', (d: Buffer) => {
      log += d.toString();
      if (log.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  });
  await ready;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    proc,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGKILL');
      }),
  };
}

export interface Spawned {
  proc: ChildProcess;
  out: () => string;
  err: () => string;
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
  /** Resolves when stdout contains text matching re (rejects after timeoutMs). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

/** Runs `node bin/imcsim.js ...args` (the built CLI) and collects its output. */
export function imcsim(args: string[], cwd = ROOT): Spawned {
  const proc = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters: Array<{ re: RegExp; resolve: (m: RegExpMatchArray) => void }> = [];
  const check = () => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const m = out.match(waiters[i].re);
      if (m) {
        waiters[i].resolve(m);
        waiters.splice(i, 1);
      }
    }
  };
  proc.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    check();
  });
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | string>((resolve) =>
    proc.on('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return {
    proc,
    out: () => out,
    err: () => err,
    exited,
    waitFor: (re, timeoutMs = 15_000) =>
      new Promise((resolve, reject) => {
        const m = out.match(re);
        if (m) return resolve(m);
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${re} in output:\n${out}\n${err}`)),
          timeoutMs,
        );
        waiters.push({
          re,
          resolve: (x) => {
            clearTimeout(timer);
            resolve(x);
          },
        });
      }),
  };
}
