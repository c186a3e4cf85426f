/**
 * The engine against the plain-PyTorch peer (bench/peers/torch_snn.py, an independent implementation:
 * PyTorch's conv2d / linear / pooling and the neuron rules written out in torch): on the same weights and
 * images the per-timestep logits agree within 1e-5 of the row's largest |logit| and every prediction is
 * the same. Runs where /usr/bin/python3 (or $IMCSIM_PYTHON) imports torch; skipped otherwise.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseNetwork } from '../../src/network/load.js';
import { loadDataset } from '../../src/snn/data/dataset.js';
import { argmax, Engine } from '../../src/snn/engine.js';
import { writeSafetensors } from '../../src/snn/io/safetensors.js';
import { initModel, loadModel, type SnnModel } from '../../src/snn/model.js';

const PY = process.env.IMCSIM_PYTHON ?? '/usr/bin/python3';
const probe = spawnSync(PY, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
const hasTorch = probe.status === 0;

const BENCH_NET = `
name: snntorch-bench
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

const N = 64;
const dir = hasTorch ? mkdtempSync(join(tmpdir(), 'imcsim-peer-test-')) : '';
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function compare(label: string, model: SnnModel) {
  const data = loadDataset('mnist', 'test', { limit: N });
  const T = model.spec.timesteps;
  const K = model.spec.classes;
  const spec = join(dir, `${label}.json`);
  const weights = join(dir, `${label}.safetensors`);
  const input = join(dir, `${label}.f32`);
  const out = join(dir, `${label}.logits`);
  writeFileSync(spec, JSON.stringify(model.spec));
  writeFileSync(weights, writeSafetensors(model.tensors));
  writeFileSync(input, Buffer.from(data.images.buffer, data.images.byteOffset, N * 784 * 4));
  const r = spawnSync(
    PY,
    [
      'bench/peers/torch_snn.py',
      'logits',
      '--spec',
      spec,
      '--weights',
      weights,
      '--input',
      input,
      '--out',
      out,
    ],
    { encoding: 'utf8' },
  );
  expect(r.status, r.stderr).toBe(0);
  const buf = readFileSync(out);
  const peer = new Float32Array(buf.buffer, buf.byteOffset, T * N * K); // t-major: [t][b][k]
  const res = new Engine(model).runBatch(data.images, N, 0, { policy: { name: 'static', timesteps: T } });
  let worst = 0;
  let spikes = 0;
  for (let b = 0; b < N; b++) {
    const sum = new Float64Array(K);
    for (let t = 0; t < T; t++) {
      let scale = 0;
      for (let k = 0; k < K; k++) scale = Math.max(scale, Math.abs(peer[(t * N + b) * K + k]));
      for (let k = 0; k < K; k++) {
        const p = peer[(t * N + b) * K + k];
        sum[k] += p;
        worst = Math.max(worst, Math.abs(res[b].logits[t * K + k] - p) / Math.max(scale, 1e-30));
      }
    }
    expect(res[b].prediction, `sample ${b}`).toBe(argmax(sum));
    spikes += res[b].spikeCounts[0].reduce((a, c) => a + c, 0);
  }
  expect(spikes).toBeGreaterThan(0); // the comparison exercises spiking layers
  expect(worst).toBeLessThanOrEqual(1e-5);
}

describe.skipIf(!hasTorch)(
  `engine = PyTorch peer on the same weights${hasTorch ? '' : ` (skipped: ${PY} cannot import torch)`}`,
  () => {
    it('snnTorch benchmark net (12C5-MP2-64C5-MP2-FC10, Leaky β 0.5, random weights)', () => {
      compare('bench', initModel(parseNetwork(BENCH_NET, 'bench.yaml').spec, 1));
    });
    it("snnTorch benchmark net in snnTorch's usual order, conv → maxpool → Leaky (pool_before_neuron)", () => {
      const net = BENCH_NET.replace(
        /- \{ name: (conv\d), type: conv2d, out_channels: (\d+), kernel: 5, bias: true, spiking: true \}\n  - \{ name: pool\d, type: maxpool2d, kernel: 2 \}/g,
        '- { name: $1, type: conv2d, out_channels: $2, kernel: 5, bias: true, spiking: true, pool_before_neuron: { type: maxpool2d, kernel: 2 } }',
      );
      const spec = parseNetwork(net, 'bench-pre.yaml').spec;
      expect(spec.layers.filter((l) => l.type === 'conv2d' && l.pool_before_neuron).length).toBe(2);
      compare('bench-pre', initModel(spec, 1));
    });
    it('mnist-convnet-t4 with its trained weights (dtsnn, avgpool)', () => {
      compare('t4', loadModel('models/mnist-convnet-t4'));
    });
  },
);
