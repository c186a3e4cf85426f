import type { Command } from 'commander';
import { loadArch, parseOverride } from '../config/load.js';
import { COMPONENTS } from '../hw/actions.js';
import { simulateTrace, type SimulationResult } from '../replay/simulate.js';
import { area, pct, si, table } from '../util/format.js';
import { writeRunFolder } from '../report/run-folder.js';
import { archOrDefault, collect, parsePositiveInt, preset, type Io } from './common.js';
import { checkOutputDir } from '../util/fs-errors.js';
import { progressBar } from './progress.js';

export function formatSimulation(r: SimulationResult): string {
  const lines = [
    `${r.network} on ${r.arch} — trace ${r.trace}${r.synthetic ? ' (SYNTHETIC)' : ''}, policy ${r.policy}, ADC model ${r.adc_family}, schedule ${r.schedule}`,
    `${r.samples} samples, accuracy ${r.accuracy === null ? 'n/a' : pct(r.accuracy)}, average timesteps ${r.avg_timesteps.toFixed(3)}, ${r.events.toLocaleString('en')} events`,
    '',
    table(
      ['layer', 'energy', 'share', 'busy'],
      r.layers.map((l) => [l.name, si(l.energy_j, 'J'), pct(l.energy_j / r.energy_j), si(l.latency_s, 's')]),
    ),
    '',
    table(
      ['component', 'dynamic', 'leakage', 'share', 'area'],
      COMPONENTS.map((c) => {
        const x = r.components[c];
        return [
          c,
          si(x.dynamic_energy_j, 'J'),
          si(x.leakage_energy_j, 'J'),
          pct(x.energy_j / r.energy_j),
          area(x.area_m2),
        ];
      }),
    ),
    '',
    `per sample: energy ${si(r.energy_per_sample_j, 'J')}, latency ${si(r.latency_per_sample_s, 's')}, EDP ${si(r.edp_per_sample_js, 'J·s')}`,
    `throughput ${si(r.throughput_per_s, 'inferences/s')}, average power ${si(r.average_power_w, 'W')} (${r.samples_overlap ? 'samples stream through the pipeline' : 'samples do not overlap'})`,
    r.exit_unit.power_gated
      ? `exit unit: idle, power-gated (the ${r.policy} policy never uses it): 0 J, area ${area(r.exit_unit.area_m2)}; wasted work ${si(r.wasted_j, 'J')}`
      : `exit unit: ${si(r.exit_unit.energy_j, 'J')} over ${r.exit_unit.evaluations} evaluations, area ${area(r.exit_unit.area_m2)}; wasted work ${si(r.wasted_j, 'J')}`,
    `NoC: ${r.noc.packets.toLocaleString('en')} packets, ${r.noc.flits.toLocaleString('en')} flits, ${r.noc.avg_hops.toFixed(2)} hops on average, max link utilisation ${pct(r.noc.max_link_utilisation)}, max queueing ${r.noc.max_queueing_cycles} cycles`,
    ...r.notes.map((n) => `note: ${n}`),
  ];
  return lines.join('\n');
}

export function registerSimulateCommand(program: Command, io: Io): void {
  program
    .command('simulate')
    .description(
      'Replay a spike trace cycle by cycle on a chip: energy, latency, utilisation per sample, layer, timestep, component',
    )
    .option(
      '--arch <file|preset>',
      'hardware description: a YAML file or a bundled chip (default, isaac-32nm, spikesim-65nm; `imcsim presets`); default: the bundled default chip',
      preset('--arch'),
    )
    .requiredOption('--trace <file>', 'spike trace (imcsim trace)')
    .option(
      '--out <dir>',
      'run folder to write (summary.json, layers.csv, timesteps.csv, components.csv, samples.csv, report.html)',
    )
    .option('--samples <N>', 'replay only the first N samples', parsePositiveInt('--samples'))
    .option('--contention-free', 'ignore NoC link reservations (the contention-free reference)')
    .option('--set <path=value>', 'override an arch key (repeatable)', collect, [])
    .option('--json', 'print summary JSON')
    .action(
      async (o: {
        arch?: string;
        trace: string;
        out?: string;
        samples?: number;
        contentionFree?: boolean;
        set: string[];
        json?: boolean;
      }) => {
        if (o.out) checkOutputDir(o.out);
        const spec = loadArch(archOrDefault(o.arch, io), o.set.map(parseOverride));
        const bar = progressBar('simulate');
        const r = await simulateTrace(spec, o.trace, {
          samples: o.samples,
          contentionFree: o.contentionFree,
          onSample: (d, n) => bar.update(d, n),
        }).finally(() => bar.stop());
        if (o.samples !== undefined && r.samples < o.samples)
          io.err(
            `imcsim: note: --samples ${o.samples} is more than the ${r.samples} samples of ${o.trace}; replayed all ${r.samples}`,
          );
        if (o.out) await writeRunFolder(o.out, r);
        if (o.json) {
          const { sample_rows: _rows, ...summary } = r;
          void _rows;
          io.out(JSON.stringify(summary, null, 2));
        } else io.out(formatSimulation(r) + (o.out ? `\nwrote ${o.out}/` : ''));
      },
    );
}
