/**
 * The test oracle of `FrameWork.extract` (src/replay/work.ts): active rows by a plain gather over the
 * im2col table, instead of the replay's scatter.
 */
import { rowInputTable, type LayerGeometry } from '../../src/replay/work.js';

/**
 * Active rows per (position, row piece, plane) for one frame, by gathering over the im2col table:
 * out[(p * pieces + i) * planes + k]. The reference of `FrameWork.extract`.
 */
export function referenceActiveRows(
  geo: LayerGeometry,
  planes: Uint8Array[],
  nPlanes: number,
  out: Int32Array,
): void {
  const { rowsTotal, positions, pieces, rowPiece } = geo;
  const rowInput = rowInputTable(geo.lm);
  out.fill(0, 0, positions * pieces * nPlanes);
  for (let p = 0; p < positions; p++) {
    const base = p * rowsTotal;
    for (let r = 0; r < rowsTotal; r++) {
      const e = rowInput[base + r];
      if (e < 0) continue;
      const o = (p * pieces + rowPiece[r]) * nPlanes;
      for (let k = 0; k < nPlanes; k++) out[o + k] += planes[k][e];
    }
  }
}
