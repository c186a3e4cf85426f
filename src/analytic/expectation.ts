/**
 * Expectations for independent inputs at given rates: what the closed form charges when it knows only
 * the fraction of active input elements (a rate file), not the frames (`estimate --trace` reads those).
 *
 * - An element of a spike layer is active with probability r, independently of the others.
 * - An element of a multi-bit layer is non-zero with probability r; its magnitude is uniform in (0, m]
 *   where m is the frame's largest (the synthetic generator's rule, src/trace/synthetic.ts), quantised
 *   per frame as the replay does, q = round(v / m · (2^b − 1)) — so level 0 and the top level have half
 *   the width of the others — and applied bit-serially: bit-plane k sees the element active with
 *   probability r · P(bit k of q = 1).
 * - A row piece holding n non-padded rows at an output position then has X ~ Binomial(n, p) active
 *   rows in a plane of activity p; it reads E[⌈X / rows_parallel⌉] row groups (zero-skipping: an empty
 *   plane or piece costs nothing).
 */

const BIT_PROBS = new Map<number, Float64Array>();

/** P(bit k of the quantised level is 1 | the element is non-zero), k = 0 … bits−1. */
export function bitProbabilities(bits: number): Float64Array {
  const hit = BIT_PROBS.get(bits);
  if (hit) return hit;
  const L = 2 ** bits - 1;
  const out = new Float64Array(bits);
  for (let j = 1; j <= L; j++) {
    const pj = (j === L ? 0.5 : 1) / L;
    for (let k = 0; k < bits; k++) if ((j >> k) & 1) out[k] += pj;
  }
  BIT_PROBS.set(bits, out);
  return out;
}

/** P(level ≠ 0 | the element is non-zero): the share of non-zero values that survive quantisation. */
export function nonZeroLevelProbability(bits: number): number {
  return 1 - 0.5 / (2 ** bits - 1);
}

/** E[⌈X / rp⌉] for X ~ Binomial(n, p). */
export function expectedGroups(n: number, p: number, rp: number): number {
  if (n === 0 || p <= 0) return 0;
  if (p >= 1) return Math.ceil(n / rp);
  if (rp >= n) return 1 - Math.pow(1 - p, n);
  // pmf by recurrence in log space (n is at most a crossbar's rows)
  const lq = Math.log1p(-p);
  const lp = Math.log(p);
  let logC = 0;
  let e = 0;
  for (let x = 0; x <= n; x++) {
    if (x > 0) logC += Math.log((n - x + 1) / x);
    e += Math.exp(logC + x * lp + (n - x) * lq) * Math.ceil(x / rp);
  }
  return e;
}

/** pmf of Binomial(n, p) (entries below 1e-15 are kept; n is at most a crossbar's rows). */
function binomialPmf(n: number, p: number): Float64Array {
  const out = new Float64Array(n + 1);
  if (p <= 0) {
    out[0] = 1;
    return out;
  }
  if (p >= 1) {
    out[n] = 1;
    return out;
  }
  const lq = Math.log1p(-p);
  const lp = Math.log(p);
  let logC = 0;
  for (let x = 0; x <= n; x++) {
    if (x > 0) logC += Math.log((n - x + 1) / x);
    out[x] = Math.exp(logC + x * lp + (n - x) * lq);
  }
  return out;
}

/** pmf of ⌈X / rp⌉ for X ~ Binomial(n, p). */
function groupsPmf(n: number, p: number, rp: number): Float64Array {
  const x = binomialPmf(n, p);
  const out = new Float64Array(Math.ceil(n / rp) + 1);
  for (let i = 0; i <= n; i++) out[Math.ceil(i / rp)] += x[i];
  return out;
}

function convolve(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length + b.length - 1);
  for (let i = 0; i < a.length; i++) {
    if (a[i] === 0) continue;
    for (let j = 0; j < b.length; j++) out[i + j] += a[i] * b[j];
  }
  return out;
}

/**
 * Distribution (CDF) of a row piece's row groups summed over the bit-planes, S = Σ_k ⌈X_k / rp⌉, for a
 * piece with n non-padded rows: what one output position costs the piece in stage A. Spikes: one plane,
 * X ~ Binomial(n, r). Multi-bit: m ~ Binomial(n, r·P(level ≠ 0)) elements are non-zero, and given m the
 * planes are independent, X_k ~ Binomial(m, P(bit k | level ≠ 0)) — the planes share their elements.
 */
const CDFS = new Map<string, Float64Array>();

export function stageGroupsCdf(
  n: number,
  r: number,
  binary: boolean,
  bits: number,
  rp: number,
): Float64Array {
  const key = `${n},${r},${binary ? 1 : bits},${rp}`;
  const hit = CDFS.get(key);
  if (hit) return hit;
  if (CDFS.size >= 4096) CDFS.clear();
  let pmf: Float64Array;
  if (binary) pmf = groupsPmf(n, r, rp);
  else {
    const nz = nonZeroLevelProbability(bits);
    const bp = bitProbabilities(bits);
    const pm = binomialPmf(n, r * nz);
    pmf = new Float64Array(bits * Math.ceil(n / rp) + 1);
    for (let m = 0; m <= n; m++) {
      if (pm[m] < 1e-13) continue;
      let d: Float64Array = Float64Array.of(1);
      for (let k = 0; k < bits; k++) d = convolve(d, groupsPmf(m, bp[k] / nz, rp));
      for (let s = 0; s < d.length; s++) pmf[s] += pm[m] * d[s];
    }
  }
  const cdf = new Float64Array(pmf.length);
  let c = 0;
  for (let s = 0; s < pmf.length; s++) cdf[s] = c += pmf[s];
  CDFS.set(key, cdf);
  return cdf;
}

/** E[max over pieces of S], the pieces independent, given each one's CDF. */
export function expectedMax(cdfs: readonly Float64Array[]): number {
  let len = 0;
  for (const c of cdfs) len = Math.max(len, c.length);
  let e = 0;
  for (let s = 1; s < len; s++) {
    let below = 1;
    for (const c of cdfs) below *= s - 1 < c.length ? c[s - 1] : 1;
    e += 1 - below;
  }
  return e;
}
