import { mkdtempSync, mkdirSync, readdirSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const noStack = (s: string) => expect(s).not.toMatch(/\n\s+at |internal error/);

describe('presets by name', () => {
  it('imcsim presets lists every bundled chip and model directory with kind, relative path, description', async () => {
    const r = await runCli('presets', '--json');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.out) as { name: string; kind: string; path: string; description: string }[];
    // Oracle: the folders on disk.
    const arch = readdirSync('arch-configs').filter((f) => f.endsWith('.yaml'));
    const models = readdirSync('models');
    expect(rows.map((p) => p.name).sort()).toEqual(
      [...arch.map((f) => f.replace(/\.yaml$/, '')), ...models].sort(),
    );
    const byName = new Map(rows.map((p) => [p.name, p]));
    expect(byName.get('default')).toMatchObject({ kind: 'arch', path: 'arch-configs/default.yaml' });
    expect(byName.get('vgg9-cifar10')).toMatchObject({ kind: 'network', path: 'models/vgg9-cifar10' });
    expect(byName.get('mnist-convnet-t4')).toMatchObject({ kind: 'model', path: 'models/mnist-convnet-t4' });
    for (const p of rows) {
      expect(p.description.length).toBeGreaterThan(0);
      expect(p.path.startsWith('/')).toBe(false);
    }
    const text = await runCli('presets');
    expect(text.out).toMatch(/^isaac-32nm\s+arch\s+arch-configs\/isaac-32nm\.yaml\s+ISAAC/m);
  });

  it('estimate by preset names prints what the same estimate by paths prints', async () => {
    const byName = await runCli('estimate', '--arch', 'isaac-32nm', '--network', 'vgg9-cifar10', '--json');
    const byPath = await runCli(
      'estimate',
      '--arch',
      'arch-configs/isaac-32nm.yaml',
      '--network',
      'models/vgg9-cifar10',
      '--json',
    );
    expect(byName.code).toBe(0);
    expect(byName.err).toBe('');
    expect(byName.out).toBe(byPath.out);
    expect(JSON.parse(byName.out).arch).toBe('isaac-32nm');
  });

  it('--model takes a trained preset by name', async () => {
    const r = await runCli('map', '--arch', 'spikesim-65nm', '--network', 'mnist-convnet-t4', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ arch: 'spikesim-65nm', network: 'mnist-convnet-t4' });
  });

  it('a path that exists wins over a preset of the same name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imcsim-preset-'));
    mkdirSync(join(dir, 'default'));
    copyFileSync('models/mnist-convnet/network.yaml', join(dir, 'default', 'network.yaml'));
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      // "default" is the bundled chip's name, but here it is a model directory on disk.
      const r = await runCli(
        'map',
        '--arch',
        join(cwd, 'arch-configs/default.yaml'),
        '--network',
        'default',
        '--json',
      );
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out).network).toBe('mnist-convnet');
    } finally {
      process.chdir(cwd);
    }
  });

  it('an unknown preset name: exit 2, a suggestion and the list, no stack trace', async () => {
    const r = await runCli('estimate', '--arch', 'defualt', '--network', 'vgg9-cifar10');
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      'imcsim: error: --arch: no such file and no bundled preset named "defualt" (did you mean "default"?) (expected a path or one of default, isaac-32nm, spikesim-65nm)\n',
    );
    const n = await runCli('map', '--network', 'vgg9');
    expect(n.code).toBe(2);
    expect(n.err).toContain('(did you mean "vgg9-cifar10"?)');
    expect(n.err).toContain('vgg16-cifar10');
    noStack(n.err);
  });

  it('--model refuses a topology-only preset by name', async () => {
    const r = await runCli('export-nir', '--model', 'vgg9-cifar10', '--out', join(tmpdir(), 'x.nir'));
    expect(r.code).toBe(2);
    expect(r.err).toContain('"vgg9-cifar10" is a topology without trained weights');
    noStack(r.err);
  });

  it('a missing path still reports the missing file, not a preset', async () => {
    const r = await runCli('map', '--network', 'nowhere/net.yaml');
    expect(r.code).toBe(2);
    expect(r.err).not.toContain('preset');
    noStack(r.err);
  });
});

describe('--arch defaults to the bundled default chip', () => {
  it('estimate without --arch says so on stderr and equals --arch default', async () => {
    const implicit = await runCli('estimate', '--network', 'vgg9-cifar10', '--json');
    const explicit = await runCli('estimate', '--arch', 'default', '--network', 'vgg9-cifar10', '--json');
    expect(implicit.code).toBe(0);
    expect(implicit.err).toBe('imcsim: note: using the bundled default chip (arch-configs/default.yaml)\n');
    expect(explicit.err).toBe('');
    expect(implicit.out).toBe(explicit.out);
  });
  it('map without --arch too', async () => {
    const r = await runCli('map', '--network', 'vgg9-cifar10');
    expect(r.code).toBe(0);
    expect(r.err).toContain('using the bundled default chip (arch-configs/default.yaml)');
    expect(r.out).toContain('on imcsim-default');
  });
});

describe('a command line without surprises', () => {
  it('an unknown subcommand under a group with a default subcommand: unknown command, suggestion, exit 2', async () => {
    const r = await runCli('trace', 'recrod');
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      "imcsim: error: imcsim trace: unknown command 'recrod' (did you mean 'imcsim trace run'?) (expected one of run, info, export, import)\n",
    );
    const i = await runCli('trace', 'infp', 'x.trace');
    expect(i.code).toBe(2);
    expect(i.err).toContain("(did you mean 'imcsim trace info'?)");
  });
  it('an unknown top-level command: unknown command with a suggestion, exit 2, in imcsim style', async () => {
    const r = await runCli('simulte');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^imcsim: error: unknown command 'simulte'\n\(Did you mean simulate\?\)/);
    noStack(r.err);
  });
  it('every missing required option named in one message', async () => {
    const r = await runCli('export-nir');
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      'imcsim: error: imcsim export-nir: missing required options --model <dir|preset>, --out <file> (run with --help for usage)\n',
    );
    const one = await runCli('simulate');
    expect(one.err).toBe(
      'imcsim: error: imcsim simulate: missing required option --trace <file> (run with --help for usage)\n',
    );
  });
  it('help marks required options and shows no (default: []) noise', async () => {
    for (const cmd of [['simulate'], ['estimate'], ['trace', 'run'], ['export-nir']]) {
      const r = await runCli(...cmd, '--help');
      expect(r.code).toBe(0);
      expect(r.out).not.toContain('(default: [])');
    }
    const s = await runCli('simulate', '--help');
    expect(s.out).toMatch(/--trace <file>\s+spike trace \(imcsim trace\) \(required\)/);
    expect(s.out).not.toMatch(/--arch[^\n]*\(required\)/);
  });
  it('help lists the presets command', async () => {
    const r = await runCli('--help');
    expect(r.out).toMatch(/presets \[options\]\s+List the bundled chips/);
  });
});
