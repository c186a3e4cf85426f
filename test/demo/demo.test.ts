import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runDemo } from '../../src/demo/demo.js';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'imcsim-demo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('imcsim demo', () => {
  it('traces a shipped model under static T=4 and the entropy exit, simulates both, writes both run folders', async () => {
    const out = join(dir, 'demo');
    const r = await runCli('demo', '--out', out, '--samples', '24', '--json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const printed = JSON.parse(r.out) as {
      runs: Array<{ label: string; folder: string; summary: Record<string, unknown> }>;
    };
    expect(printed.runs.map((x) => x.label)).toEqual(['static', 'dtsnn']);
    for (const f of ['compare.html', 'compare.csv', 'compare.json'])
      expect(existsSync(join(out, 'compare', f)), `compare/${f}`).toBe(true);
    for (const run of printed.runs) {
      for (const f of [
        'summary.json',
        'layers.csv',
        'timesteps.csv',
        'components.csv',
        'samples.csv',
        'report.html',
      ])
        expect(existsSync(join(run.folder, f)), `${run.label}/${f}`).toBe(true);
      expect(existsSync(join(run.folder, `${run.label}.trace`))).toBe(true);
      const summary = JSON.parse(readFileSync(join(run.folder, 'summary.json'), 'utf8')) as Record<
        string,
        unknown
      >;
      expect(summary.energy_j).toBe(run.summary.energy_j);
      expect(summary.samples).toBe(24);
      expect(summary.synthetic).toBe(false);
    }
    const [s, d] = printed.runs.map((x) => x.summary) as Array<{
      policy: string;
      avg_timesteps: number;
      energy_per_sample_j: number;
      latency_per_sample_s: number;
    }>;
    expect(s.policy).toBe('static');
    expect(d.policy).toBe('entropy');
    expect(s.avg_timesteps).toBe(4);
    // The exit really shortens inference, and the chip really does less work for it.
    expect(d.avg_timesteps).toBeLessThan(s.avg_timesteps);
    expect(d.energy_per_sample_j).toBeLessThan(s.energy_per_sample_j);
    expect(d.latency_per_sample_s).toBeLessThan(s.latency_per_sample_s);
  });

  it('is deterministic: running again into the same folder rewrites byte-identical files', async () => {
    const a = join(dir, 'a');
    const files = [
      'layers.csv',
      'timesteps.csv',
      'components.csv',
      'samples.csv',
      'summary.json',
      'report.html',
    ];
    const read = () => [
      ...['static', 'dtsnn'].flatMap((run) => files.map((f) => readFileSync(join(a, run, f), 'utf8'))),
      ...['compare.csv', 'compare.json', 'compare.html'].map((f) =>
        readFileSync(join(a, 'compare', f), 'utf8'),
      ),
    ];
    expect((await runCli('demo', '--out', a, '--samples', '8', '--json')).code).toBe(0);
    const first = read();
    expect((await runCli('demo', '--out', a, '--samples', '8', '--json')).code).toBe(0);
    const second = read();
    second.forEach((text, i) => expect(text, `file ${i}`).toBe(first[i]));
  });

  it('rejects bad input with exit code 2 and names a missing model directory', async () => {
    const bad = await runCli('demo', '--out', join(dir, 'y'), '--samples', 'zero');
    expect(bad.code).toBe(2);
    await expect(runDemo({ out: join(dir, 'z'), model: join(dir, 'no-such-model') })).rejects.toThrow(
      /trained model directory[\s\S]*no weights\.safetensors/,
    );
    expect(existsSync(join(dir, 'z'))).toBe(false);
  });
});
