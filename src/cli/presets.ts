import type { Command } from 'commander';
import { listPresets } from '../util/presets.js';
import { table } from '../util/format.js';
import type { Io } from './common.js';

export function registerPresetsCommand(program: Command, io: Io): void {
  program
    .command('presets')
    .description(
      'List the bundled chips, networks and trained models that --arch, --network and --model accept by name',
    )
    .option('--json', 'print JSON (name, kind, path, description)')
    .action((o: { json?: boolean }) => {
      const rows = listPresets();
      if (o.json) {
        io.out(JSON.stringify(rows, null, 2));
        return;
      }
      io.out(
        table(
          ['name', 'kind', 'path', 'description'],
          rows.map((p) => [p.name, p.kind, p.path, p.description]),
        ),
      );
      io.out(
        '\nkind: arch = a chip (--arch); network = a topology (--network); model = a topology with trained weights (--model or --network).\nA path that exists wins over a preset of the same name.',
      );
    });
}
