import type { Command } from 'commander';
import { join } from 'node:path';
import { runStudy, STUDY_NAMES, type StudyName } from '../studies/index.js';
import { oneOf, parsePositiveInt, preset, type Io } from './common.js';

export function registerStudyCommand(program: Command, io: Io): void {
  program
    .command('study')
    .description(
      'Run a co-design study (dtsnn, iir, ldsnn, exit-overhead, hardware, accuracy): simulations, CSVs, an HTML page with charts, a Markdown summary',
    )
    .argument('<name>', `study: ${STUDY_NAMES.join(' | ')}`, oneOf('study name', STUDY_NAMES))
    .requiredOption('--out <dir>', 'study folder to write')
    .option(
      '--arch <file|preset>',
      'hardware description: a YAML file or a bundled chip (default arch-configs/default.yaml)',
      preset('--arch'),
    )
    .option('--samples <N>', 'test images (or synthetic samples) per run', parsePositiveInt('--samples'))
    .option(
      '--tiny',
      'a tiny configuration (few samples and points) to check the pipeline; numbers not meaningful',
    )
    .option('--quiet', 'do not print each finished run')
    .action(
      async (
        name: StudyName,
        o: { out: string; arch?: string; samples?: number; tiny?: boolean; quiet?: boolean },
      ) => {
        const { result } = await runStudy(name, {
          out: o.out,
          arch: o.arch,
          samples: o.samples,
          tiny: o.tiny,
          log: o.quiet ? undefined : (l) => io.err(l),
        });
        io.out(
          [
            `${result.title} (${result.seconds.toFixed(1)} s)`,
            ...result.findings.map((f) => `- ${f.replace(/\*\*/g, '')}`),
            `wrote ${join(o.out, 'index.html')}, ${join(o.out, 'SUMMARY.md')}, ${result.csvs.map((c) => c.file).join(', ')}`,
          ].join('\n'),
        );
      },
    );
}
