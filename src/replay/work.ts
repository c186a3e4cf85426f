/**
 * The work a layer does at one timestep, extracted exactly from its input frame, and the timing rules
 * that turn it into cycles. The discrete-event replay (`replay.ts`) and the closed-form critical path
 * (`critical-path.ts`) both read this file: one home for every per-stage latency formula, so with
 * contention impossible the two agree by construction (and the tests check that they do).
 *
 * Work: for every output position and row piece, the number of active rows in each input bit-plane.
 * Crossbar reads, active cells, conversions and row drives follow from it exactly as in the analytic
 * model, so with every input active the replay's counts equal the estimate's.
 *
 * Non-binary inputs (the direct-encoded image, sums after pooling) are quantised per frame to
 * `crossbar.input_bits` (q = round(v / max|v| · (2^b − 1)), a per-tensor dynamic-range quantiser) and
 * applied bit-serially, one plane per bit.
 *
 * Timing rules (every latency rounded up to whole cycles, `cycles()`):
 * - stage A of a tile, per output position: the slowest of its crossbars, each row piece taking
 *   Σ_planes row-groups × (read + ADC rounds × conversion), then one shift-add (`tileTimestep`);
 * - stage B, per position: the tile's home neurons through its LIF units, its membrane-buffer ports and
 *   (for potentials that spilled) the global buffer, the slowest of the three (`stageBCycles`);
 * - a packet: per hop router pipeline + link, then the router at the destination and the serialisation
 *   of its flits (`packetCycles`); endpoints on one mesh node exchange data locally (0 cycles);
 * - the image leaves the global buffer after its reads (`globalReadCycles`); the entropy unit takes
 *   `entropyCycles` per evaluation; the final output write `outputWriteCycles`.
 */
import type { ArchSpec } from '../config/schema.js';
import { A } from '../hw/actions.js';
import { ceilDiv, type LayerMapping } from '../chip/mapping.js';
import { rowFractions, tileRanges } from '../chip/geometry.js';
import { framePlanes, rowGroups, rowInputTable, rowPieceOf } from '../chip/rows.js';
import { countLayerSupport, reusesStaticInput, type MembraneUse } from '../chip/layer-counts.js';
import type { Workload } from '../chip/workload.js';
import { ActionCounts } from '../hw/counts.js';
import type { TraceHeader, TraceSample } from '../trace/types.js';

/** The row table, row pieces, row groups and input quantiser live in chip/rows.ts (shared with snn/'s chip arithmetic). */
export { framePlanes, rowGroups, rowInputTable, rowPieceOf };

// ---------------------------------------------------------------------------------------------------
// Geometry
// ---------------------------------------------------------------------------------------------------

/** Per layer, what does not depend on the frame: receptive-field geometry and piece sizes. */
export interface LayerGeometry {
  lm: LayerMapping;
  positions: number;
  /** Row pieces in all groups (groups × rowSplits), the piece of each im2col row, the rows of each piece. */
  pieces: number;
  rowPiece: Int32Array;
  pieceRows: Int32Array;
  rowsTotal: number;
  /** Largest row piece (rows). */
  maxPieceRows: number;
  /**
   * Scatter table (CSR): input element e feeds the slots elemSlot[elemStart[e] .. elemStart[e+1]), a slot
   * being position · pieces + row piece (one entry per im2col row the element lands in).
   */
  elemStart: Int32Array;
  elemSlot: Int32Array;
  /**
   * Row groups of one plane (`rowGroups`) as tables: groupsOf[a] for a active rows (zero-skipping,
   * a ≤ maxPieceRows); pieceGroups[i] for piece i without zero-skipping (every row scheduled).
   */
  groupsOf: Int32Array;
  pieceGroups: Int32Array;
  /** Bit-planes of a multi-bit input (1 for spikes). */
  planes: number;
  binary: boolean;
}

export function layerGeometry(spec: ArchSpec, lm: LayerMapping, binary: boolean): LayerGeometry {
  const l = lm.layer;
  const rowsTotal = l.rows * l.groups;
  const P = l.positions;
  const R = spec.crossbar.rows;
  const pieces = l.groups * lm.rowSplits;
  const rowPiece = new Int32Array(rowsTotal);
  const pieceRows = new Int32Array(pieces);
  for (let r = 0; r < rowsTotal; r++) {
    const piece = rowPieceOf(lm, R, r);
    rowPiece[r] = piece;
    pieceRows[piece]++;
  }
  let maxPieceRows = 0;
  for (let i = 0; i < pieces; i++) maxPieceRows = Math.max(maxPieceRows, pieceRows[i]);
  // Invert the gather table: per input element, the slots it feeds (counting sort by element).
  const rowInput = rowInputTable(lm);
  const E = l.inputElements;
  const elemStart = new Int32Array(E + 1);
  for (let i = 0; i < rowInput.length; i++) if (rowInput[i] >= 0) elemStart[rowInput[i] + 1]++;
  for (let e = 0; e < E; e++) elemStart[e + 1] += elemStart[e];
  const elemSlot = new Int32Array(elemStart[E]);
  const fill = elemStart.slice(0, E);
  for (let p = 0; p < P; p++)
    for (let r = 0; r < rowsTotal; r++) {
      const e = rowInput[p * rowsTotal + r];
      if (e >= 0) elemSlot[fill[e]++] = p * pieces + rowPiece[r];
    }
  return {
    lm,
    positions: P,
    pieces,
    rowPiece,
    pieceRows,
    rowsTotal,
    maxPieceRows,
    elemStart,
    elemSlot,
    groupsOf: Int32Array.from({ length: maxPieceRows + 1 }, (_, a) => rowGroups(spec, a, maxPieceRows)),
    pieceGroups: Int32Array.from(pieceRows, (rows) => rowGroups(spec, 0, rows)),
    planes: binary ? 1 : spec.crossbar.input_bits,
    binary,
  };
}

// ---------------------------------------------------------------------------------------------------
// Reference extraction (gather over the im2col table): slow and obviously right; the tests compare the
// scatter extraction below against it.
// ---------------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------------
// Fast extraction: scatter the active input elements into their slots
// ---------------------------------------------------------------------------------------------------

/** Set bits of a 32-bit integer (SWAR popcount). */
function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/** SPREAD[n]: the 4 bits of n placed in the 4 byte lanes of a 32-bit word (bit k → lane k). */
const SPREAD = Int32Array.from({ length: 16 }, (_, n) => {
  let v = 0;
  for (let k = 0; k < 4; k++) if ((n >> k) & 1) v |= 1 << (8 * k);
  return v;
});

/**
 * One frame's crossbar work: per slot (position · pieces + row piece) the row groups summed over the
 * planes (`groups`), and the totals the counts need. Buffers are owned and reused (valid until the next
 * `extract`).
 */
export class FrameWork {
  /** groups[slot]: Σ over planes of the row groups the piece reads at that position. */
  groups = new Int32Array(0);
  /** Σ over slots and planes of active rows, and of row groups. */
  activeRowsTotal = 0;
  groupsTotal = 0;
  /** Input elements with any bit set (what address-event packets carry). */
  activeElems = 0;
  nPlanes = 1;
  private acc = new Int32Array(0);
  /** Non-zero levels of a values frame: element nz[i] has level q[i]. */
  private nz = new Int32Array(0);
  private q = new Int32Array(0);

  /** Extracts `frame` (bit-packed spikes, or values) of a layer with geometry `geo`. */
  extract(spec: ArchSpec, geo: LayerGeometry, frame: Uint8Array | Float32Array): void {
    const slots = geo.positions * geo.pieces;
    const nPlanes = geo.planes;
    this.nPlanes = nPlanes;
    if (this.groups.length < slots) this.groups = new Int32Array(slots);
    const groups = this.groups;
    const zs = spec.crossbar.zero_skipping;
    const { elemStart, elemSlot, groupsOf } = geo;
    const E = geo.lm.layer.inputElements;
    let activeElems = 0;
    let activeRows = 0;
    if (geo.binary) {
      // One plane: count straight into `acc`, one increment per (active element, slot).
      const acc = this.accOf(slots);
      if (frame instanceof Uint8Array) {
        const bytes = Math.min(frame.length, (E + 7) >> 3);
        for (let i = 0; i < bytes; i++) {
          let bits = frame[i];
          while (bits !== 0) {
            const low = bits & -bits;
            bits ^= low;
            const e = (i << 3) | (31 - Math.clz32(low));
            if (e >= E) break;
            activeElems++;
            const end = elemStart[e + 1];
            for (let j = elemStart[e]; j < end; j++) acc[elemSlot[j]]++;
          }
        }
      } else {
        for (let e = 0; e < E; e++)
          if (frame[e] !== 0) {
            activeElems++;
            const end = elemStart[e + 1];
            for (let j = elemStart[e]; j < end; j++) acc[elemSlot[j]]++;
          }
      }
      for (let s = 0; s < slots; s++) {
        const a = acc[s];
        if (a !== 0) {
          activeRows += a;
          acc[s] = 0;
        }
        groups[s] = groupsOf[a];
      }
      if (!zs) this.unskipped(geo, 1);
    } else {
      // Quantise (same expression as framePlanes), then scatter each non-zero level.
      // One pass finds the non-zero elements and the largest magnitude; the levels (same expression as
      // framePlanes) are computed for those only.
      const v = frame as Float32Array;
      if (this.nz.length < E) {
        this.nz = new Int32Array(E);
        this.q = new Int32Array(E);
      }
      const nz = this.nz;
      const q = this.q;
      let n = 0;
      let max = 0;
      for (let i = 0; i < E; i++) {
        const x = v[i];
        if (x !== 0) {
          nz[n++] = i;
          const a = x < 0 ? -x : x;
          if (a > max) max = a;
        }
      }
      const levels = 2 ** nPlanes - 1;
      let m = 0;
      if (max > 0)
        for (let j = 0; j < n; j++) {
          const e = nz[j];
          const qe = Math.round((Math.abs(v[e]) / max) * levels);
          if (qe > 0) {
            nz[m] = e;
            q[m++] = qe;
          }
        }
      activeElems = m;
      if (nPlanes <= 31 && (groupsOf.length <= 1 || groupsOf[groupsOf.length - 1] === 1)) {
        // One row group reads a whole piece (rows_parallel ≥ its rows): a plane costs a group at a slot iff
        // some element feeding the slot has that bit set, so the slot's groups are the set bits of the OR
        // of its elements' levels — one OR per (element, slot). Active rows, Σ over (element, slot) of the
        // level's set bits, are each element's set bits times its fan-out: no scatter needed for them.
        const acc = this.accOf(slots);
        for (let i = 0; i < m; i++) {
          const e = nz[i];
          const qe = q[i];
          const start = elemStart[e];
          const end = elemStart[e + 1];
          activeRows += popcount32(qe) * (end - start);
          for (let j = start; j < end; j++) acc[elemSlot[j]] |= qe;
        }
        for (let s = 0; s < slots; s++) {
          const bits = acc[s];
          if (bits === 0) {
            groups[s] = 0;
            continue;
          }
          acc[s] = 0;
          groups[s] = popcount32(bits);
        }
        if (!zs) this.unskipped(geo, nPlanes);
      } else if (geo.maxPieceRows <= 255 && nPlanes <= 16) {
        // SWAR: a level's bits spread over byte lanes of ⌈planes/4⌉ words, so one add per (element, slot)
        // counts four planes (a lane never exceeds a piece's rows ≤ 255).
        const words = (nPlanes + 3) >> 2;
        const acc = this.accOf(slots * words);
        for (let i = 0; i < m; i++) {
          const e = nz[i];
          const qe = q[i];
          const end = elemStart[e + 1];
          if (words === 1) {
            const w0 = SPREAD[qe & 15];
            for (let j = elemStart[e]; j < end; j++) acc[elemSlot[j]] += w0;
          } else if (words === 2) {
            const w0 = SPREAD[qe & 15];
            const w1 = SPREAD[(qe >> 4) & 15];
            for (let j = elemStart[e]; j < end; j++) {
              const o = elemSlot[j] << 1;
              acc[o] += w0;
              acc[o + 1] += w1;
            }
          } else {
            for (let j = elemStart[e]; j < end; j++) {
              const o = elemSlot[j] * words;
              for (let wd = 0; wd < words; wd++) acc[o + wd] += SPREAD[(qe >> (4 * wd)) & 15];
            }
          }
        }
        // When one group reads a whole piece (rows_parallel ≥ its rows), a plane costs a group iff any
        // row is active: count a word's non-zero lanes and add its lanes, branch-free.
        const oneGroup = groupsOf.length <= 1 || groupsOf[groupsOf.length - 1] === 1;
        for (let s = 0; s < slots; s++) {
          let g = 0;
          for (let wd = s * words, end = wd + words; wd < end; wd++) {
            let lanes = acc[wd];
            if (lanes === 0) continue;
            acc[wd] = 0;
            if (oneGroup) {
              let nz = lanes | (lanes >>> 1);
              nz |= nz >>> 2;
              nz |= nz >>> 4;
              g += Math.imul(nz & 0x01010101, 0x01010101) >>> 24;
              const pairs = (lanes & 0x00ff00ff) + ((lanes >>> 8) & 0x00ff00ff);
              activeRows += (pairs & 0xffff) + (pairs >>> 16);
            } else
              for (; lanes !== 0; lanes >>>= 8) {
                const a = lanes & 0xff;
                activeRows += a;
                g += groupsOf[a];
              }
          }
          groups[s] = g;
        }
        if (!zs) this.unskipped(geo, nPlanes);
      } else {
        const acc = this.accOf(slots * nPlanes);
        for (let i = 0; i < m; i++) {
          const e = nz[i];
          const qe = q[i];
          const end = elemStart[e + 1];
          for (let j = elemStart[e]; j < end; j++) {
            const o = elemSlot[j] * nPlanes;
            for (let k = 0; k < nPlanes; k++) acc[o + k] += (qe >> k) & 1;
          }
        }
        for (let s = 0; s < slots; s++) {
          let g = 0;
          for (let k = s * nPlanes, end = k + nPlanes; k < end; k++) {
            const a = acc[k];
            if (a === 0) continue;
            acc[k] = 0;
            activeRows += a;
            g += groupsOf[a];
          }
          groups[s] = g;
        }
        if (!zs) this.unskipped(geo, nPlanes);
      }
    }
    let groupsTotal = 0;
    for (let s = 0; s < slots; s++) groupsTotal += groups[s];
    this.groupsTotal = groupsTotal;
    this.activeRowsTotal = activeRows;
    this.activeElems = activeElems;
  }

  /** Without zero-skipping every row of a piece is scheduled in every plane, active or not. */
  private unskipped(geo: LayerGeometry, nPlanes: number): void {
    const slots = geo.positions * geo.pieces;
    for (let s = 0; s < slots; s++) this.groups[s] = nPlanes * geo.pieceGroups[s % geo.pieces];
  }

  /** A zeroed accumulator of at least n entries (kept zeroed between calls). */
  private accOf(n: number): Int32Array {
    if (this.acc.length < n) this.acc = new Int32Array(n);
    return this.acc;
  }
}

/** Adds the crossbar-side action counts of one layer-timestep (totals of `FrameWork`) to `counts`. */
export function countCrossbarWork(
  geo: LayerGeometry,
  groupsTotal: number,
  activeRowsTotal: number,
  counts: ActionCounts,
  row: number,
  t: number,
): void {
  const lm = geo.lm;
  // Physical columns of all column pieces of one row piece.
  const cols = (lm.colSplits - 1) * lm.colsUsedFull + lm.colsUsedLast;
  const conversions = groupsTotal * cols;
  counts.add(row, t, A.XBAR_READ, groupsTotal * lm.colSplits);
  counts.add(row, t, A.XBAR_CELL_READ, activeRowsTotal * cols);
  counts.add(row, t, A.ADC_CONVERT, conversions);
  counts.add(row, t, A.MUX_SELECT, conversions);
  counts.add(row, t, A.SHIFT_ADD, conversions);
  counts.add(row, t, A.OUTREG_WRITE, conversions);
  counts.add(row, t, A.ROW_DRIVE, activeRowsTotal * lm.colSplits);
}

// ---------------------------------------------------------------------------------------------------
// Timing rules
// ---------------------------------------------------------------------------------------------------

/** Whole cycles of a latency in seconds (every action takes whole cycles). */
export function cycles(seconds: number, cycle_s: number): number {
  return Math.ceil(seconds / cycle_s - 1e-9);
}

/** Per-action latencies of the chip in whole cycles. */
export interface CycleCosts {
  cycle_s: number;
  read: number;
  conv: number;
  shift: number;
  lif: number;
  router: number;
  link: number;
  globalRead: number;
  globalWrite: number;
  /** Cycles of one entropy-unit evaluation (K class steps and the decision). */
  entropy: number;
}

export function cycleCosts(w: Workload): CycleCosts {
  const m = w.models;
  const c = 1 / w.spec.chip.clock_hz;
  const eu = m.entropy_unit.actions;
  return {
    cycle_s: c,
    read: cycles(m.crossbar.actions.read?.latency_s ?? c, c),
    conv: cycles(m.adc.actions.convert!.latency_s, c),
    shift: cycles(m.shift_add.actions.op!.latency_s, c),
    lif: cycles(m.lif_unit.actions.update!.latency_s, c),
    router: cycles(m.router.actions.traverse!.latency_s, c),
    link: cycles(m.link.actions.traverse!.latency_s, c),
    globalRead: cycles(m.global_buffer.actions.read!.latency_s, c),
    globalWrite: cycles(m.global_buffer.actions.write!.latency_s, c),
    // The K class steps run back to back through the unit's lanes (class_step latency = cycle / lanes):
    // the whole sequence is rounded up to cycles, not each step.
    entropy: cycles(w.network.classes * eu.class_step!.latency_s, c) + cycles(eu.decide!.latency_s, c),
  };
}

/** Flits of a packet of `bits` (at least one: the end-of-frame marker). */
export function flitsOf(bits: number, flitBits: number): number {
  return Math.max(1, Math.ceil(bits / flitBits));
}

/**
 * Cycles from injection to delivery of a packet over `hops` links without contention: per hop the
 * router pipeline and the link, then the destination router and the serialisation of the other flits.
 * Zero hops: endpoints on one node exchange data locally.
 */
export function packetCycles(c: CycleCosts, hops: number, flits: number): number {
  return hops === 0 ? 0 : hops * (c.router + c.link) + c.router + flits - 1;
}

/** Global-buffer reads of one input frame of layer 0, and the cycles until it leaves the buffer. */
export function globalReads(spec: ArchSpec, plan: LayerPlan): number {
  return Math.ceil((plan.geo.lm.layer.inputElements * plan.elemBits) / spec.global_buffer.width_bits);
}

/** Writes of the final output (the K logits) to the global buffer. */
export function outputWrites(w: Workload): number {
  return Math.ceil((w.network.classes * w.spec.noc.psum_bits) / w.spec.global_buffer.width_bits);
}

/**
 * Stage-B cycles per output position on a tile with `homeNeurons` neurons per position: the LIF units,
 * the membrane-buffer ports (the potentials kept on the tile) and the global buffer (the potentials that
 * spilled there), working in parallel; the slowest sets the pace. Non-spiking layers: one accumulator add.
 */
export function stageBCycles(
  spec: ArchSpec,
  c: CycleCosts,
  spiking: boolean,
  homeNeurons: number,
  use: MembraneUse,
): number {
  if (homeNeurons === 0) return 0;
  if (!spiking) return c.shift;
  const lif = Math.ceil(homeNeurons / spec.lif_unit.units_per_tile) * c.lif;
  // Bits each neuron moves through the membrane buffer: its potential (read and/or written) and, for a
  // static first layer under reuse, its stored pre-activation.
  const bitsPerNeuron = spec.lif_unit.potential_bits * use.opsPerNeuron + use.preBitsPerNeuron;
  const accesses = Math.ceil(
    (homeNeurons * bitsPerNeuron * (1 - use.spill)) / spec.membrane_buffer.width_bits,
  );
  const ports = Math.ceil(accesses / spec.membrane_buffer.ports);
  let spilled = 0;
  if (use.spill > 0 && bitsPerNeuron > 0)
    spilled =
      Math.ceil((homeNeurons * bitsPerNeuron * use.spill) / spec.global_buffer.width_bits) *
      Math.max(c.globalRead, c.globalWrite);
  return Math.max(lif, ports, spilled);
}

// ---------------------------------------------------------------------------------------------------
// Plans: the tiles of each layer and what they exchange
// ---------------------------------------------------------------------------------------------------

export interface TilePlan {
  /** Physical tile. */
  tile: number;
  /** Row pieces (index over all groups) held on the tile, and cycles per row group of each: read + the
   * slowest ADC rounds among its column pieces on this tile × conversion. */
  pieces: Int32Array;
  perGroup: Int32Array;
  /** Neurons per position whose first row piece is on this tile (stage B work). */
  homeNeurons: number;
  /** Fraction of the layer's input rows the tile needs. */
  fraction: number;
  /** Partial-sum flows this tile sends: home tile (local index) and bits per position, in send order. */
  psumTo: Int32Array;
  psumBits: Float64Array;
  /** Number of tiles sending partial sums to this tile. */
  psumFrom: number;
}

export interface LayerPlan {
  geo: LayerGeometry;
  tiles: TilePlan[];
  /** Tiles with home neurons (the producers of the layer's output). */
  homes: number;
  addrBits: number;
  elemBits: number;
  /** Timesteps the layer runs (trace header). */
  timesteps: number;
  /** Membrane use at t = 0, 0 < t < T−1, t = T−1 (from the analytic counting rules). */
  memUse: MembraneUse[];
  /**
   * A static first layer computed once per inference (`reusesStaticInput`, T > 1): at t > 0 no input is
   * delivered, no crossbar reads, and stage B reads the stored pre-activations.
   */
  staticReuse: boolean;
}

export function planLayers(w: Workload, header: TraceHeader): LayerPlan[] {
  return w.mapping.layers.map((_, l) => planLayer(w, l, header));
}

function planLayer(w: Workload, l: number, header: TraceHeader): LayerPlan {
  const binary = header.layers[l].input_kind === 'spikes';
  const spec = w.spec;
  const lm = w.mapping.layers[l];
  const geo = layerGeometry(spec, lm, binary);
  const ranges = Int32Array.from(tileRanges(w, lm).subarray(0, 2 * lm.tiles.length));
  const fractions = Float64Array.from(rowFractions(lm, ranges).subarray(0, lm.tiles.length));
  const adcs = ceilDiv(spec.crossbar.columns, spec.adc.columns_per_adc);
  const build = lm.tiles.map((tile, k) => ({
    tile,
    pieces: [] as number[],
    pieceRounds: [] as number[],
    homeNeurons: 0,
    fraction: fractions[k],
    psumTo: [] as Array<[number, number]>,
    psumFrom: 0,
  }));
  const localOf = (c: number): number => {
    let k = 0;
    while (ranges[2 * k + 1] <= c) k++;
    return k;
  };
  const R = lm.rowSplits;
  for (let g = 0; g < lm.layer.groups; g++)
    for (let j = 0; j < lm.colSplits; j++) {
      const cols = j === lm.colSplits - 1 ? lm.colsUsedLast : lm.colsUsedFull;
      const neurons = cols / lm.columnsPerWeight;
      const rounds = Math.ceil(cols / adcs);
      const base = (g * lm.colSplits + j) * R;
      const home = localOf(base);
      build[home].homeNeurons += neurons;
      const sends = new Map<number, number>();
      for (let i = 0; i < R; i++) {
        const k = localOf(base + i);
        const ti = build[k];
        const piece = g * R + i;
        const at = ti.pieces.indexOf(piece);
        if (at < 0) {
          ti.pieces.push(piece);
          ti.pieceRounds.push(rounds);
        } else ti.pieceRounds[at] = Math.max(ti.pieceRounds[at], rounds);
        if (k !== home) sends.set(k, (sends.get(k) ?? 0) + neurons * spec.noc.psum_bits);
      }
      for (const [k, bits] of sends) {
        const existing = build[k].psumTo.find((p) => p[0] === home);
        if (existing) existing[1] += bits;
        else {
          build[k].psumTo.push([home, bits]);
          build[home].psumFrom++;
        }
      }
    }
  const c = cycleCosts(w);
  const tiles: TilePlan[] = build.map((b) => ({
    tile: b.tile,
    pieces: Int32Array.from(b.pieces),
    perGroup: Int32Array.from(b.pieceRounds, (r) => c.read + r * c.conv),
    homeNeurons: b.homeNeurons,
    fraction: b.fraction,
    psumTo: Int32Array.from(b.psumTo, (p) => p[0]),
    psumBits: Float64Array.from(b.psumTo, (p) => p[1]),
    psumFrom: b.psumFrom,
  }));
  const elemBits = binary ? 1 : spec.crossbar.input_bits;
  const Tl = header.layers[l].timesteps;
  // The membrane rules of the analytic counting (reads at t > 0, writes at t < T−1, the spill), taken
  // from countLayerSupport itself on scratch counts rather than restated here.
  const staticReuse = Tl > 1 && reusesStaticInput(spec, w.network.input.encoding, lm);
  const scratch = new ActionCounts(1, 1);
  const memUse = [0, Math.min(1, Tl - 1), Tl - 1].map((t) =>
    countLayerSupport(spec, lm, t, Tl, geo.planes, elemBits, scratch, 0, 0, staticReuse),
  );
  return {
    geo,
    tiles,
    homes: tiles.filter((x) => x.homeNeurons > 0).length,
    addrBits: Math.max(1, Math.ceil(Math.log2(lm.layer.inputElements))),
    elemBits,
    timesteps: Tl,
    memUse,
    staticReuse,
  };
}

/** Membrane use of a layer at timestep t. */
export function memUseAt(plan: LayerPlan, t: number): MembraneUse {
  return plan.memUse[t === 0 ? 0 : t >= plan.timesteps - 1 ? 2 : 1];
}

/** NoC bits of a layer's input frame: address-event (active elements × address [+ value]) or bitmap. */
export function payloadBits(spec: ArchSpec, plan: LayerPlan, activeElems: number): number {
  const elements = plan.geo.lm.layer.inputElements;
  return spec.noc.spike_encoding === 'bitmap'
    ? elements * plan.elemBits
    : activeElems * (plan.addrBits + (plan.geo.binary ? 0 : plan.elemBits));
}

// ---------------------------------------------------------------------------------------------------
// Per-sample work of every (layer, timestep): extracted once, read by the replay and the critical path
// ---------------------------------------------------------------------------------------------------

/**
 * The work of one sample, per (layer, timestep), extracted on first use: the frame's crossbar work, its
 * NoC payload, and per tile the timestep's stage-A cycles (`aCycles`) and stage-B span (`bSpan`, see
 * `tileTimestep`) and stage-B cycles per position (`dB`). Timesteps beyond the recorded frames (pipelined
 * run-ahead) reuse the last recorded frame.
 */
export class SampleWork {
  readonly plans: LayerPlan[];
  readonly T2: number;
  private readonly spec: ArchSpec;
  private readonly costs: CycleCosts;
  /** done[l * T2 + t]: 1 once extracted for the current sample. */
  private readonly done: Uint8Array;
  /** payload[l * T2 + t]: NoC bits of the input frame. */
  readonly payload: Float64Array;
  /** Crossbar totals for the counts: groups[l·T2+t], activeRows[l·T2+t]. */
  readonly groupsTotal: Float64Array;
  readonly activeRowsTotal: Float64Array;
  readonly nPlanes: Int32Array;
  /** Per layer, [t * tiles + k]: stage-A cycles, stage-B span and stage-B cycles per position. */
  readonly aCycles: Float64Array[];
  readonly bSpan: Float64Array[];
  readonly dB: Float64Array[];
  /** One FrameWork per layer: a layer's last extraction stays available for an identical next frame. */
  private readonly fws: FrameWork[];
  /** lastT[l]: timestep whose frame fws[l] holds for the current sample, −1 for none. */
  private readonly lastT: Int32Array;
  private sample: TraceSample | null = null;

  constructor(w: Workload, plans: LayerPlan[], costs: CycleCosts) {
    this.spec = w.spec;
    this.costs = costs;
    this.plans = plans;
    const T = Math.max(...plans.map((p) => p.timesteps));
    this.T2 = T + 2;
    const n = plans.length * this.T2;
    this.done = new Uint8Array(n);
    this.payload = new Float64Array(n);
    this.groupsTotal = new Float64Array(n);
    this.activeRowsTotal = new Float64Array(n);
    this.nPlanes = new Int32Array(n);
    this.aCycles = plans.map((p) => new Float64Array(this.T2 * p.tiles.length));
    this.bSpan = plans.map((p) => new Float64Array(this.T2 * p.tiles.length));
    this.dB = plans.map((p) => new Float64Array(this.T2 * p.tiles.length));
    this.fws = plans.map(() => new FrameWork());
    this.lastT = new Int32Array(plans.length).fill(-1);
  }

  /** Starts a new sample (forgets the previous one's work). */
  begin(s: TraceSample): void {
    this.sample = s;
    this.done.fill(0);
    this.lastT.fill(-1);
  }

  /** Extracts (l, t) if not yet done; returns its index l * T2 + t. */
  ensure(l: number, t: number): number {
    const key = l * this.T2 + t;
    if (this.done[key] === 0) this.extract(l, t, key);
    return key;
  }

  private extract(l: number, t: number, key: number): void {
    const plan = this.plans[l];
    if (plan.staticReuse && t > 0) {
      // The stored pre-activations: nothing delivered, no crossbar work; stage B reads them.
      this.payload[key] = 0;
      this.groupsTotal[key] = 0;
      this.activeRowsTotal[key] = 0;
      this.nPlanes[key] = plan.geo.planes;
      const use = memUseAt(plan, t);
      const n = plan.tiles.length;
      const P = plan.geo.positions;
      for (let k = 0; k < n; k++) {
        const ti = plan.tiles[k];
        const dB = stageBCycles(this.spec, this.costs, plan.geo.lm.layer.spiking, ti.homeNeurons, use);
        this.dB[l][t * n + k] = dB;
        this.aCycles[l][t * n + k] = 0;
        this.bSpan[l][t * n + k] = P * dB;
      }
      this.done[key] = 1;
      return;
    }
    const frames = this.sample!.inputs[l];
    const frame = frames[Math.min(t, frames.length - 1)];
    const fw = this.fws[l];
    // A frame equal to the one this layer extracted last (the direct-encoded image repeated every
    // timestep) has the same crossbar work: keep it instead of extracting again.
    const last = this.lastT[l];
    if (last < 0 || !sameFrame(frames[Math.min(last, frames.length - 1)], frame))
      fw.extract(this.spec, plan.geo, frame);
    this.lastT[l] = t;
    this.payload[key] = payloadBits(this.spec, plan, fw.activeElems);
    this.groupsTotal[key] = fw.groupsTotal;
    this.activeRowsTotal[key] = fw.activeRowsTotal;
    this.nPlanes[key] = fw.nPlanes;
    const use = memUseAt(plan, t);
    const spiking = plan.geo.lm.layer.spiking;
    const n = plan.tiles.length;
    for (let k = 0; k < n; k++) {
      const ti = plan.tiles[k];
      const dB = stageBCycles(this.spec, this.costs, spiking, ti.homeNeurons, use);
      this.dB[l][t * n + k] = dB;
      tileTimestep(plan, ti, fw.groups, this.costs.shift, dB, ti.homeNeurons > 0 && ti.psumFrom === 0);
      this.aCycles[l][t * n + k] = TT.a;
      this.bSpan[l][t * n + k] = TT.bSpan;
    }
    this.done[key] = 1;
  }
}

/** Whether two frames hold the same values (same object, or same type, length and elements). */
function sameFrame(a: Uint8Array | Float32Array, b: Uint8Array | Float32Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length || a.constructor !== b.constructor) return false;
  const n = a.length;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Result of `tileTimestep` (module scratch: no object per call). */
const TT = { a: 0, bSpan: 0 };

/**
 * A tile's timestep through its two-stage position pipeline. Stage A of position p takes
 * dA_p = max over the tile's row pieces of groups × cycles per group, plus one shift-add; positions
 * follow each other, so stage A ends `a = Σ_p dA_p` after the start. When the tile runs stage B itself
 * as positions come out of stage A (`pipelinedB`: it holds home neurons and waits for no partial sums),
 * B ends at max(max(start, B free) + P·dB, start + bSpan) with bSpan = max_p (A_p + (P − p)·dB), A_p
 * the end of position p's stage A (0-based p) — the closed form of b ← max(b, a_p) + dB over p.
 */
export function tileTimestep(
  plan: LayerPlan,
  ti: TilePlan,
  groups: Int32Array,
  shift: number,
  dB: number,
  pipelinedB: boolean,
): void {
  const P = plan.geo.positions;
  const pieces = plan.geo.pieces;
  const tp = ti.pieces;
  const pg = ti.perGroup;
  const nq = tp.length;
  let a = 0;
  let span = 0;
  if (nq === 1) {
    const piece = tp[0];
    const per = pg[0];
    for (let p = 0; p < P; p++) {
      a += groups[p * pieces + piece] * per + shift;
      if (pipelinedB) {
        const b = a + (P - p) * dB;
        if (b > span) span = b;
      }
    }
  } else {
    for (let p = 0; p < P; p++) {
      const base = p * pieces;
      let dA = 0;
      for (let q = 0; q < nq; q++) {
        const v = groups[base + tp[q]] * pg[q];
        if (v > dA) dA = v;
      }
      a += dA + shift;
      if (pipelinedB) {
        const b = a + (P - p) * dB;
        if (b > span) span = b;
      }
    }
  }
  TT.a = a;
  TT.bSpan = span;
}

/** End of stage B of a pipelined-B tile that started its timestep at `start` (see `tileTimestep`). */
export function pipelinedBEnd(start: number, bFree: number, P: number, dB: number, bSpan: number): number {
  const x = (start > bFree ? start : bFree) + P * dB;
  const y = start + bSpan;
  return x > y ? x : y;
}
