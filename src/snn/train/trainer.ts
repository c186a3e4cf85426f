/**
 * The training loop: seeded shuffling, batches split over worker threads (data parallel; gradients added
 * in a fixed order, so a run is deterministic given the seed and the worker count), optimiser and
 * schedule, batchnorm running statistics, validation accuracy each epoch (the inference Engine on the
 * validation split), checkpoints each epoch (model + optimiser state) and resumption from them.
 */
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { writeFileAtomic } from '../../util/atomic.js';
import { located } from '../../util/errors.js';
import { Rng } from '../../util/rng.js';
import type { Dataset } from '../data/dataset.js';
import { readSafetensors, writeSafetensors } from '../io/safetensors.js';
import { loadModel, saveModel, type SnnModel } from '../model.js';
import { checkInput, evaluateModel, type ChipRunOptions } from '../run.js';
import { ChipTraining } from './hw.js';
import { computeLoss, type LossName } from './loss.js';
import { TrainNet } from './net.js';
import { learningRate, Optimizer, type OptimizerName, type ScheduleName } from './optim.js';
import { COMMAND, CTRL, F64, shareModel, type WorkerInit } from './shared.js';
import type { SurrogateName } from './surrogate.js';

export interface TrainConfig {
  timesteps: number;
  loss: LossName;
  epochs: number;
  seed: number;
  lr: number;
  batch: number;
  optimizer: OptimizerName;
  schedule: ScheduleName;
  surrogate: SurrogateName;
  weightDecay: number;
  /** Threads computing gradients (1 = main thread only). */
  workers: number;
  /** Random translation of training images by up to this many pixels (0: none). */
  augment: number;
  /** Train per-layer leak and threshold (IIR-SNN). Default: the iir convention does. */
  trainNeuronParams?: boolean;
  /** Step schedule: epochs between decays. */
  stepEpochs?: number;
  /**
   * Hardware-aware training (train/hw.ts): forward passes on this chip's arithmetic with straight-through
   * gradients and programming noise drawn per batch; validation on the chip too. One worker only.
   */
  chip?: ChipRunOptions;
}

export interface EpochLog {
  epoch: number;
  lr: number;
  train_loss: number;
  train_acc: number;
  val_acc: number;
  seconds: number;
  timesteps: number;
}

export interface TrainProgress {
  onBatch?: (done: number, total: number, loss: number, acc: number) => void;
  onEpoch?: (row: EpochLog) => void;
}

export interface TrainState {
  /** Epochs of this run already done (resume). */
  epoch: number;
  optimizer?: { state: Map<string, { shape: number[]; data: Float32Array }>; step: number };
}

function mix(a: number, b: number, c = 0): number {
  let h = (Math.imul(a >>> 0, 0x9e3779b1) ^ Math.imul((b >>> 0) + 0x632be5ab, 0x85ebca6b)) >>> 0;
  h = (h ^ Math.imul((c >>> 0) + 0x2545f491, 0xc2b2ae35)) >>> 0;
  h ^= h >>> 16;
  return Math.imul(h, 0x7feb352d) >>> 0;
}

/** The worker script: dist/snn/train/worker.js beside this file (also when running from sources). */
function workerFile(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) {
    const js = here.replace(/([\\/])src([\\/]snn[\\/]train[\\/])trainer\.ts$/, '$1dist$2worker.js');
    if (!existsSync(js)) throw new Error(`worker threads need the built worker ${js}: run npm run build`);
    return js;
  }
  return join(here, '..', 'worker.js');
}

/** Worker threads with their shared buffers; the main thread computes shard 0 itself. */
class WorkerPool {
  readonly workers: Worker[] = [];
  readonly ctrl: Int32Array[] = [];
  readonly f64: Float64Array[] = [];
  readonly images: Float32Array[] = [];
  readonly labels: Int32Array[] = [];
  readonly ids: Int32Array[] = [];
  readonly grads: Float32Array[] = [];
  readonly stats: Float64Array[] = [];
  private seq = 0;

  constructor(
    n: number,
    model: SnnModel,
    share: { sab: SharedArrayBuffer; layout: import('./shared.js').TensorLayout[] },
    net: TrainNet,
    cfg: TrainConfig,
    maxShard: number,
  ) {
    const gradSize = net.params.reduce((a, p) => a + p.data.length, 0);
    for (let i = 0; i < n; i++) {
      const init: WorkerInit = {
        spec: model.spec,
        layout: share.layout,
        tensors: share.sab,
        ctrl: new SharedArrayBuffer(CTRL.size * 4),
        f64: new SharedArrayBuffer(F64.size * 8),
        images: new SharedArrayBuffer(maxShard * net.inputSize * 4),
        labels: new SharedArrayBuffer(maxShard * 4),
        ids: new SharedArrayBuffer(maxShard * 4),
        grads: new SharedArrayBuffer(Math.max(4, gradSize * 4)),
        stats: new SharedArrayBuffer(Math.max(8, net.statsSize() * 8)),
        net: {
          timesteps: cfg.timesteps,
          surrogate: cfg.surrogate,
          trainNeuronParams: cfg.trainNeuronParams,
        },
        loss: cfg.loss,
      };
      this.ctrl.push(new Int32Array(init.ctrl));
      this.f64.push(new Float64Array(init.f64));
      this.images.push(new Float32Array(init.images));
      this.labels.push(new Int32Array(init.labels));
      this.ids.push(new Int32Array(init.ids));
      this.grads.push(new Float32Array(init.grads));
      this.stats.push(new Float64Array(init.stats));
      const w = new Worker(workerFile(), { workerData: init });
      w.unref(); // a blocked worker never keeps the process alive
      this.workers.push(w);
    }
  }

  /** Starts worker i on its shard (already written to its buffers). */
  start(i: number, batch: number, timesteps: number, scale: number, seed: number): void {
    const c = this.ctrl[i];
    const f = this.f64[i];
    f[F64.scale] = scale;
    f[F64.timesteps] = timesteps;
    f[F64.seed] = seed;
    Atomics.store(c, CTRL.batch, batch);
    Atomics.store(c, CTRL.command, COMMAND.step);
    if (i === 0) this.seq++;
    Atomics.store(c, CTRL.seq, this.seq);
    Atomics.notify(c, CTRL.seq);
  }

  /** Blocks until worker i has finished the current step. */
  wait(i: number): void {
    const c = this.ctrl[i];
    while (Atomics.load(c, CTRL.done) !== this.seq)
      Atomics.wait(c, CTRL.done, Atomics.load(c, CTRL.done), 1000);
    if (Atomics.load(c, CTRL.status) !== 0)
      throw new Error(`training worker ${i + 1} failed (see its error above)`);
  }

  async close(): Promise<void> {
    this.seq++;
    for (const c of this.ctrl) {
      Atomics.store(c, CTRL.command, COMMAND.exit);
      Atomics.store(c, CTRL.seq, this.seq);
      Atomics.notify(c, CTRL.seq);
    }
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Copies image i (C×H×W) into dst, translated by (dy, dx) with zero fill. */
function shiftImage(
  src: Float32Array,
  dst: Float32Array,
  dOff: number,
  shape: readonly number[],
  dy: number,
  dx: number,
): void {
  const [c, h, w] = shape.length === 3 ? shape : [1, 1, shape[0]];
  for (let ch = 0; ch < c; ch++)
    for (let y = 0; y < h; y++) {
      const sy = y - dy;
      const row = dOff + (ch * h + y) * w;
      if (sy < 0 || sy >= h) {
        dst.fill(0, row, row + w);
        continue;
      }
      for (let x = 0; x < w; x++) {
        const sx = x - dx;
        dst[row + x] = sx < 0 || sx >= w ? 0 : src[(ch * h + sy) * w + sx];
      }
    }
}

export interface Trainer {
  net: TrainNet;
  optimizer: Optimizer;
  /** Runs one epoch (0-based index e of the run); returns its log row (without validation). */
  epoch(e: number, progress?: TrainProgress): { loss: number; acc: number; lr: number };
  close(): Promise<void>;
}

/**
 * Prepares a model for training: shares its tensors with the workers, builds the network, optimiser and
 * worker pool. The model's tensors are updated in place as training goes.
 */
export function createTrainer(
  model: SnnModel,
  train: Dataset,
  cfg: TrainConfig,
  state?: TrainState,
): Trainer {
  const inSize = model.spec.input.shape.reduce((a, b) => a * b, 1);
  checkInput(model, train, 'direct');
  const netOpts = {
    timesteps: cfg.timesteps,
    surrogate: cfg.surrogate,
    trainNeuronParams: cfg.trainNeuronParams,
  };
  new TrainNet(model, netOpts); // adds trained leak / threshold tensors when missing
  if (cfg.chip && cfg.workers > 1)
    throw located('hardware-aware training (--arch) runs on one worker', {
      path: '--workers',
      expected: '1',
      found: String(cfg.workers),
    });
  const share = cfg.workers > 1 ? shareModel(model) : null;
  const net = new TrainNet(model, netOpts);
  const hw = cfg.chip ? new ChipTraining(net, cfg.chip) : null;
  const optimizer = new Optimizer(net.params, { kind: cfg.optimizer, weightDecay: cfg.weightDecay });
  if (state?.optimizer) optimizer.load(state.optimizer.state, state.optimizer.step);
  const W = Math.max(1, Math.floor(cfg.workers));
  const B = cfg.batch;
  const maxShard = Math.ceil(B / W);
  const pool = share && W > 1 ? new WorkerPool(W - 1, model, share, net, cfg, maxShard) : null;
  const N = train.count;
  const T = cfg.timesteps;
  const K = net.classes;
  const stepsPerEpoch = Math.ceil(N / B);
  const batchImages = new Float32Array(maxShard * inSize);
  const batchLabels = new Int32Array(maxShard);
  const batchIds = new Int32Array(maxShard);
  const statsSize = net.statsSize();
  const myStats = new Float64Array(statsSize);
  const avgStats = new Float64Array(statsSize);
  let dOut = new Float32Array(T * maxShard * K);

  const fill = (
    perm: Int32Array,
    from: number,
    count: number,
    epochSeed: number,
    images: Float32Array,
    labels: Int32Array,
    ids: Int32Array,
  ) => {
    for (let j = 0; j < count; j++) {
      const pos = from + j;
      const idx = perm[pos];
      const src = train.images.subarray(idx * inSize, (idx + 1) * inSize);
      if (cfg.augment > 0) {
        const rng = new Rng(mix(epochSeed, pos, 0x51ed));
        const a = cfg.augment;
        shiftImage(
          src,
          images,
          j * inSize,
          model.spec.input.shape,
          rng.int(2 * a + 1) - a,
          rng.int(2 * a + 1) - a,
        );
      } else images.set(src, j * inSize);
      labels[j] = train.labels[idx];
      ids[j] = pos;
    }
  };

  return {
    net,
    optimizer,
    epoch(e, progress) {
      const epochSeed = mix(cfg.seed, e + 1);
      const perm = new Int32Array(N);
      for (let i = 0; i < N; i++) perm[i] = i;
      new Rng(epochSeed).shuffle(perm);
      hw?.beginEpoch();
      let lossSum = 0;
      let correct = 0;
      let lr0 = 0;
      for (let s = 0; s < stepsPerEpoch; s++) {
        const from = s * B;
        const bTotal = Math.min(B, N - from);
        const lr = learningRate(
          { kind: cfg.schedule, lr: cfg.lr, epochs: cfg.epochs, stepsPerEpoch, stepEpochs: cfg.stepEpochs },
          e * stepsPerEpoch + s,
        );
        if (s === 0) lr0 = lr;
        const shards = W;
        const sizes: number[] = [];
        for (let k = 0; k < shards; k++) {
          const a = Math.floor((k * bTotal) / shards);
          const b = Math.floor(((k + 1) * bTotal) / shards);
          sizes.push(b - a);
        }
        const stepSeed = mix(epochSeed, s + 1, 7);
        // Workers first, then the main thread's own shard.
        let offset = sizes[0];
        if (pool)
          for (let k = 1; k < shards; k++) {
            const i = k - 1;
            fill(perm, from + offset, sizes[k], epochSeed, pool.images[i], pool.labels[i], pool.ids[i]);
            offset += sizes[k];
            pool.start(i, sizes[k], T, 1 / bTotal, stepSeed);
          }
        const b0 = sizes[0];
        fill(perm, from, b0, epochSeed, batchImages, batchLabels, batchIds);
        net.zeroGrad();
        hw?.beginBatch(mix(stepSeed, 0xc41b, 3));
        const ctx = { batch: b0, timesteps: T, train: true, seed: stepSeed, ids: batchIds.subarray(0, b0) };
        const out = net.forward(batchImages.subarray(0, b0 * inSize), ctx);
        if (dOut.length < T * b0 * K) dOut = new Float32Array(T * b0 * K);
        const r = computeLoss(cfg.loss, out, T, b0, K, batchLabels.subarray(0, b0), 1 / bTotal, dOut);
        net.backward(dOut.subarray(0, T * b0 * K));
        lossSum += r.loss;
        correct += r.correct;
        if (statsSize) {
          net.readStats(myStats);
          for (let j = 0; j < statsSize; j++) avgStats[j] = (myStats[j] * b0) / bTotal;
        }
        if (pool)
          for (let k = 1; k < shards; k++) {
            const i = k - 1;
            pool.wait(i);
            let off = 0;
            const g = pool.grads[i];
            for (const p of net.params) {
              const pg = p.grad;
              for (let j = 0; j < pg.length; j++) pg[j] += g[off + j];
              off += pg.length;
            }
            lossSum += pool.f64[i][F64.loss];
            correct += pool.f64[i][F64.correct];
            for (let j = 0; j < statsSize; j++) avgStats[j] += (pool.stats[i][j] * sizes[k]) / bTotal;
          }
        optimizer.update(lr);
        if (statsSize) net.updateRunningStats(avgStats);
        progress?.onBatch?.(from + bTotal, N, lossSum / (from + bTotal), correct / (from + bTotal));
      }
      hw?.detach();
      return { loss: lossSum / N, acc: correct / N, lr: lr0 };
    },
    async close() {
      await pool?.close();
    },
  };
}

export interface TrainRunOptions {
  model: SnnModel;
  train: Dataset;
  validation: Dataset | null;
  cfg: TrainConfig;
  /** Output directory: checkpoints go to <out>/checkpoint, the log to <out>/train-log.csv. */
  out?: string;
  /** Resume from <out>/checkpoint when it exists. */
  resume?: boolean;
  /** Stop after this many epochs of the run, leaving the checkpoint (tests of --resume). */
  stopAfter?: number;
  progress?: TrainProgress;
  /** Log rows of earlier stages (IIR-SNN) to keep in the CSV. */
  previousLog?: EpochLog[];
  /** Extra checkpoint metadata identifying the run (stage of IIR-SNN). */
  tag?: string;
  /** Writes the CSV log (fast-csv). */
  writeLog?: (rows: EpochLog[]) => Promise<void>;
}

export interface TrainRunResult {
  model: SnnModel;
  log: EpochLog[];
  /** False when stopped early by stopAfter. */
  complete: boolean;
}

const CKPT = 'checkpoint';

/** Reads <out>/checkpoint if it belongs to the same run (tag); returns the model and state. */
export function readCheckpoint(
  out: string,
  tag: string,
): { model: SnnModel; state: TrainState; log: EpochLog[]; meta: Record<string, string> } | null {
  let dir = join(out, CKPT);
  if (!existsSync(join(dir, 'optimizer.safetensors'))) {
    dir = join(out, `${CKPT}.tmp`);
    if (!existsSync(join(dir, 'optimizer.safetensors'))) return null;
  }
  const model = loadModel(dir);
  const file = join(dir, 'optimizer.safetensors');
  const { tensors, metadata } = readSafetensors(readFileSync(file), file);
  if (metadata.tag !== tag) return null;
  return {
    model,
    state: { epoch: Number(metadata.epoch), optimizer: { state: tensors, step: Number(metadata.step) } },
    log: JSON.parse(metadata.log ?? '[]') as EpochLog[],
    meta: metadata,
  };
}

function writeCheckpoint(
  out: string,
  model: SnnModel,
  opt: Optimizer,
  epoch: number,
  log: EpochLog[],
  tag: string,
): void {
  const tmp = join(out, `${CKPT}.tmp`);
  const dir = join(out, CKPT);
  rmSync(tmp, { recursive: true, force: true });
  saveModel(tmp, model);
  writeFileAtomic(
    join(tmp, 'optimizer.safetensors'),
    writeSafetensors(opt.state(), {
      tag,
      epoch: String(epoch),
      step: String(opt.step),
      log: JSON.stringify(log),
    }),
  );
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
}

export function removeCheckpoint(out: string): void {
  rmSync(join(out, CKPT), { recursive: true, force: true });
  rmSync(join(out, `${CKPT}.tmp`), { recursive: true, force: true });
}

/** Trains for cfg.epochs (resuming from a checkpoint of the same run when asked). */
export async function trainRun(o: TrainRunOptions): Promise<TrainRunResult> {
  const tag = o.tag ?? 'train';
  let model = o.model;
  let state: TrainState = { epoch: 0 };
  const log: EpochLog[] = [...(o.previousLog ?? [])];
  const base = log.length;
  if (o.resume && o.out) {
    const ck = readCheckpoint(o.out, tag);
    if (ck) {
      model = ck.model;
      state = ck.state;
      log.length = 0;
      log.push(...ck.log);
    }
  }
  if (state.epoch >= o.cfg.epochs) return { model, log, complete: true };
  const trainer = createTrainer(model, o.train, o.cfg, state);
  try {
    for (let e = state.epoch; e < o.cfg.epochs; e++) {
      const t0 = performance.now();
      const r = trainer.epoch(e, o.progress);
      const val = o.validation
        ? evaluateModel(model, o.validation, {
            policy: { name: 'static', timesteps: o.cfg.timesteps },
            chip: o.cfg.chip,
          }).accuracy
        : NaN;
      const row: EpochLog = {
        epoch: (log.length ? log[log.length - 1].epoch : 0) + 1,
        lr: r.lr,
        train_loss: r.loss,
        train_acc: r.acc,
        val_acc: val,
        seconds: (performance.now() - t0) / 1000,
        timesteps: o.cfg.timesteps,
      };
      log.push(row);
      o.progress?.onEpoch?.(row);
      if (o.out) {
        writeCheckpoint(o.out, model, trainer.optimizer, e + 1, log, tag);
        await o.writeLog?.(log);
      }
      if (o.stopAfter !== undefined && e + 1 >= o.stopAfter && e + 1 < o.cfg.epochs) {
        return { model, log, complete: false };
      }
    }
  } finally {
    await trainer.close();
  }
  void base;
  return { model, log, complete: true };
}
