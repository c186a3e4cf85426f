/**
 * The SNN inference engine: a compiled plan of typed-array kernels that runs one sample at a time under
 * an exit policy, exploiting spike sparsity (only active inputs are accumulated; zero inputs are
 * skipped), and can record every weighted layer's input per timestep for the hardware trace.
 *
 * Layout: activations are C·H·W Float32Arrays (PyTorch's flatten order). Weights are stored transposed
 * so the innermost loop of a scatter-accumulate runs over output channels.
 */
import type { InputEncoding } from '../network/schema.js';
import { located } from '../util/errors.js';
import type { PoolGeometry, WeightedGeometry } from '../network/shapes.js';
import type { TracePolicy } from '../trace/types.js';
import { Rng } from '../util/rng.js';
import type { SnnModel } from './model.js';
import { exitPolicy, policyAlignment, policyTheta } from './policies/registry.js';
import { compileLayers, type BatchNormGeometry } from './compile.js';
import { neuronConvention, type NeuronParams, type NeuronStep } from './neurons/registry.js';
import { convForward } from './kernels/conv.js';
import type { ChipArithmetic } from './chip-arith.js';

/** A stateless transform between weighted layers (pooling, flatten, an unfoldable batchnorm). */
type Transform =
  | ({ kind: 'pool'; type: 'avgpool2d' | 'sumpool2d' | 'maxpool2d' } & PoolGeometry)
  | { kind: 'affine'; c: number; hw: number; scale: Float32Array; shift: Float32Array };

/** A weighted layer compiled for inference; its conv geometry (linear: 1×1, kernel 1) is weightedGeometry()'s. */
interface Stage extends WeightedGeometry {
  name: string;
  /** Transforms applied to the previous stage's output (or the encoded input) to make this layer's input. */
  pre: Transform[];
  inSize: number;
  /** Neurons (the pooled size under prePool). */
  outSize: number;
  /** Values of the convolution's output (its accumulators). */
  accSize: number;
  /** Pooling of the pre-activations before the neuron (pool_before_neuron), or null. */
  prePool: Extract<Transform, { kind: 'pool' }> | null;
  kind: 'conv2d' | 'linear';
  /** Weights transposed to [cin][kh][kw][cout/groups]. */
  wt: Float32Array;
  bias: Float32Array | null;
  spiking: boolean;
  neuron: NeuronParams | null;
  /** The neuron convention's update (src/snn/neurons/). */
  step: NeuronStep | null;
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

/** Batchnorm at inference as a per-channel affine map: scale = γ/√(var + ε), shift = β − mean·scale. */
function batchnormAffine(
  bn: BatchNormGeometry,
  get: (name: string) => Float32Array | undefined,
): { scale: Float32Array; shift: Float32Array } {
  const gamma = get(`${bn.name}.weight`)!;
  const beta = get(`${bn.name}.bias`)!;
  const mean = get(`${bn.name}.running_mean`)!;
  const variance = get(`${bn.name}.running_var`)!;
  const scale = new Float32Array(bn.c);
  const shift = new Float32Array(bn.c);
  for (let k = 0; k < bn.c; k++) {
    scale[k] = gamma[k] / Math.sqrt(variance[k] + bn.eps);
    shift[k] = beta[k] - mean[k] * scale[k];
  }
  return { scale, shift };
}

/**
 * Compiles a model for inference from the shared layer list (compileLayers): transposes weights and
 * folds each layer's own batchnorm into it.
 */
export function compileModel(model: SnnModel): CompiledNet {
  const get = (name: string) => model.tensors.get(name)?.data;
  const stages: Stage[] = [];
  let pending: Transform[] = [];
  const binaryFromPrevious: boolean[] = [];
  let nonBinary = true; // the first layer's input is the encoded image
  for (const layer of compileLayers(model)) {
    switch (layer.kind) {
      case 'weighted': {
        const { cin, cout, kh, kw, groups } = layer;
        const cpg = cout / groups;
        const cinPg = cin / groups;
        const W = get(`${layer.name}.weight`)!;
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
        let bias = layer.bias ? Float32Array.from(get(`${layer.name}.bias`)!) : null;
        if (layer.batchnorm) {
          // Fold: W' = W·scale[o], b' = b·scale[o] + shift[o] (inference only).
          const { scale, shift } = batchnormAffine(layer.batchnorm, get);
          for (let idx = 0; idx < wt.length; idx++) {
            const ol = idx % cpg;
            const c0 = Math.floor(idx / (cpg * kh * kw));
            const g = Math.floor(c0 / cinPg);
            wt[idx] *= scale[g * cpg + ol];
          }
          const nb = new Float32Array(cout);
          for (let o = 0; o < cout; o++) nb[o] = (bias ? bias[o] : 0) * scale[o] + shift[o];
          bias = nb;
        }
        stages.push({
          name: layer.name,
          pre: pending,
          inSize: layer.inSize,
          outSize: layer.outSize,
          accSize: layer.accSize,
          prePool: layer.prePool ? { kind: 'pool', ...layer.prePool } : null,
          kind: layer.type,
          cin,
          h: layer.h,
          w: layer.w,
          cout,
          ho: layer.ho,
          wo: layer.wo,
          kh,
          kw,
          sh: layer.sh,
          sw: layer.sw,
          ph: layer.ph,
          pw: layer.pw,
          dh: layer.dh,
          dw: layer.dw,
          groups,
          wt,
          bias,
          spiking: layer.spiking,
          neuron: layer.neuronParams,
          step: layer.neuron ? neuronConvention(layer.neuron.convention).step : null,
          cpg,
        });
        binaryFromPrevious.push(!nonBinary);
        pending = [];
        nonBinary = !layer.spiking;
        break;
      }
      case 'batchnorm': {
        const { scale, shift } = batchnormAffine(layer, get);
        pending.push({ kind: 'affine', c: layer.c, hw: layer.hw, scale, shift });
        nonBinary = true;
        break;
      }
      case 'pool': {
        const { kind, type, c, h, w, ho, wo, kh, kw, sh, sw, ph, pw } = layer;
        pending.push({ kind, type, c, h, w, ho, wo, kh, kw, sh, sw, ph, pw });
        if (type !== 'maxpool2d') nonBinary = true;
        break;
      }
      case 'dropout':
        break;
    }
  }
  const { spec } = model;
  const inputSize = spec.input.shape.reduce((a, b) => a * b, 1);
  return { name: spec.name, stages, inputSize, classes: spec.classes, binaryFromPrevious };
}

export interface InferenceOptions {
  policy: TracePolicy;
  encoding?: InputEncoding;
  /** Seed of the rate encoder; sample i uses a stream derived from (seed, i), independent of batching. */
  seed?: number;
  /** Keep every weighted layer's input per timestep (for traces). */
  record?: boolean;
  /**
   * Event input: the image argument holds this many frames back to back (frame t = values
   * t·inputSize … (t+1)·inputSize − 1) and timestep t reads frame t. Needs `encoding: 'events'`.
   */
  frames?: number;
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
  /** Pooled pre-activations of layers with prePool (empty elsewhere). */
  private readonly pooled: Float32Array[];
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
  /** Hardware-aware inference: the chip's arithmetic for mapped layers (snn/chip-arith.ts), or null (float). */
  private chip: ChipArithmetic | null = null;
  private chipKinds: { key: string; binary: boolean[] } | null = null;
  private chipBinaryEvents = true;

  constructor(model: SnnModel | CompiledNet) {
    this.net = 'stages' in model ? model : compileModel(model);
    const s = this.net.stages;
    this.u = s.map((st) => new Float32Array(st.outSize));
    this.cur = s.map((st) => new Float32Array(st.accSize));
    this.pooled = s.map((st) => new Float32Array(st.prePool ? st.outSize : 0));
    this.pre0 = new Float32Array(s.length > 0 ? s[0].accSize : 0);
    this.spk = s.map((st) => new Float32Array(st.outSize));
    let maxSize = this.net.inputSize;
    for (const st of s) maxSize = Math.max(maxSize, st.inSize, st.outSize);
    this.bufA = new Float32Array(maxSize);
    this.bufB = new Float32Array(maxSize);
    this.enc = new Float32Array(this.net.inputSize);
  }

  /** Runs mapped layers on the chip's arithmetic from now on (null: back to float). */
  attachChip(chip: ChipArithmetic | null, binaryEvents = true): void {
    this.chip = chip;
    this.chipKinds = null;
    this.chipBinaryEvents = binaryEvents;
  }

  /**
   * Whether each weighted layer's input is binary spikes or multi-bit values under an encoding and
   * policy: the first layer sees the image (direct) or Bernoulli spikes (rate) through its transforms;
   * later layers see spikes unless pooling/affine transforms or a non-spiking layer come between, or
   * LD-SNN alignment sums (repeat when compressing) or averages (rate) frames.
   */
  inputKinds(encoding: InputEncoding, policy: TracePolicy, binaryEvents = true): Array<'spikes' | 'values'> {
    return this.net.stages.map((st, l) => {
      const transformsKeepBinary = st.pre.every((p) => p.kind === 'pool' && p.type === 'maxpool2d');
      if (l === 0)
        return (encoding === 'rate' || (encoding === 'events' && binaryEvents)) && transformsKeepBinary
          ? 'spikes'
          : 'values';
      if (!this.net.binaryFromPrevious[l]) return 'values';
      if (policy.name === 'layerwise') {
        const lt = policy.layer_timesteps!;
        const alignment = policyAlignment(policy);
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
    this.frames = 0;
    if (encoding === 'events') {
      const F = opts.frames ?? 0;
      const need = policy.name === 'layerwise' ? (policy.layer_timesteps?.[0] ?? 0) : policy.timesteps;
      if (!(F >= need) || image.length !== F * net.inputSize)
        throw located('event input needs one frame per timestep of the first layer', {
          path: 'frames',
          expected: `≥ ${need} frames of ${net.inputSize} values`,
          found: `${F} frames, ${image.length} values`,
        });
      this.frames = F;
    } else if (opts.frames !== undefined && opts.frames > 1)
      throw located(`framed (event) input needs encoding events, not ${encoding}`, {
        path: 'encoding',
        expected: 'events',
        found: encoding,
      });
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
    if (this.chip) {
      const key = `${encoding}|${JSON.stringify(policy)}`;
      if (this.chipKinds?.key !== key)
        this.chipKinds = {
          key,
          binary: this.inputKinds(encoding, policy, this.chipBinaryEvents).map((k) => k === 'spikes'),
        };
      this.chip.beginSample(index, this.chipKinds.binary);
    }
    if (policy.name === 'layerwise') return this.runLayerwise(image, policy, rng, opts, result);

    const T = policy.timesteps;
    const exits = exitPolicy(policy.name).exits;
    const theta = policyTheta(policy);
    const logits = new Float32Array(T * K);
    const acc = new Float64Array(K);
    let t = 0;
    for (; t < T; t++) {
      let x = this.encode(image, rng, t);
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
      // Exit decision on the accumulated output A_t (DT-SNN: sum of logits), by the policy's rule.
      if (exits !== null && exits(acc, theta)) {
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
    const alignment = policyAlignment(policy);
    // Frames entering layer 0: the encoded input, one per step of layer 0.
    let frames: Float32Array[] = [];
    for (let t = 0; t < lt[0]; t++) frames.push(Float32Array.from(this.encode(image, rng, t)));
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

  /** Frames per sample of the current event input (0: a static image). */
  private frames = 0;

  private encode(image: Float32Array, rng: Rng | null, t: number): Float32Array {
    if (this.frames > 0) {
      const n = this.net.inputSize;
      return image.subarray(t * n, (t + 1) * n);
    }
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
    let cur = this.cur[l];
    if (reuse === REUSE) {
      cur.set(this.pre0);
      result.synops += this.pre0Synops;
    } else {
      if (st.bias)
        for (let o = 0; o < st.cout; o++) cur.fill(st.bias[o], o * st.ho * st.wo, (o + 1) * st.ho * st.wo);
      else cur.fill(0);
      const synops =
        this.chip !== null && this.chip.onChip(l)
          ? this.chip.forward(l, x, cur)
          : st.kind === 'linear'
            ? linearAccumulate(st, x, cur)
            : convAccumulate(st, x, cur);
      result.synops += synops;
      if (reuse === STORE) {
        this.pre0.set(cur);
        this.pre0Synops = synops;
      }
    }
    // Pooling of the pre-activations (pool_before_neuron): the neurons see the pooled current.
    if (st.prePool) {
      pool(st.prePool, cur, this.pooled[l]);
      cur = this.pooled[l];
    }
    if (!st.spiking) {
      result.neuronUpdates += st.outSize;
      return cur;
    }
    const s = this.spk[l];
    const n = st.step!(st.neuron!, this.u[l], cur, s, null);
    if (this.chip !== null) this.chip.afterStep(l, this.u[l]);
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
  const isMax = p.type === 'maxpool2d';
  const isAvg = p.type === 'avgpool2d';
  if (kh === 2 && kw === 2 && sh === 2 && sw === 2 && ph === 0 && pw === 0) {
    // The common 2×2 window, stride 2: the same comparisons and sums in the same order, unrolled.
    for (let ch = 0; ch < c; ch++)
      for (let oy = 0; oy < ho; oy++) {
        let a = (ch * h + 2 * oy) * w;
        let o = (ch * ho + oy) * wo;
        for (let ox = 0; ox < wo; ox++, a += 2, o++) {
          const v0 = x[a];
          const v1 = x[a + 1];
          const v2 = x[a + w];
          const v3 = x[a + w + 1];
          if (isMax) {
            let m = -Infinity;
            if (v0 > m) m = v0;
            if (v1 > m) m = v1;
            if (v2 > m) m = v2;
            if (v3 > m) m = v3;
            out[o] = m === -Infinity ? 0 : m;
          } else {
            const acc = 0 + v0 + v1 + v2 + v3;
            out[o] = isAvg ? acc / area : acc;
          }
        }
      }
    return;
  }
  for (let ch = 0; ch < c; ch++) {
    const xb = ch * h * w;
    const ob = ch * ho * wo;
    for (let oy = 0; oy < ho; oy++)
      for (let ox = 0; ox < wo; ox++) {
        let acc = isMax ? -Infinity : 0;
        for (let ky = 0; ky < kh; ky++) {
          const y = oy * sh - ph + ky;
          if (y < 0 || y >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const xx = ox * sw - pw + kx;
            if (xx < 0 || xx >= w) continue;
            const v = x[xb + y * w + xx];
            if (isMax) {
              if (v > acc) acc = v;
            } else acc += v;
          }
        }
        // Average pooling divides by the full window (count_include_pad, PyTorch's default).
        out[ob + oy * wo + ox] = isAvg ? acc / area : acc === -Infinity ? 0 : acc;
      }
  }
}

/** Sparse linear: for each non-zero input, add its weight row (a 1×1 convolution, src/snn/kernels). */
function linearAccumulate(st: Stage, x: Float32Array, out: Float32Array): number {
  return staticMemo(st, x, out) ?? convForward(st, st.wt, x, 0, out);
}

/**
 * Sparse convolution by scatter: each non-zero input adds its weights to the outputs it reaches, into
 * channel-last accumulators (src/snn/kernels/conv.ts, bit for bit the scalar scatter).
 */
function convAccumulate(st: Stage, x: Float32Array, out: Float32Array): number {
  return staticMemo(st, x, out) ?? convForward(st, st.wt, x, 0, out);
}

/**
 * A layer whose input repeats from the previous call (the directly encoded image at every timestep)
 * gives the same output: the last input, output and operation count of each stage are kept, and a
 * repeated input (with the same initial output, the bias) returns the kept output — bit for bit what
 * the kernel computes. A stage whose input has not repeated in its first 8 calls is not kept any more.
 */
interface Memo {
  x: Float32Array;
  out: Float32Array;
  bias: Float32Array;
  ops: number;
  hits: number;
  misses: number;
}
const memos = new WeakMap<Stage, Memo>();
function staticMemo(st: Stage, x: Float32Array, out: Float32Array): number | undefined {
  const n = st.inSize;
  const size = st.accSize;
  let m = memos.get(st);
  if (!m) {
    m = {
      x: new Float32Array(n),
      out: new Float32Array(size),
      bias: new Float32Array(size),
      ops: -1,
      hits: 0,
      misses: 0,
    };
    memos.set(st, m);
  }
  if (m.hits === 0 && m.misses >= 8) return undefined;
  if (m.ops >= 0) {
    const mx = m.x;
    let same = true;
    for (let i = 0; i < n; i++)
      if (mx[i] !== x[i]) {
        same = false;
        break;
      }
    const b = m.bias;
    if (same)
      for (let i = 0; i < size; i++)
        if (!Object.is(b[i], out[i])) {
          same = false;
          break;
        }
    if (same) {
      m.hits++;
      out.set(m.out);
      return m.ops;
    }
    m.misses++;
  }
  m.x.set(x.subarray(0, n));
  m.bias.set(out.subarray(0, size));
  const ops = convForward(st, st.wt, x, 0, out);
  m.out.set(out.subarray(0, size));
  m.ops = ops;
  return ops;
}
