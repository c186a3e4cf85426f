/**
 * The packed package, installed into a scratch project as a user would, finds its own presets by name
 * (issue 16, "Presets by name"). Uses dist/ as built (`npx tsc -p tsconfig.build.json` first) and the npm
 * cache where it can (`npm install --prefer-offline`; a fresh machine fetches what its cache lacks from the registry).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve('.');
const scratch = mkdtempSync(join(tmpdir(), 'imcsim-installed-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function npm(args: string[], cwd: string): string {
  return execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('the installed package', () => {
  it('runs an estimate by preset names and exports its presets', () => {
    npm(['pack', '--ignore-scripts', '--silent', '--pack-destination', scratch, root], root);
    const tarball = readdirSync(scratch).find((f) => f.endsWith('.tgz'));
    expect(tarball).toBeDefined();
    const proj = join(scratch, 'proj');
    mkdirSync(proj);
    writeFileSync(join(proj, 'package.json'), '{"name":"scratch","version":"1.0.0","private":true}\n');
    npm(
      ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', join(scratch, tarball!)],
      proj,
    );
    const bin = join(proj, 'node_modules', '.bin', 'imcsim');
    const r = spawnSync(bin, ['estimate', '--arch', 'default', '--network', 'vgg9-cifar10', '--json'], {
      cwd: proj,
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // Oracle: the same estimate from the repository's own files by path.
    const here = spawnSync(
      process.execPath,
      [
        'bin/imcsim.js',
        'estimate',
        '--arch',
        'arch-configs/default.yaml',
        '--network',
        'models/vgg9-cifar10',
        '--json',
      ],
      { cwd: root, encoding: 'utf8' },
    );
    expect(r.stdout).toBe(here.stdout);
    // No absolute path of the install in the output.
    expect(r.stdout).not.toContain(proj);

    const presets = spawnSync(bin, ['presets', '--json'], { cwd: proj, encoding: 'utf8' });
    expect(presets.status).toBe(0);
    expect(JSON.parse(presets.stdout).map((p: { name: string }) => p.name)).toContain('mnist-convnet-t4');

    // The exports map lets a program read the presets and package.json (was ERR_PACKAGE_PATH_NOT_EXPORTED).
    const resolved = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "import { createRequire } from 'node:module'; const r = createRequire(import.meta.url + '/'); " +
          "for (const s of ['imcsim/package.json', 'imcsim/arch-configs/default.yaml', 'imcsim/models/vgg9-cifar10/network.yaml']) console.log(r.resolve(s));",
      ],
      { cwd: proj, encoding: 'utf8' },
    );
    expect(resolved.trim().split('\n')).toEqual([
      join(proj, 'node_modules/imcsim/package.json'),
      join(proj, 'node_modules/imcsim/arch-configs/default.yaml'),
      join(proj, 'node_modules/imcsim/models/vgg9-cifar10/network.yaml'),
    ]);
  }, 120_000);
});
