/**
 * Shape inference over a topology, and the view of it the hardware needs: the weighted layers that are
 * mapped onto crossbars, with their matrix sizes, output positions and whether their input is binary.
 */
import { located } from '../util/errors.js';
import type { LayerSpec, NetworkSpec, NeuronSpec } from './schema.js';

export type Shape = readonly number[];

const two = (v: number | readonly [number, number]): [number, number] =>
  typeof v === 'number' ? [v, v] : [v[0], v[1]];

export interface LayerShapes {
  index: number;
  name: string;
  type: LayerSpec['type'];
  inShape: Shape;
  outShape: Shape;
  /** conv2d with pool_before_neuron: the convolution's own output and the pooling of it (outShape is pooled). */
  preNeuronPool?: { type: 'avgpool2d' | 'sumpool2d' | 'maxpool2d'; convOutShape: Shape } & PoolGeometry;
}

/** A conv2d or linear layer, as the hardware sees it. */
export interface MappedLayer {
  /** Position among mapped layers (0-based). */
  index: number;
  /** Position in the topology's layer list. */
  topologyIndex: number;
  name: string;
  kind: 'conv2d' | 'linear';
  inChannels: number;
  outChannels: number;
  kernel: [number, number];
  /** Stride, padding and dilation (height, width); linear layers: null. */
  conv: { sh: number; sw: number; ph: number; pw: number; dh: number; dw: number } | null;
  groups: number;
  /** Rows of one group's unrolled weight matrix: (Cin/groups)·kh·kw. */
  rows: number;
  /** Columns (neurons) of one group's matrix: Cout/groups. */
  cols: number;
  inShape: Shape;
  /** Output of the layer itself (before any following pooling). */
  outShape: Shape;
  /** Output positions per timestep (Hout·Wout; 1 for linear). */
  positions: number;
  /** Neurons (or output accumulators) per timestep: Cout·positions. */
  neurons: number;
  /** Input elements per timestep. */
  inputElements: number;
  /** Spatial size of the input (H for conv, 1 for linear). */
  inDim: number;
  /** Spatial size of the output after pooling that directly follows (SpikeSim's out_dim convention). */
  pooledOutDim: number;
  /**
   * Pooling of the pre-activations between the convolution and its neuron (pool_before_neuron), if any:
   * the neurons then number Cout·pooled positions, while `positions` stays the convolution's.
   */
  preNeuronPool: { type: 'avgpool2d' | 'sumpool2d' | 'maxpool2d'; window: number } | null;
  /** Pooling directly after this layer, if any. */
  pooling: { type: 'avgpool2d' | 'sumpool2d' | 'maxpool2d'; window: number } | null;
  /** False where the input is multi-bit: the direct-encoded first layer, or sums after pooling. */
  binaryInput: boolean;
  /** False for the non-spiking output accumulator. */
  spiking: boolean;
  neuron: NeuronSpec;
  timesteps: number | undefined;
}

export interface NetworkShapes {
  layers: LayerShapes[];
  mapped: MappedLayer[];
  outputShape: Shape;
}

function convOut(size: number, k: number, s: number, p: number, d: number): number {
  return Math.floor((size + 2 * p - d * (k - 1) - 1) / s) + 1;
}

export function inferShapes(net: NetworkSpec, file?: string): NetworkShapes {
  let shape: Shape = net.input.shape;
  const layers: LayerShapes[] = [];
  const mapped: MappedLayer[] = [];
  // Non-binary input to the next weighted layer: the direct-encoded image, or sums after pooling.
  let nonBinary = net.input.encoding === 'direct';
  const fail = (i: number, msg: string, expected?: string, found?: string): never => {
    throw located(msg, { file, path: `layers[${i}]`, expected, found });
  };
  net.layers.forEach((layer, i) => {
    const name = layer.name ?? `${layer.type}${i}`;
    const inShape = shape;
    switch (layer.type) {
      case 'conv2d': {
        if (shape.length !== 3)
          fail(i, `conv2d needs a [C, H, W] input`, '3-D input', `[${shape.join(', ')}]`);
        const [c, h, w] = shape;
        const [kh, kw] = two(layer.kernel);
        const [sh, sw] = two(layer.stride);
        const [ph, pw] = two(layer.padding);
        const [dh, dw] = two(layer.dilation);
        if (c % layer.groups !== 0 || layer.out_channels % layer.groups !== 0)
          fail(
            i,
            `groups must divide in and out channels`,
            `divisor of ${c} and ${layer.out_channels}`,
            String(layer.groups),
          );
        const ho = convOut(h, kh, sh, ph, dh);
        const wo = convOut(w, kw, sw, pw, dw);
        if (ho < 1 || wo < 1)
          fail(i, `conv2d output would be empty`, 'a positive output size', `${ho}×${wo}`);
        shape = [layer.out_channels, ho, wo];
        let pre: LayerShapes['preNeuronPool'];
        if (layer.pool_before_neuron) {
          const pl = layer.pool_before_neuron;
          const [pkh, pkw] = two(pl.kernel);
          const [psh, psw] = pl.stride === undefined ? [pkh, pkw] : two(pl.stride);
          const [pph, ppw] = two(pl.padding);
          const pho = convOut(ho, pkh, psh, pph, 1);
          const pwo = convOut(wo, pkw, psw, ppw, 1);
          if (pho < 1 || pwo < 1)
            fail(i, `pool_before_neuron output would be empty`, 'a positive output size', `${pho}×${pwo}`);
          if (2 * pph > pkh || 2 * ppw > pkw)
            fail(
              i,
              `pool_before_neuron padding must be at most half the kernel`,
              `≤ ${pkh >> 1}`,
              String(pph),
            );
          pre = {
            type: pl.type,
            convOutShape: shape,
            c: layer.out_channels,
            h: ho,
            w: wo,
            ho: pho,
            wo: pwo,
            kh: pkh,
            kw: pkw,
            sh: psh,
            sw: psw,
            ph: pph,
            pw: ppw,
          };
          shape = [layer.out_channels, pho, pwo];
        }
        mapped.push({
          index: mapped.length,
          topologyIndex: i,
          name,
          kind: 'conv2d',
          inChannels: c,
          outChannels: layer.out_channels,
          kernel: [kh, kw],
          conv: { sh, sw, ph, pw, dh, dw },
          groups: layer.groups,
          rows: (c / layer.groups) * kh * kw,
          cols: layer.out_channels / layer.groups,
          inShape,
          outShape: shape,
          positions: ho * wo,
          neurons: layer.out_channels * shape[1] * shape[2],
          inputElements: c * h * w,
          inDim: h,
          pooledOutDim: shape[1],
          preNeuronPool: pre ? { type: pre.type, window: pre.kh * pre.kw } : null,
          pooling: null,
          binaryInput: !nonBinary,
          spiking: layer.spiking,
          neuron: layer.neuron ?? net.neuron,
          timesteps: layer.timesteps,
        });
        nonBinary = !layer.spiking;
        layers.push({
          index: i,
          name,
          type: layer.type,
          inShape,
          outShape: shape,
          ...(pre ? { preNeuronPool: pre } : {}),
        });
        return;
      }
      case 'linear': {
        const features = shape.reduce((a, b) => a * b, 1);
        if (shape.length !== 1)
          fail(i, `linear needs a flat input (add a flatten layer)`, '1-D input', `[${shape.join(', ')}]`);
        shape = [layer.out_features];
        mapped.push({
          index: mapped.length,
          topologyIndex: i,
          name,
          kind: 'linear',
          inChannels: features,
          outChannels: layer.out_features,
          kernel: [1, 1],
          conv: null,
          groups: 1,
          rows: features,
          cols: layer.out_features,
          inShape,
          outShape: shape,
          positions: 1,
          neurons: layer.out_features,
          inputElements: features,
          inDim: 1,
          pooledOutDim: 1,
          preNeuronPool: null,
          pooling: null,
          binaryInput: !nonBinary,
          spiking: layer.spiking,
          neuron: layer.neuron ?? net.neuron,
          timesteps: layer.timesteps,
        });
        nonBinary = !layer.spiking;
        break;
      }
      case 'avgpool2d':
      case 'sumpool2d':
      case 'maxpool2d': {
        if (shape.length !== 3)
          fail(i, `${layer.type} needs a [C, H, W] input`, '3-D input', `[${shape.join(', ')}]`);
        const [c, h, w] = shape;
        const [kh, kw] = two(layer.kernel);
        const [sh, sw] = layer.stride === undefined ? [kh, kw] : two(layer.stride);
        const [ph, pw] = two(layer.padding);
        const ho = convOut(h, kh, sh, ph, 1);
        const wo = convOut(w, kw, sw, pw, 1);
        if (ho < 1 || wo < 1)
          fail(i, `${layer.type} output would be empty`, 'a positive output size', `${ho}×${wo}`);
        shape = [c, ho, wo];
        const prev = mapped[mapped.length - 1];
        if (prev && prev.topologyIndex === i - 1 && prev.pooling === null) {
          prev.pooling = { type: layer.type, window: kh * kw };
          prev.pooledOutDim = ho;
        }
        // Average / sum of spikes is multi-bit; max of spikes stays binary.
        if (layer.type !== 'maxpool2d') nonBinary = true;
        break;
      }
      case 'flatten':
        shape = [shape.reduce((a, b) => a * b, 1)];
        break;
      case 'batchnorm':
      case 'dropout':
        break;
    }
    layers.push({ index: i, name, type: layer.type, inShape, outShape: shape });
  });
  if (mapped.length === 0)
    throw located('the network has no conv2d or linear layer to map', { file, path: 'layers' });
  const last = mapped[mapped.length - 1];
  const outFeatures = shape.reduce((a, b) => a * b, 1);
  if (outFeatures !== net.classes)
    throw located(`the network's output does not match its class count`, {
      file,
      path: 'classes',
      expected: `${outFeatures} (output of ${last.name})`,
      found: String(net.classes),
    });
  return { layers, mapped, outputShape: shape };
}

/** Geometry of a conv2d or linear layer as a convolution (linear: 1×1 spatial, kernel 1, stride 1). */
export interface WeightedGeometry {
  cin: number;
  h: number;
  w: number;
  cout: number;
  ho: number;
  wo: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  dh: number;
  dw: number;
  groups: number;
}

/** The one derivation of a weighted layer's geometry, shared by the inference engine and the trainer. */
export function weightedGeometry(layer: LayerSpec, ls: LayerShapes): WeightedGeometry {
  if (layer.type === 'conv2d') {
    const [cin, h, w] = ls.inShape as number[];
    const [kh, kw] = two(layer.kernel);
    const [sh, sw] = two(layer.stride);
    const [ph, pw] = two(layer.padding);
    const [dh, dw] = two(layer.dilation);
    const [, ho, wo] = (ls.preNeuronPool?.convOutShape ?? ls.outShape) as number[];
    return {
      cin,
      h,
      w,
      cout: layer.out_channels,
      ho,
      wo,
      kh,
      kw,
      sh,
      sw,
      ph,
      pw,
      dh,
      dw,
      groups: layer.groups,
    };
  }
  if (layer.type === 'linear')
    return {
      cin: ls.inShape[0],
      h: 1,
      w: 1,
      cout: layer.out_features,
      ho: 1,
      wo: 1,
      kh: 1,
      kw: 1,
      sh: 1,
      sw: 1,
      ph: 0,
      pw: 0,
      dh: 1,
      dw: 1,
      groups: 1,
    };
  throw new Error(`weightedGeometry: ${layer.type} is not a weighted layer`);
}

/** Geometry of a pooling layer (stride defaults to the kernel), shared by the inference engine and the trainer. */
export interface PoolGeometry {
  c: number;
  h: number;
  w: number;
  ho: number;
  wo: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
}

export function poolGeometry(
  layer: Extract<LayerSpec, { type: 'avgpool2d' | 'sumpool2d' | 'maxpool2d' }>,
  ls: LayerShapes,
): PoolGeometry {
  const [c, h, w] = ls.inShape as number[];
  const [kh, kw] = two(layer.kernel);
  const [sh, sw] = layer.stride === undefined ? [kh, kw] : two(layer.stride);
  const [ph, pw] = two(layer.padding);
  return { c, h, w, ho: ls.outShape[1], wo: ls.outShape[2], kh, kw, sh, sw, ph, pw };
}
