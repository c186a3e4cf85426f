import type { Command } from 'commander';
import { checkNetworkMemory } from '../network/memory.js';
import { estimate, type EstimateResult } from '../analytic/estimate.js';
import { estimateFromTrace, type TraceEstimateResult } from '../replay/trace-estimate.js';
import { SpikeRatesSchema } from '../network/rates.js';
import { located } from '../util/errors.js';
import { loadArch, parseOverride, readTextFile } from '../config/load.js';
import { loadYaml } from '../util/yaml-loader.js';
import { COMPONENTS } from '../hw/actions.js';
import { loadNetwork } from '../network/load.js';
import { area, pct, si, table } from '../util/format.js';
import { archOrDefault, collect, parsePositiveInt, preset, type Io } from './common.js';

export function formatEstimate(r: EstimateResult | TraceEstimateResult): string {
  const lines: string[] = [];
  lines.push(
    `${r.network} on ${r.arch} — accounting ${r.accounting}, ADC model ${r.adc_family}, schedule ${r.schedule}, policy ${r.policy}, T=${Math.max(...r.layer_timesteps)}`,
  );
  if ('source' in r)
    lines.push(
      `closed form over ${r.samples} samples of the trace (policy ${r.trace_policy}; exits ${r.exit_distribution.map((p, t) => `t=${t + 1}: ${pct(p)}`).join(', ')})`,
    );
  lines.push(
    `mapping: ${r.mapping.crossbars} crossbars, ${r.mapping.pes} PEs, ${r.mapping.tiles} tiles, mesh ${r.mapping.mesh}`,
  );
  lines.push('');
  lines.push(
    table(
      ['layer', 'T', 'energy', 'share', 'latency', 'area'],
      [
        ...r.layers.map((l) => [
          l.name,
          l.timesteps,
          si(l.energy_j, 'J'),
          pct(l.energy_j / r.energy_j),
          si(l.latency_s, 's'),
          area(l.area_m2),
        ]),
        [
          '(exit/output)',
          '',
          si(r.exit.energy_j, 'J'),
          pct(r.exit.energy_j / r.energy_j),
          si(r.exit.latency_s, 's'),
          '',
        ],
      ],
    ),
  );
  lines.push('');
  lines.push(
    table(
      ['component', 'class', 'dynamic', 'leakage', 'share', 'area'],
      COMPONENTS.map((c) => {
        const x = r.components[c];
        return [
          c,
          x.class,
          si(x.dynamic_energy_j, 'J'),
          si(x.leakage_energy_j, 'J'),
          pct(x.energy_j / r.energy_j),
          area(x.area_m2),
        ];
      }),
    ),
  );
  lines.push('');
  lines.push(
    `energy  ${si(r.energy_j, 'J')}  (dynamic ${si(r.dynamic_energy_j, 'J')}, leakage ${si(r.leakage_energy_j, 'J')})`,
  );
  lines.push(`latency ${si(r.latency_s, 's')}`);
  lines.push(`EDP     ${si(r.edp_js, 'J·s')}`);
  lines.push(`area    ${area(r.area_m2)}`);
  for (const e of r.excluded_layers) lines.push(`excluded: ${e.layer} — ${e.reason}`);
  for (const n of r.notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}

export function registerEstimateCommand(program: Command, io: Io): void {
  program
    .command('estimate')
    .description('Closed-form energy, latency, EDP and area of one inference, per layer and per component')
    .option(
      '--arch <file|preset>',
      'hardware description: a YAML file or a bundled chip (default, isaac-32nm, spikesim-65nm; `imcsim presets`); default: the bundled default chip',
      preset('--arch'),
    )
    .option(
      '--network <path|preset>',
      'network topology: a YAML file, a model directory or a bundled one (`imcsim presets`); required unless --trace is given',
      preset('--network'),
    )
    .option(
      '--trace <file>',
      'closed form over a spike trace (imcsim trace): counts and latency from its per-layer, per-timestep activity on this chip (network, timesteps and exit policy from the trace)',
    )
    .option('--samples <N>', 'with --trace: use only the first N samples', parsePositiveInt('--samples'))
    .option(
      '--timesteps <T>',
      'timesteps (default: the network file\u2019s)',
      parsePositiveInt('--timesteps'),
    )
    .option(
      '--spike-rates <file>',
      'per-layer, per-timestep input spike rates (YAML/JSON); default: all inputs active',
    )
    .option(
      '--policy <policy>',
      'exit policy: static | entropy (entropy unit evaluated every timestep)',
      'static',
    )
    .option('--set <path=value>', 'override an arch key (repeatable)', collect, [])
    .option('--json', 'print JSON (energy_j, latency_s, edp_js, area_m2, layers[], components{})')
    .action(
      async (opts: {
        arch?: string;
        network?: string;
        trace?: string;
        samples?: number;
        timesteps?: number;
        spikeRates?: string;
        policy: string;
        set: string[];
        json?: boolean;
      }) => {
        if (opts.policy !== 'static' && opts.policy !== 'entropy')
          throw located('unknown exit policy', {
            path: '--policy',
            expected: '"static" or "entropy"',
            found: JSON.stringify(opts.policy),
          });
        if (opts.trace !== undefined) {
          for (const [flag, given] of [
            ['--network', opts.network],
            ['--timesteps', opts.timesteps],
            ['--spike-rates', opts.spikeRates],
          ] as const)
            if (given !== undefined)
              throw located('--trace gives the network, its timesteps and its activity', {
                path: flag,
                expected: 'no ' + flag + ' with --trace',
                found: String(given),
              });
          const spec = loadArch(archOrDefault(opts.arch, io), opts.set.map(parseOverride));
          const r = await estimateFromTrace(spec, opts.trace, { samples: opts.samples });
          io.out(opts.json ? JSON.stringify(r, null, 2) : formatEstimate(r));
          return;
        }
        if (opts.network === undefined)
          throw located('the network is missing', {
            path: '--network',
            expected: 'a topology (--network) or a spike trace (--trace)',
            found: 'neither',
          });
        const spec = loadArch(archOrDefault(opts.arch, io), opts.set.map(parseOverride));
        const net = loadNetwork(opts.network);
        if (opts.timesteps !== undefined)
          checkNetworkMemory(net.spec, net.shapes, { timesteps: opts.timesteps, file: net.file });
        const rates = opts.spikeRates
          ? loadYaml(readTextFile(opts.spikeRates), opts.spikeRates, SpikeRatesSchema)
          : undefined;
        const r = estimate(
          spec,
          net.spec,
          { timesteps: opts.timesteps, rates, ratesFile: opts.spikeRates, policy: opts.policy },
          net.shapes,
        );
        io.out(opts.json ? JSON.stringify(r, null, 2) : formatEstimate(r));
      },
    );
}
