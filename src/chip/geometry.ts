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
export function tileRanges(w: Workload, lm: LayerMapping, into?: Int32Array): Int32Array {
  const n = lm.tiles.length;
  if (!into && SCRATCH.ranges.length < 2 * n)
    SCRATCH.ranges = new Int32Array(Math.max(2 * n, 2 * SCRATCH.ranges.length));
  // `into` (at least 2 × tiles long) keeps the shared scratch untouched for callers holding it.
  const out = into ?? SCRATCH.ranges;
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

/**
 * Calls `visit` once per output position with the non-padded rows of each row piece there (pieces of
 * `crossbarRows` rows cut in im2col order within each group, as the replay's geometry does; rows in
 * the padding are never active). The array is reused between calls.
 */
export function forEachPositionPieces(
  lm: LayerMapping,
  crossbarRows: number,
  visit: (counts: Int32Array) => void,
): void {
  const l = lm.layer;
  const pieces = l.groups * lm.rowSplits;
  const count = new Int32Array(pieces);
  if (l.kind !== 'conv2d') {
    for (let g = 0; g < l.groups; g++)
      for (let i = 0; i < lm.rowSplits; i++)
        count[g * lm.rowSplits + i] = i === lm.rowSplits - 1 ? lm.rowsLast : lm.rowsFull;
    for (let p = 0; p < l.positions; p++) visit(count);
    return;
  }
  const [, h, w] = l.inShape as number[];
  const [, ho, wo] = l.outShape as number[];
  const [kh, kw] = l.kernel;
  const cp = l.conv!;
  const valid = new Uint8Array(kh * kw);
  for (let oy = 0; oy < ho; oy++)
    for (let ox = 0; ox < wo; ox++) {
      for (let ky = 0; ky < kh; ky++)
        for (let kx = 0; kx < kw; kx++) {
          const y = oy * cp.sh - cp.ph + ky * cp.dh;
          const x = ox * cp.sw - cp.pw + kx * cp.dw;
          valid[ky * kw + kx] = y < 0 || y >= h || x < 0 || x >= w ? 0 : 1;
        }
      count.fill(0);
      for (let g = 0; g < l.groups; g++)
        for (let r = 0; r < l.rows; r++)
          if (valid[r % (kh * kw)] !== 0) count[g * lm.rowSplits + Math.floor(r / crossbarRows)]++;
      visit(count);
    }
}

/**
 * Non-padded rows of a layer's row pieces, as a histogram: `slots[n]` = (output position, row piece)
 * pairs whose piece holds n rows fed by a real input element. Cached per mapping.
 */
export interface RealRows {
  slots: Float64Array;
}
/**
 * Caches keyed by what a layer's geometry depends on (not by object: every estimate builds a new
 * mapping, and sweeps call it thousands of times), bounded.
 */
const REAL_ROWS = new Map<string, RealRows>();
const TILE_SHAPES = new Map<string, TileShape[]>();
const CACHE_LIMIT = 512;
const SIGNATURES = new Map<string, number>();
let signatureCount = 0;
function remember<V>(cache: Map<string, V>, key: string, value: V): V {
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, value);
  return value;
}
function geometryKey(lm: LayerMapping, crossbarRows: number): string {
  const l = lm.layer;
  return JSON.stringify([
    l.kind,
    l.inShape,
    l.outShape,
    l.kernel,
    l.conv ?? null,
    l.groups,
    l.rows,
    l.positions,
    lm.rowSplits,
    lm.rowsFull,
    lm.rowsLast,
    crossbarRows,
  ]);
}

/**
 * In front of the keyed caches, by identity: a mapping built from a frozen description is itself cached
 * (chip/workload.ts), so a sweep or a repeated estimate meets the same LayerMapping object again and
 * skips building the key (JSON of the geometry, the larger cost of a warm estimate).
 */
const REAL_ROWS_BY_LAYER = new WeakMap<LayerMapping, Map<number, RealRows>>();
const TILE_SHAPES_BY_LAYER = new WeakMap<LayerMapping, WeakMap<object, TileShape[]>>();

export function realRows(lm: LayerMapping, crossbarRows: number): RealRows {
  let byRows = REAL_ROWS_BY_LAYER.get(lm);
  const known = byRows?.get(crossbarRows);
  if (known) return known;
  if (!byRows) REAL_ROWS_BY_LAYER.set(lm, (byRows = new Map()));
  const found = realRowsByKey(lm, crossbarRows);
  byRows.set(crossbarRows, found);
  return found;
}

function realRowsByKey(lm: LayerMapping, crossbarRows: number): RealRows {
  const key = geometryKey(lm, crossbarRows);
  const hit = REAL_ROWS.get(key);
  if (hit) return hit;
  const slots = new Float64Array(Math.max(lm.rowsFull, lm.rowsLast) + 1);
  forEachPositionPieces(lm, crossbarRows, (count) => {
    for (let q = 0; q < count.length; q++) slots[count[q]]++;
  });
  return remember(REAL_ROWS, key, { slots });
}

/**
 * A layer's tiles as the timing rules see them: per tile, the row pieces it holds (and, over the output
 * positions, how often each combination of their non-padded row counts occurs), its ADC rounds per row
 * group (the slowest column piece it holds), the neurons whose first row piece it holds (stage B) and
 * whether other tiles send it partial sums. Cached per mapping.
 */
export interface TileShape {
  /** Distinct per-position row counts of the tile's pieces, and how many positions have each. */
  tuples: number[][];
  mult: number[];
  rounds: number;
  homeNeurons: number;
  psumIn: boolean;
  /** Equal for tiles whose position tuples are equal (their stage A is then equal too). */
  signature: number;
}
export function tileShapes(w: Workload, lm: LayerMapping): TileShape[] {
  // By identity only for a frozen description (its fields cannot change under the same object).
  if (!Object.isFrozen(w.spec)) return tileShapesByKey(w, lm);
  let bySpec = TILE_SHAPES_BY_LAYER.get(lm);
  const known = bySpec?.get(w.spec);
  if (known) return known;
  if (!bySpec) TILE_SHAPES_BY_LAYER.set(lm, (bySpec = new WeakMap()));
  const found = tileShapesByKey(w, lm);
  bySpec.set(w.spec, found);
  return found;
}

function tileShapesByKey(w: Workload, lm: LayerMapping): TileShape[] {
  const spec = w.spec;
  const n = lm.tiles.length;
  // What the tile ranges follow from (tileRanges), rather than the ranges themselves.
  const key =
    geometryKey(lm, spec.crossbar.rows) +
    JSON.stringify([
      n,
      lm.tiles[0] ?? 0,
      lm.firstPe,
      lm.pes,
      lm.crossbars,
      spec.pe.crossbars_per_pe,
      spec.tile.pes_per_tile,
      spec.mapping.tile_packing,
      lm.colSplits,
      lm.colsUsedFull,
      lm.colsUsedLast,
      lm.columnsPerWeight,
      spec.crossbar.columns,
      spec.adc.columns_per_adc,
    ]);
  const hit = TILE_SHAPES.get(key);
  if (hit) return hit;
  const ranges = tileRanges(w, lm, new Int32Array(2 * n));
  const R = lm.rowSplits;
  const adcs = Math.ceil(spec.crossbar.columns / spec.adc.columns_per_adc);
  const pieceSets: number[][] = [];
  const shapes: TileShape[] = [];
  const tileOf = (c: number) => {
    let k = 0;
    while (ranges[2 * k + 1] <= c) k++;
    return k;
  };
  for (let k = 0; k < n; k++) {
    const set = new Set<number>();
    let rounds = 0;
    for (let c = ranges[2 * k]; c < ranges[2 * k + 1]; c++) {
      const i = c % R;
      const gj = Math.floor(c / R);
      const g = Math.floor(gj / lm.colSplits);
      const j = gj % lm.colSplits;
      set.add(g * R + i);
      const cols = j === lm.colSplits - 1 ? lm.colsUsedLast : lm.colsUsedFull;
      rounds = Math.max(rounds, Math.ceil(cols / adcs));
    }
    pieceSets.push([...set].sort((a, b) => a - b));
    shapes.push({ tuples: [], mult: [], rounds, homeNeurons: 0, psumIn: false, signature: 0 });
  }
  for (let g = 0; g < lm.layer.groups; g++)
    for (let j = 0; j < lm.colSplits; j++) {
      const base = (g * lm.colSplits + j) * R;
      const home = tileOf(base);
      const cols = j === lm.colSplits - 1 ? lm.colsUsedLast : lm.colsUsedFull;
      shapes[home].homeNeurons += cols / lm.columnsPerWeight;
      if (tileOf(base + R - 1) !== home) shapes[home].psumIn = true;
    }
  const index = pieceSets.map(() => new Map<string, number>());
  forEachPositionPieces(lm, spec.crossbar.rows, (count) => {
    for (let k = 0; k < n; k++) {
      const tuple = pieceSets[k].map((q) => count[q]);
      const key = tuple.join(',');
      const at = index[k].get(key);
      if (at === undefined) {
        index[k].set(key, shapes[k].tuples.length);
        shapes[k].tuples.push(tuple);
        shapes[k].mult.push(1);
      } else shapes[k].mult[at]++;
    }
  });
  for (const sh of shapes) {
    const sig = JSON.stringify([sh.tuples, sh.mult]);
    let id = SIGNATURES.get(sig);
    if (id === undefined) {
      if (SIGNATURES.size >= 65536) SIGNATURES.clear();
      SIGNATURES.set(sig, (id = ++signatureCount));
    }
    sh.signature = id;
  }
  return remember(TILE_SHAPES, key, shapes);
}
