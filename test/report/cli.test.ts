import { parseString } from 'fast-csv';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { COMPARE_CHARTS } from '../../src/report/compare.js';
import { REPORT_CHARTS } from '../../src/report/report-html.js';
import { runCli } from '../helpers/cli.js';
import { ARCH, PIPELINED, makeTraces } from './runs.js';

/** End to end: imcsim simulate --out, imcsim report, imcsim compare, checked against docs/RUN_FOLDER.md. */
const dir = mkdtempSync(join(tmpdir(), 'imcsim-report-cli-'));
const runA = join(dir, 'static');
const runB = join(dir, 'entropy');
const cmp = join(dir, 'cmp');
const docs = readFileSync('docs/RUN_FOLDER.md', 'utf8');

beforeAll(async () => {
  const t = await makeTraces(dir);
  const a = await runCli('simulate', '--arch', ARCH, '--trace', t.staticTrace, '--out', runA);
  expect(a.code, a.err).toBe(0);
  const b = await runCli(
    'simulate',
    '--arch',
    ARCH,
    '--set',
    PIPELINED,
    '--trace',
    t.entropyTrace,
    '--out',
    runB,
  );
  expect(b.code, b.err).toBe(0);
});

type Row = Record<string, string>;
async function csv(file: string): Promise<{ header: string[]; rows: Row[] }> {
  const text = readFileSync(file, 'utf8');
  let header: string[] = [];
  const rows: Row[] = [];
  await new Promise<void>((resolve, reject) =>
    parseString(text, { headers: true })
      .on('headers', (h: string[]) => (header = h))
      .on('data', (r: Row) => rows.push(r))
      .on('error', reject)
      .on('end', () => resolve()),
  );
  return { header, rows };
}
const json = (file: string) => JSON.parse(readFileSync(file, 'utf8'));

/** The `| \`name\` | unit | meaning |` rows of a section (## or ### heading) of docs/RUN_FOLDER.md. */
function documented(heading: string): Map<string, string> {
  const start = docs.indexOf(`\n${heading}\n`);
  expect(start, heading).toBeGreaterThanOrEqual(0);
  const rest = docs.slice(start + heading.length + 2);
  const end = rest.search(/\n#{2,3} /);
  const body = end < 0 ? rest : rest.slice(0, end);
  const out = new Map<string, string>();
  for (const m of body.matchAll(/^\| `([^`]+)`(?:, `([^`]+)`)? \| ([^|]+) \|/gm)) {
    out.set(m[1], m[3].trim());
    if (m[2]) out.set(m[2], m[3].trim());
  }
  return out;
}

const UNIT_SUFFIX = /_(j|s|js|m2|w|nm|hz|v)$/;
const UNITLESS = new Set(['count', 'index', 'class', 'timesteps', '—']);

describe('imcsim simulate --out: the run folder', () => {
  it('holds the documented files', () => {
    for (const run of [runA, runB])
      expect(readdirSync(run).sort()).toEqual(
        [
          'components.csv',
          'layers.csv',
          'report.html',
          'samples.csv',
          'summary.json',
          'timesteps.csv',
        ].sort(),
      );
  });

  it('every CSV has exactly the documented columns; every numeric column carries a unit or is a count/index', async () => {
    const components = (await csv(join(runA, 'components.csv'))).rows.map((r) => r.component);
    for (const file of ['layers.csv', 'timesteps.csv', 'components.csv', 'samples.csv']) {
      const doc = documented(`## ${file}`);
      const expected = [...doc.keys()].flatMap((k) =>
        k === '<component>_energy_j' ? components.map((c) => `${c}_energy_j`) : [k],
      );
      const { header, rows } = await csv(join(runA, file));
      expect(header, file).toEqual(expected);
      for (const col of header) {
        const unit = doc.get(col) ?? doc.get('<component>_energy_j')!;
        const numeric = rows.every((r) => r[col] === '' || Number.isFinite(Number(r[col])));
        if (numeric && !UNIT_SUFFIX.test(col))
          expect(UNITLESS.has(unit), `${file}: ${col} (${unit})`).toBe(true);
        if (UNIT_SUFFIX.test(col)) expect(unit, `${file}: ${col}`).not.toBe('—');
      }
    }
  });

  it('every key of summary.json and of its assumptions is documented', () => {
    const s = json(join(runA, 'summary.json'));
    const top = documented('## summary.json');
    const names = [...top.keys()].map((k) => k.replace(/(\[\]|\..*)$/, ''));
    for (const k of Object.keys(s)) expect(names, k).toContain(k);
    const asm = [...documented('### assumptions').keys()].map((k) => k.replace(/(\[\]|\..*)$/, ''));
    for (const k of Object.keys(s.assumptions)) expect(asm, `assumptions.${k}`).toContain(k);
    for (const k of Object.keys(s.noc)) expect([...top.keys()], `noc.${k}`).toContain(`noc.${k}`);
  });

  it('numbers in the CSVs equal summary.json', async () => {
    for (const run of [runA, runB]) {
      const s = json(join(run, 'summary.json'));
      const layers = (await csv(join(run, 'layers.csv'))).rows;
      expect(layers.map((l) => l.layer)).toEqual(s.layers.map((l: { name: string }) => l.name));
      layers.forEach((l, i) => {
        const x = s.layers[i];
        expect(Number(l.energy_j)).toBe(x.energy_j);
        expect(Number(l.dynamic_energy_j)).toBe(x.dynamic_energy_j);
        expect(Number(l.leakage_energy_j)).toBe(x.leakage_energy_j);
        expect(Number(l.busy_s)).toBe(x.latency_s);
        expect(Number(l.area_m2)).toBe(x.area_m2);
        expect(Number(l.tiles)).toBe(x.tiles);
        for (const c of Object.keys(x.components))
          expect(Number(l[`${c}_energy_j`]), c).toBe(x.components[c]);
      });
      const steps = (await csv(join(run, 'timesteps.csv'))).rows;
      expect(steps.map((t) => Number(t.energy_j))).toEqual(
        s.timesteps.map((t: { energy_j: number }) => t.energy_j),
      );
      expect(steps.map((t) => Number(t.busy_s))).toEqual(
        s.timesteps.map((t: { busy_s: number }) => t.busy_s),
      );
      const comps = (await csv(join(run, 'components.csv'))).rows;
      for (const c of comps) {
        const x = s.components[c.component];
        expect(c.class).toBe(x.class);
        expect(c.source).toBe(x.source);
        expect(Number(c.energy_j)).toBe(x.energy_j);
        expect(Number(c.dynamic_energy_j)).toBe(x.dynamic_energy_j);
        expect(Number(c.leakage_energy_j)).toBe(x.leakage_energy_j);
        expect(Number(c.area_m2)).toBe(x.area_m2);
        expect(Number(c.leakage_w)).toBe(x.leakage_w);
        expect(c.ref_tech_node_nm === '' ? null : Number(c.ref_tech_node_nm)).toBe(x.ref_tech_node_nm);
      }
      const samples = (await csv(join(run, 'samples.csv'))).rows;
      expect(samples).toHaveLength(s.samples);
      const mean = (k: string) => samples.reduce((a, r) => a + Number(r[k]), 0) / samples.length;
      expect(mean('exit_timestep')).toBeCloseTo(s.avg_timesteps, 12);
      // Leakage per sample is leakage power × the sample's latency, so only dynamic energy adds up exactly.
      expect(mean('dynamic_energy_j') / (s.dynamic_energy_j / s.samples)).toBeCloseTo(1, 9);
    }
  });
});

describe('imcsim report', () => {
  it('regenerates RUN/report.html, the same bytes simulate wrote', async () => {
    const before = readFileSync(join(runB, 'report.html'), 'utf8');
    const r = await runCli('report', runB);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(join(runB, 'report.html'));
    expect(readFileSync(join(runB, 'report.html'), 'utf8')).toBe(before);
    for (const name of REPORT_CHARTS) expect(before).toContain(`data-chart="${name}"`);
  });

  it('a bad run folder: exit code 2, the file and line named', async () => {
    const missing = await runCli('report', join(dir, 'nope'));
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/^imcsim: error: .*nope: run folder not found/);
    const bad = join(dir, 'bad');
    cpSync(runA, bad, { recursive: true });
    const t = readFileSync(join(bad, 'timesteps.csv'), 'utf8').split('\n');
    t[2] = t[2].replace(/^2,/, 'two,');
    writeFileSync(join(bad, 'timesteps.csv'), t.join('\n'));
    const r = await runCli('report', bad);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`imcsim: error: ${join(bad, 'timesteps.csv')}:3:`);
    expect(r.err).toMatch(/column "timestep": not an integer/);
    const c = await runCli('compare', runA, bad, '--out', join(dir, 'cmp-bad'));
    expect(c.code).toBe(2);
    expect(existsSync(join(dir, 'cmp-bad'))).toBe(false);
    const noOut = await runCli('compare', runA, runB);
    expect(noOut.code).toBe(2);
  });
});

describe('imcsim compare', () => {
  beforeAll(async () => {
    const r = await runCli('compare', runA, runB, '--out', cmp);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/energy/);
  });

  it('writes compare.html, compare.csv, compare.json', () => {
    expect(readdirSync(cmp).sort()).toEqual(['compare.csv', 'compare.html', 'compare.json']);
    const html = readFileSync(join(cmp, 'compare.html'), 'utf8');
    for (const name of COMPARE_CHARTS)
      expect(html).toContain(`<figure class="chart" data-chart="${name}"><svg`);
  });

  it('compare.csv has the documented columns, and its numbers equal the two summaries', async () => {
    const { header, rows } = await csv(join(cmp, 'compare.csv'));
    const doc = docs.slice(docs.indexOf('### compare.csv'), docs.indexOf('### compare.json'));
    const cols = [
      'scope',
      'name',
      ...[...doc.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]).filter((c) => c.includes('_')),
    ];
    expect(header).toEqual(cols);
    const a = json(join(runA, 'summary.json'));
    const b = json(join(runB, 'summary.json'));
    const total = rows.find((r) => r.scope === 'total')!;
    for (const k of ['energy_per_sample_j', 'latency_per_sample_s', 'edp_per_sample_js']) {
      expect(Number(total[`a_${k}`]), k).toBe(a[k]);
      expect(Number(total[`b_${k}`]), k).toBe(b[k]);
      // The delta arithmetic is checked on a hand-worked pair in report.test.ts; here, that the CSV
      // carries A, B and a delta consistent with them.
      const d = Number(total[`delta_${k}`]);
      expect(Math.abs(a[k] + d - b[k]) / b[k], k).toBeLessThan(1e-12);
    }
    expect(Number(total.a_avg_timesteps)).toBe(a.avg_timesteps);
    expect(Number(total.b_avg_timesteps)).toBe(b.avg_timesteps);
    expect(total.a_accuracy).toBe('');
    const adc = rows.find((r) => r.scope === 'component' && r.name === 'adc')!;
    expect(Number(adc.a_energy_per_sample_j)).toBe(a.components.adc.energy_j / a.samples);
    const adcA = Number(adc.a_energy_per_sample_j);
    const adcB = Number(adc.b_energy_per_sample_j);
    expect(Number(adc.b_energy_per_sample_j)).toBe(b.components.adc.energy_j / b.samples);
    expect(Math.abs(adcA * (1 + Number(adc.rel_delta_energy_per_sample)) - adcB) / adcB).toBeLessThan(1e-12);
    const layer = rows.find((r) => r.scope === 'layer' && r.name === a.layers[1].name)!;
    expect(Number(layer.a_latency_per_sample_s)).toBe(a.layers[1].latency_s / a.samples);
    expect(rows.map((r) => r.scope)).toEqual([
      'total',
      ...Object.keys(a.components).map(() => 'component'),
      ...a.layers.map(() => 'layer'),
      'layer',
    ]);
  });

  it('compare.json holds the same rows', async () => {
    const c = json(join(cmp, 'compare.json'));
    expect(c.format).toBe('imcsim-compare');
    expect(c.a.folder).toBe(runA);
    const { rows } = await csv(join(cmp, 'compare.csv'));
    expect(c.rows).toHaveLength(rows.length);
    c.rows.forEach((r: { name: string; energy_per_sample_j: { delta: number | null } }, i: number) => {
      expect(r.name).toBe(rows[i].name);
      const d = rows[i].delta_energy_per_sample_j;
      expect(r.energy_per_sample_j.delta).toBe(d === '' ? null : Number(d));
    });
    expect(c.differing_assumptions.map((d: { key: string }) => d.key)).toContain('schedule');
  });
});
