/**
 * Fault test (issue 18): SIGINT and SIGKILL during `sweep` (a small local cycle-mode spec, points run on
 * the main thread) leave no temporary file and no final report (sweep.html); sweep.csv and sweep.json
 * are the resume journal by design, and hold only complete rows; a rerun resumes and completes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = join(process.cwd(), 'bin', 'imcsim.js');
const dir = mkdtempSync(join(tmpdir(), 'imcsim-fault-sweep-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SPEC = join(dir, 'spec.yaml');
writeFileSync(
  SPEC,
  [
    'name: fault',
    'mode: cycle',
    `arch: ${join(process.cwd(), 'arch-configs', 'default.yaml')}`,
    'workload:',
    `  network: ${join(process.cwd(), 'models', 'mnist-convnet')}`,
    '  rate: 0.2',
    '  samples: 3000',
    'axes:',
    '  crossbar.rows: [64, 128, 256]',
    '',
  ].join('\n'),
);
/** Every file under out, relative. */
const tree = (out: string): string[] =>
  existsSync(out)
    ? readdirSync(out, { recursive: true, encoding: 'utf8' }).filter((f) => !f.endsWith('traces'))
    : [];
const args = (out: string) => [BIN, 'sweep', SPEC, '--workers', '0', '--out', out];

describe('signals during sweep', () => {
  for (const sig of ['SIGINT', 'SIGKILL'] as const) {
    it(`${sig}: no temporary file, no sweep.html, complete journal rows; the rerun completes`, async () => {
      const out = join(dir, `sw-${sig}`);
      const child = spawn(process.execPath, args(out), { stdio: 'ignore' });
      const done = new Promise<{ code: number | null; signal: string | null }>((res) =>
        child.on('exit', (code, signal) => res({ code, signal })),
      );
      await new Promise((r) => setTimeout(r, 2_500)); // inside the first point (tracing 3,000 samples)
      expect(child.exitCode).toBeNull();
      child.kill(sig);
      const r = await done;
      if (sig === 'SIGKILL') expect(r.signal).toBe('SIGKILL');
      else expect(r.code).toBe(130);
      const left = tree(out);
      expect(left.filter((f) => f.includes('.tmp-'))).toEqual([]);
      expect(left).not.toContain('sweep.html');
      // SIGINT removes the folder's lock with the temporary files; after SIGKILL a stale lock may stay
      // (the next run takes it over: its pid is gone).
      if (sig === 'SIGINT') expect(left).not.toContain('sweep.lock');
      if (left.includes('sweep.csv')) {
        const lines = readFileSync(join(out, 'sweep.csv'), 'utf8').split('\n');
        expect(lines.at(-1)).toBe(''); // ends on a complete line
        const width = lines[0].split(',').length;
        for (const l of lines.slice(1, -1)) expect(l.split(',')).toHaveLength(width);
      }
      const again = spawnSync(process.execPath, args(out), { encoding: 'utf8' });
      expect(again.status).toBe(0);
      const csv = readFileSync(join(out, 'sweep.csv'), 'utf8').trim().split('\n');
      expect(csv).toHaveLength(1 + 3); // header + one row per crossbar.rows value
      expect(tree(out)).toContain('sweep.html');
      expect(tree(out).filter((f) => f.includes('.tmp-'))).toEqual([]);
    }, 120_000);
  }
});
