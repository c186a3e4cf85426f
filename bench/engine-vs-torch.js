// imcsim's SNN engine beside the plain-PyTorch peer (bench/peers/torch_snn.py, docs/SOURCES.md §9), per
// CPU-second, batch 128, T = 4, MNIST test images, in the same run and interleaved (imcsim, peer, imcsim,
// peer, …), on two nets:
//   snntorch-bench     12C5 → LIF → MP2 → 64C5 → LIF → MP2 → FC10 (snnTorch Leaky, β 0.5, subtract reset
//                      one step late), random LeCun-uniform weights (seed 1)
//   mnist-convnet-t4   the shipped trained model
// Inference: Engine.runBatch of 128 samples (static policy). Training: one Adam step on 128 samples
// (forward, TET loss, BPTT, Adam) with 1 worker; imcsim trains the dtsnn convention only, so the
// snntorch-bench net trains with dtsnn neurons (β 0.5, soft reset) — the same arithmetic per step.
// imcsim's CPU time is process.cpuUsage (user + system); the peer reports its own time.process_time with
// torch.set_num_threads(1). Writes bench/results/engine-vs-torch.json; skipped with a note (still written)
// where python3 cannot import torch.
//   node bench/engine-vs-torch.js [--rounds N]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine } from './machine.js';
import { Engine } from '../dist/snn/engine.js';
import { initModel, loadModel } from '../dist/snn/model.js';
import { parseNetwork } from '../dist/network/load.js';
import { loadDataset } from '../dist/snn/data/dataset.js';
import { writeSafetensors } from '../dist/snn/io/safetensors.js';
import { createTrainer } from '../dist/snn/train/trainer.js';

const here = dirname(fileURLToPath(import.meta.url));
const PY = process.env.IMCSIM_PYTHON ?? '/usr/bin/python3';
const PEER = join(here, 'peers', 'torch_snn.py');
const BATCH = 128;
const T = 4;
const argRounds = process.argv.indexOf('--rounds');
const ROUNDS = argRounds > 0 ? Number(process.argv[argRounds + 1]) : 5;
// Batches per measurement (each side): enough CPU time to dominate timer noise.
const INFER_BATCHES = 4;
const TRAIN_STEPS = 4;

export const BENCH_NET = `
name: snntorch-bench
description: snnTorch tutorial convnet (12C5-MP2-64C5-MP2-1024FC10)
dataset: mnist
input: { shape: [1, 28, 28], encoding: direct }
classes: 10
timesteps: 4
neuron: { model: lif, convention: snntorch, leak: 0.5, threshold: 1, reset: soft, reset_delay: true }
layers:
  - { name: conv1, type: conv2d, out_channels: 12, kernel: 5, bias: true, spiking: true }
  - { name: pool1, type: maxpool2d, kernel: 2 }
  - { name: conv2, type: conv2d, out_channels: 64, kernel: 5, bias: true, spiking: true }
  - { name: pool2, type: maxpool2d, kernel: 2 }
  - { name: flatten, type: flatten }
  - { name: fc1, type: linear, out_features: 10, bias: true, spiking: false }
`;

function torchAvailable() {
  const r = spawnSync(PY, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
  return r.status === 0
    ? null
    : `python3 cannot import torch (${(r.stderr || r.error?.message || '').trim().split('\n').pop()})`;
}

function cpuSeconds(fn) {
  const c0 = process.cpuUsage();
  fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
}

/** A copy to train (the model's own tensors stay), with dtsnn neurons where the net's are another convention. */
function trainable(model) {
  const n = model.spec.neuron;
  const convention = n.convention === 'iir' ? 'iir' : 'dtsnn';
  const spec = { ...model.spec, neuron: { ...n, convention } };
  const tensors = new Map(
    [...model.tensors].map(([k, v]) => [k, { shape: v.shape, data: Float32Array.from(v.data) }]),
  );
  return { ...model, spec, tensors };
}

function prepare(label, model, data, dir) {
  const d = join(dir, label);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'spec.json'), JSON.stringify(model.spec));
  writeFileSync(join(d, 'weights.safetensors'), writeSafetensors(model.tensors));
  writeFileSync(
    join(d, 'input.f32'),
    Buffer.from(data.images.buffer, data.images.byteOffset, BATCH * 784 * 4),
  );
  writeFileSync(join(d, 'labels.i32'), Buffer.from(Int32Array.from(data.labels.subarray(0, BATCH)).buffer));
  return d;
}

function runPeer(d) {
  const r = spawnSync(
    PY,
    [
      PEER,
      'bench',
      '--spec',
      join(d, 'spec.json'),
      '--weights',
      join(d, 'weights.safetensors'),
      '--input',
      join(d, 'input.f32'),
      '--labels',
      join(d, 'labels.i32'),
      '--batches',
      String(INFER_BATCHES),
      '--threads',
      '1',
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`torch_snn.py failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

export function run() {
  const host = machine();
  const out = { benchmark: 'engine-vs-torch', date: new Date().toISOString().slice(0, 10), machine: host };
  const missing = torchAvailable();
  const data = loadDataset('mnist', 'test', { limit: BATCH });
  const nets = [
    ['snntorch-bench (random weights)', initModel(parseNetwork(BENCH_NET, 'snntorch-bench.yaml').spec, 1)],
    ['mnist-convnet-t4 (trained)', loadModel(join(here, '..', 'models', 'mnist-convnet-t4'))],
  ];
  const dir = missing ? null : mkdtempSync(join(tmpdir(), 'imcsim-peer-'));
  const results = [];
  try {
    for (const [label, model] of nets) {
      const eng = new Engine(model);
      const policy = { name: 'static', timesteps: T };
      // Training changes the weights and so the spike activity the sparse kernels see: every round trains
      // a fresh copy from the same start, like every run of the peer.
      const trainer = () =>
        createTrainer(trainable(model), data, {
          timesteps: T,
          loss: 'tet',
          epochs: 1 << 20,
          seed: 1,
          lr: 1e-3,
          batch: BATCH,
          optimizer: 'adam',
          schedule: 'constant',
          surrogate: 'atan',
          weightDecay: 0,
          workers: 1,
          augment: 0,
        });
      const d = dir ? prepare(label.split(' ')[0], model, data, dir) : null;
      const infer = () => eng.runBatch(data.images, BATCH, 0, { policy });
      infer(); // warm-up (JIT)
      trainer().epoch(0);
      const acc = { imcsim: { infer: [0, 0], train: [0, 0] }, torch: { infer: [0, 0], train: [0, 0] } };
      const rounds = [];
      for (let r = 0; r < ROUNDS; r++) {
        const ci = cpuSeconds(() => {
          for (let k = 0; k < INFER_BATCHES; k++) infer();
        });
        const tr = trainer();
        const ct = cpuSeconds(() => {
          for (let k = 0; k < TRAIN_STEPS; k++) tr.epoch(k);
        });
        acc.imcsim.infer[0] += INFER_BATCHES * BATCH;
        acc.imcsim.infer[1] += ci;
        acc.imcsim.train[0] += TRAIN_STEPS * BATCH;
        acc.imcsim.train[1] += ct;
        const round = {
          imcsim_infer: (INFER_BATCHES * BATCH) / ci,
          imcsim_train: (TRAIN_STEPS * BATCH) / ct,
        };
        if (d) {
          const p = runPeer(d);
          acc.torch.infer[0] += p.infer.samples;
          acc.torch.infer[1] += p.infer.cpu_s;
          acc.torch.train[0] += p.train.samples;
          acc.torch.train[1] += p.train.cpu_s;
          round.torch_infer = p.infer.samples / p.infer.cpu_s;
          round.torch_train = p.train.samples / p.train.cpu_s;
          out.peer = { torch: p.torch, threads: p.threads };
        }
        rounds.push(Object.fromEntries(Object.entries(round).map(([k, v]) => [k, +v.toPrecision(4)])));
        console.log(`engine-vs-torch: ${label} round ${r + 1}: ${JSON.stringify(rounds[rounds.length - 1])}`);
      }
      const rate = ([n, s]) => (s > 0 ? +(n / s).toPrecision(4) : null);
      const row = {
        net: label,
        unit: 'samples per CPU-second',
        imcsim_infer: rate(acc.imcsim.infer),
        imcsim_train: rate(acc.imcsim.train),
        torch_infer: dir ? rate(acc.torch.infer) : null,
        torch_train: dir ? rate(acc.torch.train) : null,
        rounds,
      };
      if (dir) {
        row.infer_ratio = +(row.imcsim_infer / row.torch_infer).toFixed(3);
        row.train_ratio = +(row.imcsim_train / row.torch_train).toFixed(3);
        row.targets = { infer_ratio: 1.0, train_ratio: 0.5 };
        row.met = { infer: row.infer_ratio >= 1.0, train: row.train_ratio >= 0.5 };
      }
      results.push(row);
      console.log(
        `engine-vs-torch: ${label}: inference ${row.imcsim_infer} vs ${row.torch_infer} samples/CPU-s` +
          (dir ? ` (${row.infer_ratio}×, target ≥ 1.0)` : '') +
          `; training ${row.imcsim_train} vs ${row.torch_train}` +
          (dir ? ` (${row.train_ratio}×, target ≥ 0.5)` : ''),
      );
    }
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
  out.setup = {
    batch: BATCH,
    timesteps: T,
    rounds: ROUNDS,
    imcsim: 'Engine.runBatch (static policy) and one Adam step with 1 worker, process.cpuUsage',
    peer: 'bench/peers/torch_snn.py, torch.set_num_threads(1), time.process_time',
    training_neurons:
      'snntorch-bench trains with dtsnn neurons on the imcsim side (the trainer has no snntorch convention)',
  };
  if (missing) out.skipped = `peer not measured: ${missing}`;
  out.results = results;
  mkdirSync(join(here, 'results'), { recursive: true });
  writeFileSync(join(here, 'results', 'engine-vs-torch.json'), JSON.stringify(out, null, 2) + '\n');
  if (missing) console.log(`engine-vs-torch: ${out.skipped}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) run();
