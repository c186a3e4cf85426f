import type { Command } from 'commander';
import { loadArch, parseOverride } from '../config/load.js';
import { COMPONENTS } from '../hw/actions.js';
import { chipComponentModels } from '../chip/workload.js';
import { COMPONENT_CLASSES } from '../hw/components/registry.js';
import { area, si, table } from '../util/format.js';
import { collect, preset, type Io } from './common.js';

export function registerComponentsCommand(program: Command, io: Io): void {
  program
    .command('components')
    .description(
      'List component model classes, or the resolved models of an arch with every action cost and source',
    )
    .option(
      '--arch <file|preset>',
      'hardware description: a YAML file or a bundled chip (`imcsim presets`); without it, the model classes',
      preset('--arch'),
    )
    .option('--set <path=value>', 'override an arch key (repeatable)', collect, [])
    .option('--json', 'print JSON')
    .action((opts: { arch?: string; set: string[]; json?: boolean }) => {
      if (!opts.arch) {
        const rows = [...COMPONENT_CLASSES.values()].map((c) => ({
          class: c.name,
          components: c.components.join(', '),
          ref_tech_node_nm: c.refTechNodeNm,
          source: c.source,
        }));
        io.out(
          opts.json
            ? JSON.stringify(rows, null, 2)
            : table(
                ['class', 'models', 'ref node', 'source'],
                rows.map((r) => [r.class, r.components, r.ref_tech_node_nm ?? '-', r.source]),
              ),
        );
        return;
      }
      const spec = loadArch(opts.arch, opts.set.map(parseOverride));
      const models = chipComponentModels(spec);
      if (opts.json) {
        io.out(JSON.stringify(models, null, 2));
        return;
      }
      const rows: string[][] = [];
      for (const c of COMPONENTS) {
        const m = models[c];
        for (const [a, cost] of Object.entries(m.actions))
          rows.push([
            c,
            m.className,
            a,
            si(cost!.energy_j, 'J'),
            si(cost!.latency_s, 's'),
            `${area(m.area_m2)}/${m.areaUnit}`,
            si(m.leakage_w, 'W'),
          ]);
      }
      io.out(table(['component', 'class', 'action', 'energy', 'latency', 'area', 'leakage/unit'], rows));
      io.out('');
      for (const c of COMPONENTS)
        io.out(
          `${c}: ${models[c].source} (ref ${models[c].refTechNodeNm ?? '-'} nm → ${models[c].techNodeNm} nm)`,
        );
      const notes: string[] = [];
      for (const c of COMPONENTS)
        for (const [a, cost] of Object.entries(models[c].actions))
          if (cost?.note) notes.push(`${c}.${a}: ${cost.note}`);
      if (notes.length) io.out(['', ...notes].join('\n'));
    });
}
