import type { Command } from 'commander';
import { loadArch, parseOverride } from '../config/load.js';
import { mapNetwork } from '../chip/mapping.js';
import { loadNetwork } from '../network/load.js';
import { table } from '../util/format.js';
import { archOrDefault, collect, preset, type Io } from './common.js';

export function registerMapCommand(program: Command, io: Io): void {
  program
    .command('map')
    .description('Show how a network is placed on the chip: crossbars, PEs, tiles, mesh')
    .option(
      '--arch <file|preset>',
      'hardware description: a YAML file or a bundled chip (default, isaac-32nm, spikesim-65nm; `imcsim presets`); default: the bundled default chip',
      preset('--arch'),
    )
    .requiredOption(
      '--network <path|preset>',
      'network topology: a YAML file, a model directory or a bundled one (`imcsim presets`)',
      preset('--network'),
    )
    .option('--set <path=value>', 'override an arch key (repeatable)', collect, [])
    .option('--json', 'print JSON')
    .action((opts: { arch?: string; network: string; set: string[]; json?: boolean }) => {
      const spec = loadArch(archOrDefault(opts.arch, io), opts.set.map(parseOverride));
      const net = loadNetwork(opts.network);
      const m = mapNetwork(spec, net.shapes);
      const rows = m.layers.map((lm) => ({
        layer: lm.layer.name,
        kind: lm.layer.kind,
        matrix_rows: lm.layer.rows * lm.layer.groups,
        matrix_cols: lm.layer.cols * lm.layer.groups,
        groups: lm.layer.groups,
        weight_columns: lm.columnsPerWeight,
        row_splits: lm.rowSplits,
        col_splits: lm.colSplits,
        crossbars: lm.crossbars,
        pes: lm.pes,
        tiles: lm.tiles.length ? `${lm.tiles[0]}-${lm.tiles[lm.tiles.length - 1]}` : '-',
        input: lm.layer.binaryInput ? 'spikes' : `${spec.crossbar.input_bits}-bit`,
        note: lm.excluded ?? '',
      }));
      const summary = {
        arch: spec.chip.name,
        network: net.spec.name,
        scheme: spec.mapping.scheme,
        tile_packing: spec.mapping.tile_packing,
        crossbar: `${spec.crossbar.rows}x${spec.crossbar.columns}`,
        crossbars: m.totalCrossbars,
        pes: m.totalPes,
        tiles: m.totalTiles,
        mesh: `${m.meshColumns}x${m.meshRows}`,
      };
      if (opts.json) {
        io.out(JSON.stringify({ ...summary, layers: rows }, null, 2));
        return;
      }
      io.out(
        table(
          [
            'layer',
            'kind',
            'matrix',
            'w-cols',
            'row×col splits',
            'crossbars',
            'PEs',
            'tiles',
            'input',
            'note',
          ],
          rows.map((r) => [
            r.layer,
            r.kind,
            `${r.matrix_rows}×${r.matrix_cols}${r.groups > 1 ? ` (g=${r.groups})` : ''}`,
            r.weight_columns,
            `${r.row_splits}×${r.col_splits}`,
            r.crossbars,
            r.pes,
            r.tiles,
            r.input,
            r.note,
          ]),
        ),
      );
      io.out(
        `\n${summary.network} on ${summary.arch}: ${summary.crossbars} crossbars (${summary.crossbar}) in ${summary.pes} PEs on ${summary.tiles} tiles, mesh ${summary.mesh} (${summary.scheme}, ${summary.tile_packing})`,
      );
    });
}
