import type { Command } from 'commander';
import { stringify } from 'yaml';
import { archConfigMarkdown, archJsonSchema } from '../config/docs.js';
import { loadArch, parseOverride } from '../config/load.js';
import { writeFileAtomic } from '../util/atomic.js';
import { collect, type Io } from './common.js';

export function registerConfigCommands(program: Command, io: Io): void {
  const config = program.command('config').description('Validate, show and document hardware descriptions');
  config
    .command('validate')
    .description('Check a hardware description; exit code 2 with located errors if it is wrong')
    .argument('<file>', 'arch YAML file')
    .option('--set <path=value>', 'override a key (repeatable)', collect, [])
    .action((file: string, opts: { set: string[] }) => {
      const spec = loadArch(file, opts.set.map(parseOverride));
      io.out(
        `${file}: valid (${spec.chip.name}; accounting ${spec.accounting}; ADC ${spec.adc.family} ${spec.adc.bits}-bit; ${spec.chip.tech_node_nm} nm)`,
      );
    });
  config
    .command('show')
    .description(
      'Print the resolved description: the file with every default filled in and overrides applied',
    )
    .argument('<file>', 'arch YAML file')
    .option('--set <path=value>', 'override a key (repeatable)', collect, [])
    .option('--json', 'print JSON instead of YAML')
    .action((file: string, opts: { set: string[]; json?: boolean }) => {
      const spec = loadArch(file, opts.set.map(parseOverride));
      io.out(opts.json ? JSON.stringify(spec, null, 2) : stringify(spec, { lineWidth: 0 }));
    });
  config
    .command('schema')
    .description('Print the JSON Schema of hardware descriptions (for editors)')
    .action(() => io.out(JSON.stringify(archJsonSchema(), null, 2)));
  config
    .command('docs')
    .description('Generate the configuration reference (docs/CONFIG.md) from the schema')
    .option('--out <file>', 'write to a file instead of standard output')
    .action((opts: { out?: string }) => {
      const md = archConfigMarkdown();
      if (opts.out) {
        writeFileAtomic(opts.out, md);
        io.out(`wrote ${opts.out}`);
      } else io.out(md);
    });
}
