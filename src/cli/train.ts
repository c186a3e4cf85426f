/** Commands of the training side: train (DT-SNN / IIR-SNN), dtsnn-curve, ldsnn-search. */
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { located } from '../util/errors.js';
import { mkdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { writeToString } from 'fast-csv';
import { inferShapes } from '../network/shapes.js';
import {
  DATASET_NAMES,
  DATASET_SPLITS,
  loadDataset,
  type DatasetRef,
  type DatasetSplit,
} from '../snn/data/dataset.js';
import { loadModel, saveModel } from '../snn/model.js';
import { DEFAULT_THETAS, dtsnnCurve, dtsnnCurveSvg } from '../snn/train/dtsnn.js';
import { ldsnnEvaluate, ldsnnSearch } from '../snn/train/ldsnn.js';
import { writeFileAtomic } from '../util/atomic.js';
import { contentId } from '../util/hash.js';
import { trainCommand } from '../snn/train/api.js';
import { LOSSES, type LossName } from '../snn/train/loss.js';
import { OPTIMIZERS, SCHEDULES, type OptimizerName, type ScheduleName } from '../snn/train/optim.js';
import { SURROGATES, type SurrogateName } from '../snn/train/surrogate.js';
import type { TrainProgress } from '../snn/train/trainer.js';
import { pct } from '../util/format.js';
import { parseNormalize, type Normalization } from '../snn/data/external.js';
import { datasetRef } from './snn.js';
import {
  addChipOptions,
  chipRunOptions,
  parseNumber,
  parsePositiveInt,
  oneOf,
  parseSeed,
  preset,
  type Io,
} from './common.js';
import { etaText } from './progress.js';

const positiveNumber = (flag: string) => parseNumber(flag, { min: 0, exclusive: true });
const nonNegativeNumber = (flag: string) => parseNumber(flag, { min: 0 });
const nonNegativeInt = (flag: string) => parseNumber(flag, { min: 0, integer: true });

interface TrainFlags {
  model?: string;
  dataset?: DatasetRef;
  normalize?: Normalization;
  dataDir?: string;
  timesteps?: number;
  loss?: LossName;
  epochs: number;
  firstEpochs?: number;
  seed: number;
  out?: string;
  lr?: number;
  batch: number;
  optimizer: OptimizerName;
  schedule: ScheduleName;
  stepEpochs?: number;
  surrogate?: SurrogateName;
  weightDecay: number;
  augment: number;
  samples?: number;
  valSamples?: number;
  resume?: boolean;
  workers: number;
  method: 'dtsnn' | 'iir';
  fromTimesteps?: number;
  toTimesteps?: number;
  stopAfter?: number;
  keepStages?: boolean;
  arch?: string;
  set?: string[];
}

/** Default worker count: 1, the faster in bench/train.bench.js on the shared 2-core machine (docs/MODELS.md). */
export const DEFAULT_WORKERS = 1;

function progressFor(
  io: Io,
  tty: boolean,
): { progress: TrainProgress; stage: (T: number, epochs: number) => void; stop: () => void } {
  let bar: cliProgress.SingleBar | null = null;
  let barStart = 0;
  let epochs = 0;
  let epoch = 0;
  let stageT = 0;
  const stop = () => {
    bar?.stop();
    bar = null;
  };
  return {
    stage: (T, e) => {
      stageT = T;
      epochs = e;
      epoch = 0;
    },
    stop,
    progress: {
      onBatch: (done, total, loss, acc) => {
        if (!tty) return;
        if (!bar) {
          bar = new cliProgress.SingleBar(
            {
              format: `T=${stageT} epoch ${epoch + 1}/${epochs} [{bar}] {percentage}% | {value}/{total} | loss {loss} | acc {acc} | eta {eta_text}`,
              hideCursor: true,
            },
            cliProgress.Presets.shades_classic,
          );
          barStart = performance.now();
          bar.start(total, 0, { loss: '-', acc: '-', eta_text: etaText(0, total, 0) });
        }
        bar.update(done, {
          loss: loss.toFixed(4),
          acc: pct(acc),
          eta_text: etaText(done, total, (performance.now() - barStart) / 1000),
        });
      },
      onEpoch: (row) => {
        stop();
        epoch++;
        io.out(
          `T=${row.timesteps} epoch ${row.epoch}: lr ${row.lr.toPrecision(3)}  train loss ${row.train_loss.toFixed(4)}  train acc ${pct(row.train_acc)}  val acc ${Number.isNaN(row.val_acc) ? 'n/a' : pct(row.val_acc)}  ${row.seconds.toFixed(1)} s`,
        );
      },
    },
  };
}

export function registerTrainCommands(program: Command, io: Io): void {
  addChipOptions(
    program
      .command('train')
      .description(
        'Train an SNN with surrogate gradients (BPTT): DT-SNN-style at one T, or IIR-SNN stages T = from … to; with --arch, hardware-aware: forward on the chip’s arithmetic (quantised weights, ADC), straight-through gradients, programming noise per batch',
      ),
  )
    .option(
      '--model <path|preset>',
      'model directory (weights are the starting point), topology (initialised with --seed) or bundled one',
      preset('--network'),
    )
    .option(
      '--dataset <name|FORMAT:PATH>',
      `dataset: ${DATASET_NAMES.join(' | ')}, or images on disk: npz:FILE | npy:DIR | idx:DIR | cifar10:DIR | cifar100:DIR (docs/DATASETS.md)`,
      datasetRef,
    )
    .option(
      '--normalize <mean/std>',
      'declared per-channel normalisation of a dataset on disk, (x − mean)/std',
      parseNormalize,
    )
    .option('--data-dir <dir>', 'Fashion-MNIST IDX directory (default /usr/share/datasets/fashion-mnist)')
    .option('--out <dir>', 'output model directory (network.yaml, weights.safetensors, train-log.csv)')
    .option(
      '--method <m>',
      'dtsnn (one T) | iir (stages from → to timesteps)',
      oneOf('--method', ['dtsnn', 'iir'] as const),
      'dtsnn' as const,
    )
    .option('--timesteps <T>', 'timesteps (dtsnn)', parsePositiveInt('--timesteps'))
    .option('--from-timesteps <T>', 'iir: first stage (default 5)', parsePositiveInt('--from-timesteps'))
    .option('--to-timesteps <T>', 'iir: last stage (default 1)', parsePositiveInt('--to-timesteps'))
    .option(
      '--loss <name>',
      `loss: ${LOSSES.join(' | ')} (default tet; iir: sum-ce)`,
      oneOf('--loss', LOSSES),
    )
    .option('--epochs <E>', 'epochs (iir: per stage)', parsePositiveInt('--epochs'), 10)
    .option(
      '--first-epochs <E>',
      'iir: epochs of the first stage (default --epochs)',
      parsePositiveInt('--first-epochs'),
    )
    .option('--seed <S>', 'seed of initialisation, shuffling, dropout and augmentation', parseSeed, 0)
    .option('--lr <lr>', 'learning rate (default 1e-3 for adam, 0.1 for sgd)', positiveNumber('--lr'))
    .option('--batch <B>', 'batch size', parsePositiveInt('--batch'), 32)
    .option(
      '--optimizer <name>',
      `optimiser: ${OPTIMIZERS.join(' | ')}`,
      oneOf('--optimizer', OPTIMIZERS),
      'adam' as const,
    )
    .option(
      '--schedule <name>',
      `learning-rate schedule: ${SCHEDULES.join(' | ')}`,
      oneOf('--schedule', SCHEDULES),
      'cosine' as const,
    )
    .option(
      '--step-epochs <N>',
      'step schedule: epochs between ×0.1 decays (default epochs/3)',
      parsePositiveInt('--step-epochs'),
    )
    .option(
      '--surrogate <name>',
      `surrogate gradient: ${SURROGATES.join(' | ')} (default atan; iir: pwl)`,
      oneOf('--surrogate', SURROGATES),
    )
    .option(
      '--weight-decay <wd>',
      'weight decay of conv/linear weights',
      nonNegativeNumber('--weight-decay'),
      0,
    )
    .option(
      '--augment <px>',
      'random translation of training images by up to px pixels',
      nonNegativeInt('--augment'),
      0,
    )
    .option('--samples <N>', 'train on the first N images of the train split', parsePositiveInt('--samples'))
    .option(
      '--val-samples <N>',
      'validate on the first N images of the validation split',
      parsePositiveInt('--val-samples'),
    )
    .option('--resume', 'continue from the checkpoint in --out')
    .option(
      '--workers <n>',
      `threads computing gradients, 1 or 2 (default ${DEFAULT_WORKERS})`,
      parsePositiveInt('--workers'),
      DEFAULT_WORKERS,
    )
    .option('--keep-stages', 'iir: keep every stage’s model in OUT/stages/T<n>')
    .option(
      '--stop-after <E>',
      'stop after E epochs, keeping the checkpoint (for testing --resume)',
      parsePositiveInt('--stop-after'),
    )
    .action(async (o: TrainFlags, cmd: Command) => {
      if (!o.model)
        throw located('--model is required', {
          path: '--model',
          expected: 'a model directory or topology file',
        });
      if (!o.dataset)
        throw located('--dataset is required', { path: '--dataset', expected: DATASET_NAMES.join(' | ') });
      if (!o.out)
        throw located('--out is required', {
          path: '--out',
          expected: 'an output directory (models/<name>)',
        });
      if (o.workers > 2)
        throw located('--workers must be 1 or 2', { path: '--workers', found: String(o.workers) });
      const iir = o.method === 'iir';
      const T = o.timesteps ?? 4;
      const chip = chipRunOptions(o, o.dataset, { dataDir: o.dataDir, normalize: o.normalize });
      if (chip && o.workers !== 1)
        throw located('hardware-aware training (--arch) runs on one worker', {
          path: '--workers',
          expected: '1',
          found: String(o.workers),
        });
      const tty = Boolean(process.stdout.isTTY);
      const p = progressFor(io, tty);
      const raw = (cmd.parent as (Command & { rawArgs?: string[] }) | null)?.rawArgs ?? process.argv;
      const command = ['imcsim', ...raw.slice(2)].join(' ');
      try {
        const r = await trainCommand({
          model: o.model,
          dataset: o.dataset,
          normalize: o.normalize,
          dataDir: o.dataDir,
          out: o.out,
          method: o.method,
          timesteps: iir ? (o.fromTimesteps ?? 5) : T,
          fromTimesteps: o.fromTimesteps,
          toTimesteps: o.toTimesteps,
          loss: o.loss ?? (iir ? 'sum-ce' : 'tet'),
          epochs: o.epochs,
          firstEpochs: o.firstEpochs,
          seed: o.seed,
          lr: o.lr ?? (o.optimizer === 'sgd' ? 0.1 : 1e-3),
          batch: o.batch,
          optimizer: o.optimizer,
          schedule: o.schedule,
          stepEpochs: o.stepEpochs,
          surrogate: o.surrogate ?? (iir ? 'pwl' : 'atan'),
          weightDecay: o.weightDecay,
          augment: o.augment,
          workers: o.workers,
          samples: o.samples,
          valSamples: o.valSamples,
          resume: o.resume,
          stopAfter: o.stopAfter,
          keepStages: o.keepStages,
          chip,
          command,
          progress: p.progress,
          onStage: (t, e) => {
            p.stage(t, e);
            if (iir) io.out(`stage T=${t}: ${e} epochs`);
          },
        });
        p.stop();
        if (!r.complete) {
          io.out(`stopped after ${r.log.length} epochs; checkpoint in ${o.out} (continue with --resume)`);
          return;
        }
        for (const s of r.stages) io.out(`T=${s.timesteps}: validation accuracy ${pct(s.val_acc)}`);
        io.out(`wrote ${o.out} (${r.log.length} epochs, ${r.seconds.toFixed(0)} s)`);
      } finally {
        p.stop();
      }
    });
  registerDtsnnCurveCommand(program, io);
  registerLdsnnSearchCommand(program, io);
}

function parseThetas(v: string): number[] {
  const parts = v.split(',').map((x) => Number(x.trim()));
  if (!parts.length || parts.some((n) => !Number.isFinite(n) || n < 0 || n > 1))
    throw located('--thetas must be a comma-separated list of numbers in [0, 1]', {
      path: '--thetas',
      found: JSON.stringify(v),
    });
  return parts;
}

async function writeCsv(file: string, headers: string[], rows: Array<Array<string | number>>): Promise<void> {
  writeFileAtomic(file, (await writeToString(rows, { headers, writeHeaders: true })) + '\n');
}

/** The trained model and dataset every algorithm command (dtsnn-curve, ldsnn-search) starts from. */
function modelAndDataset(cmd: Command): Command {
  return addChipOptions(cmd)
    .requiredOption(
      '--model <dir|preset>',
      'model directory or bundled model (`imcsim presets`)',
      preset('--model'),
    )
    .requiredOption(
      '--dataset <name|FORMAT:PATH>',
      `dataset: ${DATASET_NAMES.join(' | ')}, or images on disk: npz:FILE | npy:DIR | idx:DIR | cifar10:DIR | cifar100:DIR`,
      datasetRef,
    )
    .option(
      '--normalize <mean/std>',
      'declared per-channel normalisation of a dataset on disk, (x − mean)/std',
      parseNormalize,
    )
    .option('--data-dir <dir>', 'Fashion-MNIST IDX directory');
}

function registerDtsnnCurveCommand(program: Command, io: Io): void {
  modelAndDataset(
    program
      .command('dtsnn-curve')
      .description(
        'DT-SNN: accuracy vs average timesteps of the entropy exit, the static model truncated at t = 1 … T, and the oracle',
      ),
  )
    .option(
      '--split <split>',
      `split: ${DATASET_SPLITS.join(' | ')}`,
      oneOf('--split', DATASET_SPLITS),
      'test' as DatasetSplit,
    )
    .option('--thetas <list>', 'entropy exit thresholds θ (exit when 1 − H > θ)', parseThetas, DEFAULT_THETAS)
    .option('--timesteps <T>', 'maximum timesteps (default: the model’s)', parsePositiveInt('--timesteps'))
    .option('--samples <N>', 'use the first N samples of the split', parsePositiveInt('--samples'))
    .requiredOption('--out <dir>', 'directory for dtsnn-curve.csv and dtsnn-curve.svg')
    .action(
      async (o: {
        model: string;
        dataset: DatasetRef;
        normalize?: Normalization;
        dataDir?: string;
        split: DatasetSplit;
        thetas: number[];
        timesteps?: number;
        samples?: number;
        out: string;
        arch?: string;
        set?: string[];
      }) => {
        const model = loadModel(o.model);
        const ds = loadDataset(o.dataset, o.split, { dataDir: o.dataDir, normalize: o.normalize });
        const chip = chipRunOptions(o, o.dataset, { dataDir: o.dataDir, normalize: o.normalize });
        const r = dtsnnCurve(model, ds, {
          thetas: o.thetas,
          timesteps: o.timesteps,
          samples: o.samples,
          chip,
        });
        mkdirSync(o.out, { recursive: true });
        await writeCsv(
          join(o.out, 'dtsnn-curve.csv'),
          ['curve', 'theta', 'timesteps', 'accuracy', 'avg_timesteps'],
          r.points.map((p) => [
            p.curve,
            p.theta ?? '',
            p.timesteps ?? '',
            p.accuracy.toFixed(6),
            p.avg_timesteps.toFixed(6),
          ]),
        );
        const title = `${model.spec.name} on ${ds.name}/${ds.split} (${r.samples} samples): DT-SNN entropy exit${chip ? ` on chip ${chip.name}'s arithmetic` : ''}`;
        writeFileAtomic(join(o.out, 'dtsnn-curve.svg'), dtsnnCurveSvg(r, title));
        const lines = [`${title}, T = ${r.timesteps}`];
        for (const p of r.points)
          lines.push(
            `${p.curve.padEnd(8)} ${p.theta !== null ? `θ=${p.theta}`.padEnd(8) : p.timesteps !== null ? `t=${p.timesteps}`.padEnd(8) : ''.padEnd(8)} accuracy ${pct(p.accuracy).padStart(7)}  average timesteps ${p.avg_timesteps.toFixed(3)}`,
          );
        const iso = r.iso.point;
        lines.push(
          iso
            ? `within ${(r.iso.tolerance * 100).toFixed(1)} points of static T=${r.timesteps} (${pct(r.iso.static_accuracy)}): θ=${iso.theta}, ${pct(iso.accuracy)} at ${iso.avg_timesteps.toFixed(3)} average timesteps`
            : `no θ of the sweep reaches static T=${r.timesteps} accuracy within ${(r.iso.tolerance * 100).toFixed(1)} points`,
        );
        lines.push(`wrote ${join(o.out, 'dtsnn-curve.csv')} and ${join(o.out, 'dtsnn-curve.svg')}`);
        io.out(lines.join('\n'));
      },
    );
}

function registerLdsnnSearchCommand(program: Command, io: Io): void {
  modelAndDataset(
    program
      .command('ldsnn-search')
      .description(
        'LD-SNN: greedy per-layer timestep search on the validation split within an accuracy budget',
      ),
  )
    .option(
      '--budget <points>',
      'accuracy the search may lose, in percentage points',
      nonNegativeNumber('--budget'),
      0.5,
    )
    .option('--timesteps <T>', 'uniform starting T (default: the model’s)', parsePositiveInt('--timesteps'))
    .option(
      '--alignment <mode>',
      'frame alignment between layers: repeat | rate | pad',
      oneOf('--alignment', ['repeat', 'rate', 'pad'] as const),
      'repeat' as const,
    )
    .option('--samples <N>', 'use the first N validation samples', parsePositiveInt('--samples'))
    .option('--no-test', 'skip the test-split evaluation of the result')
    .requiredOption(
      '--out <dir>',
      'model directory to write (network.yaml with per-layer timesteps, weights, ldsnn-search.csv)',
    )
    .action(
      async (o: {
        model: string;
        dataset: DatasetRef;
        normalize?: Normalization;
        dataDir?: string;
        budget: number;
        timesteps?: number;
        alignment: 'repeat' | 'rate' | 'pad';
        samples?: number;
        test: boolean;
        out: string;
        arch?: string;
        set?: string[];
      }) => {
        const model = loadModel(o.model);
        const val = loadDataset(o.dataset, 'validation', { dataDir: o.dataDir, normalize: o.normalize });
        const chip = chipRunOptions(o, o.dataset, { dataDir: o.dataDir, normalize: o.normalize });
        const r = ldsnnSearch(model, val, {
          chip,
          budget: o.budget,
          timesteps: o.timesteps,
          alignment: o.alignment,
          samples: o.samples,
          onStep: (e) =>
            io.out(
              `  T_l = ${e.layer_timesteps.join(',')}: accuracy ${pct(e.accuracy)}, ${Math.round(e.synops).toLocaleString('en')} synaptic updates`,
            ),
        });
        const lt = r.best.layer_timesteps;
        let mi = 0;
        const spec = {
          ...model.spec,
          name: basename(resolve(o.out)),
          timesteps: Math.max(...lt),
          layers: model.spec.layers.map((l) =>
            l.type === 'conv2d' || l.type === 'linear' ? { ...l, timesteps: lt[mi++] } : l,
          ),
        };
        const lines = [
          `uniform T=${r.uniform.layer_timesteps[0]}: validation accuracy ${pct(r.uniform.accuracy)}, ${Math.round(r.uniform.synops).toLocaleString('en')} synaptic updates, ${Math.round(r.uniform.neuron_updates).toLocaleString('en')} neurons evaluated per sample`,
          `layerwise T_l = ${lt.join(',')}: validation accuracy ${pct(r.best.accuracy)}, ${Math.round(r.best.synops).toLocaleString('en')} synaptic updates, ${Math.round(r.best.neuron_updates).toLocaleString('en')} neurons evaluated per sample`,
          `synaptic updates ${r.synops_reduction.toFixed(2)}× fewer, neurons evaluated ${r.neuron_reduction.toFixed(2)}× fewer (${r.evaluations} evaluations, budget ${o.budget} points, alignment ${o.alignment})`,
        ];
        const meta: Record<string, string> = {
          ...model.metadata,
          ldsnn_source: o.model,
          ldsnn_budget_points: String(o.budget),
          ldsnn_alignment: o.alignment,
          ...(chip ? { ldsnn_arch: `${chip.name} (${contentId(chip.spec)})` } : {}),
          ldsnn_layer_timesteps: lt.join(','),
          ldsnn_val_accuracy: String(r.best.accuracy),
          ldsnn_uniform_val_accuracy: String(r.uniform.accuracy),
          ldsnn_synops_reduction: r.synops_reduction.toFixed(4),
          ldsnn_neuron_reduction: r.neuron_reduction.toFixed(4),
        };
        if (o.test) {
          const test = loadDataset(o.dataset, 'test', { dataDir: o.dataDir, normalize: o.normalize });
          const u = ldsnnEvaluate(model, test, r.uniform.layer_timesteps, o.alignment, undefined, chip);
          const b = ldsnnEvaluate(model, test, lt, o.alignment, undefined, chip);
          lines.push(
            `test split: uniform ${pct(u.accuracy)} → layerwise ${pct(b.accuracy)}; synaptic updates ${(u.synops / b.synops).toFixed(2)}× fewer, neurons evaluated ${(u.neuron_updates / b.neuron_updates).toFixed(2)}× fewer`,
          );
          meta.ldsnn_test_accuracy = String(b.accuracy);
          meta.ldsnn_uniform_test_accuracy = String(u.accuracy);
        }
        saveModel(o.out, { ...model, spec, shapes: inferShapes(spec), metadata: meta });
        await writeCsv(
          join(o.out, 'ldsnn-search.csv'),
          ['step', 'layer_timesteps', 'accuracy', 'synops_per_sample', 'neuron_updates_per_sample'],
          r.path.map((e, i) => [
            i,
            e.layer_timesteps.join(' '),
            e.accuracy.toFixed(6),
            e.synops.toFixed(1),
            e.neuron_updates.toFixed(1),
          ]),
        );
        lines.push(
          `wrote ${o.out} (evaluate with: imcsim eval --model ${o.out} --dataset ${o.dataset} --policy layerwise --layer-timesteps ${lt.join(',')})`,
        );
        io.out(lines.join('\n'));
      },
    );
}
