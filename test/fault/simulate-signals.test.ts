/**
 * Fault test (issue 18): SIGINT and SIGKILL during `simulate` (real child processes of bin/imcsim.js,
 * killed while the replay runs) leave no file in the run folder (no report under its final name, no
 * temporary file); a rerun to the same folder completes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = join(process.cwd(), 'bin', 'imcsim.js');
const ARCH = join(process.cwd(), 'arch-configs', 'default.yaml');
const dir = mkdtempSync(join(tmpdir(), 'imcsim-fault-sim-'));
const TRACE = join(dir, 'long.trace');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const files = (out: string) => (existsSync(out) ? readdirSync(out) : []);
const args = (out: string, samples: number) => [
  BIN,
  'simulate',
  '--arch',
  ARCH,
  '--trace',
  TRACE,
  '--samples',
  String(samples),
  '--out',
  out,
];

beforeAll(() => {
  // 4,000 samples replay in ~1.5 s after ~0.8 s of start-up; interrupt() checks the kill lands before the end.
  const r = spawnSync(
    process.execPath,
    [
      BIN,
      'trace',
      '--synthetic',
      '--network',
      'models/mnist-convnet',
      '--rate',
      '0.2',
      '--samples',
      '300',
      '--out',
      TRACE,
    ],
    { encoding: 'utf8' },
  );
  expect(r.status).toBe(0);
}, 60_000);

async function interrupt(
  out: string,
  sig: NodeJS.Signals,
): Promise<{ code: number | null; signal: string | null }> {
  const child = spawn(process.execPath, args(out, 4000), { stdio: 'ignore' });
  const done = new Promise<{ code: number | null; signal: string | null }>((res) =>
    child.on('exit', (code, signal) => res({ code, signal })),
  );
  await new Promise((r) => setTimeout(r, 1_200)); // past start-up (~0.8 s), inside the replay (~1.5 s)
  expect(child.exitCode).toBeNull();
  child.kill(sig);
  return done;
}

describe('signals during simulate', () => {
  for (const sig of ['SIGINT', 'SIGKILL'] as const) {
    it(`${sig}: nothing in the run folder (final or temporary); the rerun completes`, async () => {
      const out = join(dir, `run-${sig}`);
      const r = await interrupt(out, sig);
      if (sig === 'SIGKILL') expect(r.signal).toBe('SIGKILL');
      else expect(r.code === 130 || r.signal === 'SIGINT').toBe(true);
      expect(files(out)).toEqual([]);
      const again = spawnSync(process.execPath, args(out, 1), { encoding: 'utf8' });
      expect(again.status).toBe(0);
      expect(files(out).sort()).toEqual([
        'components.csv',
        'layers.csv',
        'report.html',
        'samples.csv',
        'summary.json',
        'timesteps.csv',
      ]);
    }, 60_000);
  }
});
