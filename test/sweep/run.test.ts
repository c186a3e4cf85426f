import { existsSync, readFileSync, readdirSync, truncateSync, writeFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/util/errors.js';
import { parseCsvLine, formatCsvLine } from '../../src/sweep/csv.js';
import { planSweep, type SweepPlan } from '../../src/sweep/plan.js';
import { runSweep } from '../../src/sweep/run.js';
import { loadSweepSpec } from '../../src/sweep/spec.js';
import { paretoMin, type ReportRow } from '../../src/sweep/report.js';
import { runCli } from '../helpers/cli.js';
import { MNIST_MODEL, analyticSpec, cycleSpec, tempDir, writeSpec } from './helpers.js';

async function planOf(spec: object, dir = tempDir('plan')): Promise<SweepPlan> {
  return planSweep(loadSweepSpec(writeSpec(dir, spec)));
}

const csvOf = (dir: string) => readFileSync(join(dir, 'sweep.csv'), 'utf8');

describe('csv lines', () => {
  it('round-trip through quoting; numbers to 12 significant digits, no float noise; null empty', () => {
    const fields = ['a,b', 'say "hi"', ' pad', 1e-7, 0.1 + 0.2, null, true];
    const line = formatCsvLine(fields);
    expect(line).toBe('"a,b","say ""hi"""," pad",1e-7,0.3,,true');
    expect(parseCsvLine(line)).toEqual(['a,b', 'say "hi"', ' pad', '1e-7', '0.3', '', 'true']);
    expect(parseCsvLine('a,,')).toEqual(['a', '', '']);
  });
});

describe('local sweeps', () => {
  it('analytic: a worker-thread pool gives the same bytes as the calling thread; the page has the charts', async () => {
    const plan = await planOf(analyticSpec());
    const serial = tempDir('serial');
    const pooled = tempDir('pool');
    const a = await runSweep(plan, { out: serial, workers: 0 });
    const b = await runSweep(plan, { out: pooled, workers: 2 });
    expect(a).toMatchObject({ total: 12, resumed: 0, ran: 12, failed: [] });
    expect(b).toMatchObject({ total: 12, resumed: 0, ran: 12, failed: [] });
    expect(csvOf(pooled)).toBe(csvOf(serial));
    const lines = csvOf(serial).trimEnd().split('\n');
    expect(lines[0]).toBe(plan.columns.join(','));
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(plan.points.map((p) => p.id));
    for (const l of lines.slice(1)) {
      const f = parseCsvLine(l);
      const energy = Number(f[plan.columns.indexOf('energy_per_sample_j')]);
      const latency = Number(f[plan.columns.indexOf('latency_per_sample_s')]);
      expect(energy).toBeGreaterThan(0);
      // Each cell holds 12 significant digits: the product agrees to ~1e-11 relative.
      const edp = Number(f[plan.columns.indexOf('edp_per_sample_js')]);
      expect(Math.abs(edp - energy * latency) / edp).toBeLessThan(2e-11);
    }
    const html = readFileSync(join(serial, 'sweep.html'), 'utf8');
    expect(html).toBe(readFileSync(join(pooled, 'sweep.html'), 'utf8'));
    expect(html).toContain('data-chart="pareto-energy-latency"');
    for (const axis of ['adc.bits', 'adc.columns_per_adc', 'crossbar.rows_parallel'])
      expect(html).toContain(`data-chart="sensitivity-${axis}"`);
    expect(JSON.parse(readFileSync(join(serial, 'sweep.json'), 'utf8')).points).toHaveLength(12);
    expect(existsSync(join(serial, 'sweep.lock'))).toBe(false);
  });

  it('resume: rows in sweep.csv are skipped, a torn last line is repaired, the result is the same file', async () => {
    const plan = await planOf(analyticSpec());
    const full = tempDir('full');
    await runSweep(plan, { out: full, workers: 0 });
    const part = tempDir('part');
    const lines = csvOf(full).split('\n');
    // A crashed run: header, rows 5, 2, 9 (finished out of order), then half of a line.
    writeFileSync(
      join(part, 'sweep.csv'),
      [lines[0], lines[6], lines[3], lines[10], lines[4].slice(0, 20)].join('\n'),
    );
    const messages: string[] = [];
    const r = await runSweep(plan, { out: part, workers: 0, onMessage: (m) => messages.push(m) });
    expect(r).toMatchObject({ total: 12, resumed: 3, ran: 9 });
    expect(messages.join('\n')).toMatch(/torn last line \(20 bytes\)/);
    expect(csvOf(part)).toBe(csvOf(full));
    // Nothing left to do: a re-run computes nothing and leaves the same bytes.
    const again = await runSweep(plan, { out: part, workers: 0 });
    expect(again).toMatchObject({ resumed: 12, ran: 0 });
    expect(csvOf(part)).toBe(csvOf(full));
  });

  it('an output folder of another sweep, or one locked by a live process, is refused', async () => {
    const dir = tempDir('other');
    await runSweep(await planOf(analyticSpec()), { out: dir, workers: 0 });
    const other = await planOf(analyticSpec({ metrics: ['energy_per_sample_j'] }));
    await expect(runSweep(other, { out: dir, workers: 0 })).rejects.toThrow(
      /sweep\.csv:1:1: this output folder holds a sweep\.csv with other columns/,
    );
    const locked = tempDir('locked');
    writeFileSync(join(locked, 'sweep.lock'), `${hostname()} ${process.pid}\n`);
    await expect(runSweep(other, { out: locked, workers: 0 })).rejects.toBeInstanceOf(InputError);
    // A stale lock (dead process) is taken over.
    writeFileSync(join(locked, 'sweep.lock'), `${hostname()} 999999999\n`);
    await expect(runSweep(other, { out: locked, workers: 0 })).resolves.toMatchObject({ ran: 12 });
  });

  it('cycle: one synthetic trace per algorithm point, cached by hash; pool equals the calling thread', async () => {
    const plan = await planOf(cycleSpec({ algorithm: { timesteps: [1, 2] } }));
    expect(plan.points).toHaveLength(8);
    expect(plan.artifacts).toHaveLength(2);
    const serial = tempDir('cyc-serial');
    const pooled = tempDir('cyc-pool');
    await runSweep(plan, { out: serial, workers: 0 });
    const b = await runSweep(plan, { out: pooled, workers: 2 });
    expect(b.failed).toEqual([]);
    expect(csvOf(pooled)).toBe(csvOf(serial));
    const traces = readdirSync(join(serial, 'traces')).sort();
    expect(traces).toEqual(plan.artifacts.map((a) => `${a.key}.trace`).sort());
    // Traces are reused: a fresh folder with the same trace cache computes the same rows.
    const reuse = tempDir('cyc-reuse');
    const stamp = statSync(join(serial, 'traces', traces[0])).mtimeMs;
    await runSweep(plan, { out: reuse, workers: 0, cacheDir: join(serial, 'traces') });
    expect(statSync(join(serial, 'traces', traces[0])).mtimeMs).toBe(stamp);
    expect(csvOf(reuse)).toBe(csvOf(serial));
  });

  it('analytic with a model: accuracy and exits from the engine, energy weighted over exit timesteps', async () => {
    const plan = await planOf({
      mode: 'analytic',
      arch: analyticSpec().arch,
      workload: { model: MNIST_MODEL, dataset: 'mnist', samples: 6 },
      axes: { 'adc.bits': [4, 6] },
      algorithm: { policy: ['static', 'entropy'], theta: [0.5], timesteps: [4] },
    });
    const dir = tempDir('model');
    const r = await runSweep(plan, { out: dir, workers: 0 });
    expect(r.failed).toEqual([]);
    const rows = csvOf(dir).trimEnd().split('\n').slice(1).map(parseCsvLine);
    const col = (name: string) => plan.columns.indexOf(name);
    for (const f of rows) {
      expect(Number(f[col('accuracy')])).toBeGreaterThanOrEqual(0);
      expect(Number(f[col('accuracy')])).toBeLessThanOrEqual(1);
    }
    const [stat4, ent4] = rows;
    expect(Number(stat4[col('avg_timesteps')])).toBe(4);
    expect(Number(ent4[col('avg_timesteps')])).toBeLessThan(4);
    // Exiting early costs less than running every timestep.
    expect(Number(ent4[col('energy_per_sample_j')])).toBeLessThan(Number(stat4[col('energy_per_sample_j')]));
    expect(readFileSync(join(dir, 'sweep.html'), 'utf8')).toContain('data-chart="pareto-accuracy-energy"');
  });
});

describe('pareto frontier', () => {
  it('keeps the points no other point beats on both metrics', () => {
    const row = (index: number, e: number, l: number): ReportRow => ({
      id: `p${index}`,
      index,
      values: {},
      metrics: { energy_per_sample_j: e, latency_per_sample_s: l },
    });
    const rows = [row(0, 5, 1), row(1, 3, 3), row(2, 4, 4), row(3, 1, 5), row(4, 3, 3), row(5, 2, 6)];
    expect(paretoMin(rows, 'latency_per_sample_s', 'energy_per_sample_j').map((r) => r.index)).toEqual([
      0, 1, 3,
    ]);
  });
});

describe('imcsim sweep (in-process CLI)', () => {
  it('runs, resumes, lists; bad input exits 2 with a located message', async () => {
    const dir = tempDir('cli');
    const spec = writeSpec(dir, analyticSpec());
    const out = join(dir, 'out');
    const list = await runCli('sweep', spec, '--out', out, '--list');
    expect(list.code).toBe(0);
    expect(list.out.trimEnd().split('\n')).toHaveLength(13);
    const r = await runCli('sweep', spec, '--out', out, '--workers', '0');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /sweep tiny-analytic: 12 points, analytic mode — 12 run on this thread, 0 already done, 0 failed/,
    );
    truncateSync(join(out, 'sweep.csv'), csvOf(out).split('\n').slice(0, 6).join('\n').length + 1);
    const again = await runCli('sweep', spec, '--out', out, '--workers', '0');
    expect(again.out).toMatch(/7 run on .*, 5 already done/);
    const bad = writeSpec(dir, { ...analyticSpec(), axes: { 'adc.bits': [4, -1] } }, 'bad.yaml');
    const e = await runCli('sweep', bad, '--out', join(dir, 'o2'));
    expect(e.code).toBe(2);
    expect(e.err).toMatch(
      /imcsim: error: .*bad\.yaml:\d+:\d+: axes\["adc\.bits"\]\[1\]: axis value -1 is not a valid adc\.bits/,
    );
    const w = await runCli('sweep', spec, '--out', join(dir, 'o3'), '--workers', 'x');
    expect(w.code).toBe(2);
  });
});

describe('failed points', () => {
  it('are reported with their axis values; the others stay in sweep.csv; no page until all are done', async () => {
    const dir = tempDir('fail');
    const spec = writeSpec(dir, {
      mode: 'cycle',
      arch: analyticSpec().arch,
      workload: {
        model: MNIST_MODEL,
        dataset: 'fashion-mnist',
        data_dir: join(dir, 'no-such-folder'),
        samples: 2,
      },
      axes: { 'adc.bits': [4, 6] },
    });
    const r = await runSweep(await planSweep(loadSweepSpec(spec)), { out: join(dir, 'out'), workers: 0 });
    expect(r.failed.map((f) => f.index)).toEqual([0, 1]);
    expect(r.failed[0]).toMatchObject({ input: true });
    expect(r.failed[0].message).toMatch(/making its trace failed: .*no-such-folder/);
    expect(r.html).toBeNull();
    expect(existsSync(join(dir, 'out', 'sweep.html'))).toBe(false);
    const cli = await runCli('sweep', spec, '--out', join(dir, 'out2'), '--workers', '0');
    expect(cli.code).toBe(2);
    expect(cli.err).toMatch(
      /point 0 \([0-9a-f]{12}; adc\.bits=4, policy=static, timesteps=4\) failed: making its trace failed/,
    );
    expect(cli.err).toMatch(
      /2 of 2 points failed; .*re-run the same command to retry only the failed points/,
    );
  });
});
