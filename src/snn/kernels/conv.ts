/**
 * Convolution (and linear, as a 1×1 convolution of a 1×1 image) kernels of the SNN engine and trainer,
 * in WebAssembly SIMD (src/snn/kernels/conv.wat) with the same semantics as the TypeScript references in
 * ./reference.ts:
 *   convForward     sparse scatter-accumulate: every non-zero input adds v × its weight row to the
 *                   outputs it reaches, in input order, into channel-last accumulators (the innermost
 *                   loop runs over contiguous output channels). Bit for bit the scalar loop's result.
 *   convWeightGrad  dW[c][ky][kx][o] += v·dY[p][o] over non-zero inputs (float32)
 *   convInputGrad   dX[c][y][x] = Σ taps Σ_o W·dY (float32, four lanes)
 * Weights are [cin][kh][kw][cout/groups]; dY and the accumulators are channel-last [ho·wo][cout].
 *
 * Memory: one WebAssembly instance per thread. Arrays passed as `resident` (weights, gradient
 * accumulators) are copied into its memory once and found again by identity; the caller refreshes them
 * when their contents change. Everything else is per-call scratch.
 */
import type { WeightedGeometry } from '../../network/shapes.js';
import { WASM_BASE64 } from './conv-wasm.js';

/** The few WebAssembly JS-API members used here (the project's lib has no DOM / WebAssembly types). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface Exports {
  memory: WasmMemory;
  conv_fwd(geo: number, x: number, wt: number, y: number): number;
  conv_wgrad(geo: number, x: number, dy: number, dw: number): number;
  conv_dgrad(geo: number, wt: number, dy: number, dx: number): void;
}

/** Resident arrays are dropped (and re-copied on next use) when they exceed this many bytes together. */
const RESIDENT_BUDGET = 256 * 2 ** 20;

class Machine {
  readonly ex: Exports;
  f32: Float32Array;
  i32: Int32Array;
  private resident = new Map<Float32Array, number>();
  /** Counts the times the resident arrays were dropped (offsets held across place() calls check it). */
  generation = 0;
  /** First free byte after the resident arrays. */
  private top = 0;

  constructor() {
    const bytes = Buffer.from(WASM_BASE64, 'base64');
    const inst = new WA.Instance(new WA.Module(bytes), {});
    this.ex = inst.exports as unknown as Exports;
    this.f32 = new Float32Array(this.ex.memory.buffer);
    this.i32 = new Int32Array(this.ex.memory.buffer);
  }

  private ensure(bytes: number): void {
    const mem = this.ex.memory;
    if (bytes > mem.buffer.byteLength) {
      mem.grow(Math.ceil((bytes - mem.buffer.byteLength) / 65536));
    }
    if (this.f32.buffer !== mem.buffer) {
      this.f32 = new Float32Array(mem.buffer);
      this.i32 = new Int32Array(mem.buffer);
    }
  }

  /**
   * Byte offsets of the arrays in memory (copied in when new, or when refresh[i]), then of `scratch`
   * fresh regions of the given float counts. Offsets are valid until the next place() call.
   */
  place(arrays: Float32Array[], refresh: boolean[], scratch: number[]): number[] {
    let need = 0;
    for (const a of arrays) if (!this.resident.has(a)) need += a.length * 4 + 16;
    if (this.top + need > RESIDENT_BUDGET) {
      this.resident.clear();
      this.top = 0;
      this.generation++;
    }
    const offs: number[] = [];
    for (let i = 0; i < arrays.length; i++) {
      const a = arrays[i];
      let off = this.resident.get(a);
      const fresh = off === undefined;
      if (off === undefined) {
        off = this.top;
        this.top = (off + a.length * 4 + 15) & ~15;
        this.ensure(this.top);
        this.resident.set(a, off);
      }
      if (fresh || refresh[i]) this.f32.set(a, off >> 2);
      offs.push(off);
    }
    let s = this.top;
    for (const n of scratch) {
      offs.push(s);
      s = (s + n * 4 + 15) & ~15;
    }
    this.ensure(s);
    return offs;
  }

  geometry(off: number, g: WeightedGeometry): void {
    const i = this.i32;
    const b = off >> 2;
    i[b] = g.cin;
    i[b + 1] = g.h;
    i[b + 2] = g.w;
    i[b + 3] = g.cin / g.groups;
    i[b + 4] = g.cout / g.groups;
    i[b + 5] = g.cout;
    i[b + 6] = g.ho;
    i[b + 7] = g.wo;
    i[b + 8] = g.kh;
    i[b + 9] = g.kw;
    i[b + 10] = g.sh;
    i[b + 11] = g.sw;
    i[b + 12] = g.ph;
    i[b + 13] = g.pw;
    i[b + 14] = g.dh;
    i[b + 15] = g.dw;
  }
}

let machine: Machine | null = null;
function m(): Machine {
  return (machine ??= new Machine());
}

/**
 * out (channel-major [cout][ho·wo], already holding the bias or zeros) += the sparse convolution of x
 * (channel-major [cin][h][w], from xOff) with wt ([cin][kh][kw][cpg], resident: it must not change
 * afterwards). Returns the synaptic operations (Σ over non-zero inputs of the taps' fan-out).
 */
export function convForward(
  g: WeightedGeometry,
  wt: Float32Array,
  x: Float32Array,
  xOff: number,
  out: Float32Array,
  outOff = 0,
  refreshWeights = false,
): number {
  const M = m();
  const inSize = g.cin * g.h * g.w;
  const P = g.ho * g.wo;
  const cout = g.cout;
  const [wOff, geo, xo, yo] = M.place([wt], [refreshWeights], [16, inSize, P * cout]);
  M.geometry(geo, g);
  const f = M.f32;
  f.set(x.subarray(xOff, xOff + inSize), xo >> 2);
  const y = yo >> 2;
  for (let o = 0; o < cout; o++) {
    const ob = outOff + o * P;
    for (let p = 0; p < P; p++) f[y + p * cout + o] = out[ob + p];
  }
  const ops = M.ex.conv_fwd(geo, xo, wOff, yo);
  for (let o = 0; o < cout; o++) {
    const ob = outOff + o * P;
    for (let p = 0; p < P; p++) out[ob + p] = f[y + p * cout + o];
  }
  return ops;
}

/** The weight gradient accumulator of one layer: resident while a backward pass runs over its rows. */
export class WeightGradient {
  /** [cin][kh][kw][cpg], summed over every row since reset(). */
  readonly dw: Float32Array;
  private generation = -1;
  constructor(readonly g: WeightedGeometry) {
    this.dw = new Float32Array(g.cin * g.kh * g.kw * (g.cout / g.groups));
  }

  /** Starts a backward pass: zeroes the accumulator (wt: the weights the rows' dx will use, if any). */
  reset(wt: Float32Array | null): void {
    this.dw.fill(0);
    const M = m();
    M.place(wt ? [this.dw, wt] : [this.dw], [true, false], []);
    this.generation = M.generation;
  }

  private check(M: Machine): void {
    if (M.generation !== this.generation)
      throw new Error(
        'kernel memory was recycled during a backward pass (resident arrays exceed the budget)',
      );
  }

  /**
   * One row: dw += x ⊗ dY (x channel-major from xOff, dy channel-last [ho·wo][cout] from dyOff), and, when
   * dx is given, dx[dxOff…] = the input gradient through wt (resident; refresh when it changed).
   */
  row(
    x: Float32Array,
    xOff: number,
    dyCl: Float32Array,
    wt: Float32Array | null,
    dx: Float32Array | null,
    dxOff: number,
  ): void {
    const M = m();
    const g = this.g;
    const inSize = g.cin * g.h * g.w;
    const outSize = g.cout * g.ho * g.wo;
    const arrays = wt ? [this.dw, wt] : [this.dw];
    const offs = M.place(arrays, [false, false], [16, inSize, outSize, inSize]);
    const [dwOff] = offs;
    const wOff = wt ? offs[1] : 0;
    const [geo, xo, dyo, dxo] = offs.slice(arrays.length);
    this.check(M);
    M.geometry(geo, g);
    const f = M.f32;
    f.set(x.subarray(xOff, xOff + inSize), xo >> 2);
    f.set(dyCl.subarray(0, outSize), dyo >> 2);
    M.ex.conv_wgrad(geo, xo, dyo, dwOff);
    if (wt && dx) {
      M.ex.conv_dgrad(geo, wOff, dyo, dxo);
      dx.set(f.subarray(dxo >> 2, (dxo >> 2) + inSize), dxOff);
    }
  }

  /** Copies the accumulated gradient out of the kernels' memory into dw and returns it. */
  read(): Float32Array {
    const M = m();
    const [off] = M.place([this.dw], [false], []);
    this.check(M);
    this.dw.set(M.f32.subarray(off >> 2, (off >> 2) + this.dw.length));
    return this.dw;
  }
}

/** Copies changed weights into the kernels' memory (after an optimiser step rewrote them). */
export function refreshResident(wt: Float32Array): void {
  m().place([wt], [true], []);
}
