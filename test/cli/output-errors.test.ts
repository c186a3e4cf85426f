/**
 * Output failures are the user's or the environment's, never "internal error … This is a bug" (issue 18,
 * item 6 of the report / item 5 of the task): one `imcsim: error:` line naming the path, exit 2 for a
 * path misused (a file where a folder is expected, or the reverse), exit 1 for a folder that refuses the
 * write. The read-only cases run bin/imcsim.js as an unprivileged user (root ignores permissions).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError, OperationalError } from '../../src/config/errors.js';
import { generateSyntheticTrace } from '../../src/trace/synthetic.js';
import { loadNetwork } from '../../src/network/load.js';
import { fileSystemError } from '../../src/util/fs-errors.js';
import { writeFileAtomic } from '../../src/util/atomic.js';
import { runCli } from '../helpers/cli.js';
import { stringify } from 'yaml';

const ROOT = process.cwd();
const BIN = join(ROOT, 'bin', 'imcsim.js');
const ARCH = join(ROOT, 'arch-configs', 'default.yaml');
const NET = join(ROOT, 'models', 'mnist-convnet');
const dir = mkdtempSync(join(tmpdir(), 'imcsim-outerr-'));
const aFile = join(dir, 'a-file');
const aDir = join(dir, 'a-dir');
const ro = join(dir, 'read-only');
const trace = join(dir, 'ok.trace');
const run = join(dir, 'run');
afterAll(() => {
  chmodSync(ro, 0o755);
  rmSync(dir, { recursive: true, force: true });
});

beforeAll(async () => {
  writeFileSync(aFile, 'x');
  mkdirSync(aDir);
  mkdirSync(ro);
  chmodSync(ro, 0o555);
  chmodSync(dir, 0o755);
  const net = loadNetwork(NET);
  await generateSyntheticTrace({
    network: net.spec,
    shapes: net.shapes,
    rates: 0.1,
    samples: 2,
    seed: 1,
    timesteps: 2,
    out: trace,
  });
  expect((await runCli('simulate', '--arch', ARCH, '--trace', trace, '--out', run)).code).toBe(0);
});

function oneLine(r: { code: number; err: string }, code: number, pattern: RegExp): void {
  expect(r.err).toMatch(pattern);
  expect(r.err).not.toMatch(/internal error|This is a bug|\n\s+at /);
  expect(r.err.trim().split('\n')).toHaveLength(1);
  expect(r.code).toBe(code);
}

describe('a path misused is bad input (exit 2), named, before the work', () => {
  it('--out an existing file where a folder is expected', async () => {
    oneLine(
      await runCli('simulate', '--arch', ARCH, '--trace', trace, '--out', aFile),
      2,
      /a-file: --out: is a file; a folder is expected/,
    );
    oneLine(await runCli('init', '--network', NET, '--out', aFile), 2, /a-file: --out: is a file/);
    oneLine(
      await runCli('import', 'test/fixtures/nir/cnn_sinabs.nir', '--out', aFile),
      2,
      /a-file: --out: is a file/,
    );
    oneLine(await runCli('compare', run, run, '--out', aFile), 2, /a-file: --out: is a file/);
    const spec = join(dir, 'sweep.yaml');
    writeFileSync(
      spec,
      stringify({
        name: 's',
        mode: 'analytic',
        arch: ARCH,
        workload: { network: NET },
        axes: { 'adc.bits': [4] },
      }),
    );
    oneLine(await runCli('sweep', spec, '--out', aFile), 2, /a-file: --out: is a file/);
  });
  it('--out an existing folder where a file is expected', async () => {
    oneLine(
      await runCli(
        'trace',
        '--synthetic',
        '--network',
        NET,
        '--rate',
        '0.1',
        '--samples',
        '2',
        '--out',
        aDir,
      ),
      2,
      /a-dir: --out: is a directory; a file is expected/,
    );
    oneLine(await runCli('trace', 'export', trace, '--nirdata', aDir), 2, /a-dir: --nirdata: is a directory/);
    oneLine(
      await runCli('export-nir', '--model', 'models/mnist-convnet-t4', '--out', aDir),
      2,
      /a-dir: --out: is a directory/,
    );
    oneLine(await runCli('config', 'docs', '--out', aDir), 2, /a-dir: cannot write: is a directory/);
  });
  it('a file in the middle of the path', async () => {
    oneLine(
      await runCli(
        'trace',
        '--synthetic',
        '--network',
        NET,
        '--rate',
        '0.1',
        '--samples',
        '2',
        '--out',
        join(aFile, 'x.trace'),
      ),
      2,
      /a-file: cannot create the folder: already exists and is not a directory/,
    );
    oneLine(await runCli('report', aFile), 2, /a-file/);
  });
  it('trace info on a directory', async () => {
    oneLine(await runCli('trace', 'info', aDir), 2, /a-dir: cannot read trace: is a directory/);
  });
  it('nothing is left behind: no temporary files in the folders used', () => {
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    expect(readdirSync(aDir)).toEqual([]);
  });
});

describe('a folder that refuses the write is an environment error (exit 1)', () => {
  // Root ignores file modes: drop to the unprivileged "nobody" for the child process.
  const asUser = (args: string[]) => {
    const cmd =
      process.getuid?.() === 0
        ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath]
        : [process.execPath];
    const r = spawnSync(cmd[0], [...cmd.slice(1), BIN, ...args], {
      encoding: 'utf8',
      env: { ...process.env, IMCSIM_QUIET: '1' },
    });
    return { code: r.status ?? -1, err: r.stderr };
  };
  it.each([
    [
      'trace',
      [
        'trace',
        '--synthetic',
        '--network',
        NET,
        '--rate',
        '0.1',
        '--samples',
        '2',
        '--out',
        join(ro, 'x.trace'),
      ],
      /read-only\/x\.trace: cannot write: permission denied \(EACCES; the folder .*read-only is not writable\)/,
    ],
    [
      'simulate',
      ['simulate', '--arch', ARCH, '--trace', trace, '--out', join(ro, 'run')],
      /read-only\/run: cannot write: permission denied \(EACCES/,
    ],
    [
      'export-nir',
      ['export-nir', '--model', join(ROOT, 'models/mnist-convnet-t4'), '--out', join(ro, 'm.nir')],
      /read-only\/m\.nir: cannot write: permission denied/,
    ],
  ])('%s into a read-only folder', (_name, args, pattern) => {
    const r = asUser(args as string[]);
    oneLine(r, 1, pattern as RegExp);
    expect(readdirSync(ro)).toEqual([]);
  });
});

describe('fileSystemError: errno → imcsim error (the mapping itself)', () => {
  const errno = (code: string, syscall: string, path: string, dest?: string) =>
    Object.assign(new Error(`${code}: x, ${syscall} '${path}'`), { code, syscall, path, dest });
  it('environment refusals are OperationalErrors naming the user path (no .tmp-<pid>)', () => {
    for (const code of ['EACCES', 'EROFS', 'ENOSPC', 'EDQUOT']) {
      const e = fileSystemError(errno(code, 'open', 'out/x.trace.tmp-123'));
      expect(e).toBeInstanceOf(OperationalError);
      expect(e!.message).toMatch(new RegExp(`^out/x\\.trace: cannot open: .*\\(${code}\\)$`));
    }
  });
  it('path misuse is an InputError; a failed rename names the destination', () => {
    const e = fileSystemError(errno('EISDIR', 'rename', 'o.tmp-9', 'o'));
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).file).toBe('o');
    expect(fileSystemError(errno('ENOTDIR', 'mkdir', 'f/x'))).toBeInstanceOf(InputError);
    expect(fileSystemError(new Error('plain'))).toBeUndefined();
    expect(fileSystemError(new RangeError('x'))).toBeUndefined();
  });
  it('writeFileAtomic throws the mapped error and leaves no temporary file', () => {
    expect(() => writeFileAtomic(aDir, 'x')).toThrow(InputError);
    expect(existsSync(`${aDir}.tmp-${process.pid}`)).toBe(false);
  });
});
