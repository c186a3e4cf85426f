/**
 * What the tool prints and writes, seen from outside: a reader that closes the pipe early ends the run
 * quietly; the demo and traces carry no absolute path of this machine.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../..');
const BIN = join(ROOT, 'bin', 'imcsim.js');
const scratch = mkdtempSync(join(tmpdir(), 'imcsim-pipes-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('a reader closing stdout early (`imcsim presets | head -1`)', () => {
  it('exits 0 with nothing on stderr, no EPIPE stack trace', async () => {
    const child = spawn(process.execPath, [BIN, 'presets'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    // Like `head -1`: read the first chunk, then close the read end before the rest is written.
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((done) => child.on('close', (c) => done(c)));
    expect(stderr).not.toMatch(/EPIPE|Error|at /);
    expect(code).toBe(0);
  });
});

describe('no absolute paths of this machine in outputs', () => {
  it('the demo header names the bundled model and chip relative to the working directory', () => {
    const out = join(scratch, 'demo');
    const r = spawnSync(process.execPath, [BIN, 'demo', '--out', out, '--samples', '3'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status).toBe(0);
    const header = r.stdout.split('\n').slice(0, 2).join('\n');
    expect(header).toContain('model models/mnist-convnet-t4');
    expect(header).toContain('(arch-configs/default.yaml)');
    expect(header).not.toContain(ROOT);
    // The trace records where its data came from, without the install path.
    const trace = readFileSync(join(out, 'static', 'static.trace'));
    expect(trace.includes(Buffer.from(ROOT))).toBe(false);
    expect(trace.includes(Buffer.from('mnist@'))).toBe(true);
  });

  it('run from elsewhere, the bundled files are shown as <imcsim>/…', () => {
    const out = join(scratch, 'demo-elsewhere');
    const r = spawnSync(process.execPath, [BIN, 'demo', '--out', out, '--samples', '2'], { cwd: scratch, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('model <imcsim>/models/mnist-convnet-t4');
    expect(r.stdout.split('\n').slice(0, 2).join('\n')).not.toContain(ROOT);
  });
});
