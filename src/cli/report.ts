import type { Command } from 'commander';
import { points, writeComparison, type Comparison, type Delta } from '../report/compare.js';
import { pct, si, table, tidyJson } from '../util/format.js';
import { writeReport } from '../report/report-html.js';
import type { Io } from './common.js';
import { checkOutputDir } from '../util/fs-errors.js';

function cells(d: Delta, f: (v: number) => string): string[] {
  const v = (x: number | null) => (x === null ? 'n/a' : f(x));
  return [
    v(d.a),
    v(d.b),
    v(d.delta),
    d.rel === null ? 'n/a' : `${d.rel >= 0 ? '+' : ''}${(d.rel * 100).toFixed(1)} %`,
  ];
}

export function formatComparison(c: Comparison): string {
  const t = c.rows.find((r) => r.scope === 'total')!;
  return [
    `A: ${c.a.label} — ${c.a.folder} (${c.a.network}, ${c.a.samples} samples)`,
    `B: ${c.b.label} — ${c.b.folder} (${c.b.network}, ${c.b.samples} samples)`,
    ...c.warnings.map((w) => `warning: ${w}`),
    '',
    table(
      ['per sample', 'A', 'B', 'Δ (B − A)', 'relative Δ'],
      [
        ['energy', ...cells(t.energy_per_sample_j, (v) => si(v, 'J'))],
        ['latency', ...cells(t.latency_per_sample_s, (v) => si(v, 's'))],
        ['EDP', ...cells(t.edp_per_sample_js, (v) => si(v, 'J·s'))],
        ['accuracy', ...cells(t.accuracy, pct).slice(0, 2), points(t.accuracy.delta), '—'],
        ['timesteps', ...cells(t.avg_timesteps, (v) => v.toFixed(3))],
      ],
    ),
    ...(c.differing_assumptions.length
      ? ['', `assumptions that differ: ${c.differing_assumptions.map((d) => d.key).join(', ')}`]
      : []),
  ].join('\n');
}

export function registerReportCommands(program: Command, io: Io): void {
  program
    .command('report')
    .description('Regenerate RUN/report.html from a run folder (summary.json and the CSVs)')
    .argument('<run>', 'run folder written by imcsim simulate --out')
    .action(async (run: string) => {
      const file = await writeReport(run);
      io.out(`wrote ${file}`);
    });
  program
    .command('compare')
    .description(
      'Compare two run folders side by side (Δ energy, latency, EDP per component and layer; accuracy, timesteps)',
    )
    .argument('<runA>', 'run folder A (the reference)')
    .argument('<runB>', 'run folder B')
    .requiredOption('--out <dir>', 'folder to write compare.html, compare.csv, compare.json')
    .option('--json', 'print compare.json')
    .action(async (runA: string, runB: string, o: { out: string; json?: boolean }) => {
      checkOutputDir(o.out);
      const { files, comparison } = await writeComparison(runA, runB, o.out);
      if (o.json) io.out(JSON.stringify(comparison, tidyJson, 2));
      else io.out(formatComparison(comparison) + '\n' + files.map((f) => `wrote ${f}`).join('\n'));
    });
}
