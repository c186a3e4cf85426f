/**
 * The `imcsim` command line: a thin layer over the library. Parses arguments, calls the typed API,
 * prints. Exit codes: 0 success, 2 bad input (config, network, arguments), 1 internal failure.
 */
import { Command, CommanderError, Help, type Option } from 'commander';
import { closest, distance } from 'fastest-levenshtein';
import { located } from '../util/errors.js';
import {
  EXIT_INPUT,
  EXIT_OK,
  isRequiredOption,
  markRequired,
  processIo,
  reportError,
  type Io,
} from './common.js';
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
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s.replace(/\n$/, '')),
      // Commander's own messages in imcsim's error style.
      writeErr: (s) => io.err(s.replace(/\n$/, '').replace(/^error: /, 'imcsim: error: ')),
    })
    .configureHelp({
      optionDescription: (o: Option) =>
        new Help().optionDescription(o).replace(' (default: [])', '') +
        (isRequiredOption(o) ? ' (required)' : ''),
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
  tighten(program);
  return program;
}

/**
 * What commander does not do by itself: every missing required option named in one message (commander
 * stops at the first), and an unknown word where a subcommand is expected refused as an unknown command
 * even under a group with a default subcommand (`imcsim trace recrod`), both exit code 2.
 */
function tighten(program: Command): void {
  const walk = (cmd: Command): void => {
    for (const o of cmd.options as Option[])
      if (o.mandatory) {
        markRequired(o);
        o.mandatory = false;
      }
    if (cmd.commands.length)
      cmd.hook('preSubcommand', (self) => {
        const first = self.args[0];
        if (first === undefined || first.startsWith('-')) return;
        // A subcommand is also known by the first word of its description ("Record a trace" → run).
        const words = new Map<string, string>();
        for (const c of self.commands) {
          for (const n of [c.name(), ...c.aliases()]) words.set(n, c.name());
          const verb = /^[A-Za-z]+/.exec(c.description())?.[0]?.toLowerCase();
          if (verb && !words.has(verb)) words.set(verb, c.name());
        }
        if (self.commands.some((c) => c.name() === first || c.aliases().includes(first))) return;
        const near = closest(first, [...words.keys()]);
        const hint =
          distance(first, near) <= Math.max(2, Math.floor(near.length / 3))
            ? ` (did you mean '${commandPath(self)} ${words.get(near)}'?)`
            : '';
        throw located(`${commandPath(self)}: unknown command '${first}'${hint}`, {
          expected: `one of ${self.commands.map((c) => c.name()).join(', ')}`,
        });
      });
    cmd.commands.forEach(walk);
  };
  walk(program);
  program.hook('preAction', (_self, action) => {
    const missing: string[] = [];
    for (let c: Command | null = action; c; c = c.parent)
      for (const o of c.options as Option[])
        if (isRequiredOption(o) && c.getOptionValue(o.attributeName()) === undefined) missing.push(o.flags);
    if (missing.length)
      throw located(
        `${commandPath(action)}: missing required option${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (run with --help for usage)`,
      );
  });
}

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
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
