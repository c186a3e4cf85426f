// Trace replay (cycle-level, event-driven): full-replay events per second (everything a replay does per
// sample: frame work extraction, events, counting) on one VGG-16 (CIFAR shapes) inference at T=4 from a
// synthetic trace at a 10 % spike rate (target ≥ 3 M/s), the time of that inference (target ≤ 1 s), and
// events per second on MNIST-convnet traces — a small network of 477 events per sample, where the
// per-frame work extraction (16 frames per sample) rather than the event loop sets the pace.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildWorkload } from '../dist/chip/workload.js';
import { loadArch } from '../dist/config/load.js';
import { loadNetwork } from '../dist/network/load.js';
import { Replay } from '../dist/replay/replay.js';
import { TraceReader } from '../dist/trace/format.js';
import { generateSyntheticTrace } from '../dist/trace/synthetic.js';

const dir = mkdtempSync(join(tmpdir(), 'imcsim-bench-replay-'));
const spec = loadArch('arch-configs/default.yaml');

async function setupTrace(networkDir, rate, samples, name) {
  const net = loadNetwork(networkDir);
  const out = join(dir, name);
  await generateSyntheticTrace({
    network: net.spec,
    shapes: net.shapes,
    rates: rate,
    samples,
    seed: 1,
    timesteps: 4,
    out,
  });
  const reader = await TraceReader.open(out);
  const list = [];
  for await (const s of reader) list.push(s);
  await reader.close();
  const w = buildWorkload(spec, net.spec, { timesteps: 4 }, net.shapes);
  return { replay: new Replay(w, reader.header), samples: list };
}

const mnist = await setupTrace('models/mnist-convnet', 0.15, 20, 'mnist.trace');
const vgg = await setupTrace('models/vgg16-cifar10', 0.1, 1, 'vgg16.trace');
let i = 0;
const eventsBefore = mnist.replay.eventsProcessed;
for (let k = 0; k < 20; k++) mnist.replay.replaySample(mnist.samples[k]);
const eventsPerSample = (mnist.replay.eventsProcessed - eventsBefore) / 20;
const vggBefore = vgg.replay.eventsProcessed;
vgg.replay.replaySample(vgg.samples[0]);
const vggEvents = vgg.replay.eventsProcessed - vggBefore;

export const benchmarks = [
  {
    name: `replay events, MNIST convnet T=4, 15 % rate (${Math.round(eventsPerSample)} events per sample)`,
    unit: 'events/s',
    opsPerCall: eventsPerSample,
    target: 3_000_000,
    fn: () => mnist.replay.replaySample(mnist.samples[i++ % mnist.samples.length]),
  },
  {
    name: `replay events, VGG16 CIFAR shapes T=4, 10 % synthetic rate (${vggEvents} events per inference)`,
    unit: 'events/s',
    opsPerCall: vggEvents,
    target: 3_000_000,
    maxTime: 10,
    fn: () => vgg.replay.replaySample(vgg.samples[0]),
  },
  {
    name: `one VGG16 CIFAR-shape inference, T=4, 10 % synthetic rate (${vggEvents} events) — inferences per second (target ≥ 1, i.e. ≤ 1 s each)`,
    unit: 'inferences/s',
    target: 1,
    maxTime: 10,
    fn: () => vgg.replay.replaySample(vgg.samples[0]),
  },
];
