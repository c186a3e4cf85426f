/**
 * The imcsim accounting: spike-driven action counts and the contention-free critical path, in closed
 * form from the mapping and the per-layer, per-timestep input activity. The discrete-event replay counts
 * the same actions event by event; with contention impossible the two agree (the property tests say so).
 *
 * Conventions (docs/ARCHITECTURE.md, "Analytic model"):
 * - A layer's row holds the cost of delivering its input (NoC, tile buffer writes; the global-buffer
 *   read of the image for layer 0), its crossbar reads, conversions, accumulation, pooling, and neuron
 *   updates with their membrane traffic. The exit row holds the logits' trip to the I/O node, the entropy
 *   unit and the final output write.
 * - Rows with no active input bit are skipped when zero_skipping is on; active rows are read in groups of
 *   rows_parallel; every read converts every used column (columns_per_adc rounds per ADC at most).
 * - Multi-bit inputs (direct-encoded image, sums after pooling) are applied bit-serially over input_bits
 *   planes; the given rate is the fraction of active rows in each plane.
 * - Membrane potentials are read at t > 0 and written at t < T−1; at T = 1 none is kept. Potentials
 *   beyond the layer's share of its tiles' membrane buffers spill to the global buffer.
 */
import { A, COMPONENTS, NUM_ACTIONS } from '../hw/actions.js';
import { ceilDiv, hops, type ChipMapping, type LayerMapping } from '../chip/mapping.js';
import { ActionCounts } from '../hw/counts.js';
import type { ModelOutput } from '../pricing/price.js';
import { imcsimArea } from '../chip/area.js';
import { realRows, rowFractions, tileRanges, tileShapes, type TileShape } from '../chip/geometry.js';
import {
  bitProbabilities,
  expectedGroups,
  expectedMax,
  nonZeroLevelProbability,
  stageGroupsCdf,
} from './expectation.js';
import { countLayerSupport, reusesStaticInput, type MembraneUse } from '../chip/layer-counts.js';
import type { AreaUnits, Excluded, Workload } from '../chip/workload.js';

const NC = COMPONENTS.length;
const CI = Object.fromEntries(COMPONENTS.map((c, i) => [c, i])) as Record<
  (typeof COMPONENTS)[number],
  number
>;
const ci = (c: (typeof COMPONENTS)[number]) => CI[c];

/** Traffic between tiles, aggregated per (source, destination) pair with a payload in bits. */
interface Flow {
  src: number; // tile, or -1 for the I/O node
  dst: number;
  bits: number;
}

/**
 * Scratch buffers reused across layers and calls: the analytic model runs in sweeps, and on this class
 * of machine one typed-array allocation costs about as much as a hundred loop iterations (measured).
 * Each helper owns its buffer; a buffer's contents live only until the helper is called again.
 */
const PSUM = 0;
const F64_SCRATCH = [new Float64Array(256)];
const SRC_X = 0;
const SRC_Y = 1;
const I32_SCRATCH = [new Int32Array(256), new Int32Array(256)];
function grownI32(which: number, n: number): Int32Array {
  if (I32_SCRATCH[which].length < n)
    I32_SCRATCH[which] = new Int32Array(Math.max(n, 2 * I32_SCRATCH[which].length));
  return I32_SCRATCH[which];
}
function grownF64(which: number, n: number): Float64Array {
  let b = F64_SCRATCH[which];
  if (b.length < n) b = F64_SCRATCH[which] = new Float64Array(Math.max(n, 2 * b.length));
  b.fill(0, 0, n);
  return b;
}

/**
 * A latency in whole chip cycles, in seconds: every action occupies its unit for whole cycles (the
 * replay's rule, docs/ARCHITECTURE.md), so a 781 ps conversion takes one 1 ns cycle.
 */
function cyc(w: Workload, seconds: number): number {
  const cycle = 1 / w.spec.chip.clock_hz;
  return Math.ceil(seconds / cycle - 1e-9) * cycle;
}

/** Expected stage-A row groups of a tile shape in a context (rate, bits, rows_parallel, …). */
const STAGE_A_GROUPS = new Map<string, number>();

interface Route {
  router: number;
  link: number;
  time_s: number;
}

/** Flit traversals and contention-free delivery time of a set of flows (payloads × scale). */
function routeFlows(w: Workload, flows: Flow[], scale: number): Route {
  const noc = w.spec.noc;
  const m: ChipMapping = w.mapping;
  const router = w.models.router.actions.traverse!;
  const link = w.models.link.actions.traverse!;
  const cycle = 1 / w.spec.chip.clock_hz;
  let maxPath = 0;
  let routerN = 0;
  let linkN = 0;
  for (const f of flows) {
    // Endpoints on the same mesh node exchange data locally: no packet enters the network.
    const h = hops(m, f.src, f.dst);
    if (h === 0) continue;
    // At least one flit: the end-of-frame marker.
    const flits = Math.max(1, Math.ceil((f.bits * scale) / noc.flit_bits));
    routerN += flits * (h + 1);
    linkN += flits * h;
    // Without contention each packet arrives after its path and the serialisation of its flits.
    maxPath = Math.max(
      maxPath,
      (h + 1) * cyc(w, router.latency_s) + h * cyc(w, link.latency_s) + (flits - 1) * cycle,
    );
  }
  return { router: routerN, link: linkN, time_s: maxPath };
}

const NO_ROUTE: Route = { router: 0, link: 0, time_s: 0 };

/**
 * Partial sums, per output position, routed: for each column group (g, j), the row pieces held on tiles
 * other than the tile of its first piece send their sums to that tile. Column groups are visited in order,
 * so the home tile never decreases and each (source, home) pair is complete when the home moves on.
 * O(column groups + tiles), no per-pair objects.
 */
function psumRoute(w: Workload, lm: LayerMapping, ranges: Int32Array, positions: number): Route {
  const nTiles = lm.tiles.length;
  if (lm.rowSplits === 1 || nTiles === 1) return NO_ROUTE;
  const m = w.mapping;
  const psumBits = w.spec.noc.psum_bits;
  const flitBits = w.spec.noc.flit_bits;
  const tRouter = cyc(w, w.models.router.actions.traverse!.latency_s);
  const tLink = cyc(w, w.models.link.actions.traverse!.latency_s);
  const cycle = 1 / w.spec.chip.clock_hz;
  const buf = grownF64(PSUM, 2 * nTiles);
  // buf[0..n): bits from local tile q to the current home; buf[n..2n): flits injected by tile q.
  let routerN = 0;
  let linkN = 0;
  let maxPath = 0;
  let home = -1;
  let lo = 0;
  let hi = -1;
  const flush = () => {
    const hx = m.tileXY[2 * lm.tiles[home]];
    const hy = m.tileXY[2 * lm.tiles[home] + 1];
    for (let q = lo; q <= hi; q++) {
      if (buf[q] === 0) continue;
      const flits = Math.max(1, Math.ceil((buf[q] * positions) / flitBits));
      const t = lm.tiles[q];
      const h = m.noc.hops(m.tileXY[2 * t], m.tileXY[2 * t + 1], hx, hy);
      if (h === 0) {
        buf[q] = 0;
        continue;
      }
      routerN += flits * (h + 1);
      linkN += flits * h;
      maxPath = Math.max(maxPath, (h + 1) * tRouter + h * tLink + (flits - 1) * cycle);
      buf[q] = 0;
    }
  };
  let k = 0;
  for (let g = 0; g < lm.layer.groups; g++) {
    for (let j = 0; j < lm.colSplits; j++) {
      const base = (g * lm.colSplits + j) * lm.rowSplits;
      const end = base + lm.rowSplits;
      while (ranges[2 * k + 1] <= base) k++;
      if (k !== home) {
        if (home >= 0) flush();
        home = k;
        lo = k + 1;
        hi = k;
      }
      const neurons = (j === lm.colSplits - 1 ? lm.colsUsedLast : lm.colsUsedFull) / lm.columnsPerWeight;
      for (let q = k + 1; q < nTiles && ranges[2 * q] < end; q++) {
        buf[q] += (Math.min(end, ranges[2 * q + 1]) - ranges[2 * q]) * neurons * psumBits;
        if (q > hi) hi = q;
      }
    }
  }
  if (home >= 0) flush();
  return { router: routerN, link: linkN, time_s: maxPath };
}

/**
 * Input delivery of one layer, precomputed from the mapping: every source tile (the previous layer's, or
 * the I/O node) sends an equal share of the payload to every destination tile, scaled by the fraction of
 * the input rows that destination holds. Destinations with the same fraction form a group whose flits per
 * pair are equal, so each timestep costs O(groups); hop sums and maxima come from the topology's hop
 * profile of the sources (chip/noc; the mesh's: prefix sums over coordinates, never enumerating pairs).
 */
interface InputRoute {
  sources: number;
  fraction: number[];
  dests: number[];
  pairs: number[];
  hopSum: number[];
  maxHops: number[];
}

function inputRoute(w: Workload, l: number, fractions: Float64Array): InputRoute {
  const m = w.mapping;
  const xy = m.tileXY;
  const lm = m.layers[l];
  // The previous layer's output leaves from its home tiles (those holding a column group's first row piece).
  const prevShapes = l === 0 ? null : tileShapes(w, m.layers[l - 1]);
  const prev = l === 0 ? null : m.layers[l - 1].tiles.filter((_, k) => prevShapes![k].homeNeurons > 0);
  const nS = prev ? prev.length : 1;
  // The sources' coordinates (the previous layer's tiles, or the I/O node); the topology sums their hops.
  const sx = grownI32(SRC_X, nS);
  const sy = grownI32(SRC_Y, nS);
  for (let i = 0; i < nS; i++) {
    const t = prev ? prev[i] : -1;
    sx[i] = t < 0 ? m.ioXY[0] : xy[2 * t];
    sy[i] = t < 0 ? m.ioXY[1] : xy[2 * t + 1];
  }
  const hopsFrom = m.noc.profile(sx, sy, nS);
  const r: InputRoute = { sources: nS, fraction: [], dests: [], pairs: [], hopSum: [], maxHops: [] };
  const isSource = new Set(prev ?? []);
  let g = -1;
  for (let k = 0; k < lm.tiles.length; k++) {
    const d = lm.tiles[k];
    const f = fractions[k];
    if (g < 0 || r.fraction[g] !== f) {
      g = r.fraction.indexOf(f);
      if (g < 0) {
        g = r.fraction.length;
        r.fraction.push(f);
        r.dests.push(0);
        r.pairs.push(0);
        r.hopSum.push(0);
        r.maxHops.push(0);
      }
    }
    const x = xy[2 * d];
    const y = xy[2 * d + 1];
    r.dests[g] += 1;
    // A source on the destination's own node delivers locally (a tile of the previous layer, or the I/O node).
    const local = prev ? isSource.has(d) : x === m.ioXY[0] && y === m.ioXY[1];
    r.pairs[g] += nS - (local ? 1 : 0);
    r.hopSum[g] += hopsFrom.sum(x, y);
    // Largest hop count between the sources and the group's destinations.
    r.maxHops[g] = Math.max(r.maxHops[g], hopsFrom.max(x, y));
  }
  return r;
}

function routeInput(w: Workload, r: InputRoute, payloadBits: number): Route {
  const flitBits = w.spec.noc.flit_bits;
  const router = w.models.router.actions.traverse!;
  const link = w.models.link.actions.traverse!;
  const cycle = 1 / w.spec.chip.clock_hz;
  let routerN = 0;
  let linkN = 0;
  let maxPath = 0;
  for (let g = 0; g < r.fraction.length; g++) {
    if (r.pairs[g] === 0) continue;
    // At least one flit per packet: the end-of-frame marker.
    const flits = Math.max(1, Math.ceil(((payloadBits / r.sources) * r.fraction[g]) / flitBits));
    routerN += flits * (r.hopSum[g] + r.pairs[g]);
    linkN += flits * r.hopSum[g];
    // Without contention each packet arrives after its path and the serialisation of its flits.
    maxPath = Math.max(
      maxPath,
      (r.maxHops[g] + 1) * cyc(w, router.latency_s) +
        r.maxHops[g] * cyc(w, link.latency_s) +
        (flits - 1) * cycle,
    );
  }
  return { router: routerN, link: linkN, time_s: maxPath };
}

/**
 * What imcsimModel needs of each layer that depends only on the chip and the mapping (not on rates or
 * timesteps): the tiles' crossbar ranges and input-row fractions, the input route, the partial-sum
 * traffic, and the chip's area units. Cached per (mapping, component models) — both immutable and
 * themselves cached per hardware description and network (chip/workload.ts) — so repeated estimates of
 * the same pair skip the geometry and routing work.
 */
interface LayerStatics {
  route: InputRoute;
  psum: Route;
}
interface ChipStatics {
  models: Workload['models'];
  spec: Workload['spec'];
  layers: LayerStatics[];
  area: AreaUnits;
}
const staticsCache = new WeakMap<Workload['mapping'], ChipStatics>();

function chipStatics(w: Workload): ChipStatics {
  const hit = staticsCache.get(w.mapping);
  if (hit && hit.models === w.models && hit.spec === w.spec) return hit;
  const layers: LayerStatics[] = [];
  for (let l = 0; l < w.mapping.layers.length; l++) {
    const lm = w.mapping.layers[l];
    const ranges = tileRanges(w, lm);
    const fractions = rowFractions(lm, ranges);
    const route = inputRoute(w, l, fractions);
    // Partial sums are the same every timestep: route them once.
    layers.push({ route, psum: psumRoute(w, lm, ranges, lm.layer.positions) });
  }
  const statics: ChipStatics = { models: w.models, spec: w.spec, layers, area: imcsimArea(w) };
  // Only an immutable mapping is cached (one built for a hand-made, unfrozen spec is rebuilt per call).
  if (Object.isFrozen(w.spec)) staticsCache.set(w.mapping, statics);
  return statics;
}

function addRoute(counts: ActionCounts, row: number, t: number, r: Route): number {
  counts.add(row, t, A.ROUTER_TRAVERSE, r.router);
  counts.add(row, t, A.LINK_TRAVERSE, r.link);
  return r.time_s;
}

/** Expected row groups and active rows of a layer's row pieces, per row histogram (see the use). */
const EXPECTED_BLOCKS = new WeakMap<object, Map<string, [number, number]>>();
/** Expected stage-A row groups per tile, per tile list and context (see stageA). */
const STAGE_A_BY_SHAPES = new WeakMap<object, Map<string, Float64Array>>();

/**
 * One tile of each class the timing rules cannot tell apart (equal stage-A signature and ADC rounds,
 * equal home neurons and partial-sum input): a layer's time is a maximum over tiles, so these suffice.
 * Kept per tile list (cached with the mapping).
 */
const TILE_CLASSES = new WeakMap<object, Int32Array>();
function tileClasses(shapes: TileShape[]): Int32Array {
  let reps = TILE_CLASSES.get(shapes);
  if (!reps) {
    const seen = new Set<string>();
    const out: number[] = [];
    for (let k = 0; k < shapes.length; k++) {
      const sh = shapes[k];
      const key = `${sh.signature}|${sh.rounds}|${sh.homeNeurons}|${sh.psumIn ? 1 : 0}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(k);
    }
    TILE_CLASSES.set(shapes, (reps = Int32Array.from(out)));
  }
  return reps;
}

export function imcsimModel(w: Workload): ModelOutput {
  const { spec, mapping, models } = w;
  const L = mapping.layers.length;
  const T = w.timesteps;
  const counts = new ActionCounts(L + 1, T);
  const busy = new Float64Array((L + 1) * T);
  const cycle = 1 / spec.chip.clock_hz;
  const xb = spec.crossbar;
  const rp = xb.rows_parallel;
  const adcsPerXbar = ceilDiv(xb.columns, spec.adc.columns_per_adc);
  const tRead = cyc(w, models.crossbar.actions.read?.latency_s ?? cycle);
  const tConv = cyc(w, models.adc.actions.convert!.latency_s);
  const tShift = cyc(w, models.shift_add.actions.op!.latency_s);
  const tLif = cyc(w, models.lif_unit.actions.update!.latency_s);
  const tGlobalRead = cyc(w, models.global_buffer.actions.read!.latency_s);
  const tGlobalWrite = cyc(w, models.global_buffer.actions.write!.latency_s);
  const K = w.network.classes;
  const statics = chipStatics(w);

  for (let l = 0; l < L; l++) {
    const lm = mapping.layers[l];
    const layer = lm.layer;
    const Tl = w.layerTimesteps[l];
    const passes = layer.binaryInput ? 1 : xb.input_bits;
    const elemBits = layer.binaryInput ? 1 : xb.input_bits;
    const rowPieces = [
      { rows: lm.rowsFull, n: (lm.rowSplits - 1) * layer.groups },
      { rows: lm.rowsLast, n: layer.groups },
    ];
    const rowsTotal = layer.rows * layer.groups;
    const { route, psum: psumTraffic } = statics.layers[l];
    const shapes = tileShapes(w, lm);
    const tileA = new Float64Array(shapes.length);
    const reps = tileClasses(shapes);
    /** Stage-B time per position on a tile with h home neurons (whole cycles, as the replay). */
    const stageB = (h: number, use: MembraneUse): number => {
      if (h === 0) return 0;
      if (!layer.spiking) return tShift;
      const lif = Math.ceil(h / spec.lif_unit.units_per_tile) * tLif;
      const bitsPerNeuron = spec.lif_unit.potential_bits * use.opsPerNeuron + use.preBitsPerNeuron;
      const accesses = Math.ceil((h * bitsPerNeuron * (1 - use.spill)) / spec.membrane_buffer.width_bits);
      const ports = Math.ceil(accesses / spec.membrane_buffer.ports) * cycle;
      let spilled = 0;
      if (use.spill > 0 && bitsPerNeuron > 0)
        spilled =
          Math.ceil((h * bitsPerNeuron * use.spill) / spec.global_buffer.width_bits) *
          Math.max(tGlobalRead, tGlobalWrite);
      return Math.max(lif, ports, spilled);
    };
    /**
     * Expected stage-A time of each tile at rate r: per output position the slowest of its row pieces,
     * E[max_q Σ_planes row groups] (independent pieces, analytic/expectation.ts) × (read + ADC rounds ×
     * conversion), and one shift-add.
     */
    const stageA = (r: number): void => {
      const cdfs = new Map<number, Float64Array>();
      const cdfOf = (n: number): Float64Array => {
        let c = cdfs.get(n);
        if (!c) {
          if (!w.ratesGiven && !layer.binaryInput) {
            // Every plane of every element set.
            c = new Float64Array(passes * Math.ceil(n / rp) + 1);
            c.fill(1, passes * Math.ceil(n / rp));
          } else c = stageGroupsCdf(n, r, layer.binaryInput, elemBits, rp);
          cdfs.set(n, c);
        }
        return c;
      };
      // Tiles holding the same row pieces' shapes have the same stage A: computed once (and kept
      // across calls, sweeps repeat them).
      const ctx = `|${r}|${layer.binaryInput ? 1 : elemBits}|${rp}|${w.ratesGiven ? 1 : 0}|${xb.zero_skipping ? 1 : 0}|${passes}|${P}|${lm.rowsFull}`;
      // Per tile list (cached with the mapping) and context: one look-up per layer on a warm call.
      let byCtx = STAGE_A_BY_SHAPES.get(shapes);
      if (!byCtx) STAGE_A_BY_SHAPES.set(shapes, (byCtx = new Map()));
      const knownGroups = byCtx.get(ctx);
      if (knownGroups) {
        for (const k of reps) tileA[k] = knownGroups[k] * (tRead + shapes[k].rounds * tConv) + P * tShift;
        return;
      }
      const tileGroups = new Float64Array(shapes.length);
      const local = new Map<number, number>();
      for (let k = 0; k < shapes.length; k++) {
        const sh = shapes[k];
        let groups = local.get(sh.signature);
        if (groups !== undefined) {
          tileGroups[k] = groups;
          tileA[k] = groups * (tRead + sh.rounds * tConv) + P * tShift;
          continue;
        }
        const key = sh.signature + ctx;
        groups = STAGE_A_GROUPS.get(key);
        if (groups === undefined) {
          groups = 0;
          if (!xb.zero_skipping) groups = P * passes * Math.ceil(lm.rowsFull / rp);
          else
            for (let i = 0; i < sh.tuples.length; i++)
              groups += sh.mult[i] * expectedMax(sh.tuples[i].map(cdfOf));
          if (STAGE_A_GROUPS.size >= 65536) STAGE_A_GROUPS.clear();
          STAGE_A_GROUPS.set(key, groups);
        }
        local.set(sh.signature, groups);
        tileGroups[k] = groups;
        tileA[k] = groups * (tRead + sh.rounds * tConv) + P * tShift;
      }
      if (byCtx.size >= 4096) byCtx.clear();
      byCtx.set(ctx, tileGroups);
    };
    const addrBits = Math.max(1, Math.ceil(Math.log2(layer.inputElements)));

    const P = layer.positions;
    const block = new Float64Array(3);
    let blockRate = NaN;
    const real = realRows(lm, xb.rows);
    const bitProbs = bitProbabilities(elemBits);
    const cols = (lm.colSplits - 1) * lm.colsUsedFull + lm.colsUsedLast;
    const rounds = Math.ceil(lm.colsUsedFull / adcsPerXbar);
    let routeRate = NaN;
    let inputRouteResult: Route = NO_ROUTE;
    const staticReuse = Tl > 1 && reusesStaticInput(spec, w.network.input.encoding, lm);
    for (let t = 0; t < Tl; t++) {
      const r = w.rates[l][t];
      if (staticReuse && t > 0) {
        // The static first layer reads its stored pre-activations: no delivery, no crossbar pass.
        const use = countLayerSupport(spec, lm, t, Tl, passes, elemBits, counts, l, t, true);
        let span = 0;
        for (const k of reps) span = Math.max(span, P * stageB(shapes[k].homeNeurons, use));
        busy[l * T + t] = span;
        continue;
      }
      // --- crossbars, drivers, ADCs, accumulation (recomputed only when the rate changes) ---
      // Expectations for independent inputs (analytic/expectation.ts): per bit-plane activity p, a row
      // piece with n non-padded rows reads E[⌈Binomial(n, p) / rows_parallel⌉] row groups.
      if (r !== blockRate) {
        blockRate = r;
        // The binomial expectations cost O(rows²) per plane: kept per row histogram (cached with the
        // mapping) and what they depend on, since sweeps and repeated estimates ask for them again.
        const blockKey = `${r}|${passes}|${layer.binaryInput || !w.ratesGiven ? 1 : 0}|${elemBits}|${rp}|${xb.zero_skipping ? 1 : 0}`;
        let byKey = EXPECTED_BLOCKS.get(real);
        if (!byKey) EXPECTED_BLOCKS.set(real, (byKey = new Map()));
        let known = byKey.get(blockKey);
        if (!known) {
          let groupsTot = 0;
          let activeTot = 0;
          for (let k = 0; k < passes; k++) {
            // Every input assumed active (no rates): every plane of every element is set.
            const pk = layer.binaryInput || !w.ratesGiven ? r : r * bitProbs[k];
            for (let n = 1; n < real.slots.length; n++) {
              if (real.slots[n] === 0) continue;
              activeTot += real.slots[n] * n * pk;
              if (xb.zero_skipping) groupsTot += real.slots[n] * expectedGroups(n, pk, rp);
            }
          }
          if (byKey.size >= 4096) byKey.clear();
          byKey.set(blockKey, (known = [groupsTot, activeTot]));
        }
        let groupsTot = known[0];
        const activeTot = known[1];
        if (!xb.zero_skipping) {
          // Every row of a piece is scheduled in every plane, active or not.
          for (const rpiece of rowPieces) groupsTot += rpiece.n * P * passes * Math.ceil(rpiece.rows / rp);
        }
        block[0] = groupsTot;
        block[1] = activeTot;
        stageA(r);
      }
      const conversions = block[0] * cols;
      counts.add(l, t, A.XBAR_READ, block[0] * lm.colSplits);
      counts.add(l, t, A.XBAR_CELL_READ, block[1] * cols);
      // Every conversion passes a mux, is shifted and added, and lands in an output register lane.
      counts.add(l, t, A.ADC_CONVERT, conversions);
      counts.add(l, t, A.MUX_SELECT, conversions);
      counts.add(l, t, A.SHIFT_ADD, conversions);
      counts.add(l, t, A.OUTREG_WRITE, conversions);
      counts.add(l, t, A.ROW_DRIVE, block[1] * lm.colSplits);
      // --- input delivery: global buffer (layer 0), NoC, tile buffer, tile bus ---
      const activeElems =
        r *
        layer.inputElements *
        (layer.binaryInput || !w.ratesGiven ? 1 : nonZeroLevelProbability(elemBits));
      const payload =
        spec.noc.spike_encoding === 'bitmap'
          ? layer.inputElements * elemBits
          : activeElems * (addrBits + (layer.binaryInput ? 0 : elemBits));
      let inputTime = 0;
      if (l === 0) {
        const gReads = Math.ceil((layer.inputElements * elemBits) / spec.global_buffer.width_bits);
        counts.add(l, t, A.GLOBAL_READ, gReads);
        inputTime += gReads * cyc(w, models.global_buffer.actions.read!.latency_s);
      }
      if (r !== routeRate) {
        routeRate = r;
        inputRouteResult = routeInput(w, route, payload);
      }
      inputTime += addRoute(counts, l, t, inputRouteResult);
      const use = countLayerSupport(spec, lm, t, Tl, passes, elemBits, counts, l, t, staticReuse);
      // --- partial sums between tiles ---
      const psumTime = addRoute(counts, l, t, psumTraffic);
      // --- contention-free time of this layer at this timestep (the replay's per-tile rules) ---
      // Each tile runs stage A over the positions; a home tile runs stage B (neurons, membrane ports)
      // position by position behind it, or, when other tiles send it partial sums, once they arrived.
      let aMax = 0;
      for (const k of reps) aMax = Math.max(aMax, tileA[k]);
      let span = 0;
      for (const k of reps) {
        const sh = shapes[k];
        const a = tileA[k];
        let end = a;
        if (sh.homeNeurons > 0) {
          const dB = stageB(sh.homeNeurons, use);
          end = sh.psumIn ? aMax + psumTime + P * dB : Math.max(a + dB, a / P + P * dB);
        }
        span = Math.max(span, end);
      }
      busy[l * T + t] = inputTime + span;
    }
  }

  // --- exit row: logits to the I/O node, entropy unit, final output write ---
  const last = mapping.layers[L - 1];
  const Tlast = w.layerTimesteps[L - 1];
  const logitBits = K * spec.noc.psum_bits;
  for (let t = 0; t < Tlast; t++) {
    let time = 0;
    const sendNow = w.policy === 'entropy' || t === Tlast - 1;
    if (sendNow) {
      // One packet from each home tile of the output layer.
      const lastShapes = tileShapes(w, last);
      const homes = last.tiles.filter((_, k) => lastShapes[k].homeNeurons > 0);
      const flows = homes.map((s) => ({ src: s, dst: -1, bits: logitBits / homes.length }));
      time += addRoute(counts, L, t, routeFlows(w, flows, 1));
    }
    if (w.policy === 'entropy') {
      counts.add(L, t, A.ENTROPY_CLASS_STEP, K);
      counts.add(L, t, A.ENTROPY_DECIDE, 1);
      const eu = models.entropy_unit.actions;
      time += cyc(w, K * eu.class_step!.latency_s) + cyc(w, eu.decide!.latency_s);
    }
    if (t === Tlast - 1) {
      const writes = Math.ceil(logitBits / spec.global_buffer.width_bits);
      counts.add(L, t, A.GLOBAL_WRITE, writes);
      time += writes * cyc(w, models.global_buffer.actions.write!.latency_s);
    }
    busy[L * T + t] = time;
  }

  return {
    counts,
    timing: { busy_s: busy, latency_s: scheduleLatency(w, busy) },
    area: statics.area,
    excluded: [],
    notes: w.ratesGiven ? [] : ['no spike rates given: every input assumed active (SpikeSim assumption)'],
  };
}

/**
 * End-to-end latency from per-row busy times under the configured schedule.
 * layer-sequential: every (timestep, layer) in turn. timestep-pipelined: layer l works on t+1 while
 * layer l+1 works on t — a row starts timestep t when it finished t−1, the row before finished t and
 * (double-buffered outputs, the replay's rule) the next layer started t−1.
 */
export function scheduleLatency(w: Workload, busy: Float64Array): number {
  const rows = w.mapping.layers.length + 1;
  const T = w.timesteps;
  if (w.spec.schedule.policy === 'layer-sequential') {
    let s = 0;
    for (let t = 0; t < T; t++) for (let r = 0; r < rows; r++) s += busy[r * T + t];
    return s;
  }
  const finish = new Float64Array(rows);
  const start = new Float64Array(rows);
  for (let t = 0; t < T; t++) {
    let prevRowDone = 0;
    for (let r = 0; r < rows; r++) {
      // Double-buffered outputs: a layer starts t only once the next layer started t − 1.
      const gate = t > 0 && r + 1 < rows - 1 ? start[r + 1] : 0;
      start[r] = Math.max(finish[r], prevRowDone, gate);
      finish[r] = start[r] + busy[r * T + t];
      prevRowDone = finish[r];
    }
  }
  return finish[rows - 1];
}

export { NUM_ACTIONS };
