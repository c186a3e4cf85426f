/**
 * Training losses over the per-timestep outputs o_t (T × B × K, t-major), in float64.
 *
 *   tet     (1−λ)·(1/T)·Σ_t CE(o_t, y) + λ·MSE(o, 1), λ = 1e-3 — DT-SNN's default (TET), the MSE over
 *           every timestep and class (docs/SOURCES.md §1)
 *   acc-ce  (1/T)·Σ_t CE(A_t, y), A_t = Σ_{i≤t} o_i — CE on the accumulated output the entropy exit reads
 *   sum-ce  CE(Σ_t o_t, y) — IIR-SNN's non-leaky output accumulator U
 *
 * Each returns the loss summed over the given samples; the gradient written is dL/do·scale, where the
 * caller passes scale = 1/(samples in the whole batch) so that shards of a batch add up to the mean.
 * Training accuracy reads argmax of the summed output (the static prediction).
 */
export const LOSSES = ['tet', 'acc-ce', 'sum-ce'] as const;
export type LossName = (typeof LOSSES)[number];

export const TET_LAMBDA = 1e-3;

export interface LossResult {
  /** Σ over samples of the per-sample loss. */
  loss: number;
  /** Samples whose argmax of Σ_t o_t is the label. */
  correct: number;
}

/** CE(a, y) of one row; writes softmax(a) − onehot(y), times gScale, added into g (when given). */
function ceRow(
  a: Float64Array,
  y: number,
  g: Float32Array | null,
  gOff: number,
  gStride: number,
  gScale: number,
  p: Float64Array,
): number {
  const K = a.length;
  let max = -Infinity;
  for (let k = 0; k < K; k++) if (a[k] > max) max = a[k];
  let z = 0;
  for (let k = 0; k < K; k++) {
    p[k] = Math.exp(a[k] - max);
    z += p[k];
  }
  const loss = Math.log(z) + max - a[y];
  if (g)
    for (let k = 0; k < K; k++) {
      const d = p[k] / z - (k === y ? 1 : 0);
      g[gOff + k * gStride] += d * gScale;
    }
  return loss;
}

/**
 * out: T × B × K outputs; labels: B; grad (same size as out) is overwritten with dL/do · scale.
 */
export function computeLoss(
  kind: LossName,
  out: Float32Array,
  T: number,
  B: number,
  K: number,
  labels: ArrayLike<number>,
  scale: number,
  grad: Float32Array | null,
): LossResult {
  if (grad) grad.fill(0, 0, T * B * K);
  const a = new Float64Array(K);
  const p = new Float64Array(K);
  let loss = 0;
  let correct = 0;
  for (let b = 0; b < B; b++) {
    const y = labels[b];
    // Prediction from the summed output.
    a.fill(0);
    for (let t = 0; t < T; t++) for (let k = 0; k < K; k++) a[k] += out[(t * B + b) * K + k];
    let best = 0;
    for (let k = 1; k < K; k++) if (a[k] > a[best]) best = k;
    if (best === y) correct++;
    switch (kind) {
      case 'sum-ce': {
        // dL/do_t = softmax(U) − y for every t: compute into the t = 0 row, copy to the others.
        loss += ceRow(a, y, grad, b * K, 1, scale, p);
        if (grad)
          for (let t = 1; t < T; t++) for (let k = 0; k < K; k++) grad[(t * B + b) * K + k] = grad[b * K + k];
        break;
      }
      case 'acc-ce': {
        // dL/dA_t = (1/T)(softmax(A_t) − y); dL/do_i = Σ_{t ≥ i} dL/dA_t.
        a.fill(0);
        for (let t = 0; t < T; t++) {
          for (let k = 0; k < K; k++) a[k] += out[(t * B + b) * K + k];
          loss += ceRow(a, y, grad, (t * B + b) * K, 1, scale / T, p) / T;
        }
        if (grad)
          for (let t = T - 2; t >= 0; t--)
            for (let k = 0; k < K; k++) grad[(t * B + b) * K + k] += grad[((t + 1) * B + b) * K + k];
        break;
      }
      case 'tet': {
        const lam = TET_LAMBDA;
        for (let t = 0; t < T; t++) {
          const o = (t * B + b) * K;
          for (let k = 0; k < K; k++) a[k] = out[o + k];
          loss += ((1 - lam) / T) * ceRow(a, y, grad, o, 1, (scale * (1 - lam)) / T, p);
          for (let k = 0; k < K; k++) {
            const d = out[o + k] - 1;
            loss += (lam * d * d) / (T * K);
            if (grad) grad[o + k] += (scale * lam * 2 * d) / (T * K);
          }
        }
        break;
      }
    }
  }
  return { loss, correct };
}
