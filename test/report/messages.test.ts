import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { etaText } from '../../src/cli/progress.js';
import { points } from '../../src/report/compare.js';
import { runCli } from '../helpers/cli.js';
import { ARCH, PIPELINED, makeTraces } from './runs.js';

/** What the command line says: the simulate summary, compare's names and warnings, study's data check, ETAs. */
const dir = mkdtempSync(join(tmpdir(), 'imcsim-messages-'));
const runA = join(dir, 'static');
const runB = join(dir, 'entropy');
let simOut = '';

beforeAll(async () => {
  const t = await makeTraces(dir);
  const a = await runCli('simulate', '--arch', ARCH, '--trace', t.staticTrace, '--out', runA);
  expect(a.code, a.err).toBe(0);
  simOut = a.out;
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
}, 120_000);

describe('imcsim simulate: the terminal summary', () => {
  it('says which figures are totals over the run and which are per sample', () => {
    const s = JSON.parse(readFileSync(join(runA, 'summary.json'), 'utf8'));
    expect(simOut).toContain(`Per layer — totals over the run (${s.samples} samples):`);
    expect(simOut).toContain(`Per component — totals over the run (${s.samples} samples):`);
    // Energy per sample is the run's total / samples; latency per sample the mean of each sample's own.
    expect(simOut).toMatch(
      new RegExp(
        `^per sample: energy .* \\(run total / ${s.samples}\\), latency .* \\(mean, entry to output\\)`,
        'm',
      ),
    );
    expect(simOut).toMatch(/^samples do not overlap: each starts on a drained chip \(layer-sequential\)$/m);
    expect(simOut).toMatch(
      /^whole run: energy .* run time .* throughput [\d,.]+ inferences\/s, average power /m,
    );
    expect(simOut).toMatch(/^efficiency \(whole run\): .* pJ\/SOP, .*SOP\/s\/W/m);
    // The chip at a glance.
    expect(simOut).toMatch(
      /^chip: 64×64 crossbars, 2-b cells, 4-b weights, ADC isaac 5 b \(8 columns each\), \d+ tiles on a \d+×\d+ mesh, 1 GHz, 32 nm$/m,
    );
    // One unit per column: area in mm² throughout, no µm² mixed in.
    const comp = simOut.slice(simOut.indexOf('Per component'));
    expect(comp).toContain('area (mm²)');
    expect(comp.split('\n\n')[0]).not.toMatch(/µm²/);
  });

  it('the static run names the exit unit idle and gated, with its cost when used, and no saving', () => {
    expect(simOut).toMatch(
      /exit unit: idle, power-gated \(the static policy never uses it\): 0 J here; when used [\d.]+ pJ per evaluation/,
    );
    expect(simOut).not.toMatch(/sav(e|ing)/i);
  });
});

describe('imcsim compare: names, warnings, points', () => {
  it('names each run by policy, θ, T, chip and schedule; warns of different traces and sample counts', async () => {
    const r = await runCli('compare', runA, runB, '--out', join(dir, 'cmp'));
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('A: static T=3 · imcsim-default · layer-sequential —');
    expect(r.out).toContain('B: entropy θ=0.5 T=3 · imcsim-default · timestep-pipelined —');
    expect(r.out).toContain('warning: different sample counts: A replayed 5 samples, B 8');
    expect(r.out).toMatch(/warning: different traces: A .*static\.trace, B .*entropy\.trace/);
    const html = readFileSync(join(dir, 'cmp', 'compare.html'), 'utf8');
    expect(html).toContain('<p class="warn">different sample counts');
    expect(html).toContain(
      '<title>Comparison: static T=3 · imcsim-default · layer-sequential (A) vs entropy θ=0.5 T=3',
    );
    // The exit unit is unused by the static run A: no relative change (no "saving" either way).
    const row = /<tr><td class="l">entropy_unit<\/td>.*?<\/tr>/.exec(html)![0];
    expect(row).toContain('<td>used by B only</td>');
    expect(row).not.toContain('%');
    const rev = await runCli('compare', runB, runA, '--out', join(dir, 'cmp-rev'));
    expect(rev.code, rev.err).toBe(0);
    const revRow = /<tr><td class="l">entropy_unit<\/td>.*?<\/tr>/.exec(
      readFileSync(join(dir, 'cmp-rev', 'compare.html'), 'utf8'),
    )![0];
    expect(revRow).toContain('<td>used by A only</td>');
    expect(revRow).not.toContain('-100.0 %');
    const j = JSON.parse(readFileSync(join(dir, 'cmp', 'compare.json'), 'utf8'));
    expect(j.a.label).toBe('static T=3 · imcsim-default · layer-sequential');
    expect(j.warnings).toHaveLength(2);
  });

  it('a run compared with a copy of itself: no warning', async () => {
    const copy = join(dir, 'static-copy');
    cpSync(runA, copy, { recursive: true });
    const r = await runCli('compare', runA, copy, '--out', join(dir, 'cmp-same'));
    expect(r.code, r.err).toBe(0);
    expect(r.out).not.toContain('warning:');
  });

  it('accuracy changes in percentage points, never a relative change of a percentage', async () => {
    expect(points(0.025)).toBe('+2.5 points');
    expect(points(-0.0125)).toBe('-1.3 points');
    expect(points(0)).toBe('0.0 points');
    expect(points(null)).toBe('n/a');
    // Give both runs labels and accuracies (A 3/5 = 60 %, B 4/5 = 80 %): +20.0 points.
    const la = join(dir, 'lab-a');
    const lb = join(dir, 'lab-b');
    cpSync(runA, la, { recursive: true });
    cpSync(runA, lb, { recursive: true });
    const setAcc = (d: string, acc: number) => {
      const f = join(d, 'summary.json');
      writeFileSync(f, readFileSync(f, 'utf8').replace('"accuracy": null', `"accuracy": ${acc}`));
    };
    setAcc(la, 0.6);
    setAcc(lb, 0.8);
    const r = await runCli('compare', la, lb, '--out', join(dir, 'cmp-acc'));
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^accuracy\s+60\.0 %\s+80\.0 %\s+\+20\.0 points\s+—$/m);
    expect(readFileSync(join(dir, 'cmp-acc', 'compare.html'), 'utf8')).toContain('<td>+20.0 points</td>');
  });
});

describe('imcsim study: datasets checked first', () => {
  it('a missing dataset: exit 1, every missing one named, nothing written', async () => {
    const out = join(dir, 'study-out');
    const r = await runCli('study', 'dtsnn', '--out', out, '--data-dir', join(dir, 'no-such-dir'), '--quiet');
    expect(r.code).toBe(1);
    expect(r.err).toContain('study dtsnn needs a dataset that is not available; nothing was run');
    expect(r.err).toMatch(/fashion-mnist: .*no-such-dir: Fashion-MNIST directory not found/);
    expect(r.err).not.toMatch(/at .*\.ts:\d+/); // no stack trace
    expect(existsSync(out)).toBe(false);
  });
});

describe('progress ETA', () => {
  it('from the average rate so far; "estimating…" before the first unit, never NaN or "NFs"', () => {
    expect(etaText(0, 10, 5)).toBe('estimating…');
    expect(etaText(3, 0, 5)).toBe('estimating…');
    expect(etaText(5, 10, 0)).toBe('estimating…');
    // 2 of 10 done in 4 s: 8 left at 2 s each = 16 s.
    expect(etaText(2, 10, 4)).toBe('16s');
    // 1 of 100 in 3 s: 297 s = 4m57s.
    expect(etaText(1, 100, 3)).toBe('4m57s');
    // 1 of 1000 in 60 s: 59 940 s = 16h39m.
    expect(etaText(1, 1000, 60)).toBe('16h39m');
    expect(etaText(1, 1e6, 60)).toBe('> 100h');
    expect(etaText(10, 10, 7)).toBe('0s');
  });
});
