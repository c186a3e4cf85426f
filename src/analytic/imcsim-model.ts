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
import { rowFractions, tileRanges } from '../chip/geometry.js';
import { countLayerSupport, reusesStaticInput } from '../chip/layer-counts.js';
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
  const injected = new Map<number, number>();
  let maxPath = 0;
  let routerN = 0;
  let linkN = 0;
  for (const f of flows) {
    // Endpoints on the same mesh node exchange data locally: no packet enters the network.
    const h = hops(m, f.src, f.dst);
    if (h === 0) continue;
    const flits = Math.ceil((f.bits * scale) / noc.flit_bits);
    if (flits === 0) continue;
    routerN += flits * (h + 1);
    linkN += flits * h;
    injected.set(f.src, (injected.get(f.src) ?? 0) + flits);
    maxPath = Math.max(maxPath, (h + 1) * router.latency_s + h * link.latency_s);
  }
  let maxInjected = 0;
  for (const v of injected.values()) maxInjected = Math.max(maxInjected, v);
  // One flit per cycle leaves a source; the last flit then takes the longest path.
  return {
    router: routerN,
    link: linkN,
    time_s: maxInjected === 0 ? 0 : (maxInjected - 1) * cycle + maxPath,
  };
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
  const tRouter = w.models.router.actions.traverse!.latency_s;
  const tLink = w.models.link.actions.traverse!.latency_s;
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
      const flits = Math.ceil((buf[q] * positions) / flitBits);
      const t = lm.tiles[q];
      const h = m.noc.hops(m.tileXY[2 * t], m.tileXY[2 * t + 1], hx, hy);
      routerN += flits * (h + 1);
      linkN += flits * h;
      buf[nTiles + q] += flits;
      maxPath = Math.max(maxPath, (h + 1) * tRouter + h * tLink);
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
  let maxInjected = 0;
  for (let q = 0; q < nTiles; q++) maxInjected = Math.max(maxInjected, buf[nTiles + q]);
  const cycle = 1 / w.spec.chip.clock_hz;
  return {
    router: routerN,
    link: linkN,
    time_s: maxInjected === 0 ? 0 : (maxInjected - 1) * cycle + maxPath,
  };
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
  const prev = l === 0 ? null : m.layers[l - 1].tiles;
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
  // Tiles of a layer are a contiguous id range, so "is also a source" is a range test.
  const pLo = prev ? prev[0] : -1;
  const pHi = prev ? prev[prev.length - 1] : -2;
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
    const local = prev ? d >= pLo && d <= pHi : x === m.ioXY[0] && y === m.ioXY[1];
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
  let perSource = 0;
  let maxPath = 0;
  for (let g = 0; g < r.fraction.length; g++) {
    const flits = Math.ceil(((payloadBits / r.sources) * r.fraction[g]) / flitBits);
    if (flits === 0 || r.pairs[g] === 0) continue;
    routerN += flits * (r.hopSum[g] + r.pairs[g]);
    linkN += flits * r.hopSum[g];
    perSource += flits * r.dests[g];
    maxPath = Math.max(maxPath, (r.maxHops[g] + 1) * router.latency_s + r.maxHops[g] * link.latency_s);
  }
  return { router: routerN, link: linkN, time_s: perSource === 0 ? 0 : (perSource - 1) * cycle + maxPath };
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
  const tRead = models.crossbar.actions.read?.latency_s ?? cycle;
  const tConv = models.adc.actions.convert!.latency_s;
  const tShift = models.shift_add.actions.op!.latency_s;
  const tLif = models.lif_unit.actions.update!.latency_s;
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
    const colPieces = [
      { cols: lm.colsUsedFull, n: lm.colSplits - 1 },
      { cols: lm.colsUsedLast, n: 1 },
    ];
    const rowsTotal = layer.rows * layer.groups;
    const { route, psum: psumTraffic } = statics.layers[l];
    const tilesL = lm.tiles.length;
    const lifUnits = spec.lif_unit.units_per_tile * Math.max(1, tilesL * lm.tileShare);
    const addrBits = Math.max(1, Math.ceil(Math.log2(layer.inputElements)));

    const P = layer.positions;
    const block = new Float64Array(4);
    let blockRate = NaN;
    let maxGroups = 0;
    let routeRate = NaN;
    let inputRouteResult: Route = NO_ROUTE;
    const staticReuse = Tl > 1 && reusesStaticInput(spec, w.network.input.encoding, lm);
    for (let t = 0; t < Tl; t++) {
      const r = w.rates[l][t];
      if (staticReuse && t > 0) {
        // The static first layer reads its stored pre-activations: no delivery, no crossbar pass.
        const use = countLayerSupport(spec, lm, t, Tl, passes, elemBits, counts, l, t, true);
        const lifPhase = layer.spiking ? Math.ceil(layer.outChannels / lifUnits) * tLif : tShift;
        const memPhase =
          (Math.ceil(use.accesses / P) * cycle) /
          (spec.membrane_buffer.ports * Math.max(1, tilesL * lm.tileShare));
        busy[l * T + t] = P * Math.max(lifPhase, memPhase);
        continue;
      }
      // --- crossbars, drivers, ADCs, accumulation (recomputed only when the rate changes) ---
      if (r !== blockRate) {
        blockRate = r;
        block.fill(0);
        maxGroups = 0;
        for (const rpiece of rowPieces) {
          if (rpiece.n === 0) continue;
          const active = r * rpiece.rows;
          const groups = xb.zero_skipping
            ? active > 0
              ? Math.ceil(active / rp)
              : 0
            : Math.ceil(rpiece.rows / rp);
          maxGroups = Math.max(maxGroups, groups);
          for (const cpiece of colPieces) {
            if (cpiece.n === 0) continue;
            const k = rpiece.n * cpiece.n * P * passes;
            block[0] += k * groups;
            block[1] += k * active * cpiece.cols;
            block[2] += k * groups * cpiece.cols;
          }
          block[3] += rpiece.n * lm.colSplits * P * passes * active;
        }
      }
      counts.add(l, t, A.XBAR_READ, block[0]);
      counts.add(l, t, A.XBAR_CELL_READ, block[1]);
      // Every conversion passes a mux, is shifted and added, and lands in an output register lane.
      counts.add(l, t, A.ADC_CONVERT, block[2]);
      counts.add(l, t, A.MUX_SELECT, block[2]);
      counts.add(l, t, A.SHIFT_ADD, block[2]);
      counts.add(l, t, A.OUTREG_WRITE, block[2]);
      counts.add(l, t, A.ROW_DRIVE, block[3]);
      // --- input delivery: global buffer (layer 0), NoC, tile buffer, tile bus ---
      const activeElems = r * layer.inputElements;
      const payload =
        spec.noc.spike_encoding === 'bitmap'
          ? layer.inputElements * elemBits
          : activeElems * (addrBits + (layer.binaryInput ? 0 : elemBits));
      let inputTime = 0;
      if (l === 0) {
        const gReads = Math.ceil((layer.inputElements * elemBits) / spec.global_buffer.width_bits);
        counts.add(l, t, A.GLOBAL_READ, gReads);
        inputTime += gReads * models.global_buffer.actions.read!.latency_s;
      }
      if (r !== routeRate) {
        routeRate = r;
        inputRouteResult = routeInput(w, route, payload);
      }
      inputTime += addRoute(counts, l, t, inputRouteResult);
      const use = countLayerSupport(spec, lm, t, Tl, passes, elemBits, counts, l, t, staticReuse);
      const memAccesses = use.accesses;
      // --- partial sums between tiles ---
      const psumTime = addRoute(counts, l, t, psumTraffic);
      // --- contention-free time of this layer at this timestep ---
      const rounds = Math.ceil(lm.colsUsedFull / adcsPerXbar);
      const xbarPhase = passes * maxGroups * (tRead + rounds * tConv + tShift);
      const lifPhase = layer.spiking ? Math.ceil(layer.outChannels / lifUnits) * tLif : tShift;
      const memPhase =
        (Math.ceil(memAccesses / P) * cycle) /
        (spec.membrane_buffer.ports * Math.max(1, tilesL * lm.tileShare));
      const rowsPerTile = Math.ceil(rowsTotal / Math.min(tilesL, lm.rowSplits * layer.groups));
      const busPhase = Math.ceil((rowsPerTile * passes) / spec.tile_bus.width_bits) * cycle;
      const positionTime = Math.max(xbarPhase, lifPhase, memPhase, busPhase);
      busy[l * T + t] = inputTime + P * positionTime + psumTime;
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
      const flows = last.tiles.map((s) => ({ src: s, dst: -1, bits: logitBits / last.tiles.length }));
      time += addRoute(counts, L, t, routeFlows(w, flows, 1));
    }
    if (w.policy === 'entropy') {
      counts.add(L, t, A.ENTROPY_CLASS_STEP, K);
      counts.add(L, t, A.ENTROPY_DECIDE, 1);
      const eu = models.entropy_unit.actions;
      time += K * eu.class_step!.latency_s + eu.decide!.latency_s;
    }
    if (t === Tlast - 1) {
      const writes = Math.ceil(logitBits / spec.global_buffer.width_bits);
      counts.add(L, t, A.GLOBAL_WRITE, writes);
      time += writes * models.global_buffer.actions.write!.latency_s;
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
 * layer l+1 works on t — a row starts timestep t when it finished t−1 and the row before finished t.
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
  for (let t = 0; t < T; t++) {
    let prevRowDone = 0;
    for (let r = 0; r < rows; r++) {
      const start = Math.max(finish[r], prevRowDone);
      finish[r] = start + busy[r * T + t];
      prevRowDone = finish[r];
    }
  }
  return finish[rows - 1];
}

export { NUM_ACTIONS };
