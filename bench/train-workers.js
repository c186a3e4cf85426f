// Training with 1 and 2 worker threads, interleaved (1, 2, 1, 2, …), wall-clock: one Adam step on a
// batch of 128 MNIST images at T = 4 (forward, TET loss, BPTT, Adam) per step, on the snnTorch benchmark
// net (bench/engine-vs-torch.js) and on mnist-convnet-t4. Scaling is a wall-clock figure, so the load
// average of the machine (other jobs) is recorded with it, and samples per CPU-second of all threads: on a shared 2-core machine a second worker
// only helps when a core is free. Writes bench/results/train-workers.json.
//   node bench/train-workers.js [--rounds N]
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine } from './machine.js';
import { BENCH_NET } from './engine-vs-torch.js';
import { loadDataset } from '../dist/snn/data/dataset.js';
import { initModel, loadModel } from '../dist/snn/model.js';
import { parseNetwork } from '../dist/network/load.js';
import { createTrainer } from '../dist/snn/train/trainer.js';

const here = dirname(fileURLToPath(import.meta.url));
const argRounds = process.argv.indexOf('--rounds');
const ROUNDS = argRounds > 0 ? Number(process.argv[argRounds + 1]) : 4;
const STEPS = 3;
const BATCH = 128;
const data = loadDataset('mnist', 'train', { limit: BATCH * STEPS });
const nets = [
  [
    'snntorch-bench (random weights)',
    () => initModel(parseNetwork(BENCH_NET, 'snntorch-bench.yaml').spec, 1),
  ],
  ['mnist-convnet-t4 (trained)', () => loadModel(join(here, '..', 'models', 'mnist-convnet-t4'))],
];
const cfg = (workers) => ({
  timesteps: 4,
  loss: 'tet',
  epochs: 1 << 20,
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
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = [];
for (const [label, make] of nets) {
  const trainers = { 1: createTrainer(make(), data, cfg(1)), 2: createTrainer(make(), data, cfg(2)) };
  let epoch = 0;
  for (const w of [1, 2]) trainers[w].epoch(epoch); // warm-up (JIT, worker start)
  const rate = { 1: [], 2: [] };
  const cpu = { 1: [], 2: [] };
  const load = [];
  for (let r = 0; r < ROUNDS; r++)
    for (const w of [1, 2]) {
      load.push(loadavg()[0]);
      const t = process.hrtime.bigint();
      const c = process.cpuUsage(); // every thread of the process
      trainers[w].epoch(++epoch); // one epoch = STEPS steps of BATCH
      rate[w].push((STEPS * BATCH) / (Number(process.hrtime.bigint() - t) / 1e9));
      const cu = process.cpuUsage(c);
      cpu[w].push((STEPS * BATCH) / ((cu.user + cu.system) / 1e6));
    }
  for (const w of [1, 2]) await trainers[w].close();
  const row = {
    net: label,
    rounds: ROUNDS,
    'samples/s, 1 worker (median)': +median(rate[1]).toFixed(1),
    'samples/s, 2 workers (median)': +median(rate[2]).toFixed(1),
    'speed-up of 2 workers': +(median(rate[2]) / median(rate[1])).toFixed(2),
    // Samples per CPU-second of all threads: equal for 1 and 2 workers means the second worker adds no
    // work of its own (no parallel overhead), so its wall-clock gain is bounded by free cores only.
    'samples per CPU-second, 1 worker': +median(cpu[1]).toFixed(1),
    'samples per CPU-second, 2 workers': +median(cpu[2]).toFixed(1),
    'load average (1 min) during the run': +median(load).toFixed(1),
  };
  results.push(row);
  console.log(JSON.stringify(row));
}
const out = {
  benchmark: 'train-workers',
  date: new Date().toISOString().slice(0, 10),
  machine: machine(),
  results,
};
writeFileSync(join(here, 'results', 'train-workers.json'), JSON.stringify(out, null, 2) + '\n');
process.exit(0);
