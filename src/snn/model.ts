/**
 * A model: a network topology (models/<name>/network.yaml) plus its tensors
 * (models/<name>/weights.safetensors). Tensor names follow the layer names:
 *   <layer>.weight   conv2d [out, in/groups, kh, kw]; linear [out, in]; batchnorm [C]
 *   <layer>.bias     [out] (conv2d / linear with bias: true); batchnorm [C]
 *   <layer>.running_mean, <layer>.running_var   batchnorm [C]
 *   <layer>.threshold, <layer>.leak             optional [1]: per-layer neuron parameters (IIR-SNN trains
 *                                               them); when absent the topology's neuron values apply.
 * Loading checks every name and shape and reports what is missing, extra or mis-shaped.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { located } from '../util/errors.js';
import { readTextFile } from '../config/load.js';
import type { NetworkSpec } from '../network/schema.js';
import { parseNetwork } from '../network/load.js';
import { inferShapes, type NetworkShapes } from '../network/shapes.js';
import { writeFileAtomic } from '../util/atomic.js';
import { Rng } from '../util/rng.js';
import { readSafetensors, writeSafetensors, type TensorMap } from './io/safetensors.js';

export interface SnnModel {
  spec: NetworkSpec;
  shapes: NetworkShapes;
  tensors: TensorMap;
  metadata: Record<string, string>;
}

export interface TensorSpec {
  name: string;
  shape: number[];
  optional: boolean;
}

/** Every tensor the topology needs, with its shape (optional ones may be absent). */
export function expectedTensors(spec: NetworkSpec, shapes: NetworkShapes = inferShapes(spec)): TensorSpec[] {
  const out: TensorSpec[] = [];
  spec.layers.forEach((layer, i) => {
    const name = shapes.layers[i].name;
    const inShape = shapes.layers[i].inShape;
    if (layer.type === 'conv2d') {
      const k = typeof layer.kernel === 'number' ? [layer.kernel, layer.kernel] : layer.kernel;
      out.push({
        name: `${name}.weight`,
        shape: [layer.out_channels, inShape[0] / layer.groups, k[0], k[1]],
        optional: false,
      });
      if (layer.bias) out.push({ name: `${name}.bias`, shape: [layer.out_channels], optional: false });
    } else if (layer.type === 'linear') {
      out.push({ name: `${name}.weight`, shape: [layer.out_features, inShape[0]], optional: false });
      if (layer.bias) out.push({ name: `${name}.bias`, shape: [layer.out_features], optional: false });
    } else if (layer.type === 'batchnorm') {
      for (const p of ['weight', 'bias', 'running_mean', 'running_var'])
        out.push({ name: `${name}.${p}`, shape: [inShape[0]], optional: false });
    }
    if ((layer.type === 'conv2d' || layer.type === 'linear') && layer.spiking) {
      out.push({ name: `${name}.threshold`, shape: [1], optional: true });
      out.push({ name: `${name}.leak`, shape: [1], optional: true });
    }
  });
  return out;
}

/** Checks tensors against the topology; every problem is reported at once. */
export function checkTensors(
  spec: NetworkSpec,
  shapes: NetworkShapes,
  tensors: TensorMap,
  file: string,
): void {
  const problems: string[] = [];
  const expected = expectedTensors(spec, shapes);
  const known = new Set(expected.map((e) => e.name));
  for (const e of expected) {
    const t = tensors.get(e.name);
    if (!t) {
      if (!e.optional) problems.push(`missing tensor ${e.name} (expected shape [${e.shape.join(', ')}])`);
      continue;
    }
    if (t.shape.length !== e.shape.length || t.shape.some((d, i) => d !== e.shape[i]))
      problems.push(`tensor ${e.name} has shape [${t.shape.join(', ')}], expected [${e.shape.join(', ')}]`);
  }
  for (const name of tensors.keys())
    if (!known.has(name)) problems.push(`unexpected tensor ${name} (no layer of the topology uses it)`);
  if (problems.length) throw located(`weights do not match the topology: ${problems.join('; ')}`, { file });
}

export function loadModel(dir: string): SnnModel {
  const netFile = join(dir, 'network.yaml');
  const { spec, shapes } = parseNetwork(readTextFile(netFile), netFile);
  const wFile = join(dir, 'weights.safetensors');
  if (!existsSync(wFile))
    throw located(`the model has no weights (train it with imcsim train, or import one with imcsim import)`, {
      file: wFile,
    });
  const { tensors, metadata } = readSafetensors(readFileSync(wFile), wFile);
  checkTensors(spec, shapes, tensors, wFile);
  return { spec, shapes, tensors, metadata };
}

/** Writes network.yaml and weights.safetensors (each whole or not at all). */
export function saveModel(dir: string, model: SnnModel): void {
  writeFileAtomic(
    join(dir, 'network.yaml'),
    `# Written by imcsim.\n${stringify(model.spec, { lineWidth: 0 })}`,
  );
  writeFileAtomic(join(dir, 'weights.safetensors'), writeSafetensors(model.tensors, model.metadata));
}

/** A freshly initialised model: LeCun-uniform weights (variance 1/fan_in), zero biases, identity batchnorm. */
export function initModel(spec: NetworkSpec, seed: number): SnnModel {
  const shapes = inferShapes(spec);
  const rng = new Rng(seed);
  const tensors: TensorMap = new Map();
  for (const e of expectedTensors(spec, shapes)) {
    if (e.optional) continue;
    const n = e.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (e.name.endsWith('.weight') && e.shape.length >= 2) {
      const fanIn = e.shape.slice(1).reduce((a, b) => a * b, 1);
      const bound = 1 / Math.sqrt(fanIn);
      for (let i = 0; i < n; i++) data[i] = (2 * rng.next() - 1) * bound * Math.sqrt(3);
    } else if (e.name.endsWith('.weight') || e.name.endsWith('.running_var')) data.fill(1);
    tensors.set(e.name, { shape: e.shape, data });
  }
  return { spec, shapes, tensors, metadata: { seed: String(seed) } };
}
