import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * scripts/test-setup.mjs (the first step of `npm test`) on fake machines: a fake root (IMCSIM_SETUP_ROOT)
 * with or without the packages' files, a PATH holding only a fake apt-get that logs its calls (and, when
 * asked, "installs" by creating the files), and a fake user id (IMCSIM_SETUP_UID).
 */
const FILES = [
  'usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz',
  'usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz',
  'usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz',
  'usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz',
  'usr/bin/redis-server',
  'usr/bin/chromium',
];

function machine(opts: { installed: string[]; apt: 'none' | 'logs' | 'installs' | 'fails' }) {
  const dir = mkdtempSync(join(tmpdir(), 'imcsim-setup-'));
  const root = join(dir, 'root');
  const bin = join(dir, 'bin');
  const log = join(dir, 'apt.log');
  mkdirSync(root);
  mkdirSync(bin);
  const put = (f: string) => {
    mkdirSync(dirname(join(root, f)), { recursive: true });
    writeFileSync(join(root, f), '#!/bin/sh\n');
    chmodSync(join(root, f), 0o755);
  };
  for (const f of FILES) if (opts.installed.some((p) => f.includes(p))) put(f);
  if (opts.apt !== 'none') {
    const install =
      opts.apt === 'installs'
        ? FILES.map(
            (f) =>
              `mkdir -p "${dirname(join(root, f))}"; printf '#!/bin/sh\\n' > "${join(root, f)}"; chmod 755 "${join(root, f)}"`,
          ).join('\n')
        : '';
    writeFileSync(
      join(bin, 'apt-get'),
      `#!/bin/sh\nPATH=/usr/bin:/bin\necho "$*" >> "${log}"\n${opts.apt === 'fails' ? 'echo "E: Unable to locate package" >&2; exit 100\n' : ''}` +
        `if [ "$1" = install ]; then\n${install}\nfi\nexit 0\n`,
    );
    chmodSync(join(bin, 'apt-get'), 0o755);
  }
  const run = (uid: number) => {
    const env: Record<string, string> = {
      PATH: bin,
      IMCSIM_SETUP_ROOT: root,
      IMCSIM_SETUP_UID: String(uid),
      HOME: dir,
    };
    const r = spawnSync(process.execPath, ['scripts/test-setup.mjs'], { env, encoding: 'utf8' });
    return {
      code: r.status,
      out: r.stdout,
      err: r.stderr,
      apt: existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [],
    };
  };
  return { run };
}

describe('npm test set-up (scripts/test-setup.mjs)', () => {
  it('everything installed: exits 0 at once, prints nothing, never calls apt-get', () => {
    const r = machine({ installed: ['fashion-mnist', 'redis', 'chromium'], apt: 'logs' }).run(0);
    expect(r).toEqual({ code: 0, out: '', err: '', apt: [] });
  });

  it('not root: one message naming the exact command for the missing packages only, exit code 1', () => {
    const r = machine({ installed: ['chromium'], apt: 'logs' }).run(1000);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.apt).toEqual([]);
    expect(r.err.match(/imcsim test setup:/g)).toHaveLength(1);
    expect(r.err).toContain(
      'sudo apt-get update && sudo apt-get install -y dataset-fashion-mnist redis-server\n',
    );
    expect(r.err).not.toMatch(/chromium:/);
  });

  it('no apt-get: one message naming what to install, exit code 1', () => {
    const r = machine({ installed: [], apt: 'none' }).run(0);
    expect(r.code).toBe(1);
    expect(r.err.match(/imcsim test setup:/g)).toHaveLength(1);
    expect(r.err).toContain('no apt-get');
    for (const p of ['dataset-fashion-mnist', 'redis-server', 'chromium'])
      expect(r.err).toContain(`  ${p}: `);
  });

  it('root with apt-get: apt-get update once, install once with exactly the missing packages', () => {
    const m = machine({ installed: ['redis'], apt: 'installs' });
    const r = m.run(0);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.apt).toEqual(['update -qq', 'install -y -qq dataset-fashion-mnist chromium']);
    // Idempotent: a second run finds everything and calls nothing more.
    expect(m.run(0)).toMatchObject({ code: 0, out: '', err: '' });
    expect(m.run(0).apt).toHaveLength(2);
  });

  it('apt-get fails: one message with its last lines and the command, exit code 1', () => {
    const r = machine({ installed: [], apt: 'fails' }).run(0);
    expect(r.code).toBe(1);
    expect(r.apt).toEqual(['update -qq']);
    expect(r.err.match(/imcsim test setup:/g)).toHaveLength(1);
    expect(r.err).toContain('E: Unable to locate package');
    expect(r.err).toContain('sudo apt-get install -y dataset-fashion-mnist redis-server chromium');
  });
});
