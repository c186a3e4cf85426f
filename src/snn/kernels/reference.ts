/**
 * Scalar TypeScript references of the WebAssembly kernels in ./conv.ts (same layouts, same order of
 * operations for the forward scatter, so its result is bit for bit the kernel's): the specification the
 * kernels are tested against (test/snn/kernels.test.ts).
 */
import type { WeightedGeometry } from '../../network/shapes.js';

/** y (channel-last [ho·wo][cout]) += sparse scatter of x ([cin][h][w]) through wt ([cin][kh][kw][cpg]). */
export function convForwardRef(
  g: WeightedGeometry,
  wt: Float32Array,
  x: Float32Array,
  y: Float32Array,
): number {
  const { cin, h, w, cout, ho, wo, kh, kw, sh, sw, ph, pw, dh, dw } = g;
  const cpg = cout / g.groups;
  const cinPg = cin / g.groups;
  let ops = 0;
  for (let c = 0; c < cin; c++) {
    const gOff = Math.floor(c / cinPg) * cpg;
    for (let iy = 0; iy < h; iy++)
      for (let ix = 0; ix < w; ix++) {
        const v = x[(c * h + iy) * w + ix];
        if (v === 0) continue;
        for (let ky = 0; ky < kh; ky++) {
          const ny = iy + ph - ky * dh;
          if (ny < 0 || ny % sh !== 0 || ny / sh >= ho) continue;
          for (let kx = 0; kx < kw; kx++) {
            const nx = ix + pw - kx * dw;
            if (nx < 0 || nx % sw !== 0 || nx / sw >= wo) continue;
            const wb = ((c * kh + ky) * kw + kx) * cpg;
            const yb = ((ny / sh) * wo + nx / sw) * cout + gOff;
            for (let o = 0; o < cpg; o++) y[yb + o] += v * wt[wb + o];
            ops += cpg;
          }
        }
      }
  }
  return ops;
}

/** dwt ([cin][kh][kw][cpg]) += x ⊗ dy over the taps (dy channel-last). */
export function convWeightGradRef(
  g: WeightedGeometry,
  x: Float32Array,
  dy: Float32Array,
  dwt: Float32Array,
): void {
  const { cin, h, w, cout, ho, wo, kh, kw, sh, sw, ph, pw, dh, dw } = g;
  const cpg = cout / g.groups;
  const cinPg = cin / g.groups;
  for (let c = 0; c < cin; c++) {
    const gOff = Math.floor(c / cinPg) * cpg;
    for (let iy = 0; iy < h; iy++)
      for (let ix = 0; ix < w; ix++) {
        const v = x[(c * h + iy) * w + ix];
        if (v === 0) continue;
        for (let ky = 0; ky < kh; ky++) {
          const ny = iy + ph - ky * dh;
          if (ny < 0 || ny % sh !== 0 || ny / sh >= ho) continue;
          for (let kx = 0; kx < kw; kx++) {
            const nx = ix + pw - kx * dw;
            if (nx < 0 || nx % sw !== 0 || nx / sw >= wo) continue;
            const wb = ((c * kh + ky) * kw + kx) * cpg;
            const yb = ((ny / sh) * wo + nx / sw) * cout + gOff;
            for (let o = 0; o < cpg; o++)
              dwt[wb + o] = Math.fround(dwt[wb + o] + Math.fround(v * dy[yb + o]));
          }
        }
      }
  }
}

/** dx ([cin][h][w]) = Σ taps Σ_o wt·dy (written, not accumulated). */
export function convInputGradRef(
  g: WeightedGeometry,
  wt: Float32Array,
  dy: Float32Array,
  dx: Float32Array,
): void {
  const { cin, h, w, cout, ho, wo, kh, kw, sh, sw, ph, pw, dh, dw } = g;
  const cpg = cout / g.groups;
  const cinPg = cin / g.groups;
  for (let c = 0; c < cin; c++) {
    const gOff = Math.floor(c / cinPg) * cpg;
    for (let iy = 0; iy < h; iy++)
      for (let ix = 0; ix < w; ix++) {
        let s = 0;
        for (let ky = 0; ky < kh; ky++) {
          const ny = iy + ph - ky * dh;
          if (ny < 0 || ny % sh !== 0 || ny / sh >= ho) continue;
          for (let kx = 0; kx < kw; kx++) {
            const nx = ix + pw - kx * dw;
            if (nx < 0 || nx % sw !== 0 || nx / sw >= wo) continue;
            const wb = ((c * kh + ky) * kw + kx) * cpg;
            const yb = ((ny / sh) * wo + nx / sw) * cout + gOff;
            for (let o = 0; o < cpg; o++) s += wt[wb + o] * dy[yb + o];
          }
        }
        dx[(c * h + iy) * w + ix] = s;
      }
  }
}
