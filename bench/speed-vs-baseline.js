// This checkout against a baseline checkout (another commit, built with its own dist/), in one process,
// interleaved (A, B, A, B, …) so both see the same machine load, per CPU-second of this process
// (process.cpuUsage): the `estimate` of VGG-16 T=4, the full replay of MNIST traces (an engine trace of
// mnist-convnet-t4 on 100 MNIST test images, and the synthetic mnist-convnet trace of
// bench/replay.bench.js), engine inference and one training step (batch 128, T = 4, 1 worker) on the
// snnTorch benchmark net. Writes bench/results/speed-vs-baseline.json.
//   node bench/speed-vs-baseline.js <baseline checkout> [--rounds N]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { machine } from './machine.js';
import { BENCH_NET } from './engine-vs-torch.js';

const here = dirname(fileURLToPath(import.meta.url));
const self = resolve(here, '..');
const base = process.argv[2] && !process.argv[2].startsWith('--') ? resolve(process.argv[2]) : null;
if (!base) {
  console.error('usage: node bench/speed-vs-baseline.js <baseline checkout> [--rounds N]');
  process.exit(2);
}
const argRounds = process.argv.indexOf('--rounds');
const ROUNDS = argRounds > 0 ? Number(process.argv[argRounds + 1]) : 5;
const tmp = mkdtempSync(join(tmpdir(), 'imcsim-speed-'));
process.chdir(self); // relative paths (arch-configs/, models/) of this checkout for both sides

async function side(root, name) {
  const im = (p) => import(pathToFileURL(join(root, 'dist', p)).href);
  const { estimate } = await im('analytic/estimate.js');
  const { loadArch } = await im('config/load.js');
  const { loadNetwork, parseNetwork } = await im('network/load.js');
  const { inferShapes } = await im('network/shapes.js');
  const { buildWorkload } = await im('chip/workload.js');
  const { Replay } = await im('replay/replay.js');
  const { TraceReader } = await im('trace/format.js');
  const { generateSyntheticTrace } = await im('trace/synthetic.js');
  const { loadDataset } = await im('snn/data/dataset.js');
  const { initModel, loadModel } = await im('snn/model.js');
  const { Engine } = await im('snn/engine.js');
  const { createTrainer } = await im('snn/train/trainer.js');
  const spec = loadArch('arch-configs/default.yaml');
  const vgg = loadNetwork('models/vgg16-cifar10');
  const read = async (file) => {
    const r = await TraceReader.open(file);
    const samples = [];
    for await (const s of r) samples.push(s);
    await r.close();
    return { header: r.header, samples };
  };
  const replayCase = (t) => {
    const h = t.header;
    const T = Math.max(...h.layers.map((l) => l.timesteps));
    const w = buildWorkload(spec, h.network, { timesteps: T }, inferShapes(h.network));
    const replay = new Replay(w, h);
    let k = 0;
    return {
      run: () => {
        const e0 = replay.eventsProcessed;
        for (let i = 0; i < 50; i++) replay.replaySample(t.samples[k++ % t.samples.length]);
        return replay.eventsProcessed - e0;
      },
    };
  };
  const synthFile = join(tmp, `${name}-synthetic.trace`);
  const mc = loadNetwork('models/mnist-convnet');
  await generateSyntheticTrace({
    network: mc.spec,
    shapes: mc.shapes,
    rates: 0.15,
    samples: 20,
    seed: 1,
    timesteps: 4,
    out: synthFile,
  });
  const data = loadDataset('mnist', 'test', { limit: 128 });
  const benchModel = () => initModel(parseNetwork(BENCH_NET, 'snntorch-bench.yaml').spec, 1);
  const eng = new Engine(benchModel());
  const trainer = () =>
    createTrainer(benchModel(), data, {
      timesteps: 4,
      loss: 'tet',
      epochs: 1 << 20,
      seed: 1,
      lr: 1e-3,
      batch: 128,
      optimizer: 'adam',
      schedule: 'constant',
      surrogate: 'atan',
      weightDecay: 0,
      workers: 1,
      augment: 0,
    });
  return {
    estimate: {
      unit: 'estimates',
      run: () => {
        for (let i = 0; i < 500; i++) estimate(spec, vgg.spec, { timesteps: 4 }, vgg.shapes);
        return 500;
      },
    },
    replaySynthetic: { unit: 'events', ...replayCase(await read(synthFile)) },
    replayEngine: { unit: 'events', ...replayCase(await read(join(tmp, 'engine.trace'))) },
    inference: {
      unit: 'samples',
      run: () => (eng.runBatch(data.images, 128, 0, { policy: { name: 'static', timesteps: 4 } }), 128),
    },
    train: {
      unit: 'samples',
      run: () => {
        const t = trainer();
        t.epoch(0);
        t.close();
        return 128;
      },
    },
  };
}

// One engine trace for both sides (recorded by this checkout's CLI: the same bytes either way).
const { execFileSync } = await import('node:child_process');
execFileSync(
  process.execPath,
  [
    join(self, 'bin', 'imcsim.js'),
    'trace',
    'run',
    '--model',
    'models/mnist-convnet-t4',
    '--dataset',
    'mnist',
    '--samples',
    '100',
    '--out',
    join(tmp, 'engine.trace'),
  ],
  { stdio: 'ignore' },
);

const sides = { baseline: await side(base, 'baseline'), this: await side(self, 'this') };
const NAMES = {
  estimate: 'estimate VGG-16 T=4 (default.yaml): estimates per CPU-second',
  replayEngine: 'full replay, engine trace of mnist-convnet-t4 on MNIST test images: events per CPU-second',
  replaySynthetic: 'full replay, synthetic mnist-convnet trace (15 % rate): events per CPU-second',
  inference: 'engine inference, snnTorch benchmark net, batch 128, T=4: samples per CPU-second',
  train: 'one training step, snnTorch benchmark net, batch 128, T=4, 1 worker: samples per CPU-second',
};
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = [];
for (const key of Object.keys(NAMES)) {
  for (const s of Object.values(sides)) s[key].run(); // warm-up
  const rates = { baseline: [], this: [] };
  for (let r = 0; r < ROUNDS; r++)
    for (const who of ['baseline', 'this']) {
      const c0 = cpu();
      let units = 0;
      while (cpu() - c0 < 0.5) units += sides[who][key].run();
      rates[who].push(units / (cpu() - c0));
    }
  const row = {
    case: NAMES[key],
    rounds: ROUNDS,
    baseline: +median(rates.baseline).toPrecision(4),
    this: +median(rates.this).toPrecision(4),
    'this / baseline': +(median(rates.this) / median(rates.baseline)).toFixed(2),
  };
  results.push(row);
  console.log(JSON.stringify(row));
}
rmSync(tmp, { recursive: true, force: true });
const out = {
  benchmark: 'speed-vs-baseline',
  date: new Date().toISOString().slice(0, 10),
  machine: machine(),
  results,
};
writeFileSync(join(here, 'results', 'speed-vs-baseline.json'), JSON.stringify(out, null, 2) + '\n');
process.exit(0);
