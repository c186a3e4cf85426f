// Training throughput (samples/s) of the MNIST convnet (models/mnist-convnet) at T=4: one optimiser step
// of a 32-image batch (forward, TET loss, BPTT backward, Adam) per call, with 1 and 2 worker threads.
import { loadDataset } from '../dist/snn/data/dataset.js';
import { initModel } from '../dist/snn/model.js';
import { loadNetwork } from '../dist/network/load.js';
import { createTrainer } from '../dist/snn/train/trainer.js';
import { calibrateWeights } from '../dist/snn/train/iir.js';
import { TrainNet } from '../dist/snn/train/net.js';

const BATCH = 32;
const spec = loadNetwork('models/mnist-convnet').spec;
const data = loadDataset('mnist', 'train', { limit: BATCH });

function trainer(workers) {
  const model = initModel(spec, 1);
  // The same data-dependent start as `imcsim train` (every layer active), so spike rates are realistic.
  calibrateWeights(new TrainNet(model, { timesteps: 4, surrogate: 'atan' }), data.images, BATCH);
  return createTrainer(model, data, {
    timesteps: 4,
    loss: 'tet',
    epochs: 1000,
    seed: 1,
    lr: 1e-3,
    batch: BATCH,
    optimizer: 'adam',
    schedule: 'constant',
    surrogate: 'atan',
    weightDecay: 0,
    workers,
    augment: 0,
  });
}

const one = trainer(1);
const two = trainer(2);
let e1 = 0;
let e2 = 0;

export const benchmarks = [
  {
    name: 'train MNIST convnet T=4, batch 32, 1 worker',
    unit: 'samples/s',
    opsPerCall: BATCH,
    maxTime: 10,
    fn: () => one.epoch(e1++),
  },
  {
    name: 'train MNIST convnet T=4, batch 32, 2 workers',
    unit: 'samples/s',
    opsPerCall: BATCH,
    maxTime: 10,
    fn: () => two.epoch(e2++),
  },
];
