/**
 * Optimisers and learning-rate schedules.
 *
 *   adam  Adam (β1 0.9, β2 0.999, ε 1e-8) with decoupled weight decay (AdamW: p −= lr·wd·p)
 *   sgd   SGD with momentum (0.9; PyTorch's rule buf = μ·buf + g, p −= lr·buf), L2 weight decay in g
 * Weight decay applies to conv/linear weights only. After every step a trained leak is clamped to
 * [0, 1] and a trained threshold to ≥ 1e-3 (IIR-SNN: λ ≤ 1 after every step).
 * State (moments, step count) is Float32 so a checkpoint restores it bit for bit.
 *
 * Schedules (per optimiser step s of S in all):
 *   cosine  lr·½(1 + cos(π·s/S))
 *   step    lr·γ^floor(epoch/stepEpochs), γ = 0.1, stepEpochs = max(1, round(epochs/3)) by default
 */
import type { TensorMap } from '../io/safetensors.js';
import type { Param } from './net.js';

export const OPTIMIZERS = ['adam', 'sgd'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];
export const SCHEDULES = ['cosine', 'step', 'constant'] as const;
export type ScheduleName = (typeof SCHEDULES)[number];

export interface OptimizerOptions {
  kind: OptimizerName;
  weightDecay: number;
  momentum?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
}

export class Optimizer {
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];
  step = 0;

  constructor(
    readonly params: Param[],
    readonly opts: OptimizerOptions,
  ) {
    this.m = params.map((p) => new Float32Array(p.data.length));
    this.v = params.map((p) =>
      opts.kind === 'adam' ? new Float32Array(p.data.length) : new Float32Array(0),
    );
  }

  /** One update with learning rate lr from each param's grad. */
  update(lr: number): void {
    this.step++;
    const wd = this.opts.weightDecay;
    if (this.opts.kind === 'adam') {
      const b1 = this.opts.beta1 ?? 0.9;
      const b2 = this.opts.beta2 ?? 0.999;
      const eps = this.opts.eps ?? 1e-8;
      const c1 = 1 - Math.pow(b1, this.step);
      const c2 = 1 - Math.pow(b2, this.step);
      this.params.forEach((p, j) => {
        const m = this.m[j];
        const v = this.v[j];
        const d = p.data;
        const g = p.grad;
        const decay = p.decay ? lr * wd : 0;
        for (let i = 0; i < d.length; i++) {
          m[i] = b1 * m[i] + (1 - b1) * g[i];
          v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
          d[i] = d[i] - decay * d[i] - (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + eps);
        }
      });
    } else {
      const mu = this.opts.momentum ?? 0.9;
      this.params.forEach((p, j) => {
        const m = this.m[j];
        const d = p.data;
        const g = p.grad;
        const decay = p.decay ? wd : 0;
        for (let i = 0; i < d.length; i++) {
          const gi = g[i] + decay * d[i];
          m[i] = this.step === 1 ? gi : mu * m[i] + gi;
          d[i] -= lr * m[i];
        }
      });
    }
    for (const p of this.params) {
      if (p.clamp === 'leak') p.data[0] = Math.min(1, Math.max(0, p.data[0]));
      else if (p.clamp === 'threshold') p.data[0] = Math.max(1e-3, p.data[0]);
    }
  }

  /** Moments as tensors (m.<param>, v.<param>) for checkpoints. */
  state(): TensorMap {
    const t: TensorMap = new Map();
    this.params.forEach((p, j) => {
      t.set(`m.${p.name}`, { shape: [this.m[j].length], data: this.m[j] });
      if (this.opts.kind === 'adam') t.set(`v.${p.name}`, { shape: [this.v[j].length], data: this.v[j] });
    });
    return t;
  }

  load(state: TensorMap, step: number): void {
    this.step = step;
    this.params.forEach((p, j) => {
      const m = state.get(`m.${p.name}`);
      if (!m || m.data.length !== this.m[j].length)
        throw new Error(`checkpoint has no optimiser state for ${p.name}`);
      this.m[j].set(m.data);
      if (this.opts.kind === 'adam') {
        const v = state.get(`v.${p.name}`);
        if (!v || v.data.length !== this.v[j].length)
          throw new Error(`checkpoint has no optimiser state for ${p.name}`);
        this.v[j].set(v.data);
      }
    });
  }
}

export interface ScheduleOptions {
  kind: ScheduleName;
  lr: number;
  epochs: number;
  stepsPerEpoch: number;
  stepEpochs?: number;
  gamma?: number;
}

/** Learning rate of optimiser step s (0-based, counted over the whole run). */
export function learningRate(o: ScheduleOptions, s: number): number {
  switch (o.kind) {
    case 'constant':
      return o.lr;
    case 'cosine': {
      const S = Math.max(1, o.epochs * o.stepsPerEpoch);
      return o.lr * 0.5 * (1 + Math.cos((Math.PI * Math.min(s, S)) / S));
    }
    case 'step': {
      const epoch = Math.floor(s / Math.max(1, o.stepsPerEpoch));
      const every = o.stepEpochs ?? Math.max(1, Math.round(o.epochs / 3));
      return o.lr * Math.pow(o.gamma ?? 0.1, Math.floor(epoch / every));
    }
  }
}
