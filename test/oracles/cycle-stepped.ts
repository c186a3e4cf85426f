/**
 * A deliberately naive cycle-stepped model of a small chip: the independent oracle the event-driven
 * replay (src/replay/) is checked against. It imports nothing of src/replay/: it reads the mapping, the
 * network shapes, the config and the component latencies, and restates the hardware's rules from
 * docs/ARCHITECTURE.md in the plainest form — a loop over cycles, one object per tile, per crossbar
 * (its ADCs) and per directed link, per-position work counted by walking the im2col window.
 *
 * Scope: uniform T (static or a dynamic exit policy), im2col mapping, per-layer tile packing, both
 * schedules, with or without link contention.
 *
 * Rules restated (docs/ARCHITECTURE.md, "Replay"):
 * - an input frame: spikes are binary; values are quantised per frame to `input_bits` planes,
 *   q = round(|v| / max|v| · (2^b − 1)), applied plane by plane;
 * - a crossbar, per output position and plane, reads its active rows in groups of `rows_parallel`
 *   (every row without zero-skipping); each read takes the read latency then ⌈used columns / ADCs⌉
 *   conversion rounds; the crossbars of a tile work in parallel; then one shift-add; positions follow
 *   each other (stage A);
 * - stage B (the neurons whose first row piece the tile holds) takes each position after its stage A,
 *   one at a time: the slowest of LIF units, membrane-buffer ports and spilled potentials' global-buffer
 *   accesses; a home tile waiting for partial sums runs all positions once its stage A ended and the sums
 *   arrived;
 * - a packet: at each router the pipeline, then the link (one flit per cycle, reserved first come first
 *   served; a blocked packet fills the router's input buffer and holds the upstream link with the rest),
 *   the head takes the link latency to the next router; at the destination the router pipeline and the
 *   other flits; endpoints on one node exchange data locally (no packet);
 * - a direct-encoded first layer (`schedule.reuse_static_input`, T > 1) runs its crossbars once, at
 *   t = 0, and stores its pre-activations (noc.psum_bits each) in the membrane buffer next to the
 *   potentials (sharing its capacity; the excess spills to the global buffer); at t > 0 nothing is
 *   delivered and stage B reads them back (layer-sequential: once the exit decision before it is made);
 * - within one cycle: routing first, then completions (arrivals, stage ends), then starts, then the
 *   exit decision; items of one kind in the order they were scheduled;
 * - samples (docs/ARCHITECTURE.md, "Samples stream"): under layer-sequential each sample starts on a
 *   drained chip at cycle 0 of its own; under timestep-pipelined they stream, in one clock: every tile
 *   finishes the positions it started (stage A and stage B, the wasted run-ahead too) before it starts
 *   anything of the next sample; the next sample's first frame leaves the global buffer at the cycle the
 *   last tile of layer 0 went idle; a layer starts the new sample's first frame no earlier than the last
 *   cycle the next layer started a step of the previous sample (double-buffered outputs); a link is free
 *   for the new sample's packets once the previous samples' reservations of it ended; a sample's latency
 *   runs from its entry to its end.
 */
import type { ArchSpec } from '../../src/config/schema.js';
import { A, NUM_ACTIONS } from '../../src/hw/actions.js';
import type { Workload } from '../../src/chip/workload.js';
import type { TraceHeader, TraceSample } from '../../src/trace/types.js';

export interface OracleResult {
  /** Latency of each sample in cycles (from its entry). */
  cycles: number[];
  /** Entry cycle of each sample (streaming: on the run's clock; else 0). */
  starts: number[];
  /** Action totals [action] over everything, and over the wasted (after-exit) work. */
  counts: Float64Array;
  wasted: Float64Array;
  /** Action totals per (row, timestep): [(row * T + t) * NUM_ACTIONS + action]. */
  perStep: Float64Array;
}

const cyclesOf = (s: number, cycle: number): number => Math.ceil(s / cycle - 1e-9);

interface Crossbar {
  group: number;
  colPiece: number;
  rowPiece: number;
  cols: number;
  rounds: number;
}

interface LayerInfo {
  lmIndex: number;
  P: number;
  rowsTotal: number;
  /** Input element of (position, im2col row), −1 for padding. */
  rowInput: Int32Array;
  /** Piece of each im2col row (over all groups). */
  rowPiece: Int32Array;
  pieceRows: Int32Array;
  pieces: number;
  binary: boolean;
  planes: number;
  elemBits: number;
  addrBits: number;
  tiles: TileObj[];
  homes: number;
}

interface TileObj {
  layer: number;
  local: number;
  x: number;
  y: number;
  xbars: Crossbar[];
  homeNeurons: number;
  fraction: number;
  /** Partial-sum flows: destination local tile and bits per position, in insertion order. */
  psum: Array<[number, number]>;
  psumFrom: number;
  // state
  nextT: number;
  aBusy: boolean;
  aT: number;
  aPos: number;
  aLeft: number;
  aSeq: number;
  bSeq: number;
  aDur: Int32Array;
  bQueue: Array<{ ready: number; dur: number; t: number; last: boolean; seq: number }>;
  bLeft: number;
  bCur: { ready: number; dur: number; t: number; last: boolean; seq: number } | null;
  pending: Int32Array;
  psumPending: Int32Array;
  aDoneSeen: Uint8Array;
  /** Last timestep the tile finished. */
  doneT: number;
  /** Cycle its stage A, and its stage B, last went idle (streaming: the next sample waits for them). */
  aFreeAt: number;
  bFreeAt: number;
}

interface Packet {
  x: number;
  y: number;
  dx: number;
  dy: number;
  flits: number;
  hops: number;
  prevLink: number;
  /** 0 input (to tile), 1 partial sums (to tile), 2 logits (to the I/O node). */
  purpose: number;
  row: number;
  layer: number;
  local: number;
  t: number;
  wasted: boolean;
  /** Cycle the head is at a router asking to move (or −1 while on a link / done). */
  at: number;
  seq: number;
}

interface Item {
  cycle: number;
  phase: number;
  seq: number;
  run: () => void;
}

export function naiveReplay(
  w: Workload,
  header: TraceHeader,
  samples: TraceSample[],
  contentionFree: boolean,
): OracleResult {
  const spec: ArchSpec = w.spec;
  const m = w.mapping;
  const L = m.layers.length;
  const T = Math.max(...header.layers.map((l) => l.timesteps));
  const cycle = 1 / spec.chip.clock_hz;
  const md = w.models;
  const lat = (x: { latency_s: number } | undefined): number => cyclesOf(x?.latency_s ?? cycle, cycle);
  const cRead = lat(md.crossbar.actions.read);
  const cConv = lat(md.adc.actions.convert);
  const cShift = lat(md.shift_add.actions.op);
  const cLif = lat(md.lif_unit.actions.update);
  const cRouter = lat(md.router.actions.traverse);
  const cLink = lat(md.link.actions.traverse);
  const cGR = lat(md.global_buffer.actions.read);
  const cGW = lat(md.global_buffer.actions.write);
  const K = w.network.classes;
  const cEntropy =
    cyclesOf(K * md.entropy_unit.actions.class_step!.latency_s, cycle) +
    cyclesOf(md.entropy_unit.actions.decide!.latency_s, cycle);
  const dynamic = header.policy.name === 'entropy' || header.policy.name === 'confidence';
  const pipelined = spec.schedule.policy === 'timestep-pipelined';
  const adcs = Math.ceil(spec.crossbar.columns / spec.adc.columns_per_adc);
  const perTileXbars = spec.pe.crossbars_per_pe * spec.tile.pes_per_tile;
  const preBits = spec.noc.psum_bits;
  /** Layer l at t reads stored pre-activations instead of computing. */
  const reuseLayer = (l: number): boolean =>
    l === 0 &&
    T > 1 &&
    spec.schedule.reuse_static_input &&
    w.network.input.encoding === 'direct' &&
    header.layers[0].input_kind === 'values';
  const reuseStep = (l: number, t: number): boolean => reuseLayer(l) && t > 0;

  const result: OracleResult = {
    cycles: [],
    starts: [],
    counts: new Float64Array(NUM_ACTIONS),
    wasted: new Float64Array(NUM_ACTIONS),
    perStep: new Float64Array((L + 1) * T * NUM_ACTIONS),
  };
  const count = (row: number, t: number, a: number, n: number, wasted: boolean): void => {
    if (wasted) result.wasted[a] += n;
    else {
      result.counts[a] += n;
      result.perStep[(row * T + Math.min(t, T - 1)) * NUM_ACTIONS + a] += n;
    }
  };

  // ---- Layers, crossbars, tiles (from the mapping, restated) ----
  const layers: LayerInfo[] = m.layers.map((lm, l) => {
    const ly = lm.layer;
    const rowsTotal = ly.rows * ly.groups;
    const P = ly.positions;
    const rowInput = new Int32Array(P * rowsTotal).fill(-1);
    if (ly.kind === 'linear') for (let r = 0; r < rowsTotal; r++) rowInput[r] = r;
    else {
      const [cin, h, wd] = ly.inShape as number[];
      const wo = (ly.outShape as number[])[2];
      const cv = ly.conv!;
      const cpg = cin / ly.groups;
      for (let p = 0; p < P; p++) {
        const oy = Math.floor(p / wo);
        const ox = p % wo;
        for (let r = 0; r < rowsTotal; r++) {
          const g = Math.floor(r / ly.rows);
          const within = r % ly.rows;
          const cl = Math.floor(within / (ly.kernel[0] * ly.kernel[1]));
          const ky = Math.floor(within / ly.kernel[1]) % ly.kernel[0];
          const kx = within % ly.kernel[1];
          const y = oy * cv.sh - cv.ph + ky * cv.dh;
          const x = ox * cv.sw - cv.pw + kx * cv.dw;
          if (y >= 0 && y < h && x >= 0 && x < wd)
            rowInput[p * rowsTotal + r] = ((g * cpg + cl) * h + y) * wd + x;
        }
      }
    }
    const R = spec.crossbar.rows;
    const pieces = ly.groups * lm.rowSplits;
    const rowPiece = new Int32Array(rowsTotal);
    const pieceRows = new Int32Array(pieces);
    for (let r = 0; r < rowsTotal; r++) {
      const g = Math.floor(r / ly.rows);
      rowPiece[r] = g * lm.rowSplits + Math.floor((r % ly.rows) / R);
      pieceRows[rowPiece[r]]++;
    }
    const binary = header.layers[l].input_kind === 'spikes';
    const tiles: TileObj[] = lm.tiles.map((tile, k) => ({
      layer: l,
      local: k,
      x: m.tileXY[2 * tile],
      y: m.tileXY[2 * tile + 1],
      xbars: [],
      homeNeurons: 0,
      fraction: 0,
      psum: [],
      psumFrom: 0,
      nextT: 0,
      aBusy: false,
      aT: 0,
      aPos: 0,
      aLeft: 0,
      aSeq: 0,
      bSeq: -1,
      aDur: new Int32Array(P),
      bQueue: [],
      bLeft: 0,
      bCur: null,
      pending: new Int32Array(T + 2),
      psumPending: new Int32Array(T + 2),
      aDoneSeen: new Uint8Array(T + 2),
      doneT: -1,
      aFreeAt: 0,
      bFreeAt: 0,
    }));
    // Crossbar c: (group, column piece, row piece), row pieces innermost; tile = c / crossbars per tile.
    const tileOf = (c: number): number => Math.floor(c / perTileXbars);
    for (let c = 0; c < lm.crossbars; c++) {
      const rowPieceIdx = c % lm.rowSplits;
      const colPiece = Math.floor(c / lm.rowSplits) % lm.colSplits;
      const group = Math.floor(c / (lm.rowSplits * lm.colSplits));
      const cols = colPiece === lm.colSplits - 1 ? lm.colsUsedLast : lm.colsUsedFull;
      tiles[tileOf(c)].xbars.push({
        group,
        colPiece,
        rowPiece: group * lm.rowSplits + rowPieceIdx,
        cols,
        rounds: Math.ceil(cols / adcs),
      });
    }
    for (const ti of tiles) {
      ti.fraction = new Set(ti.xbars.map((x) => x.rowPiece)).size / pieces;
    }
    // Home of a column group = the tile of its first row piece; other pieces ship partial sums there.
    for (let g = 0; g < ly.groups; g++)
      for (let j = 0; j < lm.colSplits; j++) {
        const first = (g * lm.colSplits + j) * lm.rowSplits;
        const home = tileOf(first);
        const cols = j === lm.colSplits - 1 ? lm.colsUsedLast : lm.colsUsedFull;
        const neurons = cols / lm.columnsPerWeight;
        tiles[home].homeNeurons += neurons;
        const seen = new Map<number, number>();
        for (let i = 0; i < lm.rowSplits; i++) {
          const k = tileOf(first + i);
          if (k !== home) seen.set(k, (seen.get(k) ?? 0) + neurons * spec.noc.psum_bits);
        }
        for (const [k, bits] of seen) {
          const e = tiles[k].psum.find((p) => p[0] === home);
          if (e) e[1] += bits;
          else {
            tiles[k].psum.push([home, bits]);
            tiles[home].psumFrom++;
          }
        }
      }
    return {
      lmIndex: l,
      P,
      rowsTotal,
      rowInput,
      rowPiece,
      pieceRows,
      pieces,
      binary,
      planes: binary ? 1 : spec.crossbar.input_bits,
      elemBits: binary ? 1 : spec.crossbar.input_bits,
      addrBits: Math.max(1, Math.ceil(Math.log2(ly.inputElements))),
      tiles,
      homes: tiles.filter((t) => t.homeNeurons > 0).length,
    };
  });

  // ---- Frame work: bit-planes, active rows per (position, crossbar, plane) ----
  function planesOf(l: number, frame: Uint8Array | Float32Array): { bits: Uint8Array[]; active: number } {
    const info = layers[l];
    const E = m.layers[l].layer.inputElements;
    const bits = Array.from({ length: info.planes }, () => new Uint8Array(E));
    let active = 0;
    if (info.binary) {
      for (let e = 0; e < E; e++) {
        const on = frame instanceof Uint8Array ? (frame[e >> 3] >> (e & 7)) & 1 : frame[e] !== 0 ? 1 : 0;
        bits[0][e] = on;
        active += on;
      }
      return { bits, active };
    }
    const v = frame as Float32Array;
    let max = 0;
    for (let e = 0; e < E; e++) max = Math.max(max, Math.abs(v[e]));
    if (max === 0) return { bits, active };
    const levels = 2 ** info.planes - 1;
    for (let e = 0; e < E; e++) {
      const q = Math.round((Math.abs(v[e]) / max) * levels);
      if (q > 0) active++;
      for (let k = 0; k < info.planes; k++) bits[k][e] = (q >> k) & 1;
    }
    return { bits, active };
  }

  // Streaming (timestep-pipelined): one clock for the whole run, link reservations kept between samples.
  const stream = pipelined;
  const links = new Float64Array(m.meshColumns * m.meshRows * 4); // free-at cycle per directed link
  let clock = 0;
  /** Per layer: the last cycle a step of it started in the previous sample (−1: none). */
  const prevLastStart = new Float64Array(L).fill(-1);
  const lastStart = new Float64Array(L);
  const notBefore = new Float64Array(L);
  for (const s of samples) {
    const exitT = s.exitTimestep;
    const entry = stream ? clock : 0;
    if (!stream) links.fill(0);
    // A layer's first frame waits until the next layer started its last step of the previous sample.
    for (let l = 0; l < L; l++) notBefore[l] = stream && l + 1 < L ? prevLastStart[l + 1] : 0;
    lastStart.fill(-1);
    const frames = s.inputs.map((f) => f.length);
    // Work per (layer, t): active rows [p][piece][plane], payload bits.
    const workCache = new Map<number, { active: Int32Array; payload: number }>();
    const workOf = (l: number, t: number): { active: Int32Array; payload: number } => {
      const key = l * (T + 2) + t;
      const hit = workCache.get(key);
      if (hit) return hit;
      const info = layers[l];
      const fr = s.inputs[l][Math.min(t, s.inputs[l].length - 1)];
      const { bits, active: activeElems } = planesOf(l, fr);
      const active = new Int32Array(info.P * info.pieces * info.planes);
      for (let p = 0; p < info.P; p++)
        for (let r = 0; r < info.rowsTotal; r++) {
          const e = info.rowInput[p * info.rowsTotal + r];
          if (e < 0) continue; // padding: no input, never an active row
          for (let k = 0; k < info.planes; k++)
            active[(p * info.pieces + info.rowPiece[r]) * info.planes + k] += bits[k][e];
        }
      const E = m.layers[l].layer.inputElements;
      const payload =
        spec.noc.spike_encoding === 'bitmap'
          ? E * info.elemBits
          : activeElems * (info.addrBits + (info.binary ? 0 : info.elemBits));
      const out = { active, payload };
      workCache.set(key, out);
      return out;
    };
    const groupsFor = (l: number, active: number, pieceRows: number): number => {
      const rp = spec.crossbar.rows_parallel;
      return spec.crossbar.zero_skipping ? Math.ceil(active / rp) : Math.ceil(pieceRows / rp);
    };

    // ---- State of the sample ----
    let now = entry;
    let seq = 0;
    const items: Item[] = [];
    const at = (c: number, phase: number, run: () => void, s0 = seq++): void => {
      items.push({ cycle: c, phase, seq: s0, run });
    };
    const packets: Packet[] = [];
    let ended = false;
    let exitDone = false;
    let endCycle = entry;
    const required = frames.slice();
    let stepsLeft = required.reduce((a, b) => a + b, 0);
    const started = Array.from({ length: L }, () => new Int32Array(T + 2));
    const done = Array.from({ length: L }, () => new Int32Array(T + 2));
    const logitsPending = new Int32Array(T + 2).fill(layers[L - 1].homes);
    // Layer-sequential: layer 0 may fetch frame t once the exit decision of t − 1 was made.
    for (const info of layers)
      for (const ti of info.tiles) {
        // Every sample starts on a drained chip.
        ti.nextT = 0;
        ti.doneT = -1;
        ti.aBusy = false;
        ti.bCur = null;
        ti.bQueue = [];
        ti.aDoneSeen.fill(0);
        ti.pending.fill(info.lmIndex === 0 ? 1 : layers[info.lmIndex - 1].homes);
        if (reuseLayer(info.lmIndex)) ti.pending.fill(0, 1);
        ti.psumPending.fill(ti.psumFrom);
        if (!stream) ti.aFreeAt = ti.bFreeAt = 0;
      }

    const launch = (pk: Packet, c: number): void => {
      if (pk.x === pk.dx && pk.y === pk.dy) at(c, 1, () => arrive(pk, c));
      else {
        pk.at = c;
        pk.seq = seq++;
        packets.push(pk);
      }
    };
    const packet = (
      x: number,
      y: number,
      dest: TileObj | null,
      bits: number,
      purpose: number,
      row: number,
      t: number,
      wasted: boolean,
    ): Packet => ({
      x,
      y,
      dx: dest ? dest.x : m.ioXY[0],
      dy: dest ? dest.y : m.ioXY[1],
      flits: Math.max(1, Math.ceil(bits / spec.noc.flit_bits)),
      hops: 0,
      prevLink: -1,
      purpose,
      row,
      layer: dest ? dest.layer : -1,
      local: dest ? dest.local : -1,
      t,
      wasted,
      at: -1,
      seq: 0,
    });

    /** Layer-sequential: cycle + 1 at which layer 0's reused step t was released (0: not yet). */
    const released = new Float64Array(T + 2);
    const sendLayer0 = (t: number, c: number): void => {
      if (t >= T) return;
      if (reuseStep(0, t)) {
        released[t] = c + 1;
        return;
      }
      const wasted = t >= frames[0];
      const info = layers[0];
      const payload = workOf(0, t).payload;
      const reads = Math.ceil(
        (m.layers[0].layer.inputElements * info.elemBits) / spec.global_buffer.width_bits,
      );
      count(0, t, A.GLOBAL_READ, reads, wasted);
      const leave = c + reads * cGR;
      for (const ti of info.tiles) {
        const pk = packet(m.ioXY[0], m.ioXY[1], ti, payload * ti.fraction, 0, 0, t, wasted);
        if (pk.x === pk.dx && pk.y === pk.dy) at(leave, 1, () => arrive(pk, leave));
        else {
          pk.at = leave;
          pk.seq = seq++;
          packets.push(pk);
        }
      }
    };

    const arrive = (pk: Packet, c: number): void => {
      if (pk.purpose === 2) {
        if (--logitsPending[pk.t] === 0) at(c, 3, () => exitStep(pk.t, c));
        return;
      }
      const ti = layers[pk.layer].tiles[pk.local];
      if (pk.purpose === 0) ti.pending[pk.t]--;
      else if (--ti.psumPending[pk.t] === 0 && ti.aDoneSeen[pk.t]) startB(ti, pk.t, c);
    };

    // Stage B cost per position (cycles).
    const stageB = (l: number, ti: TileObj, t: number): number => {
      const ly = m.layers[l].layer;
      if (ti.homeNeurons === 0) return 0;
      if (!ly.spiking) return cShift;
      const Tl = T;
      const potBits = ly.neurons * spec.lif_unit.potential_bits;
      const kept = potBits + (reuseLayer(l) ? ly.neurons * preBits : 0);
      const cap = spec.membrane_buffer.capacity_bits * m.layers[l].tiles.length * m.layers[l].tileShare;
      const spill = kept > cap ? 1 - cap / kept : 0;
      const ops = (t > 0 ? 1 : 0) + (t < Tl - 1 ? 1 : 0);
      const bitsPer = spec.lif_unit.potential_bits * ops + (reuseLayer(l) ? preBits : 0);
      const lif = Math.ceil(ti.homeNeurons / spec.lif_unit.units_per_tile) * cLif;
      const acc = Math.ceil((ti.homeNeurons * bitsPer * (1 - spill)) / spec.membrane_buffer.width_bits);
      const ports = Math.ceil(acc / spec.membrane_buffer.ports);
      const spilled =
        spill > 0 && bitsPer > 0
          ? Math.ceil((ti.homeNeurons * bitsPer * spill) / spec.global_buffer.width_bits) * Math.max(cGR, cGW)
          : 0;
      return Math.max(lif, ports, spilled);
    };

    // Counts of a step (layer l at t), charged when its first tile starts.
    const countStep = (l: number, t: number, wasted: boolean): void => {
      const info = layers[l];
      const lm = m.layers[l];
      const ly = lm.layer;
      const { active } = workOf(l, t);
      const reuse = reuseLayer(l);
      const potBits = ly.spiking ? ly.neurons * spec.lif_unit.potential_bits : 0;
      const kept = potBits + (reuse ? ly.neurons * preBits : 0);
      const cap = spec.membrane_buffer.capacity_bits * lm.tiles.length * lm.tileShare;
      const spill = kept > cap ? 1 - cap / kept : 0;
      if (reuse) {
        // Pre-activations: written once at t = 0, read at every later timestep.
        const per = Math.ceil((ly.neurons * preBits) / spec.membrane_buffer.width_bits);
        const gAcc = Math.ceil((ly.neurons * preBits * spill) / spec.global_buffer.width_bits);
        count(l, t, t === 0 ? A.MEMBRANE_WRITE : A.MEMBRANE_READ, per * (1 - spill), wasted);
        count(l, t, t === 0 ? A.GLOBAL_WRITE : A.GLOBAL_READ, gAcc, wasted);
      }
      for (let p = 0; p < (reuseStep(l, t) ? 0 : info.P); p++)
        for (const ti of info.tiles)
          for (const xb of ti.xbars)
            for (let k = 0; k < info.planes; k++) {
              const a = active[(p * info.pieces + xb.rowPiece) * info.planes + k];
              const g = groupsFor(l, a, info.pieceRows[xb.rowPiece]);
              count(l, t, A.XBAR_READ, g, wasted);
              count(l, t, A.ADC_CONVERT, g * xb.cols, wasted);
              count(l, t, A.MUX_SELECT, g * xb.cols, wasted);
              count(l, t, A.SHIFT_ADD, g * xb.cols, wasted);
              count(l, t, A.OUTREG_WRITE, g * xb.cols, wasted);
              count(l, t, A.XBAR_CELL_READ, a * xb.cols, wasted);
              count(l, t, A.ROW_DRIVE, a, wasted);
            }
      // Support: the input lands in the tile buffer and is read and broadcast per position and plane.
      if (!reuseStep(l, t))
        count(
          l,
          t,
          A.TILEBUF_WRITE,
          Math.ceil((ly.inputElements * info.elemBits) / spec.tile_buffer.width_bits),
          wasted,
        );
      if (!reuseStep(l, t))
        count(
          l,
          t,
          A.TILEBUF_READ,
          info.P * info.planes * Math.ceil(info.rowsTotal / spec.tile_buffer.width_bits),
          wasted,
        );
      if (!reuseStep(l, t)) {
        count(l, t, A.BUS_TRANSFER, info.P * info.planes * info.rowsTotal, wasted);
        count(l, t, A.SHIFT_ADD, (lm.rowSplits - 1) * ly.outChannels * info.P, wasted);
      }
      if (ly.spiking) {
        count(l, t, A.LIF_UPDATE, ly.neurons, wasted);
        const rd = t > 0 ? 1 : 0;
        const wr = t < T - 1 ? 1 : 0;
        const per = Math.ceil(potBits / spec.membrane_buffer.width_bits);
        count(l, t, A.MEMBRANE_READ, rd * per * (1 - spill), wasted);
        count(l, t, A.MEMBRANE_WRITE, wr * per * (1 - spill), wasted);
        const gAcc = Math.ceil((potBits * spill) / spec.global_buffer.width_bits);
        count(l, t, A.GLOBAL_READ, rd * gAcc, wasted);
        count(l, t, A.GLOBAL_WRITE, wr * gAcc, wasted);
      } else count(l, t, A.SHIFT_ADD, ly.neurons, wasted);
      if (ly.pooling)
        count(l, t, A.SHIFT_ADD, (ly.neurons / ly.pooling.window) * (ly.pooling.window - 1), wasted);
    };

    const tryStart = (ti: TileObj, c: number): boolean => {
      const l = ti.layer;
      const t = ti.nextT;
      if (t >= T || ti.pending[t] > 0 || ti.aBusy) return false;
      // Reading the stored pre-activations follows the tile's previous step (stage B is one pipeline).
      if (reuseStep(l, t) && ti.doneT < t - 1) return false;
      if (reuseStep(l, t) && !pipelined && (released[t] === 0 || released[t] - 1 > c)) return false;
      const F = frames[l];
      if (t >= F && (!pipelined || t > F)) return false;
      if (pipelined && l < L - 1 && t >= 1 && started[l + 1][t - 1] < layers[l + 1].tiles.length)
        return false;
      // Streaming: the tile finished the previous sample's work; the next layer started its last step.
      if (c < ti.aFreeAt || c < ti.bFreeAt) return false;
      if (t === 0 && c < notBefore[l]) return false;
      lastStart[l] = Math.max(lastStart[l], c);
      ti.nextT = t + 1;
      if (++started[l][t] === 1) countStep(l, t, t >= F);
      const info = layers[l];
      const { active } = workOf(l, t);
      for (let p = 0; p < info.P; p++) {
        // Each crossbar (with its ADCs) works through its row groups; the slowest sets the position.
        let slowest = 0;
        for (const xb of ti.xbars) {
          let g = 0;
          for (let k = 0; k < info.planes; k++)
            g += groupsFor(
              l,
              active[(p * info.pieces + xb.rowPiece) * info.planes + k],
              info.pieceRows[xb.rowPiece],
            );
          slowest = Math.max(slowest, g * (cRead + xb.rounds * cConv));
        }
        // Reading stored pre-activations takes no crossbar pass.
        ti.aDur[p] = reuseStep(l, t) ? 0 : slowest + cShift;
      }
      ti.aBusy = true;
      ti.aT = t;
      ti.aPos = 0;
      ti.aLeft = ti.aDur[0];
      ti.aSeq = seq++;
      ti.bSeq = ti.homeNeurons > 0 && (ti.psumFrom === 0 || reuseStep(l, t)) ? seq++ : -1;
      ti.aDoneSeen[t] = 0;
      advanceA(ti, c);
      return true;
    };

    // Stage A: positions complete when their countdown reaches 0 (zero-length positions at once).
    const advanceA = (ti: TileObj, c: number): void => {
      const info = layers[ti.layer];
      while (ti.aBusy && ti.aLeft === 0) {
        if (ti.homeNeurons > 0 && (ti.psumFrom === 0 || reuseStep(ti.layer, ti.aT))) {
          // Stage B takes each position as it leaves stage A.
          const dB = stageB(ti.layer, ti, ti.aT);
          ti.bQueue.push({ ready: c, dur: dB, t: ti.aT, last: ti.aPos === info.P - 1, seq: ti.bSeq });
        }
        ti.aPos++;
        if (ti.aPos === info.P) {
          ti.aBusy = false;
          ti.aFreeAt = c;
          const t = ti.aT;
          at(c, 1, () => aDone(ti, t, c), ti.aSeq);
        } else ti.aLeft = ti.aDur[ti.aPos];
      }
      advanceB(ti, c);
    };
    const advanceB = (ti: TileObj, c: number): void => {
      for (;;) {
        if (ti.bCur && ti.bLeft === 0) {
          const cur = ti.bCur;
          ti.bCur = null;
          ti.bFreeAt = c;
          if (cur.last) at(c, 1, () => tileDone(ti, cur.t, c), cur.seq);
        }
        if (ti.bCur || ti.bQueue.length === 0 || ti.bQueue[0].ready > c || c < ti.bFreeAt) return;
        ti.bCur = ti.bQueue.shift()!;
        ti.bLeft = ti.bCur.dur;
      }
    };
    // A home tile that waited for partial sums runs stage B over every position.
    const startB = (ti: TileObj, t: number, c: number): void => {
      const info = layers[ti.layer];
      const dB = stageB(ti.layer, ti, t);
      const s0 = seq++;
      for (let p = 0; p < info.P; p++)
        ti.bQueue.push({ ready: c, dur: dB, t, last: p === info.P - 1, seq: s0 });
      advanceB(ti, c);
    };

    const aDone = (ti: TileObj, t: number, c: number): void => {
      const l = ti.layer;
      ti.aDoneSeen[t] = 1;
      const reused = reuseStep(l, t);
      if (!reused && ti.psumFrom > 0 && ti.psumPending[t] === 0) startB(ti, t, c);
      const wasted = t >= frames[l];
      const info = layers[l];
      for (const [home, bitsPerPos] of reused ? [] : ti.psum)
        launch(packet(ti.x, ti.y, info.tiles[home], bitsPerPos * info.P, 1, l, t, wasted), c);
      if (ti.homeNeurons === 0) at(c, 1, () => tileDone(ti, t, c));
    };

    const tileDone = (ti: TileObj, t: number, c: number): void => {
      const l = ti.layer;
      const info = layers[l];
      const wasted = t >= frames[l];
      const n = ++done[l][t];
      ti.doneT = Math.max(ti.doneT, t);
      if (ti.homeNeurons > 0) {
        if (l < L - 1) {
          const next = layers[l + 1];
          const bits = workOf(l + 1, t).payload / info.homes;
          for (const nt of next.tiles)
            launch(packet(ti.x, ti.y, nt, bits * nt.fraction, 0, l + 1, t, wasted || t >= frames[l + 1]), c);
        } else if (!wasted) {
          if (dynamic || t === exitT - 1)
            launch(packet(ti.x, ti.y, null, (K * spec.noc.psum_bits) / info.homes, 2, L, t, false), c);
          else if (--logitsPending[t] === 0) at(c, 3, () => exitStep(t, c));
        }
      }
      if (n === info.tiles.length) {
        if (pipelined && l === 0) sendLayer0(t + 1, c);
        if (t < required[l] && --stepsLeft === 0 && exitDone) {
          ended = true;
          endCycle = Math.max(endCycle, c);
        }
      }
    };

    const exitStep = (t: number, c: number): void => {
      let end = c;
      if (dynamic) {
        count(L, t, A.ENTROPY_CLASS_STEP, K, false);
        count(L, t, A.ENTROPY_DECIDE, 1, false);
        end += cEntropy;
      }
      if (t === exitT - 1) {
        const writes = Math.ceil((K * spec.noc.psum_bits) / spec.global_buffer.width_bits);
        count(L, t, A.GLOBAL_WRITE, writes, false);
        end += writes * cGW;
        exitDone = true;
        endCycle = end;
        if (stepsLeft === 0) ended = true;
        return;
      }
      // Layer-sequential: layer 0 fetches the next frame after the decision.
      if (!pipelined) sendLayer0(t + 1, end);
    };

    // One hop decision of a packet whose head is at a router at cycle c.
    const route = (pk: Packet, c: number): void => {
      if (pk.x === pk.dx && pk.y === pk.dy) {
        count(pk.row, pk.t, A.ROUTER_TRAVERSE, pk.flits * (pk.hops + 1), pk.wasted);
        count(pk.row, pk.t, A.LINK_TRAVERSE, pk.flits * pk.hops, pk.wasted);
        pk.at = -1;
        const arr = c + cRouter + pk.flits - 1;
        at(arr, 1, () => arrive(pk, arr));
        return;
      }
      const dir = pk.x !== pk.dx ? (pk.dx > pk.x ? 0 : 1) : pk.dy > pk.y ? 2 : 3;
      const link = (pk.y * m.meshColumns + pk.x) * 4 + dir;
      const ready = c + cRouter;
      let start = ready;
      if (!contentionFree) {
        start = Math.max(ready, links[link]);
        if (start > ready && pk.prevLink >= 0 && pk.flits > spec.noc.buffer_flits)
          links[pk.prevLink] = Math.max(links[pk.prevLink], start + pk.flits - spec.noc.buffer_flits);
        links[link] = start + pk.flits;
      }
      pk.prevLink = link;
      if (dir === 0) pk.x++;
      else if (dir === 1) pk.x--;
      else if (dir === 2) pk.y++;
      else pk.y--;
      pk.hops++;
      pk.at = start + cLink;
      pk.seq = seq++;
    };

    // ---- The cycle loop ----
    sendLayer0(0, entry);
    const allTiles = layers.flatMap((x) => x.tiles);
    const tilesIdle = (): boolean => allTiles.every((ti) => !ti.aBusy && !ti.bCur && ti.bQueue.length === 0);
    for (now = entry; ; now++) {
      // Settle the cycle: routing (phase 0), completions (1), starts (2), exit decisions (3).
      for (;;) {
        const heads = packets.filter((p) => p.at === now).sort((a, b) => a.seq - b.seq);
        if (heads.length > 0) {
          route(heads[0], now);
          continue;
        }
        if (ended) {
          items.length = 0;
          break;
        }
        const due = items.filter((i) => i.cycle === now && i.phase <= 1);
        if (due.length > 0) {
          due.sort((a, b) => a.seq - b.seq);
          items.splice(items.indexOf(due[0]), 1);
          due[0].run();
          continue;
        }
        let startedOne = false;
        for (const ti of allTiles) if (tryStart(ti, now)) startedOne = true;
        if (startedOne) continue;
        const exits = items.filter((i) => i.cycle === now).sort((a, b) => a.phase - b.phase || a.seq - b.seq);
        if (exits.length > 0) {
          items.splice(items.indexOf(exits[0]), 1);
          exits[0].run();
          continue;
        }
        break;
      }
      if (ended) {
        // Drain: packets still in flight keep moving (their traversals count). Streaming: every tile also
        // finishes the positions it started (no new step starts, nothing else follows from them).
        if (stream) {
          for (const ti of allTiles) {
            if (ti.aBusy) ti.aLeft--;
            if (ti.bCur) ti.bLeft--;
          }
          for (const ti of allTiles) advanceA(ti, now + 1);
          items.length = 0;
        }
        if (packets.every((p) => p.at === -1) && (!stream || tilesIdle())) break;
        continue;
      }
      // Advance every tile by one cycle: crossbars count down their position, stage B its position.
      for (const ti of allTiles) {
        if (ti.aBusy) ti.aLeft--;
        if (ti.bCur) ti.bLeft--;
      }
      for (const ti of allTiles) advanceA(ti, now + 1);
      const idle =
        items.length === 0 &&
        packets.every((p) => p.at === -1) &&
        tilesIdle() &&
        allTiles.every((ti) => ti.aFreeAt <= now + 1 && ti.bFreeAt <= now + 1) &&
        notBefore.every((c) => c <= now + 1) &&
        released.every((r) => r - 1 <= now);
      if (idle && !allTiles.some((ti) => tryStart(ti, now + 1)))
        throw new Error(
          `oracle: sample ${s.index} stalls at cycle ${now} (exitDone ${exitDone}, steps left ${stepsLeft}, next ${allTiles.map((t) => `${t.layer}.${t.local}:${t.nextT}/${Array.from(t.pending).join('')}`).join(' ')})`,
        );
    }
    result.cycles.push(endCycle - entry);
    result.starts.push(entry);
    if (stream) {
      // The next sample enters when the last tile of layer 0 went idle.
      clock = entry;
      for (const ti of layers[0].tiles) clock = Math.max(clock, ti.aFreeAt, ti.bFreeAt);
      prevLastStart.set(lastStart);
    }
  }
  return result;
}
