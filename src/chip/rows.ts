/**
 * Which crossbar rows an input drives and how a read groups them: the im2col row table, the row piece of
 * each row, the row groups of a read and the bit-serial quantiser of multi-bit inputs. One home for the
 * replay (src/replay/work.ts counts reads from it) and the chip's arithmetic (src/snn/chip-arith.ts
 * computes the partial sums of exactly those reads), so the rows grouped are the rows counted.
 */
import type { ArchSpec } from '../config/schema.js';
import type { LayerMapping } from './mapping.js';

/** Row piece (crossbar row block, all groups numbered) of im2col row r: consecutive blocks of `rows`. */
export function rowPieceOf(lm: LayerMapping, crossbarRows: number, r: number): number {
  const l = lm.layer;
  const g = Math.floor(r / l.rows);
  return g * lm.rowSplits + Math.floor((r - g * l.rows) / crossbarRows);
}

/**
 * rowInput[p * rowsTotal + r]: the input element feeding im2col row r at output position p, or −1
 * (padding). Linear layers: row r reads element r at the one position.
 */
export function rowInputTable(lm: LayerMapping): Int32Array {
  const l = lm.layer;
  const rowsTotal = l.rows * l.groups;
  const P = l.positions;
  const rowInput = new Int32Array(P * rowsTotal);
  if (l.kind === 'linear') {
    for (let r = 0; r < rowsTotal; r++) rowInput[r] = r;
    return rowInput;
  }
  const [c, h, w] = l.inShape as number[];
  const [, ho, wo] = l.outShape as number[];
  const [kh, kw] = l.kernel;
  const g = l.groups;
  const cpg = c / g;
  const p = l.conv!;
  for (let oy = 0; oy < ho; oy++)
    for (let ox = 0; ox < wo; ox++) {
      const pos = oy * wo + ox;
      let r = 0;
      for (let gi = 0; gi < g; gi++)
        for (let cl = 0; cl < cpg; cl++)
          for (let ky = 0; ky < kh; ky++)
            for (let kx = 0; kx < kw; kx++, r++) {
              const y = oy * p.sh - p.ph + ky * p.dh;
              const x = ox * p.sw - p.pw + kx * p.dw;
              rowInput[pos * rowsTotal + r] =
                y < 0 || y >= h || x < 0 || x >= w ? -1 : ((gi * cpg + cl) * h + y) * w + x;
            }
    }
  return rowInput;
}

/**
 * Quantises a frame into bit-planes: planes[k][i] = bit k of q_i. Spikes give one plane. Returns the
 * planes as 0/1 Uint8Arrays (reused buffers owned by the caller).
 */
export function framePlanes(
  frame: Uint8Array | Float32Array,
  elements: number,
  binary: boolean,
  bits: number,
  out: Uint8Array[],
): number {
  if (binary) {
    const p = out[0];
    if (frame instanceof Uint8Array) for (let i = 0; i < elements; i++) p[i] = (frame[i >> 3] >> (i & 7)) & 1;
    else for (let i = 0; i < elements; i++) p[i] = frame[i] !== 0 ? 1 : 0;
    return 1;
  }
  for (let k = 0; k < bits; k++) out[k].fill(0, 0, elements);
  const codes = scratchCodes(elements);
  inputCodes(frame as Float32Array, elements, bits, codes);
  for (let i = 0; i < elements; i++) {
    const q = codes[i];
    if (q !== 0) for (let k = 0; k < bits; k++) if ((q >> k) & 1) out[k][i] = 1;
  }
  return bits;
}

/** Row groups one row piece reads for `active` active rows (zero-skipping) in one plane. */
export function rowGroups(spec: ArchSpec, active: number, pieceRows: number): number {
  const rp = spec.crossbar.rows_parallel;
  return spec.crossbar.zero_skipping ? Math.ceil(active / rp) : Math.ceil(pieceRows / rp);
}

let codeBuf = new Int32Array(0);
function scratchCodes(n: number): Int32Array {
  if (codeBuf.length < n) codeBuf = new Int32Array(n);
  return codeBuf;
}

/**
 * The per-frame dynamic-range quantiser of multi-bit inputs: codes[i] = round(|v_i| / max|v| · (2^b − 1)),
 * the magnitude applied bit-serially (bit k in plane k); the sign of a negative input is applied by the
 * row driver's polarity (a bipolar read). Returns the value of one code step, max|v| / (2^b − 1)
 * (0 for an all-zero frame, whose codes are all 0).
 */
export function inputCodes(v: Float32Array, elements: number, bits: number, codes: Int32Array): number {
  let max = 0;
  for (let i = 0; i < elements; i++) max = Math.max(max, Math.abs(v[i]));
  const levels = 2 ** bits - 1;
  if (max === 0) {
    codes.fill(0, 0, elements);
    return 0;
  }
  for (let i = 0; i < elements; i++) codes[i] = Math.round((Math.abs(v[i]) / max) * levels);
  return max / levels;
}
