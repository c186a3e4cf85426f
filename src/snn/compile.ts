/**
 * The one layer compiler of the inference engine (engine.ts compileModel) and the trainer (train/net.ts
 * TrainNet): turns a model's layer list into the compiled stage list — each weighted layer with its
 * geometry, its neuron and the batchnorm directly after it (folded into the layer at inference, trained
 * with batch statistics), and the stateless layers between weighted layers (pooling, an unfoldable
 * batchnorm, dropout; flatten is a no-op and disappears).
 */
import { located } from '../util/errors.js';
import type { NeuronSpec } from '../network/schema.js';
import {
  poolGeometry,
  weightedGeometry,
  type PoolGeometry,
  type WeightedGeometry,
} from '../network/shapes.js';
import type { SnnModel } from './model.js';
import { neuronParams, type NeuronParams } from './neurons/registry.js';

export interface BatchNormGeometry {
  name: string;
  c: number;
  /** Values per channel (H·W, or 1 after flatten). */
  hw: number;
  eps: number;
}

export interface WeightedLayer extends WeightedGeometry {
  kind: 'weighted';
  type: 'conv2d' | 'linear';
  name: string;
  inSize: number;
  /** Neurons (or output accumulators): the pooled size where the pre-activations are pooled. */
  outSize: number;
  /** Values of the convolution's own output (cout·ho·wo; equals outSize without prePool). */
  accSize: number;
  /** Pooling of the pre-activations before the neuron (pool_before_neuron), or null. */
  prePool: ({ type: 'avgpool2d' | 'sumpool2d' | 'maxpool2d' } & PoolGeometry) | null;
  bias: boolean;
  spiking: boolean;
  /** The layer's neuron (its own or the network's), null for the non-spiking output accumulator. */
  neuron: NeuronSpec | null;
  /** Its parameters, with the layer's trained threshold / leak tensors where present. */
  neuronParams: NeuronParams | null;
  /** The batchnorm directly after the layer. */
  batchnorm: BatchNormGeometry | null;
}

export type CompiledLayer =
  | WeightedLayer
  | ({ kind: 'pool'; type: 'avgpool2d' | 'sumpool2d' | 'maxpool2d' } & PoolGeometry)
  | ({ kind: 'batchnorm' } & BatchNormGeometry)
  | { kind: 'dropout'; name: string; size: number; p: number };

function batchnormGeometry(name: string, shape: readonly number[], eps: number): BatchNormGeometry {
  return { name, c: shape[0], hw: shape.length === 3 ? shape[1] * shape[2] : 1, eps };
}

export function compileLayers(model: Pick<SnnModel, 'spec' | 'shapes' | 'tensors'>): CompiledLayer[] {
  const { spec, shapes, tensors } = model;
  const out: CompiledLayer[] = [];
  spec.layers.forEach((layer, i) => {
    const ls = shapes.layers[i];
    switch (layer.type) {
      case 'conv2d':
      case 'linear': {
        const geo = weightedGeometry(layer, ls);
        const next = spec.layers[i + 1];
        const neuron = layer.spiking ? (layer.neuron ?? spec.neuron) : null;
        const pp = ls.preNeuronPool;
        out.push({
          kind: 'weighted',
          type: layer.type,
          name: ls.name,
          ...geo,
          inSize: geo.cin * geo.h * geo.w,
          outSize: pp ? geo.cout * pp.ho * pp.wo : geo.cout * geo.ho * geo.wo,
          accSize: geo.cout * geo.ho * geo.wo,
          prePool: pp
            ? {
                type: pp.type,
                c: pp.c,
                h: pp.h,
                w: pp.w,
                ho: pp.ho,
                wo: pp.wo,
                kh: pp.kh,
                kw: pp.kw,
                sh: pp.sh,
                sw: pp.sw,
                ph: pp.ph,
                pw: pp.pw,
              }
            : null,
          bias: layer.bias,
          spiking: layer.spiking,
          neuron,
          neuronParams: neuron
            ? neuronParams(neuron, {
                threshold: tensors.get(`${ls.name}.threshold`)?.data[0],
                leak: tensors.get(`${ls.name}.leak`)?.data[0],
              })
            : null,
          batchnorm:
            next?.type === 'batchnorm'
              ? batchnormGeometry(shapes.layers[i + 1].name, pp?.convOutShape ?? ls.outShape, next.eps)
              : null,
        });
        break;
      }
      case 'batchnorm': {
        const prev = spec.layers[i - 1];
        if (prev && (prev.type === 'conv2d' || prev.type === 'linear')) break; // the layer's own, above
        out.push({ kind: 'batchnorm', ...batchnormGeometry(ls.name, ls.inShape, layer.eps) });
        break;
      }
      case 'avgpool2d':
      case 'sumpool2d':
      case 'maxpool2d':
        out.push({ kind: 'pool', type: layer.type, ...poolGeometry(layer, ls) });
        break;
      case 'dropout':
        out.push({ kind: 'dropout', name: ls.name, size: ls.inShape.reduce((a, b) => a * b, 1), p: layer.p });
        break;
      case 'flatten':
        break;
    }
  });
  // Pooling or a batchnorm of its own after the last weighted layer would transform the output.
  let lastWeighted = -1;
  out.forEach((l, k) => {
    if (l.kind === 'weighted') lastWeighted = k;
  });
  if (out.slice(lastWeighted + 1).some((l) => l.kind === 'pool' || l.kind === 'batchnorm'))
    throw located(
      'layers after the last conv2d/linear layer are not supported (the output layer must be weighted)',
      { path: 'layers' },
    );
  return out;
}
