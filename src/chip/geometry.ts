/**
 * Where a layer's crossbars sit, tile by tile: the crossbar ranges each tile holds and the fraction of
 * the layer's input rows each tile needs. Read by the closed-form model and the replay alike.
 */
import type { LayerMapping } from './mapping.js';
import type { Workload } from './workload.js';

/**
 * Scratch buffers reused across layers and calls (the closed-form model runs in sweeps). A buffer's
 * contents live only until its helper is called again.
 */
const SCRATCH = { ranges: new Int32Array(256), fractions: new Float64Array(128) };

/** Crossbar index range [first, end) a layer keeps on each of its tiles, as pairs (row pieces innermost). */
export function tileRanges(w: Workload, lm: LayerMapping): Int32Array {
  const n = lm.tiles.length;
  if (SCRATCH.ranges.length < 2 * n)
    SCRATCH.ranges = new Int32Array(Math.max(2 * n, 2 * SCRATCH.ranges.length));
  const out = SCRATCH.ranges;
  const cpp = w.spec.pe.crossbars_per_pe;
  const ppt = w.spec.tile.pes_per_tile;
  const packed = w.spec.mapping.tile_packing === 'packed';
  for (let k = 0; k < n; k++) {
    // Per-layer packing starts the layer on a fresh tile; packed tiles split on global PE indices.
    const firstPe = packed ? Math.max(lm.firstPe, lm.tiles[k] * ppt) - lm.firstPe : k * ppt;
    const endPe = packed
      ? Math.min(lm.firstPe + lm.pes, (lm.tiles[k] + 1) * ppt) - lm.firstPe
      : (k + 1) * ppt;
    out[2 * k] = firstPe * cpp;
    out[2 * k + 1] = Math.min(lm.crossbars, endPe * cpp);
  }
  return out;
}

/** Fraction of a layer's input rows each of its tiles needs: the distinct row pieces it holds. */
export function rowFractions(lm: LayerMapping, ranges: Int32Array): Float64Array {
  const R = lm.rowSplits;
  const perGroup = lm.colSplits * R;
  const total = R * lm.layer.groups;
  const nTiles = lm.tiles.length;
  if (SCRATCH.fractions.length < nTiles)
    SCRATCH.fractions = new Float64Array(Math.max(nTiles, 2 * SCRATCH.fractions.length));
  const out = SCRATCH.fractions;
  out.fill(0, 0, nTiles);
  for (let k = 0; k < nTiles; k++) {
    const a = ranges[2 * k];
    const b = ranges[2 * k + 1];
    let distinct = 0;
    const g0 = Math.floor(a / perGroup);
    const g1 = Math.floor((b - 1) / perGroup);
    for (let g = g0; g <= g1; g++) {
      const lo = Math.max(a, g * perGroup) - g * perGroup;
      const hi = Math.min(b, (g + 1) * perGroup) - g * perGroup;
      if (hi - lo >= R) {
        distinct += R;
        continue;
      }
      // Fewer than R crossbars: one interval of row indices, possibly wrapping into the next column group.
      const i0 = lo % R;
      const i1 = (hi - 1) % R;
      distinct +=
        Math.floor(lo / R) === Math.floor((hi - 1) / R) ? i1 - i0 + 1 : Math.min(R, R - i0 + i1 + 1);
    }
    out[k] = distinct / total;
  }
  return out;
}
