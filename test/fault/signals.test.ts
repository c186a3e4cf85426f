/**
 * Fault test (issue 18): SIGINT and SIGKILL during `trace` (real child processes of bin/imcsim.js) leave
 * no file under the final name; SIGINT removes the temporary file at once (exit 130), and after SIGKILL
 * the next run to the same path removes the orphan and completes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = join(process.cwd(), 'bin', 'imcsim.js');
const NET = join(process.cwd(), 'models', 'mnist-convnet');
const dir = mkdtempSync(join(tmpdir(), 'imcsim-fault-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const temps = () => readdirSync(dir).filter((f) => f.includes('.tmp-'));
const args = (out: string, samples: number) => [
  BIN,
  'trace',
  '--synthetic',
  '--network',
  NET,
  '--rate',
  '0.2',
  '--samples',
  String(samples),
  '--out',
  out,
];

/** Starts a long trace, waits for its temporary file, sends sig; resolves with the exit code / signal. */
async function interrupt(
  out: string,
  sig: NodeJS.Signals,
): Promise<{ code: number | null; signal: string | null; err: string }> {
  const child = spawn(process.execPath, args(out, 5_000_000), { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const done = new Promise<{ code: number | null; signal: string | null }>((res) =>
    child.on('exit', (code, signal) => res({ code, signal })),
  );
  const t0 = Date.now();
  while (!temps().some((f) => f.startsWith('t-')) && Date.now() - t0 < 40_000)
    await new Promise((r) => setTimeout(r, 50));
  expect(temps().length).toBe(1);
  child.kill(sig);
  const r = await done;
  return { ...r, err };
}

describe('signals during trace', () => {
  it('SIGINT: exit 130, the temporary file removed, no final file', async () => {
    const out = join(dir, 't-int.trace');
    const r = await interrupt(out, 'SIGINT');
    expect(r.code).toBe(130);
    expect(r.err).toMatch(/imcsim: interrupted \(SIGINT\); removed 1 temporary file/);
    expect(existsSync(out)).toBe(false);
    expect(temps()).toEqual([]);
  }, 60_000);
  it('SIGKILL: no final file; the rerun removes the orphan temporary file and completes', async () => {
    const out = join(dir, 't-kill.trace');
    const r = await interrupt(out, 'SIGKILL');
    expect(r.signal).toBe('SIGKILL');
    expect(existsSync(out)).toBe(false);
    expect(temps()).toHaveLength(1); // nothing can run on SIGKILL
    const again = spawnSync(process.execPath, args(out, 3), { encoding: 'utf8' });
    expect(again.status).toBe(0);
    expect(existsSync(out)).toBe(true);
    expect(temps()).toEqual([]);
  }, 60_000);
});
