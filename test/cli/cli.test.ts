import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { archConfigMarkdown } from '../../src/config/docs.js';
import { cliMarkdown } from '../../src/cli/cli-docs.js';
import { buildProgram } from '../../src/cli/main.js';
import { OperationalError, parseNumber, reportError } from '../../src/cli/common.js';
import { runCli } from '../helpers/cli.js';

describe('imcsim config', () => {
  it('validate: ok on a preset', async () => {
    const r = await runCli('config', 'validate', 'arch-configs/default.yaml');
    expect(r.code).toBe(0);
    expect(r.out).toContain('valid');
  });
  it('validate: exit 2 with file:line:column on a bad file', async () => {
    const r = await runCli('config', 'validate', 'test/fixtures/bad-arch.yaml');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /imcsim: error: test\/fixtures\/bad-arch\.yaml:\d+:\d+: adc\.bitz: unknown key; did you mean "bits"\?/,
    );
    expect(r.err).toMatch(/crossbar\.rows: .*found "many"/);
  });
  it('show: resolved config with defaults and --set overrides', async () => {
    const r = await runCli('config', 'show', 'arch-configs/default.yaml', '--set', 'adc.bits=6', '--json');
    expect(r.code).toBe(0);
    const spec = JSON.parse(r.out);
    expect(spec.adc.bits).toBe(6);
    expect(spec.noc.buffer_flits).toBe(4); // a default the file does not write
  });
  it('schema: JSON Schema with units and sources', async () => {
    const r = await runCli('config', 'schema');
    const s = JSON.parse(r.out);
    expect(s.$schema).toContain('json-schema.org');
    expect(s.properties.chip.properties.clock_hz.unit).toBe('Hz');
    expect(s.properties.adc.properties.family.enum).toEqual(['isaac', 'neurosim-sar', 'spikesim']);
  });
  it('docs/CONFIG.md is the generated reference (regenerate with npm run docs)', () => {
    expect(readFileSync('docs/CONFIG.md', 'utf8')).toBe(archConfigMarkdown());
  });
  it('docs/CLI.md is the generated command reference and names every command (npm run docs)', () => {
    const program = buildProgram({ out: () => {}, err: () => {} });
    const md = cliMarkdown(program);
    expect(readFileSync('docs/CLI.md', 'utf8')).toBe(md);
    for (const c of program.commands) expect(md).toContain(`### \`imcsim ${c.name()}\``);
  });
});

describe('imcsim map / estimate', () => {
  it('map prints the table and totals', async () => {
    const r = await runCli(
      'map',
      '--arch',
      'arch-configs/spikesim-65nm.yaml',
      '--network',
      'models/vgg9-cifar10',
    );
    expect(r.code).toBe(0);
    expect(r.out).toContain('432 crossbars (64x64) in 48 PEs on 6 tiles');
  });
  it('estimate --json has the documented keys and prints the ADC family', async () => {
    const r = await runCli(
      'estimate',
      '--arch',
      'arch-configs/default.yaml',
      '--network',
      'models/mnist-convnet',
      '--timesteps',
      '4',
      '--json',
    );
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    for (const k of ['energy_j', 'latency_s', 'edp_js', 'area_m2', 'layers', 'components', 'adc_family'])
      expect(j).toHaveProperty(k);
    expect(j.layers).toHaveLength(4);
    expect(j.edp_js).toBeCloseTo(j.energy_j * j.latency_s, 25);
  });
  it('estimate table names the ADC model and the assumption about rates', async () => {
    const r = await runCli(
      'estimate',
      '--arch',
      'arch-configs/default.yaml',
      '--network',
      'models/mnist-convnet',
    );
    expect(r.out).toContain('ADC model isaac');
    expect(r.out).toContain('every input assumed active');
  });
  it('estimate with a spike-rates file', async () => {
    const full = await runCli(
      'estimate',
      '--arch',
      'arch-configs/default.yaml',
      '--network',
      'models/mnist-convnet',
      '--json',
    );
    const sparse = await runCli(
      'estimate',
      '--arch',
      'arch-configs/default.yaml',
      '--network',
      'models/mnist-convnet',
      '--spike-rates',
      'test/fixtures/mnist-rates.yaml',
      '--json',
    );
    expect(sparse.code).toBe(0);
    expect(JSON.parse(sparse.out).dynamic_energy_j).toBeLessThan(JSON.parse(full.out).dynamic_energy_j);
  });
  it('bad arguments exit 2', async () => {
    expect(
      (await runCli('estimate', '--arch', 'arch-configs/default.yaml', '--network', 'models/nope')).code,
    ).toBe(2);
    expect(
      (
        await runCli(
          'estimate',
          '--arch',
          'arch-configs/default.yaml',
          '--network',
          'models/mnist-convnet',
          '--timesteps',
          '0',
        )
      ).code,
    ).toBe(2);
    expect(
      (
        await runCli(
          'estimate',
          '--arch',
          'arch-configs/default.yaml',
          '--network',
          'models/mnist-convnet',
          '--policy',
          'x',
        )
      ).code,
    ).toBe(2);
    expect((await runCli('estimate', '--bogus')).code).toBe(2);
  });
  it('components lists every class with a source', async () => {
    const r = await runCli('components');
    expect(r.out).toContain('sar_adc');
    expect(r.out).toContain('ISAAC');
  });
});

describe('the installed binary', () => {
  it('exits 2 on a config error and 0 on success', () => {
    const bad = spawnSync(
      process.execPath,
      ['bin/imcsim.js', 'config', 'validate', 'test/fixtures/bad-arch.yaml'],
      { encoding: 'utf8' },
    );
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('bad-arch.yaml:');
    const ok = spawnSync(
      process.execPath,
      [
        'bin/imcsim.js',
        'estimate',
        '--arch',
        'arch-configs/spikesim-65nm.yaml',
        '--network',
        'models/vgg9-cifar10',
        '--timesteps',
        '5',
        '--json',
      ],
      { encoding: 'utf8' },
    );
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout).energy_j * 1e12).toBeCloseTo(15906934.03, 1);
  });
});

describe('error style', () => {
  it('operational failures: exit code 1, the error style, no "bug" line; internal errors say it is a bug', () => {
    let err = '';
    const io = { out: () => {}, err: (s: string) => (err += s + '\n') };
    expect(reportError(new OperationalError(['Redis at 127.0.0.1:1 refused the connection']), io)).toBe(1);
    expect(err).toBe('imcsim: error: Redis at 127.0.0.1:1 refused the connection\n');
    err = '';
    expect(reportError(new Error('boom'), io)).toBe(1);
    expect(err).toMatch(/^imcsim: internal error: Error: boom[\s\S]*This is a bug in imcsim/);
  });
});

describe('numeric flags', () => {
  it('parseNumber: bounds, integers, and a message naming flag, rule and value', () => {
    const pos = parseNumber('--lr', { min: 0, exclusive: true });
    expect(pos('0.001')).toBe(0.001);
    expect(() => pos('0')).toThrow(/--lr must be a positive number.*found "0"/);
    expect(() => pos('abc')).toThrow(/--lr must be a positive number/);
    const nn = parseNumber('--augment', { min: 0, integer: true });
    expect(nn('0')).toBe(0);
    expect(() => nn('1.5')).toThrow(/--augment must be an integer ≥ 0/);
    expect(() => nn('')).toThrow(/--augment must be an integer ≥ 0/);
    expect(() => parseNumber('--weight-decay', { min: 0 })('-1')).toThrow(/must be a number ≥ 0/);
  });
});

describe('hostile configuration input on the command line (issue 18 items 7, 8)', () => {
  const imcsim = (...args: string[]) =>
    spawnSync(process.execPath, ['bin/imcsim.js', ...args], { encoding: 'utf8' });
  /** Exit code 2, every stderr line in the error style, no stack trace, no raw Node/yaml warning. */
  const cleanInputError = (r: { status: number | null; stderr: string }) => {
    expect(r.status).toBe(2);
    for (const line of r.stderr.trimEnd().split('\n')) expect(line).toMatch(/^imcsim: error: /);
    expect(r.stderr).not.toMatch(/\n\s+at |Warning|internal error/);
  };
  it('--set with __proto__, constructor or prototype in its path: refused by name', () => {
    for (const path of ['__proto__.polluted', 'adc.constructor.prototype.polluted']) {
      const r = imcsim('config', 'validate', 'arch-configs/default.yaml', '--set', `${path}=1`);
      cleanInputError(r);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/"(__proto__|constructor)" is not allowed/);
    }
  });
  it('a sweep axis with __proto__ in its path: refused by name, located in the spec', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imcsim-proto-'));
    const spec = join(dir, 's.yaml');
    writeFileSync(
      spec,
      `mode: analytic\narch: ${resolve('arch-configs/default.yaml')}\nworkload:\n  network: ${resolve('models/mnist-convnet')}\n  rate: 0.1\naxes:\n  adc.__proto__.polluted: [1, 2]\n`,
    );
    const r = await runCli('sweep', spec, '--out', join(dir, 'out'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/s\.yaml:7:3: .*"__proto__" is not allowed/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
  it('a YAML tag in a --set value: an imcsim error, not a raw yaml warning', () => {
    for (const value of ['!foo 6', '!!binary x']) {
      const r = imcsim('config', 'validate', 'arch-configs/default.yaml', '--set', `adc.bits=${value}`);
      cleanInputError(r);
      expect(r.stderr).toContain('--set adc.bits: YAML tags are not accepted in a value');
    }
  });
  it('an empty YAML file: the error names the file', () => {
    const empty = join(mkdtempSync(join(tmpdir(), 'imcsim-empty-')), 'empty.yaml');
    writeFileSync(empty, '');
    const r = imcsim('config', 'validate', empty);
    cleanInputError(r);
    expect(r.stderr).toContain(`imcsim: error: ${empty}: document is empty`);
  });
  it('absurd hardware: refused at the key with its physical range', () => {
    const r = imcsim('config', 'validate', 'arch-configs/default.yaml', '--set', 'adc.bits=64');
    cleanInputError(r);
    expect(r.stderr).toContain('adc.bits: must be an integer >= 1 and <= 16');
  });
});
