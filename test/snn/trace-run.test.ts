import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadNetwork } from '../../src/network/load.js';
import { loadDataset } from '../../src/snn/data/dataset.js';
import { Engine } from '../../src/snn/engine.js';
import { importNir } from '../../src/snn/io/nir.js';
import { initModel, saveModel } from '../../src/snn/model.js';
import { evaluateModel, traceModel } from '../../src/snn/run.js';
import { TraceReader, unpackBits } from '../../src/trace/format.js';
import { Rng } from '../../src/util/rng.js';
import { runCli } from '../helpers/cli.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'imcsim-trace-'));
const net = loadNetwork('models/mnist-convnet');
// Random weights scaled up so that spikes reach every layer.
const model = initModel(net.spec, 11);
for (const [k, t] of model.tensors)
  if (k.endsWith('.weight')) for (let i = 0; i < t.data.length; i++) t.data[i] *= 4;
const ds = loadDataset('mnist', 'test', { limit: 40 });

describe('traces recorded by the engine', () => {
  it('are byte-identical for the same inputs and seed (rate encoding)', async () => {
    const d = tmp();
    const opts = {
      policy: { name: 'entropy' as const, timesteps: 4, theta: 0.3 },
      encoding: 'rate' as const,
      seed: 5,
      modelName: 'm',
    };
    await traceModel(model, ds, { ...opts, out: join(d, 'a.trace') });
    await traceModel(model, ds, { ...opts, out: join(d, 'b.trace') });
    expect(readFileSync(join(d, 'a.trace')).equals(readFileSync(join(d, 'b.trace')))).toBe(true);
  });

  it('hold exactly what the engine computed: exits, logits, every layer input per timestep', async () => {
    const d = tmp();
    const policy = { name: 'entropy' as const, timesteps: 4, theta: 0.2 };
    const summary = await traceModel(model, ds, { policy, modelName: 'm', out: join(d, 't.trace') });
    const ev = evaluateModel(model, ds, { policy });
    expect(summary.accuracy).toBeCloseTo(ev.accuracy, 12);
    expect(summary.avg_timesteps).toBeCloseTo(ev.avg_timesteps, 12);
    const r = await TraceReader.open(join(d, 't.trace'));
    expect(r.header.layers.map((l) => l.input_kind)).toEqual(['values', 'values', 'values', 'spikes']);
    const eng = new Engine(model);
    let i = 0;
    for await (const s of r) {
      const ref = eng.run(ds.images.subarray(i * 784, (i + 1) * 784), i, { policy, record: true });
      expect(s.exitTimestep).toBe(ref.exitTimestep);
      expect(s.label).toBe(ds.labels[i]);
      expect(Array.from(s.logits)).toEqual(Array.from(ref.logits));
      s.inputs.forEach((frames, l) => {
        expect(frames.length).toBe(ref.exitTimestep);
        frames.forEach((f, t) => {
          const want = ref.inputs![l][t];
          const got = f instanceof Uint8Array ? unpackBits(f, want.length) : f;
          expect(Array.from(got)).toEqual(Array.from(want));
        });
      });
      i++;
    }
    await r.close();
    expect(i).toBe(40);
  });

  it('CLI: init → trace → trace info, and eval', async () => {
    const d = tmp();
    saveModel(join(d, 'm'), model);
    const t = await runCli(
      'trace',
      '--model',
      join(d, 'm'),
      '--dataset',
      'mnist',
      '--samples',
      '20',
      '--policy',
      'static',
      '--timesteps',
      '3',
      '--out',
      join(d, 'x.trace'),
    );
    expect(t.code).toBe(0);
    const info = await runCli('trace', 'info', join(d, 'x.trace'), '--json');
    const j = JSON.parse(info.out);
    expect(j.summary.samples).toBe(20);
    expect(j.summary.avg_timesteps).toBe(3);
    const e = await runCli(
      'eval',
      '--model',
      join(d, 'm'),
      '--dataset',
      'mnist',
      '--samples',
      '20',
      '--json',
    );
    expect(JSON.parse(e.out).samples).toBe(20);
    const bad = await runCli(
      'trace',
      '--model',
      join(d, 'm'),
      '--dataset',
      'cifar',
      '--out',
      join(d, 'y.trace'),
    );
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--dataset');
    const synth = await runCli(
      'trace',
      '--synthetic',
      '--network',
      'models/vgg16-cifar10',
      '--rate',
      '0.1',
      '--samples',
      '2',
      '--timesteps',
      '2',
      '--out',
      join(d, 's.trace'),
    );
    expect(synth.code).toBe(0);
    expect((await runCli('trace', 'info', join(d, 's.trace'))).out).toMatch(/synthetic/i);
  });
});

describe('the Sinabs N-MNIST network from NIR', () => {
  it('imports and runs on a [2, 34, 34] input', async () => {
    const m = await importNir('test/fixtures/nir/cnn_sinabs.nir');
    expect(m.spec.input.shape).toEqual([2, 34, 34]);
    const eng = new Engine(m);
    const rng = new Rng(2);
    const x = Float32Array.from({ length: 2 * 34 * 34 }, () => (rng.next() < 0.2 ? 1 : 0));
    const r = eng.run(x, 0, { policy: { name: 'static', timesteps: 5 }, record: true });
    expect(r.logits.length).toBe(5 * 10);
    expect(r.inputs!.map((l) => l[0].length)).toEqual([2 * 34 * 34, 16 * 16 * 16, 16 * 8 * 8, 128, 256]);
    expect(r.synops).toBeGreaterThan(0);
  });
});
