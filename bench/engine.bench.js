// SNN engine inference on the MNIST convnet at T=4 (static policy, direct encoding): samples/s and
// synaptic operations/s. Uses the shipped trained model models/mnist-convnet-t4 when present, else a
// seeded random initialisation (recorded in the result name).
import { existsSync } from 'node:fs';
import { Engine } from '../dist/snn/engine.js';
import { initModel, loadModel } from '../dist/snn/model.js';
import { loadNetwork } from '../dist/network/load.js';
import { loadDataset } from '../dist/snn/data/dataset.js';

const trained = existsSync('models/mnist-convnet-t4/weights.safetensors');
const model = trained
  ? loadModel('models/mnist-convnet-t4')
  : initModel(loadNetwork('models/mnist-convnet').spec, 1);
const ds = loadDataset('mnist', 'test');
const eng = new Engine(model);
const size = 28 * 28;
const policy = { name: 'static', timesteps: 4 };
let i = 0;
let synops = 0;
let samples = 0;
const one = () => {
  const r = eng.run(ds.images.subarray((i % ds.count) * size, ((i % ds.count) + 1) * size), i, { policy });
  i++;
  synops += r.synops;
  samples++;
};
// Average synaptic operations per sample over the test set (for the SynOps/s figure).
for (let k = 0; k < 200; k++) one();
const synopsPerSample = synops / samples;
const label = trained ? 'trained' : 'random-init';

export const benchmarks = [
  { name: `MNIST convnet T=4 inference (${label})`, unit: 'samples/s', fn: one },
  {
    name: `MNIST convnet T=4 synaptic operations (${label}, ${Math.round(synopsPerSample)} per sample)`,
    unit: 'SynOps/s',
    opsPerCall: synopsPerSample,
    fn: one,
  },
];
