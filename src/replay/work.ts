/**
 * The work a layer does at one timestep, extracted exactly from its input frame: for every output
 * position and row piece, the number of active rows in each input bit-plane. Both the discrete-event
 * replay and the trace-driven analytic estimate count actions from this, so their energies agree by
 * construction; the replay adds time and contention.
 *
 * Non-binary inputs (the direct-encoded image, sums after pooling) are quantised per frame to
 * `crossbar.input_bits` (q = round(v / max|v| · (2^b − 1)), a per-tensor dynamic-range quantiser) and
 * applied bit-serially, one plane per bit.
 */
import type { ArchSpec } from '../config/schema.js';
import { A } from '../hw/actions.js';
import type { LayerMapping } from '../hw/mapping.js';
import type { ActionCounts } from '../pricing/counts.js';

/** Per layer, what does not depend on the frame: receptive-field geometry and piece sizes. */
export interface LayerGeometry {
  lm: LayerMapping;
  positions: number;
  /** Row pieces in all groups (groups × rowSplits), the piece of each im2col row, the rows of each piece. */
  pieces: number;
  rowPiece: Int32Array;
  pieceRows: Int32Array;
  /** rowInput[p * rowsTotal + r]: input element feeding row r at position p, or −1 (padding). */
  rowInput: Int32Array;
  rowsTotal: number;
  /** Bit-planes of a multi-bit input (1 for spikes). */
  planes: number;
  binary: boolean;
}

export function layerGeometry(spec: ArchSpec, lm: LayerMapping, binary: boolean): LayerGeometry {
  const l = lm.layer;
  const rowsTotal = l.rows * l.groups;
  const P = l.positions;
  const rowInput = new Int32Array(P * rowsTotal);
  if (l.kind === 'linear') {
    for (let r = 0; r < rowsTotal; r++) rowInput[r] = r;
  } else {
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
  }
  const R = spec.crossbar.rows;
  const pieces = l.groups * lm.rowSplits;
  const rowPiece = new Int32Array(rowsTotal);
  const pieceRows = new Int32Array(pieces);
  for (let r = 0; r < rowsTotal; r++) {
    const g = Math.floor(r / l.rows);
    const piece = g * lm.rowSplits + Math.floor((r - g * l.rows) / R);
    rowPiece[r] = piece;
    pieceRows[piece]++;
  }
  return {
    lm,
    positions: P,
    pieces,
    rowPiece,
    pieceRows,
    rowInput,
    rowsTotal,
    planes: binary ? 1 : spec.crossbar.input_bits,
    binary,
  };
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
  const v = frame as Float32Array;
  let max = 0;
  for (let i = 0; i < elements; i++) max = Math.max(max, Math.abs(v[i]));
  const levels = 2 ** bits - 1;
  for (let k = 0; k < bits; k++) out[k].fill(0, 0, elements);
  if (max === 0) return bits;
  for (let i = 0; i < elements; i++) {
    const q = Math.round((Math.abs(v[i]) / max) * levels);
    for (let k = 0; k < bits; k++) if ((q >> k) & 1) out[k][i] = 1;
  }
  return bits;
}

/**
 * Active rows per (position, row piece, plane) for one frame: active[(p * pieces + i) * planes + k].
 * Row pieces are counted per group: piece index = group · rowSplits + i.
 */
export function activeRows(geo: LayerGeometry, planes: Uint8Array[], nPlanes: number, out: Int32Array): void {
  const { rowsTotal, rowInput, positions, pieces, rowPiece } = geo;
  out.fill(0, 0, positions * pieces * nPlanes);
  if (nPlanes === 1) {
    const p0 = planes[0];
    for (let p = 0; p < positions; p++) {
      const base = p * rowsTotal;
      const o = p * pieces;
      for (let r = 0; r < rowsTotal; r++) {
        const e = rowInput[base + r];
        if (e >= 0 && p0[e] !== 0) out[o + rowPiece[r]]++;
      }
    }
    return;
  }
  let maxRows = 0;
  for (let i = 0; i < pieces; i++) maxRows = Math.max(maxRows, geo.pieceRows[i]);
  if (maxRows > 255 || nPlanes > 16) {
    for (let p = 0; p < positions; p++) {
      const base = p * rowsTotal;
      for (let r = 0; r < rowsTotal; r++) {
        const e = rowInput[base + r];
        if (e < 0) continue;
        const o = (p * pieces + rowPiece[r]) * nPlanes;
        for (let k = 0; k < nPlanes; k++) out[o + k] += planes[k][e];
      }
    }
    return;
  }
  // SWAR: each input element's plane bits are spread over byte lanes of up to four 32-bit words, so one
  // add per row counts four planes at once (a piece has at most 255 rows, so no lane overflows).
  const words = Math.ceil(nPlanes / 4);
  const elements = planes[0].length;
  if (swar.length < words * elements) swar = new Int32Array(words * elements);
  for (let e = 0; e < elements; e++)
    for (let wd = 0; wd < words; wd++) {
      let v = 0;
      for (let k = wd * 4; k < Math.min(nPlanes, wd * 4 + 4); k++) v |= planes[k][e] << (8 * (k - wd * 4));
      swar[wd * elements + e] = v;
    }
  const acc = new Int32Array(pieces * words);
  for (let p = 0; p < positions; p++) {
    acc.fill(0);
    const base = p * rowsTotal;
    for (let r = 0; r < rowsTotal; r++) {
      const e = rowInput[base + r];
      if (e < 0) continue;
      const o = rowPiece[r] * words;
      for (let wd = 0; wd < words; wd++) acc[o + wd] += swar[wd * elements + e];
    }
    for (let i = 0; i < pieces; i++)
      for (let k = 0; k < nPlanes; k++)
        out[(p * pieces + i) * nPlanes + k] = (acc[i * words + (k >> 2)] >>> (8 * (k & 3))) & 0xff;
  }
}

let swar = new Int32Array(0);

/** Adds the crossbar-side action counts of one layer-timestep (from active rows) to `counts`. */
export function countCrossbarWork(
  spec: ArchSpec,
  geo: LayerGeometry,
  active: Int32Array,
  nPlanes: number,
  counts: ActionCounts,
  row: number,
  t: number,
): void {
  const lm = geo.lm;
  const pieces = geo.pieces;
  const rp = spec.crossbar.rows_parallel;
  const zs = spec.crossbar.zero_skipping;
  // Physical columns of all column pieces of one row piece.
  const cols = (lm.colSplits - 1) * lm.colsUsedFull + lm.colsUsedLast;
  let reads = 0;
  let cells = 0;
  let conversions = 0;
  let drives = 0;
  for (let p = 0; p < geo.positions; p++)
    for (let i = 0; i < pieces; i++) {
      const rowsHere = geo.pieceRows[i];
      for (let k = 0; k < nPlanes; k++) {
        const a = active[(p * pieces + i) * nPlanes + k];
        const groups = zs ? Math.ceil(a / rp) : Math.ceil(rowsHere / rp);
        reads += groups * lm.colSplits;
        cells += a * cols;
        conversions += groups * cols;
        drives += a * lm.colSplits;
      }
    }
  counts.add(row, t, A.XBAR_READ, reads);
  counts.add(row, t, A.XBAR_CELL_READ, cells);
  counts.add(row, t, A.ADC_CONVERT, conversions);
  counts.add(row, t, A.MUX_SELECT, conversions);
  counts.add(row, t, A.SHIFT_ADD, conversions);
  counts.add(row, t, A.OUTREG_WRITE, conversions);
  counts.add(row, t, A.ROW_DRIVE, drives);
}
