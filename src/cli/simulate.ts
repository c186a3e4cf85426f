import type { Command } from 'commander';
import { loadArch, parseOverride } from '../config/load.js';
import { COMPONENTS } from '../hw/actions.js';
import { simulateTrace, type SimulationResult } from '../replay/simulate.js';
import { area, pct, si, table, tidyJson } from '../util/format.js';
import { writeRunFolder } from '../report/run-folder.js';
import { archOrDefault, collect, parsePositiveInt, preset, type Io } from './common.js';
import { checkOutputDir } from '../util/fs-errors.js';
import { progressBar } from './progress.js';

/** `n` with 4 significant digits and thousands separators (throughput reads as 6,779, not 6.779 k). */
function plain(n: number): string {
  return Number(n.toPrecision(4)).toLocaleString('en');
}

export function formatSimulation(r: SimulationResult): string {
  const c = r.configuration;
  const e = r.efficiency;
  const n = r.samples;
  // A small non-zero share reads "< 0.1 %", never "0.0 %".
  const small = (x: number) => (x > 0 && x < 0.0005 ? '< 0.1 %' : pct(x));
  const u = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : small(x));
  const lines = [
    `${r.network} on ${r.arch} — trace ${r.trace}${r.synthetic ? ' (SYNTHETIC)' : ''}, policy ${r.policy}, ADC model ${r.adc_family}, schedule ${r.schedule}`,
    `chip: ${c.crossbar_rows}×${c.crossbar_columns} crossbars, ${c.cell_bits}-b cells, ${c.weight_bits}-b weights, ADC ${c.adc_family} ${c.adc_bits} b (${c.columns_per_adc} columns each), ${c.tiles} tiles on a ${c.mesh_columns}×${c.mesh_rows} ${c.noc_topology}, ${si(c.clock_hz, 'Hz')}, ${c.tech_node_nm} nm`,
    `${n} samples, accuracy ${r.accuracy === null ? 'n/a' : pct(r.accuracy)}, average timesteps ${r.avg_timesteps.toFixed(3)}, ${r.events.toLocaleString('en')} events`,
    '',
    `Per layer — totals over the run (${n} samples):`,
    table(
      ['layer', 'energy', 'share', 'busy', 'utilisation', 'input rate', 'SOP'],
      r.layers.map((l, i) => {
        const act = r.activity.layers[i];
        return [
          l.name,
          si(l.energy_j, 'J'),
          small(l.energy_j / r.energy_j),
          si(l.latency_s, 's'),
          u(r.utilisation.layers[i]?.utilisation),
          act ? pct(act.firing_rate) : 'n/a',
          act ? si(act.sops, '') : 'n/a',
        ];
      }),
    ),
    '',
    `Per component — totals over the run (${n} samples):`,
    table(
      ['component', 'dynamic', 'leakage', 'share', 'area (mm²)', 'utilisation'],
      COMPONENTS.map((k) => {
        const x = r.components[k];
        return [
          k,
          si(x.dynamic_energy_j, 'J'),
          si(x.leakage_energy_j, 'J'),
          small(x.energy_j / r.energy_j),
          String(Number((x.area_m2 * 1e6).toPrecision(4))),
          u(r.utilisation.components[k]),
        ];
      }),
    ),
    '',
    `per sample (run totals / ${n}): energy ${si(r.energy_per_sample_j, 'J')}, latency ${si(r.latency_per_sample_s, 's')}, EDP ${si(r.edp_per_sample_js, 'J·s')}`,
    `whole run: energy ${si(r.energy_j, 'J')}, run time ${si(r.latency_s, 's')}, throughput ${plain(e.throughput_inferences_per_s)} inferences/s, average power ${si(e.average_power_w, 'W')}, chip area ${area(r.area_m2)}`,
    `efficiency (whole run): ${si(e.sops, 'SOP')}, ${plain(e.energy_per_sop_j * 1e12)} pJ/SOP, ${si(e.sops_per_s_per_w, 'SOP/s/W')}, ${plain(e.inferences_per_s_per_mm2)} inferences/s/mm², ${si(e.sops_per_s_per_mm2, 'SOP/s/mm²')}`,
    r.exit_unit.power_gated
      ? `exit unit: idle, power-gated (the ${r.policy} policy never uses it): 0 J here; when used ${si(r.exit_unit.energy_per_evaluation_j, 'J')} per evaluation + ${si(r.exit_unit.leakage_when_powered_w, 'W')} static; area ${area(r.exit_unit.area_m2)}; wasted work ${si(r.wasted_j, 'J')}`
      : `exit unit (whole run): ${si(r.exit_unit.energy_j, 'J')} over ${r.exit_unit.evaluations} evaluations (${si(r.exit_unit.energy_per_evaluation_j, 'J')} each + ${si(r.exit_unit.leakage_when_powered_w, 'W')} static), area ${area(r.exit_unit.area_m2)}; wasted work ${si(r.wasted_j, 'J')}`,
    `NoC (whole run): ${r.noc.packets.toLocaleString('en')} packets, ${r.noc.flits.toLocaleString('en')} flits, ${r.noc.avg_hops.toFixed(2)} hops on average, max link utilisation ${pct(r.noc.max_link_utilisation)}, max queueing ${r.noc.max_queueing_cycles} cycles`,
    ...r.notes.map((x) => `note: ${x}`),
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
          io.out(JSON.stringify(summary, tidyJson, 2));
        } else io.out(formatSimulation(r) + (o.out ? `\nwrote ${o.out}/` : ''));
      },
    );
}
