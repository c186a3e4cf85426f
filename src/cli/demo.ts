import type { Command } from 'commander';
import { join } from 'node:path';
import { DEMO_DEFAULTS, runDemo, type DemoResult } from '../demo/demo.js';
import { COMPONENTS } from '../hw/actions.js';
import { pct, si, table, tidyJson } from '../util/format.js';
import { parsePositiveInt, shownPath, type Io } from './common.js';
import { progressBar, type Progress } from './progress.js';

function delta(a: number, b: number): string {
  if (a === 0) return b === 0 ? '0 %' : 'n/a';
  const d = (b - a) / a;
  return `${d >= 0 ? '+' : '−'}${pct(Math.abs(d))}`;
}

/** Exit-unit energy per sample, or that it was idle and power-gated (the static policy never uses it). */
function exitCell(x: DemoResult['runs'][number]['result']): string {
  const e = si(x.exit_unit.energy_j / x.samples, 'J');
  return x.exit_unit.power_gated ? `${e} (idle, power-gated)` : e;
}

export function formatDemo(r: DemoResult): string {
  const [s, d] = r.runs.map((x) => x.result);
  const acc = (x: number | null) => (x === null ? 'n/a' : pct(x));
  const rows: string[][] = [
    ['accuracy', acc(s.accuracy), acc(d.accuracy), ''],
    [
      'average timesteps',
      s.avg_timesteps.toFixed(3),
      d.avg_timesteps.toFixed(3),
      delta(s.avg_timesteps, d.avg_timesteps),
    ],
    [
      'energy / sample',
      si(s.energy_per_sample_j, 'J'),
      si(d.energy_per_sample_j, 'J'),
      delta(s.energy_per_sample_j, d.energy_per_sample_j),
    ],
    [
      'latency / sample',
      si(s.latency_per_sample_s, 's'),
      si(d.latency_per_sample_s, 's'),
      delta(s.latency_per_sample_s, d.latency_per_sample_s),
    ],
    [
      'EDP / sample',
      si(s.edp_per_sample_js, 'J·s'),
      si(d.edp_per_sample_js, 'J·s'),
      delta(s.edp_per_sample_js, d.edp_per_sample_js),
    ],
    [
      'exit unit energy / sample',
      exitCell(s),
      exitCell(d),
      delta(s.exit_unit.energy_j / s.samples, d.exit_unit.energy_j / d.samples),
    ],
  ];
  // Where the saving comes from: components ranked by absolute energy saved per sample.
  const saved = COMPONENTS.map((c) => ({
    c,
    a: s.components[c].energy_j / s.samples,
    b: d.components[c].energy_j / d.samples,
  }))
    .map((x) => ({ ...x, saved: x.a - x.b }))
    .sort((x, y) => y.saved - x.saved)
    .slice(0, 5);
  const totalSaved = s.energy_per_sample_j - d.energy_per_sample_j;
  return [
    `imcsim demo: ${r.samples} ${r.dataset} samples, model ${shownPath(r.model)}`,
    `chip ${s.arch} (${shownPath(r.arch)}), ADC model ${s.adc_family}, schedule ${s.schedule}`,
    `spikes computed on: ${s.assumptions.trace_arithmetic}`,
    '',
    table(['', 'static T=4', 'DT-SNN (entropy exit)', 'change'], rows),
    '',
    'where DT-SNN saves energy (per sample):',
    table(
      ['component', 'static', 'DT-SNN', 'saved', 'share of saving'],
      saved.map((x) => [
        x.c,
        si(x.a, 'J'),
        si(x.b, 'J'),
        si(x.saved, 'J'),
        totalSaved > 0 ? pct(x.saved / totalSaved) : 'n/a',
      ]),
    ),
    '',
    `run folders: ${r.runs.map((x) => x.folder).join(', ')}`,
    `reports: ${join(r.compare, 'compare.html')} (side by side), ${r.runs.map((x) => join(x.folder, 'report.html')).join(', ')}`,
    `done in ${r.seconds.toFixed(1)} s`,
  ].join('\n');
}

export function registerDemoCommand(program: Command, io: Io): void {
  program
    .command('demo')
    .description(
      'Trace a shipped trained MNIST model under static T=4 and the DT-SNN entropy exit, simulate both on the default chip, compare',
    )
    .option('--out <dir>', 'output folder (run folders static/, dtsnn/ and compare/)', 'reports/demo')
    .option('--samples <N>', 'MNIST test samples', parsePositiveInt('--samples'), DEMO_DEFAULTS.samples)
    .option('--json', 'print the two run summaries as JSON')
    .option('--float', 'trace on the float32 engine instead of the chip’s arithmetic')
    .action(async (o: { out: string; samples: number; json?: boolean; float?: boolean }) => {
      let bar: Progress | null = null;
      const r = await runDemo({
        out: o.out,
        samples: o.samples,
        float: o.float,
        onProgress: (step, done, total) => {
          bar ??= progressBar(step);
          bar.update(done, total);
        },
        onStepDone: () => {
          bar?.stop();
          bar = null;
        },
      }).finally(() => bar?.stop());
      if (o.json) {
        const strip = (x: DemoResult['runs'][number]) => {
          const { sample_rows: _rows, ...summary } = x.result;
          void _rows;
          return { label: x.label, folder: x.folder, trace: x.trace, summary };
        };
        io.out(
          JSON.stringify(
            { out: r.out, samples: r.samples, compare: r.compare, runs: r.runs.map(strip) },
            tidyJson,
            2,
          ),
        );
      } else io.out(formatDemo(r));
    });
}
