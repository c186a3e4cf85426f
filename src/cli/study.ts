import type { Command } from 'commander';
import { join } from 'node:path';
import { runStudy, STUDY_NAMES, type StudyName } from '../studies/index.js';
import { oneOf, parsePositiveInt, preset, type Io } from './common.js';
import { located } from '../util/errors.js';
import type { DatasetRef } from '../snn/data/dataset.js';
import { parseNormalize, type Normalization } from '../snn/data/external.js';
import { datasetRef } from './snn.js';

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
    .option(
      '--data-dir <dir>',
      'directory of the Fashion-MNIST files (default /usr/share/datasets/fashion-mnist)',
    )
    .option('--quiet', 'do not print each finished run')
    .option(
      '--model <dir|preset>',
      'dtsnn, hardware: your trained model instead of the shipped one (with --dataset)',
      preset('--model'),
    )
    .option(
      '--dataset <name|FORMAT:PATH>',
      'dtsnn, hardware: your data (mnist | fashion-mnist | npz:FILE | npy:DIR | idx:DIR | cifar10:DIR | cifar100:DIR | events:FILE), test split',
      datasetRef,
    )
    .option(
      '--normalize <mean/std>',
      'dtsnn: declared per-channel normalisation of a dataset on disk',
      parseNormalize,
    )
    .option('--bin-by <rule>', 'dtsnn, events: time | count', oneOf('--bin-by', ['time', 'count'] as const))
    .option(
      '--event-values <v>',
      'dtsnn, events: binary | count',
      oneOf('--event-values', ['binary', 'count'] as const),
    )
    .action(
      async (
        name: StudyName,
        o: {
          out: string;
          arch?: string;
          samples?: number;
          tiny?: boolean;
          quiet?: boolean;
          model?: string;
          dataset?: DatasetRef;
          normalize?: Normalization;
          binBy?: 'time' | 'count';
          eventValues?: 'binary' | 'count';
          dataDir?: string;
        },
      ) => {
        if ((o.model === undefined) !== (o.dataset === undefined))
          throw located('--model and --dataset go together (your model on your data)', {
            path: o.model === undefined ? '--model' : '--dataset',
            expected: 'both, or neither',
          });
        if (o.model !== undefined && name !== 'dtsnn' && name !== 'hardware')
          throw located(
            `study ${name} runs the shipped models only; --model/--dataset apply to the dtsnn and hardware studies`,
            {
              path: '--model',
              expected: 'study dtsnn or hardware',
              found: name,
            },
          );
        const { result } = await runStudy(name, {
          dataDir: o.dataDir,
          out: o.out,
          arch: o.arch,
          samples: o.samples,
          tiny: o.tiny,
          log: o.quiet ? undefined : (l) => io.err(l),
          ...(o.model !== undefined ? { model: o.model, dataset: o.dataset } : {}),
          normalize: o.normalize,
          events: o.binBy || o.eventValues ? { by: o.binBy, values: o.eventValues } : undefined,
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
