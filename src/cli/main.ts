/**
 * The `imcsim` command line: a thin layer over the library. Parses arguments, calls the typed API,
 * prints. Exit codes: 0 success, 2 bad input (config, network, arguments), 1 internal failure.
 */
import { Command, CommanderError } from 'commander';
import { EXIT_INPUT, EXIT_OK, processIo, reportError, type Io } from './common.js';
import { registerConfigCommands } from './config.js';
import { registerEstimateCommand } from './estimate.js';
import { registerMapCommand } from './map.js';
import { registerComponentsCommand } from './components.js';
import { registerSnnCommands } from './snn.js';
import { registerSimulateCommand } from './simulate.js';
import { registerTrainCommands } from './train.js';
import { registerSweepCommands } from './sweep.js';
import { registerReportCommands } from './report.js';
import { registerDemoCommand } from './demo.js';
import { registerStudyCommand } from './study.js';
import { registerPresetsCommand } from './presets.js';
import { cliMarkdown } from './cli-docs.js';
import { writeFileAtomic } from '../util/atomic.js';
import { VERSION } from '../util/version.js';
import { MAX_MEMORY_ENV, parseByteSize, setMemoryLimit } from '../network/memory.js';

export function buildProgram(io: Io): Command {
  const program = new Command();
  program
    .name('imcsim')
    .description(
      'Cycle-level simulator of RRAM in-memory-computing accelerators running spiking neural networks',
    )
    .version(VERSION)
    .option(
      '--max-memory <size>',
      `refuse networks whose estimated memory exceeds this (e.g. 8GiB; default 4GiB, or $${MAX_MEMORY_ENV})`,
      (v: string) => parseByteSize(v, '--max-memory'),
    )
    .hook('preAction', (cmd) => setMemoryLimit(cmd.opts<{ maxMemory?: number }>().maxMemory))
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s.replace(/\n$/, '')),
      writeErr: (s) => io.err(s.replace(/\n$/, '')),
    });
  registerConfigCommands(program, io);
  registerMapCommand(program, io);
  registerEstimateCommand(program, io);
  registerComponentsCommand(program, io);
  registerSnnCommands(program, io);
  registerSimulateCommand(program, io);
  registerTrainCommands(program, io);
  registerSweepCommands(program, io);
  registerReportCommands(program, io);
  registerDemoCommand(program, io);
  registerStudyCommand(program, io);
  registerPresetsCommand(program, io);
  program
    .command('docs-cli')
    .description('Generate the command reference (docs/CLI.md) from the command definitions')
    .option('--out <file>', 'write to a file instead of standard output')
    .action((o: { out?: string }) => {
      const md = cliMarkdown(program);
      if (o.out) {
        writeFileAtomic(o.out, md);
        io.out(`wrote ${o.out}`);
      } else io.out(md);
    });
  return program;
}

/** Runs the CLI on argv (as process.argv) and returns the exit code. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const program = buildProgram(io);
  setMemoryLimit(undefined);
  try {
    await program.parseAsync(argv);
    return EXIT_OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (
        e.code === 'commander.helpDisplayed' ||
        e.code === 'commander.version' ||
        e.code === 'commander.help'
      )
        return EXIT_OK;
      // Commander already printed its message (unknown option, missing argument...): bad input.
      return EXIT_INPUT;
    }
    return reportError(e, io);
  }
}
