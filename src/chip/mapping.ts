/**
 * Mapping a network onto the chip: each layer's weight matrix split into crossbars with weight
 * bit-slicing, crossbars grouped into PEs, PEs into tiles, tiles placed on the NoC mesh.
 * Deterministic: the same spec and network always give the same placement.
 */
import { located } from '../util/errors.js';
import type { ArchSpec } from '../config/schema.js';
import type { MappedLayer, NetworkShapes } from '../network/shapes.js';
import { topologyOf } from './noc/registry.js';
import type { Noc } from './noc/topology.js';

export interface LayerMapping {
  layer: MappedLayer;
  /** Cells (columns) per weight bit-slice: ceil(weight_bits / cell_bits). */
  slicesPerWeight: number;
  /** Physical columns per logical weight: slices × 2 for differential pairs. */
  columnsPerWeight: number;
  /** Logical weights (neurons) one crossbar holds side by side. */
  neuronsPerCrossbar: number;
  /** Row pieces per group (kernel-position scheme: kh·kw·ceil(Cin/rows)). */
  rowSplits: number;
  /** Rows in a full row piece and in the last one. */
  rowsFull: number;
  rowsLast: number;
  colSplits: number;
  /** Physical columns used in a full column piece and in the last one. */
  colsUsedFull: number;
  colsUsedLast: number;
  /** groups × rowSplits × colSplits. */
  crossbars: number;
  pes: number;
  /** First PE (global index) and the tiles this layer's PEs occupy, in order. */
  firstPe: number;
  tiles: number[];
  /** Share of the membrane / tile buffers of its tiles this layer owns (1 under per-layer packing). */
  tileShare: number;
  /** Why the layer is not placed on the chip (SpikeSim accounting maps conv layers only), else null. */
  excluded: string | null;
}

export interface ChipMapping {
  layers: LayerMapping[];
  totalCrossbars: number;
  totalPes: number;
  totalTiles: number;
  meshColumns: number;
  meshRows: number;
  /** x, y of tile i at [2i], [2i+1]. */
  tileXY: Int32Array;
  /** Mesh node of the global buffer and entropy unit (the chip's I/O corner). */
  ioXY: readonly [number, number];
  /** The network-on-chip (`noc.topology`) on this `meshColumns × meshRows` grid of routers. */
  noc: Noc;
}

/** [start, start+1, …] of length n (a plain loop: Array.from with a callback is slow on hot paths). */
function range(start: number, n: number): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = start + i;
  return out;
}

export function ceilDiv(a: number, b: number): number {
  return Math.ceil(a / b);
}

export function mapNetwork(spec: ArchSpec, shapes: NetworkShapes): ChipMapping {
  // Pooling of pre-activations would be a digital unit after the ADCs (a comparator or adder per pooled
  // value) feeding fewer neurons; no component prices it yet, so the mapping refuses rather than price
  // the layer as conv → LIF.
  const pre = shapes.mapped.find((l) => l.preNeuronPool !== null);
  if (pre)
    throw located(
      `layer ${pre.name}: pooling before the neuron (pool_before_neuron, ${pre.preNeuronPool!.type}) is not supported by the hardware mapping, estimate or replay yet (it runs in the SNN engine and trainer only); pool the spikes after the neuron instead (a ${pre.preNeuronPool!.type} layer after the conv2d) to map the network`,
      {
        path: `layers[${pre.topologyIndex}].pool_before_neuron`,
        expected: 'no pool_before_neuron',
        found: pre.preNeuronPool!.type,
      },
    );
  const x = spec.crossbar;
  const slices = ceilDiv(x.weight_bits, x.cell_bits);
  const columnsPerWeight = slices * (x.signed_weights === 'differential' ? 2 : 1);
  if (columnsPerWeight > x.columns)
    throw located('a weight does not fit in one crossbar row', {
      path: 'crossbar.columns',
      expected: `at least ${columnsPerWeight} columns (weight_bits / cell_bits slices${x.signed_weights === 'differential' ? ' × 2 differential' : ''})`,
      found: String(x.columns),
    });
  const neuronsPerCrossbar = Math.floor(x.columns / columnsPerWeight);
  const perTile = spec.tile.pes_per_tile;
  const layers: LayerMapping[] = [];
  let pe = 0;
  let tileCursor = 0;
  for (const layer of shapes.mapped) {
    if (spec.accounting === 'spikesim' && layer.kind !== 'conv2d') {
      layers.push({
        layer,
        slicesPerWeight: slices,
        columnsPerWeight,
        neuronsPerCrossbar,
        rowSplits: 0,
        rowsFull: 0,
        rowsLast: 0,
        colSplits: 0,
        colsUsedFull: 0,
        colsUsedLast: 0,
        crossbars: 0,
        pes: 0,
        firstPe: pe,
        tiles: [],
        tileShare: 0,
        excluded: 'SpikeSim maps and prices conv layers only',
      });
      continue;
    }
    let rowSplits: number;
    let rowsFull: number;
    let rowsLast: number;
    if (spec.mapping.scheme === 'kernel-position' && layer.kind === 'conv2d') {
      // SpikeSim: one crossbar per kernel position, holding Cin/groups rows.
      const cin = layer.inChannels / layer.groups;
      const perPos = ceilDiv(cin, x.rows);
      rowSplits = perPos * layer.kernel[0] * layer.kernel[1];
      rowsFull = Math.min(cin, x.rows);
      rowsLast = cin - (perPos - 1) * x.rows;
    } else {
      rowSplits = ceilDiv(layer.rows, x.rows);
      rowsFull = Math.min(layer.rows, x.rows);
      rowsLast = layer.rows - (rowSplits - 1) * x.rows;
    }
    const colSplits = ceilDiv(layer.cols, neuronsPerCrossbar);
    const lastNeurons = layer.cols - (colSplits - 1) * neuronsPerCrossbar;
    const crossbars = layer.groups * rowSplits * colSplits;
    const pes = ceilDiv(crossbars, spec.pe.crossbars_per_pe);
    const firstPe = pe;
    let tiles: number[];
    if (spec.mapping.tile_packing === 'per-layer') {
      const n = ceilDiv(pes, perTile);
      tiles = range(tileCursor, n);
      tileCursor += n;
    } else {
      const a = Math.floor(firstPe / perTile);
      const b = Math.floor((firstPe + pes - 1) / perTile);
      tiles = range(a, b - a + 1);
      tileCursor = b + 1;
    }
    pe += pes;
    layers.push({
      layer,
      slicesPerWeight: slices,
      columnsPerWeight,
      neuronsPerCrossbar,
      rowSplits,
      rowsFull,
      rowsLast,
      colSplits,
      colsUsedFull: Math.min(layer.cols, neuronsPerCrossbar) * columnsPerWeight,
      colsUsedLast: lastNeurons * columnsPerWeight,
      crossbars,
      pes,
      firstPe,
      tiles,
      tileShare: spec.mapping.tile_packing === 'per-layer' ? 1 : pes / (tiles.length * perTile),
      excluded: null,
    });
  }
  const totalTiles = tileCursor;
  const topology = topologyOf(spec);
  const { columns, rows } = meshShape(spec, totalTiles);
  const tileXY = topology.place(totalTiles, columns);
  return {
    layers,
    totalCrossbars: layers.reduce((s, l) => s + l.crossbars, 0),
    totalPes: pe,
    totalTiles,
    meshColumns: columns,
    meshRows: rows,
    tileXY,
    ioXY: [0, 0],
    noc: topology.create(columns, rows),
  };
}

function meshShape(spec: ArchSpec, tiles: number): { columns: number; rows: number } {
  const c = spec.noc.mesh_columns;
  const r = spec.noc.mesh_rows;
  let columns: number;
  let rows: number;
  if (c === 'auto' && r === 'auto') {
    columns = Math.max(1, Math.ceil(Math.sqrt(tiles)));
    rows = Math.max(1, ceilDiv(tiles, columns));
  } else if (c === 'auto') {
    rows = r as number;
    columns = Math.max(1, ceilDiv(tiles, rows));
  } else if (r === 'auto') {
    columns = c;
    rows = Math.max(1, ceilDiv(tiles, columns));
  } else {
    columns = c;
    rows = r;
  }
  if (columns * rows < tiles)
    throw located(`the mesh is too small for the mapped network`, {
      path: 'noc.mesh_columns',
      expected: `at least ${tiles} tiles (columns × rows)`,
      found: `${columns} × ${rows} = ${columns * rows}`,
    });
  return { columns, rows };
}

/** Hops of the route between two tiles, or a tile and the I/O node (tile -1), on the chip's NoC. */
export function hops(m: ChipMapping, a: number, b: number): number {
  const ax = a < 0 ? m.ioXY[0] : m.tileXY[2 * a];
  const ay = a < 0 ? m.ioXY[1] : m.tileXY[2 * a + 1];
  const bx = b < 0 ? m.ioXY[0] : m.tileXY[2 * b];
  const by = b < 0 ? m.ioXY[1] : m.tileXY[2 * b + 1];
  return m.noc.hops(ax, ay, bx, by);
}

/** Tile holding crossbar `c` (0-based within its layer; row pieces innermost) of a layer mapping. */
export function tileOfCrossbar(spec: ArchSpec, lm: LayerMapping, c: number): number {
  const peGlobal = lm.firstPe + Math.floor(c / spec.pe.crossbars_per_pe);
  if (spec.mapping.tile_packing === 'packed') return Math.floor(peGlobal / spec.tile.pes_per_tile);
  return lm.tiles[Math.floor((peGlobal - lm.firstPe) / spec.tile.pes_per_tile)];
}
