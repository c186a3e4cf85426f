/**
 * The convolution kernels (WebAssembly SIMD, src/snn/kernels/conv.ts) and their TypeScript references
 * (src/snn/kernels/reference.ts) against a naive conv2d written here from the definition
 * y[o][oy][ox] = Σ_c,ky,kx x[c][oy·s − p + ky·d][ox·s − p + kx·d] · W[o][c][ky][kx] (within the group),
 * on random shapes with padding, stride, dilation and groups; sparse (spike-like) and multi-bit inputs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { WeightedGeometry } from '../../src/network/shapes.js';
import { convForward, refreshResident, WeightGradient } from '../../src/snn/kernels/conv.js';
import { convForwardRef, convInputGradRef, convWeightGradRef } from '../../src/snn/kernels/reference.js';
import { Rng } from '../../src/util/rng.js';

interface Case {
  g: WeightedGeometry;
  /** OIHW weights (PyTorch layout), [cout][cin/groups][kh][kw]. */
  W: Float64Array;
  x: Float32Array;
  dy: Float32Array; // channel-major [cout][ho][wo]
}

const shape = fc
  .record({
    groups: fc.integer({ min: 1, max: 3 }),
    cinPg: fc.integer({ min: 1, max: 4 }),
    cpg: fc.integer({ min: 1, max: 19 }),
    h: fc.integer({ min: 1, max: 9 }),
    w: fc.integer({ min: 1, max: 9 }),
    kh: fc.integer({ min: 1, max: 4 }),
    kw: fc.integer({ min: 1, max: 4 }),
    s: fc.integer({ min: 1, max: 3 }),
    p: fc.integer({ min: 0, max: 2 }),
    d: fc.integer({ min: 1, max: 2 }),
    density: fc.constantFrom(0.1, 0.5, 1),
    binary: fc.boolean(),
    seed: fc.integer({ min: 1, max: 1 << 30 }),
  })
  .filter((r) => r.h + 2 * r.p >= r.d * (r.kh - 1) + 1 && r.w + 2 * r.p >= r.d * (r.kw - 1) + 1);

type Shape = typeof shape extends fc.Arbitrary<infer T> ? T : never;

function makeCase(r: Shape): Case {
  const cin = r.cinPg * r.groups;
  const cout = r.cpg * r.groups;
  const ho = Math.floor((r.h + 2 * r.p - r.d * (r.kh - 1) - 1) / r.s) + 1;
  const wo = Math.floor((r.w + 2 * r.p - r.d * (r.kw - 1) - 1) / r.s) + 1;
  const g: WeightedGeometry = {
    cin,
    h: r.h,
    w: r.w,
    cout,
    ho,
    wo,
    kh: r.kh,
    kw: r.kw,
    sh: r.s,
    sw: r.s,
    ph: r.p,
    pw: r.p,
    dh: r.d,
    dw: r.d,
    groups: r.groups,
  };
  const rng = new Rng(r.seed);
  const W = new Float64Array(cout * r.cinPg * r.kh * r.kw).map(() => Math.fround(rng.next() * 2 - 1));
  const x = new Float32Array(cin * r.h * r.w).map(() =>
    rng.next() < r.density ? (r.binary ? 1 : Math.fround(rng.next())) : 0,
  );
  const dy = new Float32Array(cout * ho * wo).map(() => Math.fround(rng.next() * 2 - 1));
  return { g, W, x, dy };
}

/** The naive definition (float64). */
function naiveConv(c: Case): Float64Array {
  const { g, W, x } = c;
  const cinPg = g.cin / g.groups;
  const cpg = g.cout / g.groups;
  const y = new Float64Array(g.cout * g.ho * g.wo);
  for (let o = 0; o < g.cout; o++) {
    const gr = Math.floor(o / cpg);
    for (let oy = 0; oy < g.ho; oy++)
      for (let ox = 0; ox < g.wo; ox++) {
        let acc = 0;
        for (let cl = 0; cl < cinPg; cl++)
          for (let ky = 0; ky < g.kh; ky++)
            for (let kx = 0; kx < g.kw; kx++) {
              const iy = oy * g.sh - g.ph + ky * g.dh;
              const ix = ox * g.sw - g.pw + kx * g.dw;
              if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
              acc +=
                x[((gr * cinPg + cl) * g.h + iy) * g.w + ix] * W[((o * cinPg + cl) * g.kh + ky) * g.kw + kx];
            }
        y[(o * g.ho + oy) * g.wo + ox] = acc;
      }
  }
  return y;
}

/** Naive gradients of L = Σ dy·y: dW[o][cl][ky][kx] and dx[c][iy][ix] (float64). */
function naiveGrads(c: Case): { dW: Float64Array; dx: Float64Array } {
  const { g, x, W, dy } = c;
  const cinPg = g.cin / g.groups;
  const cpg = g.cout / g.groups;
  const dW = new Float64Array(W.length);
  const dx = new Float64Array(x.length);
  for (let o = 0; o < g.cout; o++) {
    const gr = Math.floor(o / cpg);
    for (let oy = 0; oy < g.ho; oy++)
      for (let ox = 0; ox < g.wo; ox++) {
        const d = dy[(o * g.ho + oy) * g.wo + ox];
        for (let cl = 0; cl < cinPg; cl++)
          for (let ky = 0; ky < g.kh; ky++)
            for (let kx = 0; kx < g.kw; kx++) {
              const iy = oy * g.sh - g.ph + ky * g.dh;
              const ix = ox * g.sw - g.pw + kx * g.dw;
              if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
              const xi = ((gr * cinPg + cl) * g.h + iy) * g.w + ix;
              const wi = ((o * cinPg + cl) * g.kh + ky) * g.kw + kx;
              dW[wi] += d * x[xi];
              dx[xi] += d * W[wi];
            }
      }
  }
  return { dW, dx };
}

/** OIHW → [cin][kh][kw][cpg] (the kernels' layout), written out independently of the engine. */
function toKernelLayout(c: Case): Float32Array {
  const { g, W } = c;
  const cinPg = g.cin / g.groups;
  const cpg = g.cout / g.groups;
  const wt = new Float32Array(W.length);
  for (let o = 0; o < g.cout; o++)
    for (let cl = 0; cl < cinPg; cl++)
      for (let ky = 0; ky < g.kh; ky++)
        for (let kx = 0; kx < g.kw; kx++) {
          const cc = Math.floor(o / cpg) * cinPg + cl;
          wt[((cc * g.kh + ky) * g.kw + kx) * cpg + (o % cpg)] =
            W[((o * cinPg + cl) * g.kh + ky) * g.kw + kx];
        }
  return wt;
}

const channelLast = (a: ArrayLike<number>, cout: number, P: number) => {
  const out = new Float32Array(cout * P);
  for (let o = 0; o < cout; o++) for (let p = 0; p < P; p++) out[p * cout + o] = a[o * P + p];
  return out;
};

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol: number): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++)
    expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(tol * (1 + Math.abs(b[i])));
}

describe('convolution kernels against the definition', () => {
  it('forward: the kernel equals the naive conv, and bit for bit the TypeScript reference', () => {
    fc.assert(
      fc.property(shape, (r) => {
        const c = makeCase(r);
        const { g } = c;
        const P = g.ho * g.wo;
        const wt = toKernelLayout(c);
        const bias = new Float32Array(g.cout).map((_, o) => Math.fround(0.1 * o - 0.3));
        const out = new Float32Array(g.cout * P + 3).fill(7); // a row inside a larger buffer
        for (let o = 0; o < g.cout; o++) out.fill(bias[o], 2 + o * P, 2 + (o + 1) * P);
        const xPadded = new Float32Array(c.x.length + 5);
        xPadded.set(c.x, 5);
        refreshResident(wt);
        const ops = convForward(g, wt, xPadded, 5, out, 2, true);
        const ref = new Float32Array(g.cout * P);
        for (let o = 0; o < g.cout; o++) ref.fill(bias[o], o * P, (o + 1) * P);
        const refCl = channelLast(ref, g.cout, P);
        const refOps = convForwardRef(g, wt, c.x, refCl);
        const naive = naiveConv(c).map((v, i) => v + bias[Math.floor(i / P)]);
        close(out.subarray(2, 2 + g.cout * P), naive, 1e-5);
        expect(Array.from(out.subarray(2, 2 + g.cout * P))).toEqual(
          Array.from(channelLast(refCl, P, g.cout)),
        );
        expect([out[0], out[1], out[out.length - 1]]).toEqual([7, 7, 7]);
        expect(ops).toBe(refOps);
        // Synaptic operations: every (non-zero input, tap reaching an output) pair times the fan-out.
        let pairs = 0;
        const cinPg = g.cin / g.groups;
        for (let o = 0; o < g.groups; o++)
          for (let oy = 0; oy < g.ho; oy++)
            for (let ox = 0; ox < g.wo; ox++)
              for (let cl = 0; cl < cinPg; cl++)
                for (let ky = 0; ky < g.kh; ky++)
                  for (let kx = 0; kx < g.kw; kx++) {
                    const iy = oy * g.sh - g.ph + ky * g.dh;
                    const ix = ox * g.sw - g.pw + kx * g.dw;
                    if (
                      iy >= 0 &&
                      iy < g.h &&
                      ix >= 0 &&
                      ix < g.w &&
                      c.x[((o * cinPg + cl) * g.h + iy) * g.w + ix] !== 0
                    )
                      pairs++;
                  }
        expect(ops).toBe(pairs * (g.cout / g.groups));
      }),
      { numRuns: 150, seed: 15 },
    );
  });

  it('backward: weight and input gradients equal the naive ones (kernel and TypeScript reference)', () => {
    fc.assert(
      fc.property(shape, (r) => {
        const c = makeCase(r);
        const { g } = c;
        const P = g.ho * g.wo;
        const wt = toKernelLayout(c);
        const dyCl = channelLast(c.dy, g.cout, P);
        const { dW, dx } = naiveGrads(c);
        const dWk = toKernelLayout({ ...c, W: dW });
        // Kernel: two rows (the same twice) accumulate twice the weight gradient.
        const wg = new WeightGradient(g);
        refreshResident(wt);
        wg.reset(wt);
        const dxOut = new Float32Array(2 * c.x.length);
        const xs = new Float32Array(2 * c.x.length);
        xs.set(c.x, 0);
        xs.set(c.x, c.x.length);
        wg.row(xs, 0, dyCl, wt, dxOut, 0);
        wg.row(xs, c.x.length, dyCl, wt, dxOut, c.x.length);
        close(
          wg.read(),
          dWk.map((v) => 2 * v),
          1e-5,
        );
        close(dxOut.subarray(0, c.x.length), dx, 1e-5);
        close(dxOut.subarray(c.x.length), dx, 1e-5);
        const dwRef = new Float32Array(wt.length);
        convWeightGradRef(g, c.x, dyCl, dwRef);
        close(dwRef, dWk, 1e-5);
        const dxRef = new Float32Array(c.x.length);
        convInputGradRef(g, wt, dyCl, dxRef);
        close(dxRef, dx, 1e-5);
      }),
      { numRuns: 150, seed: 16 },
    );
  });

  it('a linear layer is the 1×1 case: y = W·x', () => {
    const g: WeightedGeometry = {
      cin: 37,
      h: 1,
      w: 1,
      cout: 10,
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
    const rng = new Rng(3);
    const W = new Float32Array(370).map(() => Math.fround(rng.next() - 0.5)); // [out][in]
    const x = new Float32Array(37).map((_, i) => (i % 3 === 0 ? 1 : i % 3 === 1 ? 0 : 0.25));
    const wt = new Float32Array(370);
    for (let o = 0; o < 10; o++) for (let i = 0; i < 37; i++) wt[i * 10 + o] = W[o * 37 + i];
    const y = new Float32Array(10);
    convForward(g, wt, x, 0, y, 0, true);
    for (let o = 0; o < 10; o++) {
      let s = 0;
      for (let i = 0; i < 37; i++) s += W[o * 37 + i] * x[i];
      expect(Math.abs(y[o] - s)).toBeLessThan(1e-5);
    }
  });
});
