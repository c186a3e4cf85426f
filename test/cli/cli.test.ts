import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
