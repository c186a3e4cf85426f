/**
 * `imcsim train` as a library call: DT-SNN-style training at one T (any loss), or IIR-SNN's sequence of
 * stages T = from … to, each initialised from the previous one (weights, thresholds, leaks), with the
 * thresholds first set at the 90th percentile of each layer's input current on a training batch.
 * Writes <out>/network.yaml + weights.safetensors (with metadata), <out>/train-log.csv, and a checkpoint
 * each epoch (removed when the run completes).
 */
import { existsSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { writeToString } from 'fast-csv';
import { located } from '../../util/errors.js';
import { loadNetwork } from '../../network/load.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { loadDataset, type Dataset, type DatasetRef } from '../data/dataset.js';
import type { Normalization } from '../data/external.js';
import { readSafetensors } from '../io/safetensors.js';
import { initModel, loadModel, saveModel, type SnnModel } from '../model.js';
import { inferShapes } from '../../network/shapes.js';
import { calibrateThresholds, calibrateWeights, setLeaks, toIirSpec } from './iir.js';
import { TrainNet } from './net.js';
import { contentId } from '../../util/hash.js';
import { chipArithmeticHash } from '../chip-arith.js';
import {
  removeCheckpoint,
  trainRun,
  type EpochLog,
  type TrainConfig,
  type TrainProgress,
} from './trainer.js';

export interface TrainCommandOptions extends TrainConfig {
  /** Model directory (with or without weights) or topology file. */
  model: string;
  dataset: DatasetRef;
  /** Declared normalisation of a dataset on disk. */
  normalize?: Normalization;
  dataDir?: string;
  out: string;
  method: 'dtsnn' | 'iir';
  fromTimesteps?: number;
  toTimesteps?: number;
  /** IIR-SNN: epochs of the first stage (default: epochs). */
  firstEpochs?: number;
  samples?: number;
  valSamples?: number;
  resume?: boolean;
  stopAfter?: number;
  /** IIR-SNN: keep every stage's model in OUT/stages/T<n> (the IIR study simulates each stage). */
  keepStages?: boolean;
  /** The command line, kept in the weights' metadata. */
  command: string;
  progress?: TrainProgress;
  /** Called at the start of each stage / run. */
  onStage?: (timesteps: number, epochs: number) => void;
}

export const LOG_FILE = 'train-log.csv';
const LOG_HEADERS = ['epoch', 'lr', 'train_loss', 'train_acc', 'val_acc', 'seconds', 'timesteps'] as const;

export async function writeTrainLog(out: string, rows: EpochLog[]): Promise<void> {
  const csv = await writeToString(
    rows.map((r) => [
      r.epoch,
      r.lr.toPrecision(6),
      r.train_loss.toFixed(6),
      r.train_acc.toFixed(6),
      Number.isNaN(r.val_acc) ? '' : r.val_acc.toFixed(6),
      r.seconds.toFixed(2),
      r.timesteps,
    ]),
    { headers: [...LOG_HEADERS], writeHeaders: true },
  );
  writeFileAtomic(join(out, LOG_FILE), csv + '\n');
}

function hasWeights(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory() && existsSync(join(path, 'weights.safetensors'));
}

/** The first max(batch, 64) training images, for calibration. */
function calibrationBatch(train: Dataset, batch: number): [Float32Array, number] {
  const n = Math.min(train.count, Math.max(batch, 64));
  const size = train.images.length / train.count;
  return [train.images.subarray(0, n * size), n];
}

/** Loads a model directory with weights, or initialises one from a topology (seeded). */
export function loadOrInit(path: string, seed: number): SnnModel {
  if (existsSync(path) && statSync(path).isDirectory() && existsSync(join(path, 'weights.safetensors')))
    return loadModel(path);
  if (!existsSync(path))
    throw located('no such model directory or topology file', {
      path: '--model',
      found: JSON.stringify(path),
    });
  return initModel(loadNetwork(path).spec, seed);
}

function withSpec(model: SnnModel, spec: SnnModel['spec']): SnnModel {
  return { ...model, spec, shapes: inferShapes(spec) };
}

const STAGES = 'checkpoint-stages';

export interface TrainCommandResult {
  model: SnnModel;
  log: EpochLog[];
  complete: boolean;
  /** Validation accuracy at the end of each stage (one entry for a single-T run). */
  stages: Array<{ timesteps: number; val_acc: number }>;
  seconds: number;
}

export async function trainCommand(o: TrainCommandOptions): Promise<TrainCommandResult> {
  const t0 = performance.now();
  const train = loadDataset(o.dataset, 'train', {
    dataDir: o.dataDir,
    limit: o.samples,
    normalize: o.normalize,
  });
  if (train.frames !== undefined)
    throw located('training on event data is not supported: the trainer feeds one static image per sample', {
      path: '--dataset',
      expected: 'an image dataset (npz, npy, idx, cifar10, cifar100, mnist, fashion-mnist)',
      found: String(o.dataset),
    });
  const validation: Dataset = loadDataset(o.dataset, 'validation', {
    dataDir: o.dataDir,
    normalize: o.normalize,
    limit: o.valSamples,
  });
  const name = basename(resolve(o.out));
  const writeLog = (rows: EpochLog[]) => writeTrainLog(o.out, rows);
  const meta = (model: SnnModel, log: EpochLog[], stages: TrainCommandResult['stages'], seconds: number) => ({
    ...Object.fromEntries(Object.entries(model.metadata).filter(([k]) => k !== 'log')),
    dataset: o.dataset,
    split: 'train',
    validation_split: 'validation',
    train_samples: String(train.count),
    seed: String(o.seed),
    epochs: String(log.length),
    method: o.method,
    loss: o.loss,
    surrogate: o.surrogate,
    optimizer: o.optimizer,
    lr: String(o.lr),
    schedule: o.schedule,
    batch: String(o.batch),
    weight_decay: String(o.weightDecay),
    augment: String(o.augment),
    workers: String(o.workers),
    timesteps: String(model.spec.timesteps),
    val_acc: String(log.length ? log[log.length - 1].val_acc : NaN),
    stages: JSON.stringify(stages),
    training_seconds: seconds.toFixed(1),
    ...(o.chip
      ? {
          hw_arch: o.chip.name,
          hw_arch_hash: contentId(o.chip.spec),
          hw_arithmetic_hash: chipArithmeticHash(o.chip.spec),
          hw_adc_bits: String(o.chip.spec.adc.bits),
          hw_weight_bits: String(o.chip.spec.crossbar.weight_bits),
          hw_programming_sigma: String(o.chip.spec.device.programming_sigma),
        }
      : {}),
    command: o.command,
  });

  if (o.method === 'dtsnn') {
    const fresh = !hasWeights(o.model);
    let model = loadOrInit(o.model, o.seed);
    model = withSpec(model, { ...model.spec, name, timesteps: o.timesteps, dataset: o.dataset });
    if (fresh) {
      const net = new TrainNet(model, {
        timesteps: o.timesteps,
        surrogate: o.surrogate,
        trainNeuronParams: o.trainNeuronParams,
      });
      const scales = calibrateWeights(net, ...calibrationBatch(train, o.batch));
      model.metadata = {
        ...model.metadata,
        init_weight_scales: JSON.stringify(scales.map((s) => +s.toPrecision(4))),
      };
    }
    o.onStage?.(o.timesteps, o.epochs);
    const r = await trainRun({
      model,
      train,
      validation,
      cfg: o,
      out: o.out,
      resume: o.resume,
      stopAfter: o.stopAfter,
      progress: o.progress,
      writeLog,
      tag: `dtsnn-T${o.timesteps}`,
    });
    const stages = [
      { timesteps: o.timesteps, val_acc: r.log.length ? r.log[r.log.length - 1].val_acc : NaN },
    ];
    const seconds = (performance.now() - t0) / 1000;
    if (r.complete) {
      const final = { ...r.model, metadata: meta(r.model, r.log, stages, seconds) };
      saveModel(o.out, final);
      await writeLog(r.log);
      removeCheckpoint(o.out);
      return { model: final, log: r.log, complete: true, stages, seconds };
    }
    return { model: r.model, log: r.log, complete: false, stages, seconds };
  }

  // IIR-SNN: stages from → to.
  const from = o.fromTimesteps ?? 5;
  const to = o.toTimesteps ?? 1;
  if (!(from >= to && to >= 1))
    throw located('--from-timesteps must be ≥ --to-timesteps ≥ 1', {
      path: '--from-timesteps',
      found: `${from} → ${to}`,
    });
  let model: SnnModel | null = null;
  let log: EpochLog[] = [];
  let stages: TrainCommandResult['stages'] = [];
  let startT = from;
  const stageDir = (T: number) => join(o.out, STAGES, `T${T}`);
  if (o.resume) {
    // The last completed stage, if any.
    for (let T = to; T <= from; T++) {
      const d = stageDir(T);
      if (existsSync(join(d, 'weights.safetensors'))) {
        model = loadModel(d);
        const file = join(d, 'weights.safetensors');
        const m = readSafetensors(readFileSync(file), file).metadata;
        log = JSON.parse(m.log ?? '[]') as EpochLog[];
        stages = JSON.parse(m.stages ?? '[]') as TrainCommandResult['stages'];
        startT = T - 1;
        break;
      }
    }
  }
  if (!model) {
    const base = loadOrInit(o.model, o.seed);
    model = withSpec(base, { ...toIirSpec(base.spec), name, timesteps: from, dataset: o.dataset });
    // Trainable leak (start non-leaky, λ = 1) and thresholds at the 90th percentile of the input current.
    const net0 = new TrainNet(model, { timesteps: from, surrogate: o.surrogate, trainNeuronParams: true });
    setLeaks(model, net0, 1);
    const net = new TrainNet(model, { timesteps: from, surrogate: o.surrogate, trainNeuronParams: true });
    const thresholds = calibrateThresholds(net, ...calibrationBatch(train, o.batch));
    model.metadata = { ...model.metadata, initial_thresholds: JSON.stringify(thresholds) };
  }
  let complete = true;
  for (let T = startT; T >= to; T--) {
    model = withSpec(model!, { ...model!.spec, timesteps: T });
    const epochs = T === from ? (o.firstEpochs ?? o.epochs) : o.epochs;
    o.onStage?.(T, epochs);
    const r = await trainRun({
      model,
      train,
      validation,
      cfg: { ...o, timesteps: T, epochs, trainNeuronParams: true },
      out: o.out,
      resume: o.resume,
      stopAfter: o.stopAfter,
      progress: o.progress,
      previousLog: log,
      writeLog,
      tag: `iir-T${T}`,
    });
    model = r.model;
    log = r.log;
    if (!r.complete) {
      complete = false;
      break;
    }
    stages = [...stages, { timesteps: T, val_acc: log.length ? log[log.length - 1].val_acc : NaN }];
    saveModel(stageDir(T), {
      ...model,
      metadata: { ...model.metadata, log: JSON.stringify(log), stages: JSON.stringify(stages) },
    });
    removeCheckpoint(o.out);
  }
  const seconds = (performance.now() - t0) / 1000;
  if (complete) {
    const final = { ...model!, metadata: meta(model!, log, stages, seconds) };
    saveModel(o.out, final);
    await writeLog(log);
    if (o.keepStages) {
      rmSync(join(o.out, 'stages'), { recursive: true, force: true });
      renameSync(join(o.out, STAGES), join(o.out, 'stages'));
    } else rmSync(join(o.out, STAGES), { recursive: true, force: true });
    return { model: final, log, complete, stages, seconds };
  }
  return { model: model!, log, complete, stages, seconds };
}
