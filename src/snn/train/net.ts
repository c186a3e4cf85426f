/**
 * The training network: the same layer set and the same forward arithmetic as the inference Engine
 * (src/snn/engine.ts), evaluated layer-major over a batch so that backpropagation through time can run
 * over it. Float32 typed arrays throughout, no per-element objects.
 *
 * Layout. A tensor holds `rows` images of C·H·W values (PyTorch's flatten order). Rows are t-major:
 * row t·B + b is sample b at timestep t. Until the first neuron the input is the same at every timestep
 * (direct encoding), so those layers run once per sample on B rows ("static" tensors) and the first
 * neuron broadcasts over time; its backward pass sums the gradient over time. This is exact and saves
 * T−1 evaluations of the first layer.
 *
 * Layers (mirroring compileModel): a conv2d/linear layer, then a batchnorm directly after it (folded by
 * the engine at inference; here in training mode with batch statistics), then its neuron (or nothing for
 * the non-spiking output accumulator). Pooling, unfoldable batchnorm and dropout sit between weighted
 * layers; flatten is a no-op. Dropout draws one mask per sample and layer, used at every timestep.
 *
 * Neurons: every convention, through its module in src/snn/neurons/ — the forward pass is the engine's
 * own update (float32, same operation order), the backward pass follows the convention's linearised
 * dynamics: ∂s/∂v = surrogate(z)·∂z/∂v; the spike in the reset is detached (∂u/∂v = 1 − s for a hard
 * reset, 1 for a soft one); where the leak and threshold are trained (dtsnn, iir), ∂u/∂θ = −s for the
 * soft reset and ∂v/∂λ = u_{t−1}.
 */
import { located } from '../../util/errors.js';
import { Rng } from '../../util/rng.js';
import { compileLayers, type BatchNormGeometry } from '../compile.js';
import type { SnnModel } from '../model.js';
import {
  NEURON_CONVENTION_NAMES,
  neuronConvention,
  type NeuronConvention,
  type NeuronParams,
} from '../neurons/registry.js';
import { convForward, refreshResident, WeightGradient } from '../kernels/conv.js';
import { surrogateFn, type SurrogateName } from './surrogate.js';
import type { ChipArithmetic } from '../chip-arith.js';

const f = Math.fround;

export interface Param {
  name: string;
  data: Float32Array;
  grad: Float32Array;
  /** Weight decay applies (conv/linear weights only). */
  decay: boolean;
  /** Range kept after every optimiser step. */
  clamp?: 'leak' | 'threshold';
}

export interface ForwardContext {
  /** Samples in the batch (B). */
  batch: number;
  timesteps: number;
  train: boolean;
  /** Seed of dropout masks and rate encoding for this batch. */
  seed: number;
  /** An identifier per sample (its position in the epoch): masks depend on (seed, id), not on batching. */
  ids: ArrayLike<number>;
}

/** Grows a scratch buffer to at least n values (contents not kept). */
function grow(buf: Float32Array, n: number): Float32Array {
  return buf.length >= n ? buf : new Float32Array(Math.max(n, Math.ceil(buf.length * 1.25)));
}
function grow64(buf: Float64Array, n: number): Float64Array {
  return buf.length >= n ? buf : new Float64Array(n);
}

function mix(a: number, b: number, c: number): number {
  let h = (Math.imul(a >>> 0, 0x9e3779b1) ^ Math.imul((b >>> 0) + 0x7f4a7c15, 0x85ebca6b)) >>> 0;
  h = (h ^ Math.imul((c >>> 0) + 0x165667b1, 0xc2b2ae35)) >>> 0;
  h ^= h >>> 15;
  return Math.imul(h, 0x2c1b3c6d) >>> 0;
}

interface Op {
  readonly kind: string;
  readonly inSize: number;
  readonly outSize: number;
  readonly params: Param[];
  /** Rows of the last forward's input and output. */
  rowsIn: number;
  rowsOut: number;
  forward(x: Float32Array, rows: number, ctx: ForwardContext): Float32Array;
  /** dy: rowsOut × outSize. Returns dx (rowsIn × inSize) when needDx. */
  backward(dy: Float32Array, ctx: ForwardContext, needDx: boolean): Float32Array | null;
}

/**
 * conv2d (and linear as a 1×1 conv over a 1×1 image) on the kernels of src/snn/kernels/conv.ts: the
 * forward is the engine's sparse scatter (bit for bit), the backward a sparse weight-gradient scatter
 * (float32) and a dense input-gradient gather, per row, with channel-last gradients.
 */
class ConvOp implements Op {
  readonly kind = 'conv';
  readonly inSize: number;
  readonly outSize: number;
  readonly params: Param[];
  rowsIn = 0;
  rowsOut = 0;
  readonly P: number;
  readonly Kg: number;
  readonly cinPg: number;
  readonly cpg: number;
  private readonly wt: Float32Array; // [G][Kg][cpg] = [cin][kh][kw][cpg]
  private readonly dyt: Float32Array; // [P][cout]
  private readonly wgrad: WeightGradient;
  private out: Float32Array = new Float32Array(0);
  private dx: Float32Array = new Float32Array(0);
  private x: Float32Array = new Float32Array(0);
  /**
   * Hardware-aware training (train/hw.ts): the chip computes the forward pass of this layer (stage
   * `layer` of its compiled net); the backward is straight-through, zero where a conversion clipped.
   */
  hw: { chip: ChipArithmetic; layer: number } | null = null;
  private clip = new Uint8Array(0);
  private clipped = false;
  private dyMasked: Float32Array = new Float32Array(0);

  constructor(
    readonly name: string,
    readonly cin: number,
    readonly h: number,
    readonly w: number,
    readonly cout: number,
    readonly ho: number,
    readonly wo: number,
    readonly kh: number,
    readonly kw: number,
    readonly sh: number,
    readonly sw: number,
    readonly ph: number,
    readonly pw: number,
    readonly dh: number,
    readonly dw: number,
    readonly groups: number,
    readonly weight: Param,
    readonly bias: Param | null,
  ) {
    this.inSize = cin * h * w;
    this.outSize = cout * ho * wo;
    this.P = ho * wo;
    this.cinPg = cin / groups;
    this.cpg = cout / groups;
    this.Kg = this.cinPg * kh * kw;
    this.params = bias ? [weight, bias] : [weight];
    this.wt = new Float32Array(groups * this.Kg * this.cpg);
    this.dyt = new Float32Array(this.P * cout);
    this.wgrad = new WeightGradient(this);
  }

  /** Weights [cout][Kg] → wt [g][Kg][cpg]. */
  private transposeWeights(): void {
    const { Kg, cpg, groups } = this;
    const W = this.weight.data;
    const wt = this.wt;
    for (let g = 0; g < groups; g++)
      for (let ol = 0; ol < cpg; ol++) {
        const src = (g * cpg + ol) * Kg;
        const dst = g * Kg * cpg + ol;
        for (let k = 0; k < Kg; k++) wt[dst + k * cpg] = W[src + k];
      }
    refreshResident(wt);
  }

  forward(x: Float32Array, rows: number): Float32Array {
    this.x = x;
    this.rowsIn = this.rowsOut = rows;
    this.transposeWeights();
    const { P, cout, outSize, inSize } = this;
    this.out = grow(this.out, rows * outSize);
    const out = this.out;
    const bias = this.bias?.data;
    for (let r = 0; r < rows; r++) {
      const oBase = r * outSize;
      if (bias) for (let o = 0; o < cout; o++) out.fill(bias[o], oBase + o * P, oBase + (o + 1) * P);
      else out.fill(0, oBase, oBase + outSize);
      if (this.hw) {
        if (this.clip.length < rows * outSize) this.clip = new Uint8Array(rows * outSize);
        this.hw.chip.forward(
          this.hw.layer,
          x.subarray(r * inSize, (r + 1) * inSize),
          out.subarray(oBase, oBase + outSize),
          this.clip.subarray(oBase, oBase + outSize),
        );
      } else convForward(this, this.wt, x, r * inSize, out, oBase);
    }
    this.clipped = this.hw !== null;
    return out.subarray(0, rows * outSize);
  }

  backward(dy: Float32Array, _ctx: ForwardContext, needDx: boolean): Float32Array | null {
    const { P, Kg, cpg, groups, cout, outSize, inSize } = this;
    const rows = this.rowsIn;
    if (this.clipped) {
      // Straight-through estimator: identity where no conversion clipped, zero where one did.
      const n = rows * outSize;
      this.dyMasked = grow(this.dyMasked, n);
      const m = this.dyMasked;
      const clip = this.clip;
      for (let i = 0; i < n; i++) m[i] = clip[i] ? 0 : dy[i];
      dy = m;
    }
    const x = this.x;
    const dyt = this.dyt;
    if (needDx) {
      this.dx = grow(this.dx, rows * inSize);
      this.dx.fill(0, 0, rows * inSize);
    }
    const dx = this.dx;
    const bgrad = this.bias?.grad;
    const wg = this.wgrad;
    wg.reset(needDx ? this.wt : null);
    for (let r = 0; r < rows; r++) {
      const oBase = r * outSize;
      // dyt[p][o] = dy[o][p]
      let any = false;
      for (let o = 0; o < cout; o++) {
        const ob = oBase + o * P;
        let bs = 0;
        for (let p = 0; p < P; p++) {
          const d = dy[ob + p];
          dyt[p * cout + o] = d;
          bs += d;
          if (d !== 0) any = true;
        }
        if (bgrad) bgrad[o] += bs;
      }
      if (!any) continue;
      wg.row(x, r * inSize, dyt, needDx ? this.wt : null, needDx ? dx : null, r * inSize);
    }
    // grad[co][k] += dwt[g][k][o]
    const dwt = wg.read();
    const G = this.weight.grad;
    for (let g = 0; g < groups; g++)
      for (let o = 0; o < cpg; o++) {
        const dst = (g * cpg + o) * Kg;
        const src = g * Kg * cpg + o;
        for (let k = 0; k < Kg; k++) G[dst + k] += dwt[src + k * cpg];
      }
    return needDx ? dx.subarray(0, rows * inSize) : null;
  }
}

/** Batchnorm over channels: training mode uses batch statistics (biased variance), eval the running ones. */
class BatchNormOp implements Op {
  readonly kind = 'batchnorm';
  readonly inSize: number;
  readonly outSize: number;
  readonly params: Param[];
  rowsIn = 0;
  rowsOut = 0;
  private out: Float32Array = new Float32Array(0);
  private dx: Float32Array = new Float32Array(0);
  private xhat: Float32Array = new Float32Array(0);
  private readonly invstd: Float64Array;
  private train = false;
  /** Batch mean and unbiased variance of the last training forward ([mean..., var...]). */
  readonly batchStats: Float64Array;

  constructor(
    readonly name: string,
    readonly c: number,
    readonly hw: number,
    readonly eps: number,
    readonly gamma: Param,
    readonly beta: Param,
    readonly runningMean: Float32Array,
    readonly runningVar: Float32Array,
  ) {
    this.inSize = this.outSize = c * hw;
    this.params = [gamma, beta];
    this.invstd = new Float64Array(c);
    this.batchStats = new Float64Array(2 * c);
  }

  forward(x: Float32Array, rows: number, ctx: ForwardContext): Float32Array {
    const { c, hw, inSize } = this;
    this.rowsIn = this.rowsOut = rows;
    this.train = ctx.train;
    this.out = grow(this.out, rows * inSize);
    const out = this.out;
    const gamma = this.gamma.data;
    const beta = this.beta.data;
    if (!ctx.train) {
      for (let ch = 0; ch < c; ch++) {
        const scale = f(gamma[ch] / Math.sqrt(this.runningVar[ch] + this.eps));
        const shift = f(beta[ch] - this.runningMean[ch] * scale);
        for (let r = 0; r < rows; r++) {
          const b = r * inSize + ch * hw;
          for (let i = 0; i < hw; i++) out[b + i] = x[b + i] * scale + shift;
        }
      }
      return out.subarray(0, rows * inSize);
    }
    this.xhat = grow(this.xhat, rows * inSize);
    const xhat = this.xhat;
    const n = rows * hw;
    // Static rows stand for T identical copies: same mean and biased variance; the unbiased correction
    // uses the expanded count.
    const nExpanded = rows === ctx.batch ? n * ctx.timesteps : n;
    for (let ch = 0; ch < c; ch++) {
      let s = 0;
      for (let r = 0; r < rows; r++) {
        const b = r * inSize + ch * hw;
        for (let i = 0; i < hw; i++) s += x[b + i];
      }
      const mean = s / n;
      let q = 0;
      for (let r = 0; r < rows; r++) {
        const b = r * inSize + ch * hw;
        for (let i = 0; i < hw; i++) {
          const d = x[b + i] - mean;
          q += d * d;
        }
      }
      const variance = q / n;
      const inv = 1 / Math.sqrt(variance + this.eps);
      this.invstd[ch] = inv;
      this.batchStats[ch] = mean;
      this.batchStats[c + ch] = nExpanded > 1 ? (variance * nExpanded) / (nExpanded - 1) : variance;
      const g = gamma[ch];
      const bt = beta[ch];
      for (let r = 0; r < rows; r++) {
        const b = r * inSize + ch * hw;
        for (let i = 0; i < hw; i++) {
          const xh = (x[b + i] - mean) * inv;
          xhat[b + i] = xh;
          out[b + i] = g * xh + bt;
        }
      }
    }
    return out.subarray(0, rows * inSize);
  }

  backward(dy: Float32Array, _ctx: ForwardContext, needDx: boolean): Float32Array | null {
    const { c, hw, inSize } = this;
    const rows = this.rowsIn;
    if (!this.train) throw new Error('batchnorm backward after an evaluation-mode forward');
    const xhat = this.xhat;
    const gamma = this.gamma.data;
    if (needDx) this.dx = grow(this.dx, rows * inSize);
    const dx = this.dx;
    const n = rows * hw;
    for (let ch = 0; ch < c; ch++) {
      let sdy = 0;
      let sdyx = 0;
      for (let r = 0; r < rows; r++) {
        const b = r * inSize + ch * hw;
        for (let i = 0; i < hw; i++) {
          sdy += dy[b + i];
          sdyx += dy[b + i] * xhat[b + i];
        }
      }
      this.gamma.grad[ch] += sdyx;
      this.beta.grad[ch] += sdy;
      if (!needDx) continue;
      const k = (gamma[ch] * this.invstd[ch]) / n;
      for (let r = 0; r < rows; r++) {
        const b = r * inSize + ch * hw;
        for (let i = 0; i < hw; i++) dx[b + i] = k * (n * dy[b + i] - sdy - xhat[b + i] * sdyx);
      }
    }
    return needDx ? dx.subarray(0, rows * inSize) : null;
  }
}

class PoolOp implements Op {
  readonly kind = 'pool';
  readonly inSize: number;
  readonly outSize: number;
  readonly params: Param[] = [];
  rowsIn = 0;
  rowsOut = 0;
  private out: Float32Array = new Float32Array(0);
  private dx: Float32Array = new Float32Array(0);
  private arg: Int32Array = new Int32Array(0);

  constructor(
    readonly type: 'avgpool2d' | 'sumpool2d' | 'maxpool2d',
    readonly c: number,
    readonly h: number,
    readonly w: number,
    readonly ho: number,
    readonly wo: number,
    readonly kh: number,
    readonly kw: number,
    readonly sh: number,
    readonly sw: number,
    readonly ph: number,
    readonly pw: number,
  ) {
    this.inSize = c * h * w;
    this.outSize = c * ho * wo;
  }

  forward(x: Float32Array, rows: number): Float32Array {
    const { c, h, w, ho, wo, kh, kw, sh, sw, ph, pw, inSize, outSize } = this;
    this.rowsIn = this.rowsOut = rows;
    this.out = grow(this.out, rows * outSize);
    const out = this.out;
    const isMax = this.type === 'maxpool2d';
    if (isMax && this.arg.length < rows * outSize) this.arg = new Int32Array(rows * outSize);
    const arg = this.arg;
    const area = kh * kw;
    if (kh === 2 && kw === 2 && sh === 2 && sw === 2 && ph === 0 && pw === 0) {
      // The common 2×2 window, stride 2, unrolled (same comparisons and sums in the same order).
      const isAvg = this.type === 'avgpool2d';
      for (let r = 0; r < rows; r++)
        for (let ch = 0; ch < c; ch++)
          for (let oy = 0; oy < ho; oy++) {
            let a = r * inSize + (ch * h + 2 * oy) * w;
            let oi = r * outSize + (ch * ho + oy) * wo;
            for (let ox = 0; ox < wo; ox++, a += 2, oi++) {
              const v0 = x[a];
              const v1 = x[a + 1];
              const v2 = x[a + w];
              const v3 = x[a + w + 1];
              if (isMax) {
                let m = -Infinity;
                let best = -1;
                if (v0 > m) {
                  m = v0;
                  best = a;
                }
                if (v1 > m) {
                  m = v1;
                  best = a + 1;
                }
                if (v2 > m) {
                  m = v2;
                  best = a + w;
                }
                if (v3 > m) {
                  m = v3;
                  best = a + w + 1;
                }
                out[oi] = best < 0 ? 0 : m;
                arg[oi] = best;
              } else {
                const acc = 0 + v0 + v1 + v2 + v3;
                out[oi] = isAvg ? acc / area : acc;
              }
            }
          }
      return out.subarray(0, rows * outSize);
    }
    for (let r = 0; r < rows; r++)
      for (let ch = 0; ch < c; ch++) {
        const xb = r * inSize + ch * h * w;
        const obase = r * outSize + ch * ho * wo;
        for (let oy = 0; oy < ho; oy++)
          for (let ox = 0; ox < wo; ox++) {
            let acc = isMax ? -Infinity : 0;
            let best = -1;
            for (let ky = 0; ky < kh; ky++) {
              const y = oy * sh - ph + ky;
              if (y < 0 || y >= h) continue;
              for (let kx = 0; kx < kw; kx++) {
                const xx = ox * sw - pw + kx;
                if (xx < 0 || xx >= w) continue;
                const idx = xb + y * w + xx;
                const v = x[idx];
                if (isMax) {
                  if (v > acc) {
                    acc = v;
                    best = idx;
                  }
                } else acc += v;
              }
            }
            const oi = obase + oy * wo + ox;
            if (isMax) {
              out[oi] = best < 0 ? 0 : acc;
              arg[oi] = best;
            } else out[oi] = this.type === 'avgpool2d' ? acc / area : acc;
          }
      }
    return out.subarray(0, rows * outSize);
  }

  backward(dy: Float32Array, _ctx: ForwardContext, needDx: boolean): Float32Array | null {
    if (!needDx) return null;
    const { c, h, w, ho, wo, kh, kw, sh, sw, ph, pw, inSize, outSize } = this;
    const rows = this.rowsIn;
    this.dx = grow(this.dx, rows * inSize);
    const dx = this.dx;
    dx.fill(0, 0, rows * inSize);
    if (this.type === 'maxpool2d') {
      const arg = this.arg;
      for (let i = 0; i < rows * outSize; i++) if (arg[i] >= 0) dx[arg[i]] += dy[i];
      return dx.subarray(0, rows * inSize);
    }
    const scale = this.type === 'avgpool2d' ? 1 / (kh * kw) : 1;
    for (let r = 0; r < rows; r++)
      for (let ch = 0; ch < c; ch++) {
        const xb = r * inSize + ch * h * w;
        const obase = r * outSize + ch * ho * wo;
        for (let oy = 0; oy < ho; oy++)
          for (let ox = 0; ox < wo; ox++) {
            const g = dy[obase + oy * wo + ox] * scale;
            if (g === 0) continue;
            for (let ky = 0; ky < kh; ky++) {
              const y = oy * sh - ph + ky;
              if (y < 0 || y >= h) continue;
              for (let kx = 0; kx < kw; kx++) {
                const xx = ox * sw - pw + kx;
                if (xx < 0 || xx >= w) continue;
                dx[xb + y * w + xx] += g;
              }
            }
          }
      }
    return dx.subarray(0, rows * inSize);
  }
}

/** Inverted dropout with one mask per sample, shared by every timestep; identity in evaluation. */
class DropoutOp implements Op {
  readonly kind = 'dropout';
  readonly outSize: number;
  readonly params: Param[] = [];
  rowsIn = 0;
  rowsOut = 0;
  private out: Float32Array = new Float32Array(0);
  private dx: Float32Array = new Float32Array(0);
  private mask: Float32Array = new Float32Array(0);
  private active = false;

  constructor(
    readonly inSize: number,
    readonly p: number,
    readonly index: number,
  ) {
    this.outSize = inSize;
  }

  forward(x: Float32Array, rows: number, ctx: ForwardContext): Float32Array {
    this.rowsIn = this.rowsOut = rows;
    this.active = ctx.train && this.p > 0;
    if (!this.active) return x;
    const n = this.inSize;
    const B = ctx.batch;
    this.mask = grow(this.mask, B * n);
    const keep = 1 / (1 - this.p);
    for (let b = 0; b < B; b++) {
      const rng = new Rng(mix(ctx.seed, ctx.ids[b], this.index + 1));
      for (let i = 0; i < n; i++) this.mask[b * n + i] = this.p >= 1 || rng.next() < this.p ? 0 : keep;
    }
    this.out = grow(this.out, rows * n);
    for (let r = 0; r < rows; r++) {
      const mb = (r % B) * n;
      for (let i = 0; i < n; i++) this.out[r * n + i] = x[r * n + i] * this.mask[mb + i];
    }
    return this.out.subarray(0, rows * n);
  }

  backward(dy: Float32Array, ctx: ForwardContext, needDx: boolean): Float32Array | null {
    if (!needDx) return null;
    if (!this.active) return dy;
    const rows = this.rowsIn;
    const n = this.inSize;
    const B = ctx.batch;
    this.dx = grow(this.dx, rows * n);
    for (let r = 0; r < rows; r++) {
      const mb = (r % B) * n;
      for (let i = 0; i < n; i++) this.dx[r * n + i] = dy[r * n + i] * this.mask[mb + i];
    }
    return this.dx.subarray(0, rows * n);
  }
}

export interface NeuronSetup {
  /** The layer's neuron (convention and fixed parameters); leak and threshold come from the fields below. */
  neuron: NeuronParams;
  /** Leak (1 for the IF model); a Param when trained. */
  leak: Param | number;
  threshold: Param | number;
  surrogate: SurrogateName;
}

/**
 * LIF/IF neurons over time (BPTT) under any convention: the forward pass is the convention's own update
 * (the engine's, src/snn/neurons/), the backward pass follows its linearised dynamics (BpttDynamics).
 * Input: static (B rows) or per timestep (T·B rows); output T·B rows.
 */
export class NeuronOp implements Op {
  readonly kind = 'neuron';
  readonly outSize: number;
  readonly params: Param[];
  readonly convention: NeuronConvention;
  rowsIn = 0;
  rowsOut = 0;
  private v: Float32Array = new Float32Array(0);
  private s: Float32Array = new Float32Array(0);
  private u: Float32Array = new Float32Array(0);
  private gu: Float64Array = new Float64Array(0);
  private dx: Float32Array = new Float32Array(0);

  constructor(
    readonly name: string,
    readonly inSize: number,
    readonly setup: NeuronSetup,
  ) {
    this.outSize = inSize;
    this.convention = neuronConvention(setup.neuron.convention);
    this.params = [setup.leak, setup.threshold].filter((p): p is Param => typeof p !== 'number');
    if (this.params.length && !this.convention.trainableParams)
      throw located(`the ${setup.neuron.convention} neuron convention cannot train its leak or threshold`, {
        path: `${name}.neuron`,
        expected: 'fixed leak and threshold (trainNeuronParams off)',
        found: 'trainable',
      });
  }

  leakValue(): number {
    const l = this.setup.leak;
    return typeof l === 'number' ? f(l) : l.data[0];
  }
  thresholdValue(): number {
    const t = this.setup.threshold;
    return typeof t === 'number' ? f(t) : t.data[0];
  }

  /** The neuron parameters with the current leak and threshold. */
  current(): NeuronParams {
    return { ...this.setup.neuron, leak: this.leakValue(), threshold: this.thresholdValue() };
  }

  forward(x: Float32Array, rows: number, ctx: ForwardContext): Float32Array {
    const B = ctx.batch;
    const T = ctx.timesteps;
    const n = B * this.inSize;
    const isStatic = rows === B;
    this.rowsIn = rows;
    this.rowsOut = T * B;
    this.v = grow(this.v, T * n);
    this.s = grow(this.s, T * n);
    this.u = grow(this.u, n);
    const { v, s } = this;
    const u = this.u.subarray(0, n);
    u.fill(0);
    const p = this.current();
    const step = this.convention.step;
    for (let t = 0; t < T; t++) {
      const xo = isStatic ? 0 : t * n;
      const o = t * n;
      step(p, u, x.subarray(xo, xo + n), s.subarray(o, o + n), v.subarray(o, o + n));
    }
    return s.subarray(0, T * n);
  }

  backward(ds: Float32Array, ctx: ForwardContext, needDx: boolean): Float32Array | null {
    const B = ctx.batch;
    const T = ctx.timesteps;
    const n = B * this.inSize;
    const isStatic = this.rowsIn === B;
    const { v, s } = this;
    this.gu = grow64(this.gu, n);
    const gu = this.gu;
    gu.fill(0, 0, n);
    const dxLen = isStatic ? n : T * n;
    this.dx = grow(this.dx, dxLen);
    const dx = this.dx;
    dx.fill(0, 0, dxLen);
    const p = this.current();
    const thr = p.threshold;
    const { decay, inputGain, normalised, hard, delayedReset } = this.convention.dynamics(p);
    const vReset = p.vReset;
    const sg = surrogateFn(this.setup.surrogate);
    const dzdv = normalised ? 1 / thr : 1;
    const leakP = typeof this.setup.leak === 'number' ? null : this.setup.leak;
    const thrP = typeof this.setup.threshold === 'number' ? null : this.setup.threshold;
    let gLeak = 0;
    let gThr = 0;
    for (let t = T - 1; t >= 0; t--) {
      const o = t * n;
      const xo = isStatic ? 0 : o;
      const po = (t - 1) * n;
      if (delayedReset && !normalised && !hard) {
        // The common snnTorch case (subtract reset, ∂z/∂v = 1), settings hoisted: the same arithmetic as
        // the general loop below.
        for (let i = 0; i < n; i++) {
          const gv = ds[o + i] * sg(v[o + i] - thr) + gu[i];
          dx[xo + i] += gv * inputGain;
          gu[i] = gv * decay;
        }
        continue;
      }
      if (!delayedReset && !normalised && !thrP && !leakP) {
        // DT-SNN-style (fixed leak and threshold, ∂z/∂v = 1), settings hoisted as above.
        if (hard)
          for (let i = 0; i < n; i++) {
            const gv = ds[o + i] * sg(v[o + i] - thr) + (s[o + i] !== 0 ? 0 : gu[i]);
            dx[xo + i] += gv * inputGain;
            gu[i] = gv * decay;
          }
        else
          for (let i = 0; i < n; i++) {
            const gv = ds[o + i] * sg(v[o + i] - thr) + gu[i];
            dx[xo + i] += gv * inputGain;
            gu[i] = gv * decay;
          }
        continue;
      }
      if (delayedReset) {
        // u_t = v_t; a hard reset from s_{t−1} replaced v_t by v_reset (no path to x_t or u_{t−1}).
        for (let i = 0; i < n; i++) {
          const vv = v[o + i];
          const z = normalised ? vv / thr - 1 : vv - thr;
          const gv = ds[o + i] * sg(z) * dzdv + gu[i];
          const cut = hard && t > 0 && s[po + i] !== 0;
          if (!cut) dx[xo + i] += gv * inputGain;
          gu[i] = cut ? 0 : gv * decay;
        }
        continue;
      }
      for (let i = 0; i < n; i++) {
        const vv = v[o + i];
        const sp = s[o + i];
        const z = normalised ? vv / thr - 1 : vv - thr;
        const g = ds[o + i] * sg(z);
        const gv = g * dzdv + (hard && sp !== 0 ? 0 : gu[i]);
        if (thrP) {
          gThr += normalised ? (-g * vv) / (thr * thr) : -g;
          if (!hard && sp !== 0) gThr -= gu[i];
        }
        if (leakP && t > 0) {
          const pv = v[po + i];
          const uPrev = s[po + i] !== 0 ? (hard ? vReset : f(pv - thr)) : pv;
          gLeak += gv * uPrev;
        }
        dx[xo + i] += gv * inputGain;
        gu[i] = gv * decay;
      }
    }
    if (leakP) leakP.grad[0] += gLeak;
    if (thrP) thrP.grad[0] += gThr;
    return needDx ? dx.subarray(0, dxLen) : null;
  }
}

export interface TrainNetOptions {
  timesteps: number;
  surrogate: SurrogateName;
  /** Train per-layer leak and threshold (IIR-SNN); default: true for the iir convention. */
  trainNeuronParams?: boolean;
  /** Input encoding (default: the network file's). */
  encoding?: 'direct' | 'rate';
}

interface WeightedInfo {
  name: string;
  conv: ConvOp;
  neuron: NeuronOp | null;
  /** Index of the op that produces the layer's input current (conv or its folded batchnorm). */
  currentOp: number;
}

/**
 * A model prepared for training. Parameters alias the model's tensors: the optimiser updates them in
 * place, so the model is always current (compileModel / saveModel see the trained values).
 */
export class TrainNet {
  readonly params: Param[] = [];
  readonly ops: Op[] = [];
  readonly weighted: WeightedInfo[] = [];
  readonly batchNorms: BatchNormOp[] = [];
  readonly inputSize: number;
  readonly classes: number;
  readonly encoding: 'direct' | 'rate';
  timesteps: number;
  readonly surrogate: SurrogateName;
  private readonly needDx: boolean[];
  private enc: Float32Array = new Float32Array(0);
  private lastCtx: ForwardContext | null = null;
  private outBuf: Float32Array = new Float32Array(0);
  private dOutBuf: Float32Array = new Float32Array(0);

  constructor(
    readonly model: SnnModel,
    opts: TrainNetOptions,
  ) {
    const { spec, tensors } = model;
    this.timesteps = opts.timesteps;
    this.surrogate = opts.surrogate;
    const encoding = opts.encoding ?? spec.input.encoding;
    if (encoding === 'events')
      throw located(
        'training on event input is not supported: the trainer feeds one static image per sample (train with direct or rate encoding; eval, trace and simulate run event data)',
        { path: 'input.encoding', expected: 'direct or rate', found: 'events' },
      );
    this.encoding = encoding;
    this.inputSize = spec.input.shape.reduce((a, b) => a * b, 1);
    this.classes = spec.classes;
    const tensor = (name: string) => {
      const t = tensors.get(name);
      if (!t) throw located(`the model has no tensor ${name}`, { path: name });
      return t.data;
    };
    const param = (name: string, decay: boolean, clamp?: Param['clamp']): Param => {
      const data = tensor(name);
      const p: Param = { name, data, grad: new Float32Array(data.length), decay, clamp };
      this.params.push(p);
      return p;
    };
    let dropouts = 0;
    for (const layer of compileLayers(model)) {
      switch (layer.kind) {
        case 'weighted': {
          const { cin, h, w, cout, ho, wo, kh, kw, sh, sw, ph, pw, dh, dw, groups } = layer;
          const weight = param(`${layer.name}.weight`, true);
          const bias = layer.bias ? param(`${layer.name}.bias`, false) : null;
          const conv = new ConvOp(
            layer.name,
            cin,
            h,
            w,
            cout,
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
            groups,
            weight,
            bias,
          );
          this.ops.push(conv);
          let currentOp = this.ops.length - 1;
          if (layer.batchnorm) {
            this.ops.push(this.batchNorm(layer.batchnorm, param));
            currentOp = this.ops.length - 1;
          }
          if (layer.prePool) {
            // Pooling of the pre-activations (pool_before_neuron): max routes the gradient to the argmax
            // of the window, average/sum spread it, as for pooling between layers.
            const p = layer.prePool;
            this.ops.push(new PoolOp(p.type, p.c, p.h, p.w, p.ho, p.wo, p.kh, p.kw, p.sh, p.sw, p.ph, p.pw));
            currentOp = this.ops.length - 1;
          }
          let neuron: NeuronOp | null = null;
          if (layer.neuron && layer.neuronParams) {
            const n = layer.neuron;
            const np = layer.neuronParams;
            const trainable = opts.trainNeuronParams ?? n.convention === 'iir';
            if (trainable && !neuronConvention(n.convention).trainableParams)
              throw located(
                `training the leak and threshold is not supported under the ${n.convention} convention`,
                {
                  path: `${layer.name}.neuron.convention`,
                  expected: NEURON_CONVENTION_NAMES.filter((c) => neuronConvention(c).trainableParams).join(
                    ' | ',
                  ),
                  found: n.convention,
                },
              );
            const ensure = (suffix: 'leak' | 'threshold', value: number) => {
              const name = `${layer.name}.${suffix}`;
              if (!tensors.has(name)) tensors.set(name, { shape: [1], data: Float32Array.of(value) });
              return name;
            };
            let leak: Param | number = np.leak;
            let threshold: Param | number = np.threshold;
            if (trainable) {
              threshold = param(ensure('threshold', threshold), false, 'threshold');
              if (n.model !== 'if') leak = param(ensure('leak', leak), false, 'leak');
            }
            neuron = new NeuronOp(layer.name, layer.outSize, {
              neuron: np,
              leak,
              threshold,
              surrogate: opts.surrogate,
            });
            this.ops.push(neuron);
          }
          this.weighted.push({ name: layer.name, conv, neuron, currentOp });
          break;
        }
        case 'batchnorm':
          this.ops.push(this.batchNorm(layer, param));
          break;
        case 'pool': {
          const { type, c, h, w, ho, wo, kh, kw, sh, sw, ph, pw } = layer;
          this.ops.push(new PoolOp(type, c, h, w, ho, wo, kh, kw, sh, sw, ph, pw));
          break;
        }
        case 'dropout':
          this.ops.push(new DropoutOp(layer.size, layer.p, dropouts++));
          break;
      }
    }
    let seen = false;
    this.needDx = this.ops.map((op) => {
      const need = seen;
      if (op.params.length) seen = true;
      return need;
    });
  }

  private batchNorm(
    { name, c, hw, eps }: BatchNormGeometry,
    param: (n: string, decay: boolean) => Param,
  ): BatchNormOp {
    const gamma = param(`${name}.weight`, false);
    const beta = param(`${name}.bias`, false);
    const t = this.model.tensors;
    const bn = new BatchNormOp(
      name,
      c,
      hw,
      eps,
      gamma,
      beta,
      t.get(`${name}.running_mean`)!.data,
      t.get(`${name}.running_var`)!.data,
    );
    this.batchNorms.push(bn);
    return bn;
  }

  /** Values of batchnorm batch statistics (for averaging across workers). */
  statsSize(): number {
    return this.batchNorms.reduce((a, bn) => a + bn.batchStats.length, 0);
  }

  /** Copies the last training forward's batchnorm statistics into out. */
  readStats(out: Float64Array | Float32Array): void {
    let o = 0;
    for (const bn of this.batchNorms) {
      out.set(bn.batchStats, o);
      o += bn.batchStats.length;
    }
  }

  /** running = (1 − momentum)·running + momentum·batch (PyTorch's rule, momentum 0.1). */
  updateRunningStats(stats: ArrayLike<number>, momentum = 0.1): void {
    let o = 0;
    for (const bn of this.batchNorms) {
      for (let ch = 0; ch < bn.c; ch++) {
        bn.runningMean[ch] = (1 - momentum) * bn.runningMean[ch] + momentum * stats[o + ch];
        bn.runningVar[ch] = (1 - momentum) * bn.runningVar[ch] + momentum * stats[o + bn.c + ch];
      }
      o += 2 * bn.c;
    }
  }

  zeroGrad(): void {
    for (const p of this.params) p.grad.fill(0);
  }

  private encode(images: Float32Array, ctx: ForwardContext): { x: Float32Array; rows: number } {
    const B = ctx.batch;
    const n = this.inputSize;
    if (this.encoding === 'direct') return { x: images.subarray(0, B * n), rows: B };
    const T = ctx.timesteps;
    this.enc = grow(this.enc, T * B * n);
    for (let b = 0; b < B; b++) {
      // The engine's per-sample stream: Rng((seed·0x9e3779b1 + index·0x85ebca6b) >>> 0), t-major.
      const rng = new Rng((ctx.seed * 0x9e3779b1 + ctx.ids[b] * 0x85ebca6b) >>> 0);
      for (let t = 0; t < T; t++)
        for (let i = 0; i < n; i++) this.enc[(t * B + b) * n + i] = rng.next() < images[b * n + i] ? 1 : 0;
    }
    return { x: this.enc.subarray(0, T * B * n), rows: T * B };
  }

  /**
   * Runs the batch (images: B × input size). Returns the output o_t of every timestep: T × B × classes
   * (t-major). In training mode batchnorm uses batch statistics and dropout is on.
   */
  forward(images: Float32Array, ctx: ForwardContext, upTo = this.ops.length): Float32Array {
    this.lastCtx = ctx;
    let { x, rows } = this.encode(images, ctx);
    for (let i = 0; i < upTo; i++) {
      x = this.ops[i].forward(x, rows, ctx);
      rows = this.ops[i].rowsOut;
    }
    if (upTo < this.ops.length) return x;
    const B = ctx.batch;
    const T = ctx.timesteps;
    const K = this.classes;
    if (rows === T * B) return x;
    // A static output (no neuron on the way) is the same at every timestep.
    this.outBuf = grow(this.outBuf, T * B * K);
    for (let t = 0; t < T; t++) this.outBuf.set(x.subarray(0, B * K), t * B * K);
    return this.outBuf.subarray(0, T * B * K);
  }

  /** Backpropagates dL/do (T × B × classes) through the last forward; adds into every param's grad. */
  backward(dOut: Float32Array): void {
    const ctx = this.lastCtx;
    if (!ctx) throw new Error('backward before forward');
    let dy = dOut;
    const B = ctx.batch;
    const K = this.classes;
    const last = this.ops[this.ops.length - 1];
    if (last.rowsOut === B && ctx.timesteps > 1) {
      this.dOutBuf = grow(this.dOutBuf, B * K);
      const d = this.dOutBuf;
      d.fill(0, 0, B * K);
      for (let t = 0; t < ctx.timesteps; t++) for (let i = 0; i < B * K; i++) d[i] += dOut[t * B * K + i];
      dy = d.subarray(0, B * K);
    }
    for (let i = this.ops.length - 1; i >= 0; i--) {
      const dx = this.ops[i].backward(dy, ctx, this.needDx[i]);
      if (!this.needDx[i]) break;
      dy = dx!;
    }
  }

  /** Neurons in network order with the op index of their input. */
  neurons(): Array<{ name: string; op: NeuronOp; index: number }> {
    const out: Array<{ name: string; op: NeuronOp; index: number }> = [];
    this.ops.forEach((op, index) => {
      if (op instanceof NeuronOp) out.push({ name: op.name, op, index });
    });
    return out;
  }
}
