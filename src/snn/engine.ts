/**
 * The SNN inference engine: a compiled plan of typed-array kernels that runs one sample at a time under
 * an exit policy, exploiting spike sparsity (only active inputs are accumulated; zero inputs are
 * skipped), and can record every weighted layer's input per timestep for the hardware trace.
 *
 * Layout: activations are C·H·W Float32Arrays (PyTorch's flatten order). Weights are stored transposed
 * so the innermost loop of a scatter-accumulate runs over output channels.
 */
import { located } from '../config/errors.js';
import type { LayerSpec } from '../network/schema.js';
import { weightedGeometry, type WeightedGeometry } from '../network/shapes.js';
import type { TracePolicy } from '../trace/types.js';
import { Rng } from '../util/rng.js';
import type { SnnModel } from './model.js';
import { neuronParams, neuronStep, type NeuronParams } from './neurons.js';

const two = (v: number | readonly [number, number]): [number, number] =>
  typeof v === 'number' ? [v, v] : [v[0], v[1]];

/** A stateless transform between weighted layers (pooling, flatten, an unfoldable batchnorm). */
type Transform =
  | {
      kind: 'pool';
      type: 'avgpool2d' | 'sumpool2d' | 'maxpool2d';
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
  | { kind: 'affine'; c: number; hw: number; scale: Float32Array; shift: Float32Array };

/** A weighted layer compiled for inference; its conv geometry (linear: 1×1, kernel 1) is weightedGeometry()'s. */
interface Stage extends WeightedGeometry {
  name: string;
  /** Transforms applied to the previous stage's output (or the encoded input) to make this layer's input. */
  pre: Transform[];
  inSize: number;
  outSize: number;
  kind: 'conv2d' | 'linear';
  /** Weights transposed to [cin][kh][kw][cout/groups]. */
  wt: Float32Array;
  bias: Float32Array | null;
  spiking: boolean;
  neuron: NeuronParams | null;
  /** Fan-out of one input element per kernel position (cout/groups). */
  cpg: number;
}

export interface CompiledNet {
  name: string;
  stages: Stage[];
  inputSize: number;
  classes: number;
  /** For layers after the first: true where the input is the previous layer's spikes, unchanged or max-pooled. */
  binaryFromPrevious: boolean[];
}

/** Compiles a model: folds batchnorm into the preceding weighted layer, transposes weights. */
export function compileModel(model: SnnModel): CompiledNet {
  const { spec, shapes, tensors } = model;
  const get = (name: string) => tensors.get(name)?.data;
  const stages: Stage[] = [];
  let pending: Transform[] = [];
  const binaryFromPrevious: boolean[] = [];
  let nonBinary = true; // the first layer's input is the encoded image
  spec.layers.forEach((layer: LayerSpec, i) => {
    const ls = shapes.layers[i];
    const inShape = ls.inShape;
    switch (layer.type) {
      case 'conv2d':
      case 'linear': {
        const geo = weightedGeometry(layer, ls);
        const { cin, h, w, cout, ho, wo, kh, kw, groups } = geo;
        const cpg = cout / groups;
        const cinPg = cin / groups;
        const W = get(`${ls.name}.weight`)!;
        // W is [cout][cin/groups][kh][kw]; store as [cin][kh][kw][cpg].
        const wt = new Float32Array(cin * kh * kw * cpg);
        for (let o = 0; o < cout; o++) {
          const g = Math.floor(o / cpg);
          const ol = o - g * cpg;
          for (let cl = 0; cl < cinPg; cl++)
            for (let y = 0; y < kh; y++)
              for (let x = 0; x < kw; x++) {
                const c = g * cinPg + cl;
                wt[((c * kh + y) * kw + x) * cpg + ol] = W[((o * cinPg + cl) * kh + y) * kw + x];
              }
        }
        const b = layer.bias ? Float32Array.from(get(`${ls.name}.bias`)!) : null;
        const thr = get(`${ls.name}.threshold`);
        const lk = get(`${ls.name}.leak`);
        stages.push({
          name: ls.name,
          pre: pending,
          inSize: cin * h * w,
          outSize: cout * ho * wo,
          kind: layer.type,
          ...geo,
          wt,
          bias: b,
          spiking: layer.spiking,
          neuron: layer.spiking
            ? neuronParams(layer.neuron ?? spec.neuron, { threshold: thr?.[0], leak: lk?.[0] })
            : null,
          cpg,
        });
        binaryFromPrevious.push(!nonBinary);
        pending = [];
        nonBinary = !layer.spiking;
        break;
      }
      case 'batchnorm': {
        const c = inShape[0];
        const hw = inShape.length === 3 ? inShape[1] * inShape[2] : 1;
        const gamma = get(`${ls.name}.weight`)!;
        const beta = get(`${ls.name}.bias`)!;
        const mean = get(`${ls.name}.running_mean`)!;
        const variance = get(`${ls.name}.running_var`)!;
        const scale = new Float32Array(c);
        const shift = new Float32Array(c);
        for (let k = 0; k < c; k++) {
          scale[k] = gamma[k] / Math.sqrt(variance[k] + layer.eps);
          shift[k] = beta[k] - mean[k] * scale[k];
        }
        const prev = stages[stages.length - 1];
        const directlyAfter =
          prev &&
          pending.length === 0 &&
          spec.layers[i - 1] &&
          (spec.layers[i - 1].type === 'conv2d' || spec.layers[i - 1].type === 'linear');
        if (directlyAfter) {
          // Fold: W' = W·scale[o], b' = b·scale[o] + shift[o] (inference only).
          for (let idx = 0; idx < prev.wt.length; idx++) {
            const ol = idx % prev.cpg;
            const c0 = Math.floor(idx / (prev.cpg * prev.kh * prev.kw));
            const g = Math.floor(c0 / (prev.cin / prev.groups));
            prev.wt[idx] *= scale[g * prev.cpg + ol];
          }
          const nb = new Float32Array(prev.cout);
          for (let o = 0; o < prev.cout; o++) nb[o] = (prev.bias ? prev.bias[o] : 0) * scale[o] + shift[o];
          prev.bias = nb;
        } else {
          pending.push({ kind: 'affine', c, hw, scale, shift });
          nonBinary = true;
        }
        break;
      }
      case 'avgpool2d':
      case 'sumpool2d':
      case 'maxpool2d': {
        const [c, h, w] = inShape as number[];
        const [kh, kw] = two(layer.kernel);
        const [sh, sw] = layer.stride === undefined ? [kh, kw] : two(layer.stride);
        const [ph, pw] = two(layer.padding);
        pending.push({
          kind: 'pool',
          type: layer.type,
          c,
          h,
          w,
          ho: ls.outShape[1],
          wo: ls.outShape[2],
          kh,
          kw,
          sh,
          sw,
          ph,
          pw,
        });
        if (layer.type !== 'maxpool2d') nonBinary = true;
        break;
      }
      case 'flatten':
      case 'dropout':
        break;
    }
  });
  if (pending.length)
    throw located(
      'layers after the last conv2d/linear layer are not supported (the output layer must be weighted)',
      { path: 'layers' },
    );
  const inputSize = spec.input.shape.reduce((a, b) => a * b, 1);
  return { name: spec.name, stages, inputSize, classes: spec.classes, binaryFromPrevious };
}

export interface InferenceOptions {
  policy: TracePolicy;
  encoding?: 'direct' | 'rate';
  /** Seed of the rate encoder; sample i uses a stream derived from (seed, i), independent of batching. */
  seed?: number;
  /** Keep every weighted layer's input per timestep (for traces). */
  record?: boolean;
}

export interface SampleResult {
  /** o_t per timestep run: exitTimestep × classes. */
  logits: Float32Array;
  exitTimestep: number;
  prediction: number;
  /** Synaptic operations: Σ over active inputs of their fan-out (multi-bit inputs count as MACs). */
  synops: number;
  /** Σ over layers of neurons × timesteps run. */
  neuronUpdates: number;
  /** Input frames per weighted layer and timestep, copied (when record is on). */
  inputs?: Float32Array[][];
  /** Spikes emitted per layer per timestep (for rates). */
  spikeCounts: number[][];
}

/** Normalised entropy of softmax(a): −Σ p log p / log K, in [0, 1]. */
export function normalizedEntropy(a: ArrayLike<number>): number {
  const K = a.length;
  let max = -Infinity;
  for (let k = 0; k < K; k++) max = Math.max(max, a[k]);
  let z = 0;
  for (let k = 0; k < K; k++) z += Math.exp(a[k] - max);
  let h = 0;
  for (let k = 0; k < K; k++) {
    const p = Math.exp(a[k] - max) / z;
    if (p > 0) h -= p * Math.log(p);
  }
  return h / Math.log(K);
}

export function maxSoftmax(a: ArrayLike<number>): number {
  let max = -Infinity;
  for (let k = 0; k < a.length; k++) max = Math.max(max, a[k]);
  let z = 0;
  for (let k = 0; k < a.length; k++) z += Math.exp(a[k] - max);
  return 1 / z;
}

export function argmax(a: ArrayLike<number>): number {
  let best = 0;
  for (let k = 1; k < a.length; k++) if (a[k] > a[best]) best = k;
  return best;
}

/** Per-sample state of a compiled network; reused across samples (no per-timestep allocation). */
export class Engine {
  readonly net: CompiledNet;
  private readonly u: Float32Array[];
  private readonly cur: Float32Array[];
  /**
   * The first layer's pre-activation of the current sample under direct encoding: its input (the image)
   * is the same at every timestep, so it is computed once (t = 0) and reused; only its neurons integrate
   * every timestep. `pre0Synops`: the synaptic operations it stands for (still counted per timestep).
   */
  private readonly pre0: Float32Array;
  private pre0Synops = 0;
  private readonly spk: Float32Array[];
  private readonly bufA: Float32Array;
  private readonly bufB: Float32Array;
  private readonly enc: Float32Array;

  constructor(model: SnnModel | CompiledNet) {
    this.net = 'stages' in model ? model : compileModel(model);
    const s = this.net.stages;
    this.u = s.map((st) => new Float32Array(st.outSize));
    this.cur = s.map((st) => new Float32Array(st.outSize));
    this.pre0 = new Float32Array(s.length > 0 ? s[0].outSize : 0);
    this.spk = s.map((st) => new Float32Array(st.outSize));
    let maxSize = this.net.inputSize;
    for (const st of s) maxSize = Math.max(maxSize, st.inSize, st.outSize);
    this.bufA = new Float32Array(maxSize);
    this.bufB = new Float32Array(maxSize);
    this.enc = new Float32Array(this.net.inputSize);
  }

  /**
   * Whether each weighted layer's input is binary spikes or multi-bit values under an encoding and
   * policy: the first layer sees the image (direct) or Bernoulli spikes (rate) through its transforms;
   * later layers see spikes unless pooling/affine transforms or a non-spiking layer come between, or
   * LD-SNN alignment sums (repeat when compressing) or averages (rate) frames.
   */
  inputKinds(encoding: 'direct' | 'rate', policy: TracePolicy): Array<'spikes' | 'values'> {
    return this.net.stages.map((st, l) => {
      const transformsKeepBinary = st.pre.every((p) => p.kind === 'pool' && p.type === 'maxpool2d');
      if (l === 0) return encoding === 'rate' && transformsKeepBinary ? 'spikes' : 'values';
      if (!this.net.binaryFromPrevious[l]) return 'values';
      if (policy.name === 'layerwise') {
        const lt = policy.layer_timesteps!;
        const alignment = policy.alignment ?? 'repeat';
        if (alignment === 'rate' && lt[l] !== lt[l - 1]) return 'values';
        if (alignment === 'repeat' && lt[l] < lt[l - 1]) return 'values';
      }
      return 'spikes';
    });
  }

  /**
   * A batch of samples back to back (images concatenated, `count` of them); sample k has index
   * firstIndex + k, so results equal running each sample alone. Each sample exits on its own.
   */
  runBatch(images: Float32Array, count: number, firstIndex: number, opts: InferenceOptions): SampleResult[] {
    const size = this.net.inputSize;
    if (images.length < count * size)
      throw located('the batch holds fewer values than count × input size', {
        expected: `${count * size} values`,
        found: String(images.length),
      });
    const out: SampleResult[] = [];
    for (let k = 0; k < count; k++)
      out.push(this.run(images.subarray(k * size, (k + 1) * size), firstIndex + k, opts));
    return out;
  }

  run(image: Float32Array, index: number, opts: InferenceOptions): SampleResult {
    const net = this.net;
    const K = net.classes;
    const policy = opts.policy;
    const encoding = opts.encoding ?? 'direct';
    const rng =
      encoding === 'rate' ? new Rng(((opts.seed ?? 0) * 0x9e3779b1 + index * 0x85ebca6b) >>> 0) : null;
    for (const u of this.u) u.fill(0);
    const L = net.stages.length;
    const result: SampleResult = {
      logits: new Float32Array(0),
      exitTimestep: 0,
      prediction: -1,
      synops: 0,
      neuronUpdates: 0,
      spikeCounts: net.stages.map(() => []),
    };
    if (opts.record) result.inputs = net.stages.map(() => []);
    if (policy.name === 'layerwise') return this.runLayerwise(image, policy, rng, opts, result);

    const T = policy.timesteps;
    const logits = new Float32Array(T * K);
    const acc = new Float64Array(K);
    let t = 0;
    for (; t < T; t++) {
      let x = this.encode(image, rng);
      for (let l = 0; l < L; l++) {
        const st = net.stages[l];
        x = this.applyPre(st, x);
        if (result.inputs) result.inputs[l].push(Float32Array.from(x.subarray(0, st.inSize)));
        // Direct encoding: the first layer's input is the same image every timestep.
        const reuse = l === 0 && encoding === 'direct' ? (t === 0 ? STORE : REUSE) : COMPUTE;
        const out = this.forwardStage(st, l, x, result, reuse);
        if (l === L - 1) {
          for (let k = 0; k < K; k++) {
            logits[t * K + k] = out[k];
            acc[k] += out[k];
          }
        }
        x = out;
      }
      // Exit decision on the accumulated output A_t (DT-SNN: sum of logits).
      if (policy.name === 'entropy' && 1 - normalizedEntropy(acc) > (policy.theta ?? 0.9)) {
        t++;
        break;
      }
      if (policy.name === 'confidence' && maxSoftmax(acc) > (policy.theta ?? 0.9)) {
        t++;
        break;
      }
    }
    result.exitTimestep = Math.min(t, T);
    result.logits = logits.slice(0, result.exitTimestep * K);
    result.prediction = argmax(acc);
    return result;
  }

  /** LD-SNN layer-major evaluation: layer l runs its own T_l over its aligned input frames. */
  private runLayerwise(
    image: Float32Array,
    policy: TracePolicy,
    rng: Rng | null,
    opts: InferenceOptions,
    result: SampleResult,
  ): SampleResult {
    const net = this.net;
    const K = net.classes;
    const lt = policy.layer_timesteps;
    if (!lt || lt.length !== net.stages.length)
      throw located('the layerwise policy needs one timestep count per weighted layer', {
        path: 'policy.layer_timesteps',
        expected: `${net.stages.length} values`,
        found: String(lt?.length ?? 0),
      });
    const alignment = policy.alignment ?? 'repeat';
    // Frames entering layer 0: the encoded input, one per step of layer 0.
    let frames: Float32Array[] = [];
    for (let t = 0; t < lt[0]; t++) frames.push(Float32Array.from(this.encode(image, rng)));
    const L = net.stages.length;
    const acc = new Float64Array(K);
    let logits = new Float32Array(0);
    for (let l = 0; l < L; l++) {
      const st = net.stages[l];
      const aligned = l === 0 ? frames : alignFrames(frames, lt[l], alignment);
      const outs: Float32Array[] = [];
      if (l === L - 1) logits = new Float32Array(lt[l] * K);
      for (let t = 0; t < lt[l]; t++) {
        const x = this.applyPre(st, aligned[t]);
        if (result.inputs) result.inputs[l].push(Float32Array.from(x.subarray(0, st.inSize)));
        const out = this.forwardStage(st, l, x, result);
        outs.push(Float32Array.from(out.subarray(0, st.outSize)));
        if (l === L - 1)
          for (let k = 0; k < K; k++) {
            logits[t * K + k] = out[k];
            acc[k] += out[k];
          }
      }
      frames = outs;
    }
    result.exitTimestep = lt[L - 1];
    result.logits = logits;
    result.prediction = argmax(acc);
    return result;
  }

  private encode(image: Float32Array, rng: Rng | null): Float32Array {
    if (!rng) return image;
    // Rate (Bernoulli) encoding: a pixel of intensity p spikes with probability p.
    for (let i = 0; i < image.length; i++) this.enc[i] = rng.next() < image[i] ? 1 : 0;
    return this.enc;
  }

  private applyPre(st: Stage, x: Float32Array): Float32Array {
    let cur = x;
    for (const p of st.pre) {
      const out = cur === this.bufA ? this.bufB : this.bufA;
      if (p.kind === 'affine') {
        for (let c = 0; c < p.c; c++)
          for (let i = 0; i < p.hw; i++) out[c * p.hw + i] = cur[c * p.hw + i] * p.scale[c] + p.shift[c];
      } else pool(p, cur, out);
      cur = out;
    }
    return cur;
  }

  /** One weighted layer at one timestep: sparse accumulate, then neurons (or the output accumulator). */
  private forwardStage(
    st: Stage,
    l: number,
    x: Float32Array,
    result: SampleResult,
    reuse = COMPUTE,
  ): Float32Array {
    const cur = this.cur[l];
    if (reuse === REUSE) {
      cur.set(this.pre0);
      result.synops += this.pre0Synops;
    } else {
      if (st.bias)
        for (let o = 0; o < st.cout; o++) cur.fill(st.bias[o], o * st.ho * st.wo, (o + 1) * st.ho * st.wo);
      else cur.fill(0);
      const synops = st.kind === 'linear' ? linearAccumulate(st, x, cur) : convAccumulate(st, x, cur);
      result.synops += synops;
      if (reuse === STORE) {
        this.pre0.set(cur);
        this.pre0Synops = synops;
      }
    }
    if (!st.spiking) {
      result.neuronUpdates += st.outSize;
      return cur;
    }
    const s = this.spk[l];
    const n = neuronStep(st.neuron!, this.u[l], cur, s);
    result.neuronUpdates += st.outSize;
    result.spikeCounts[l].push(n);
    return s;
  }
}

/** forwardStage modes: compute; compute and keep the pre-activation (first layer, t = 0); reuse it. */
const COMPUTE = 0;
const STORE = 1;
const REUSE = 2;

/** Aligns a layer's output frames (T_in of them) to the next layer's T_out steps (LD-SNN, docs/SOURCES.md §1). */
export function alignFrames(
  frames: Float32Array[],
  tOut: number,
  alignment: 'repeat' | 'rate' | 'pad',
): Float32Array[] {
  const tIn = frames.length;
  const n = frames[0].length;
  if (tIn === tOut) return frames;
  const out: Float32Array[] = [];
  if (alignment === 'rate') {
    const mean = new Float32Array(n);
    for (const f of frames) for (let i = 0; i < n; i++) mean[i] += f[i];
    for (let i = 0; i < n; i++) mean[i] /= tIn;
    for (let t = 0; t < tOut; t++) out.push(mean);
    return out;
  }
  if (alignment === 'pad') {
    const zero = new Float32Array(n);
    for (let t = 0; t < tOut; t++) out.push(t < tIn ? frames[t] : zero);
    return out;
  }
  // repeat: expanding repeats each frame over a contiguous block; compressing sums a block of frames.
  for (let t = 0; t < tOut; t++) {
    const a = Math.floor((t * tIn) / tOut);
    const b = Math.max(a + 1, Math.floor(((t + 1) * tIn) / tOut));
    if (tOut > tIn) out.push(frames[a]);
    else {
      const sum = new Float32Array(n);
      for (let k = a; k < b; k++) for (let i = 0; i < n; i++) sum[i] += frames[k][i];
      out.push(sum);
    }
  }
  return out;
}

function pool(p: Extract<Transform, { kind: 'pool' }>, x: Float32Array, out: Float32Array): void {
  const { c, h, w, ho, wo, kh, kw, sh, sw, ph, pw } = p;
  const area = kh * kw;
  for (let ch = 0; ch < c; ch++)
    for (let oy = 0; oy < ho; oy++)
      for (let ox = 0; ox < wo; ox++) {
        let acc = p.type === 'maxpool2d' ? -Infinity : 0;
        for (let ky = 0; ky < kh; ky++) {
          const y = oy * sh - ph + ky;
          if (y < 0 || y >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const xx = ox * sw - pw + kx;
            if (xx < 0 || xx >= w) continue;
            const v = x[(ch * h + y) * w + xx];
            acc = p.type === 'maxpool2d' ? Math.max(acc, v) : acc + v;
          }
        }
        // Average pooling divides by the full window (count_include_pad, PyTorch's default).
        out[(ch * ho + oy) * wo + ox] = p.type === 'avgpool2d' ? acc / area : acc === -Infinity ? 0 : acc;
      }
}

/** Sparse linear: for each non-zero input, add its weight row. Returns synaptic operations. */
function linearAccumulate(st: Stage, x: Float32Array, out: Float32Array): number {
  const nOut = st.cout;
  const wt = st.wt;
  let ops = 0;
  for (let i = 0; i < st.cin; i++) {
    const v = x[i];
    if (v === 0) continue;
    const base = i * nOut;
    if (v === 1) for (let o = 0; o < nOut; o++) out[o] += wt[base + o];
    else for (let o = 0; o < nOut; o++) out[o] += v * wt[base + o];
    ops += nOut;
  }
  return ops;
}

/** Sparse convolution by scatter: each non-zero input adds its weights to the outputs it reaches. */
function convAccumulate(st: Stage, x: Float32Array, out: Float32Array): number {
  const { cin, h, w, ho, wo, kh, kw, sh, sw, ph, pw, dh, dw, cpg, wt } = st;
  const hw = ho * wo;
  const cinPg = cin / st.groups;
  let ops = 0;
  for (let c = 0; c < cin; c++) {
    const g = Math.floor(c / cinPg);
    const outBase = g * cpg * hw;
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < w; xx++) {
        const v = x[(c * h + y) * w + xx];
        if (v === 0) continue;
        for (let ky = 0; ky < kh; ky++) {
          const ny = y + ph - ky * dh;
          if (ny < 0 || ny % sh !== 0) continue;
          const oy = ny / sh;
          if (oy >= ho) continue;
          for (let kx = 0; kx < kw; kx++) {
            const nx = xx + pw - kx * dw;
            if (nx < 0 || nx % sw !== 0) continue;
            const ox = nx / sw;
            if (ox >= wo) continue;
            const wBase = ((c * kh + ky) * kw + kx) * cpg;
            let oi = outBase + oy * wo + ox;
            if (v === 1) for (let o = 0; o < cpg; o++, oi += hw) out[oi] += wt[wBase + o];
            else for (let o = 0; o < cpg; o++, oi += hw) out[oi] += v * wt[wBase + o];
            ops += cpg;
          }
        }
      }
  }
  return ops;
}
