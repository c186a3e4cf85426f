/**
 * Trace replay: a discrete-event model of the chip driven by a spike trace.
 *
 * Entities and what is real about them:
 * - Tiles: each tile of a layer runs the layer's output positions through a two-stage pipeline —
 *   stage A (its crossbars: row groups of the active rows, conversion rounds of its ADCs, shift-add),
 *   stage B (its LIF units and membrane-buffer ports, for the neurons whose first row piece it holds).
 *   Stage durations per position come from the exact active rows of the trace frame. A tile shared by
 *   two layers (packed) shares its LIF stage between them.
 * - Partial sums: tiles holding later row pieces send their sums to the tile of the first piece at the
 *   end of their stage A; that tile's stage B waits for them.
 * - NoC: every (source tile, destination tile) flow is a packet of flits routed XY hop by hop; each
 *   directed link carries one flit per cycle and is reserved by the packets crossing it (virtual
 *   cut-through: a packet waits for a busy link; router buffers are not bounded), router pipeline and
 *   link latency per hop. Contention is what packets of real traffic do to each other.
 * - Entropy unit: after the last layer's timestep the logits travel to the I/O node; the unit runs K
 *   class steps and one decision; at the trace's exit timestep the sample ends.
 * - Schedules: layer-sequential (layer l+1 starts timestep t when layer l finished it and its input
 *   arrived) and timestep-pipelined (layer l may start t+1 as soon as it finished t and its input for
 *   t+1 arrived). Under pipelining, work started on timesteps after an exit is wasted: it is counted
 *   apart (priced with the layer's last recorded frame, since the engine never computed later ones).
 * Samples run back to back: a sample starts when the previous one ended.
 *
 * The simulator only counts actions and keeps times; pricing turns counts into joules.
 */
import { located } from '../config/errors.js';
import { A } from '../hw/actions.js';
import { ceilDiv } from '../hw/mapping.js';
import { rowFractions, tileRanges } from '../analytic/imcsim-model.js';
import { countLayerSupport } from '../analytic/layer-counts.js';
import type { Workload } from '../analytic/workload.js';
import { ActionCounts } from '../pricing/counts.js';
import type { TraceHeader, TraceSample } from '../trace/types.js';
import { Simulator } from '../sim/kernel.js';
import { activeRows, countCrossbarWork, framePlanes, layerGeometry, type LayerGeometry } from './work.js';

const EV_HOP = 0;
const EV_ARRIVE = 1;
const EV_TRY_START = 2;
const EV_A_DONE = 3;
const EV_TILE_DONE = 4;
const EV_EXIT_STEP = 5;
const PURPOSE_INPUT = 0;
const PURPOSE_PSUM = 1;
const PURPOSE_LOGITS = 2;

/** Per-sample state of the replay. */
interface SampleState {
  s: TraceSample;
  ended: boolean;
  start: number;
  endCycle: number;
  gate: number;
  exitT: number;
  tLast: number;
  T2: number;
  nextT: Int32Array[];
  busyUntil: Float64Array[];
  pending: Int32Array[];
  psumPending: Int32Array[];
  aDoneAt: Float64Array[];
  doneCount: Int32Array[];
  startedCount: Int32Array[];
  waitingNext: number[];
  layerStart: number[];
  logitsPending: Int32Array;
  /** payload[l * T2 + t]: NoC bits of layer l's input at t, or −1 before it is first needed. */
  payload: Float64Array;
  active: Int32Array[];
  planes: number[];
  spill: number[];
  memOps: number[];
}

export interface ReplayOptions {
  /** Ignore link reservations (no NoC contention): the contention-free reference of the same replay. */
  contentionFree?: boolean;
}

interface TileInfo {
  tile: number;
  /** Pieces (row piece index in all groups) present on the tile, and the slowest ADC rounds among their column pieces. */
  pieces: number[];
  pieceRounds: number[];
  /** Neurons whose first row piece is on this tile (stage B work per position). */
  homeNeurons: number;
  /** Fraction of the layer's input rows the tile needs. */
  fraction: number;
  /** Partial-sum flows this tile sends per position: [home tile, bits]. */
  psumTo: Array<[number, number]>;
  /** Number of tiles sending partial sums to this tile. */
  psumFrom: number;
}

interface LayerPlan {
  geo: LayerGeometry;
  tiles: TileInfo[];
  addrBits: number;
  elemBits: number;
}

export interface SampleOutcome {
  index: number;
  label: number;
  prediction: number;
  exitTimestep: number;
  start_s: number;
  latency_s: number;
}

export interface NocStats {
  /** Packets injected and packets delivered (every packet sent is received). */
  sent: number;
  packets: number;
  flits: number;
  hops: number;
  /** Sum over links of busy cycles, for utilisation; per directed link. */
  linkBusy: Float64Array;
  maxQueueing_cycles: number;
  /** Cycles upstream links were held by packets blocked downstream with full input buffers. */
  backpressure_cycles: number;
}

export class Replay {
  readonly w: Workload;
  readonly header: TraceHeader;
  readonly counts: ActionCounts;
  /** Work started on timesteps after an exit (pipelined schedule only). */
  readonly wasted: ActionCounts;
  readonly busy: Float64Array;
  readonly noc: NocStats;
  private readonly plans: LayerPlan[];
  private readonly opts: ReplayOptions;
  private readonly cycle: number;
  /** Free-at time (s) per directed link: index (node * 4 + direction). */
  private readonly linkFree: Float64Array;
  /** Free-at time (s) of each tile's stage A (crossbars) and stage B (LIF units). */
  private nowCycle = 0;
  private readonly sim = new Simulator();
  private readonly tileBFree: Float64Array;
  private readonly sample: SampleState;
  private readonly tRead: number;
  private readonly tConv: number;
  private readonly tShift: number;
  private readonly tLif: number;
  private readonly tRouter: number;
  private readonly tLink: number;
  private readonly bufferFlits: number;
  private pk = {
    n: 0,
    x: new Int32Array(1024),
    y: new Int32Array(1024),
    dx: new Int32Array(1024),
    dy: new Int32Array(1024),
    flits: new Int32Array(1024),
    purpose: new Int32Array(1024),
    l: new Int32Array(1024),
    k: new Int32Array(1024),
    t: new Int32Array(1024),
    hops: new Int32Array(1024),
    prevLink: new Int32Array(1024),
    wasted: new Uint8Array(1024),
  };
  private planeBufs: Uint8Array[] = [];
  private activeBuf = new Int32Array(0);

  constructor(w: Workload, header: TraceHeader, opts: ReplayOptions = {}) {
    if (w.spec.accounting !== 'imcsim')
      throw located(
        'trace replay needs the imcsim accounting (SpikeSim accounting is activity-independent)',
        { path: 'accounting', expected: '"imcsim"', found: JSON.stringify(w.spec.accounting) },
      );
    if (w.spec.mapping.scheme !== 'im2col')
      throw located('trace replay supports the im2col mapping', {
        path: 'mapping.scheme',
        expected: '"im2col"',
        found: JSON.stringify(w.spec.mapping.scheme),
      });
    if (
      header.layers.length !== w.mapping.layers.length ||
      header.layers.some((l, i) => l.input_elements !== w.mapping.layers[i].layer.inputElements)
    )
      throw located('the trace does not match the network: weighted layers or their input sizes differ', {
        expected: w.mapping.layers.map((l) => `${l.layer.name}:${l.layer.inputElements}`).join(', '),
        found: header.layers.map((l) => `${l.name}:${l.input_elements}`).join(', '),
      });
    this.w = w;
    this.header = header;
    this.opts = opts;
    const L = w.mapping.layers.length;
    const T = Math.max(...header.layers.map((l) => l.timesteps));
    this.counts = new ActionCounts(L + 1, T);
    this.wasted = new ActionCounts(L + 1, T);
    this.busy = new Float64Array((L + 1) * T);
    this.cycle = 1 / w.spec.chip.clock_hz;
    const nodes = w.mapping.meshColumns * w.mapping.meshRows;
    this.linkFree = new Float64Array(nodes * 4);
    this.noc = {
      sent: 0,
      packets: 0,
      flits: 0,
      hops: 0,
      linkBusy: new Float64Array(nodes * 4),
      maxQueueing_cycles: 0,
      backpressure_cycles: 0,
    };
    this.tileBFree = new Float64Array(w.mapping.totalTiles);
    const m = w.models;
    this.tRead = this.cyc(m.crossbar.actions.read?.latency_s ?? this.cycle);
    this.tConv = this.cyc(m.adc.actions.convert!.latency_s);
    this.tShift = this.cyc(m.shift_add.actions.op!.latency_s);
    this.tLif = this.cyc(m.lif_unit.actions.update!.latency_s);
    this.tRouter = this.cyc(m.router.actions.traverse!.latency_s);
    this.tLink = this.cyc(m.link.actions.traverse!.latency_s);
    this.bufferFlits = w.spec.noc.buffer_flits;
    this.sample = {
      s: undefined as unknown as TraceSample,
      ended: false,
      start: 0,
      endCycle: 0,
      gate: 0,
      exitT: 0,
      tLast: 0,
      T2: 0,
      nextT: [],
      busyUntil: [],
      pending: [],
      psumPending: [],
      aDoneAt: [],
      doneCount: [],
      startedCount: [],
      waitingNext: [],
      layerStart: [],
      logitsPending: new Int32Array(0),
      payload: new Float64Array(0),
      active: [],
      planes: [],
      spill: [],
      memOps: [],
    };
    this.plans = w.mapping.layers.map((lm, l) => this.planLayer(l, header.layers[l].input_kind === 'spikes'));
  }

  private planLayer(l: number, binary: boolean): LayerPlan {
    const w = this.w;
    const lm = w.mapping.layers[l];
    const geo = layerGeometry(w.spec, lm, binary);
    const ranges = Int32Array.from(tileRanges(w, lm).subarray(0, 2 * lm.tiles.length));
    const fractions = Float64Array.from(rowFractions(lm, ranges).subarray(0, lm.tiles.length));
    const adcs = ceilDiv(w.spec.crossbar.columns, w.spec.adc.columns_per_adc);
    const tiles: TileInfo[] = lm.tiles.map((tile, k) => ({
      tile,
      pieces: [],
      pieceRounds: [],
      homeNeurons: 0,
      fraction: fractions[k],
      psumTo: [],
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
        tiles[home].homeNeurons += neurons;
        const sends = new Map<number, number>();
        for (let i = 0; i < R; i++) {
          const k = localOf(base + i);
          const ti = tiles[k];
          const piece = g * R + i;
          const at = ti.pieces.indexOf(piece);
          if (at < 0) {
            ti.pieces.push(piece);
            ti.pieceRounds.push(rounds);
          } else ti.pieceRounds[at] = Math.max(ti.pieceRounds[at], rounds);
          if (k !== home) sends.set(k, (sends.get(k) ?? 0) + neurons * w.spec.noc.psum_bits);
        }
        for (const [k, bits] of sends) {
          const existing = tiles[k].psumTo.find((p) => p[0] === home);
          if (existing) existing[1] += bits;
          else {
            tiles[k].psumTo.push([home, bits]);
            tiles[home].psumFrom++;
          }
        }
      }
    const elemBits = binary ? 1 : w.spec.crossbar.input_bits;
    return { geo, tiles, addrBits: Math.max(1, Math.ceil(Math.log2(lm.layer.inputElements))), elemBits };
  }

  /** Replays one sample, starting when the previous one ended; returns its outcome. */
  replaySample(s: TraceSample): SampleOutcome {
    const L = this.plans.length;
    if (s.inputs.length !== L)
      throw located('trace sample has the wrong number of layers', {
        expected: String(L),
        found: String(s.inputs.length),
      });
    const st = this.sample;
    st.s = s;
    st.ended = false;
    // The chip drains packets still in flight from the previous sample before this one starts.
    this.nowCycle = Math.max(this.nowCycle, this.sim.now);
    st.endCycle = this.nowCycle;
    st.start = this.nowCycle;
    st.gate = this.nowCycle;
    st.exitT = s.exitTimestep;
    st.tLast = this.header.layers[L - 1].timesteps;
    this.pk.n = 0;
    const T2 = Math.max(...this.header.layers.map((x) => x.timesteps)) + 2;
    st.T2 = T2;
    for (let l = 0; l < L; l++) {
      const n = this.plans[l].tiles.length;
      st.nextT[l] = new Int32Array(n);
      st.busyUntil[l] = new Float64Array(n).fill(this.nowCycle);
      st.pending[l] = new Int32Array(n * T2).fill(this.expectedInputs(l));
      st.psumPending[l] = new Int32Array(n * T2);
      this.plans[l].tiles.forEach((ti, k) => st.psumPending[l].fill(ti.psumFrom, k * T2, (k + 1) * T2));
      st.aDoneAt[l] = new Float64Array(n * T2).fill(-1);
      st.doneCount[l] = new Int32Array(T2);
      st.startedCount[l] = new Int32Array(T2);
      st.waitingNext[l] = 0;
    }
    st.payload = new Float64Array(L * T2).fill(-1);
    st.logitsPending = new Int32Array(T2).fill(
      this.plans[L - 1].tiles.filter((x) => x.homeNeurons > 0).length,
    );
    this.sendLayerInputs(0, 0, this.nowCycle);
    this.sim.run((kind, a, b, time) => this.handle(kind, a, b, time));
    if (!st.ended) throw new Error(`replay of sample ${s.index} ended without its exit decision (a bug)`);
    this.nowCycle = st.endCycle;
    return {
      index: s.index,
      label: s.label,
      prediction: s.prediction,
      exitTimestep: s.exitTimestep,
      start_s: st.start * this.cycle,
      latency_s: (st.endCycle - st.start) * this.cycle,
    };
  }

  /** Input packets a tile of layer l waits for per timestep: one per producing tile of the layer before. */
  private expectedInputs(l: number): number {
    if (l === 0) return 1;
    return this.plans[l - 1].tiles.filter((x) => x.homeNeurons > 0).length;
  }

  private handle(kind: number, a: number, b: number, time: number): void {
    const st = this.sample;
    // After the exit the sample's pending work is cancelled; packets already in flight drain.
    if (st.ended && kind !== EV_HOP && kind !== EV_ARRIVE) return;
    switch (kind) {
      case EV_HOP:
        this.hop(a, time);
        return;
      case EV_ARRIVE:
        if (!st.ended) this.arrive(a, time);
        return;
      case EV_TRY_START:
        this.tryStart(a, b, time);
        return;
      case EV_A_DONE:
        this.aDone(a, Math.floor(b / st.T2), b % st.T2, time);
        return;
      case EV_TILE_DONE:
        this.tileDone(a, Math.floor(b / st.T2), b % st.T2, time);
        return;
      case EV_EXIT_STEP:
        this.exitStep(a, time);
        return;
    }
  }

  /** Bits of layer l's input frame at t on the NoC (address-event or bitmap), computed once per sample. */
  private payloadOf(l: number, t: number): number {
    const cache = this.sample.payload;
    const key = l * this.sample.T2 + t;
    if (cache[key] >= 0) return cache[key];
    const bits = this.computePayload(l, t);
    cache[key] = bits;
    return bits;
  }

  private computePayload(l: number, t: number): number {
    const plan = this.plans[l];
    const frames = this.sample.s.inputs[l];
    const frame = frames[Math.min(t, frames.length - 1)];
    const elements = plan.geo.lm.layer.inputElements;
    const nPlanes = this.planesOf(plan, frame, elements);
    let activeElems = 0;
    for (let i = 0; i < elements; i++) {
      let any = 0;
      for (let k = 0; k < nPlanes; k++) any |= this.planeBufs[k][i];
      activeElems += any;
    }
    const spec = this.w.spec;
    return spec.noc.spike_encoding === 'bitmap'
      ? elements * plan.elemBits
      : activeElems * (plan.addrBits + (plan.geo.binary ? 0 : plan.elemBits));
  }

  /** Layer 0's input frame at t leaves the global buffer for each of its tiles. */
  private sendLayerInputs(l: number, t: number, time: number): void {
    const st = this.sample;
    const plan = this.plans[l];
    if (t >= this.header.layers[l].timesteps) return;
    const wasted = t >= st.s.inputs[l].length;
    const spec = this.w.spec;
    const elements = plan.geo.lm.layer.inputElements;
    const payload = this.payloadOf(l, t);
    const counts = wasted ? this.wasted : this.counts;
    const gReads = Math.ceil((elements * plan.elemBits) / spec.global_buffer.width_bits);
    counts.add(0, Math.min(t, counts.timesteps - 1), A.GLOBAL_READ, gReads);
    const leave = time + gReads * this.cyc(this.w.models.global_buffer.actions.read!.latency_s);
    plan.tiles.forEach((ti, k) =>
      this.launch(this.newPacket(-1, ti.tile, payload * ti.fraction, PURPOSE_INPUT, l, k, t, wasted), leave),
    );
  }

  /** Puts a packet into the network at `time` (or delivers it at once between co-located endpoints). */
  private launch(id: number, time: number): void {
    const pk = this.pk;
    // Between endpoints on the same node the data stays local: no packet enters the network.
    if (pk.x[id] === pk.dx[id] && pk.y[id] === pk.dy[id]) this.sim.at(time, 1, EV_ARRIVE, id, 0);
    else {
      this.noc.sent++;
      this.sim.at(time, 0, EV_HOP, id, 0);
    }
  }

  private arrive(id: number, time: number): void {
    const st = this.sample;
    const pk = this.pk;
    const l = pk.l[id];
    const k = pk.k[id];
    const t = pk.t[id];
    switch (pk.purpose[id]) {
      case PURPOSE_INPUT:
        if (--st.pending[l][k * st.T2 + t] === 0) this.sim.at(time, 2, EV_TRY_START, l, k);
        return;
      case PURPOSE_PSUM: {
        const kt = k * st.T2 + t;
        if (--st.psumPending[l][kt] === 0 && st.aDoneAt[l][kt] >= 0) this.finishStageB(l, k, t, time);
        return;
      }
      case PURPOSE_LOGITS:
        if (--st.logitsPending[t] === 0) this.sim.at(time, 3, EV_EXIT_STEP, t, 0);
        return;
    }
  }

  /** A tile starts its next timestep when its input arrived, it is free, and the schedule allows. */
  private tryStart(l: number, k: number, time: number): void {
    const st = this.sample;
    const plan = this.plans[l];
    const t = st.nextT[l][k];
    const L = this.plans.length;
    if (t >= this.header.layers[l].timesteps || st.pending[l][k * st.T2 + t] > 0) return;
    const frames = st.s.inputs[l];
    const pipelined = this.w.spec.schedule.policy === 'timestep-pipelined';
    // Beyond the recorded frames only pipelined run-ahead happens (wasted work), one timestep at most.
    if (t >= frames.length && (!pipelined || t > frames.length)) return;
    if (time < st.busyUntil[l][k]) return this.sim.at(st.busyUntil[l][k], 2, EV_TRY_START, l, k);
    // Pipelined run-ahead: layer l may be at most one timestep ahead of layer l+1 (double-buffered outputs).
    if (pipelined && l < L - 1 && t > 0 && st.startedCount[l + 1][t - 1] < this.plans[l + 1].tiles.length) {
      st.waitingNext[l] = 1;
      return;
    }
    st.nextT[l][k] = t + 1;
    st.startedCount[l][t]++;
    if (pipelined && l > 0 && st.startedCount[l][t] === plan.tiles.length && st.waitingNext[l - 1]) {
      st.waitingNext[l - 1] = 0;
      this.plans[l - 1].tiles.forEach((_, kk) => this.sim.at(time, 2, EV_TRY_START, l - 1, kk));
    }
    const wasted = t >= frames.length;
    if (st.startedCount[l][t] === 1) {
      this.countLayerWork(l, t, wasted);
      st.layerStart[l] = time;
    }
    const end = this.runPipelines(l, k, time);
    st.busyUntil[l][k] = end.a;
    const kt = k * st.T2 + t;
    this.sim.at(end.a, 1, EV_A_DONE, l, kt);
    if (plan.tiles[k].homeNeurons > 0 && plan.tiles[k].psumFrom === 0)
      this.sim.at(end.b, 1, EV_TILE_DONE, l, kt);
  }

  /** Counts the layer's work at timestep t (crossbars from the exact frame, delivery, neurons). */
  private countLayerWork(l: number, t: number, wasted: boolean): void {
    const st = this.sample;
    const spec = this.w.spec;
    const plan = this.plans[l];
    const lm = plan.geo.lm;
    const layer = lm.layer;
    const frames = st.s.inputs[l];
    const frame = frames[Math.min(t, frames.length - 1)];
    const counts = wasted ? this.wasted : this.counts;
    const ts = Math.min(t, counts.timesteps - 1);
    const elements = layer.inputElements;
    const nPlanes = this.planesOf(plan, frame, elements);
    const active = this.activeOf(plan.geo, nPlanes);
    countCrossbarWork(spec, plan.geo, active, nPlanes, counts, l, ts);
    st.active[l] = Int32Array.from(active.subarray(0, plan.geo.positions * plan.geo.pieces * nPlanes));
    st.planes[l] = nPlanes;
    const use = countLayerSupport(
      spec,
      lm,
      t,
      this.header.layers[l].timesteps,
      nPlanes,
      plan.elemBits,
      counts,
      l,
      ts,
    );
    st.spill[l] = use.spill;
    st.memOps[l] = use.opsPerNeuron;
  }

  /** The tile's position pipeline: stage A (crossbars, ADCs, shift-add) then stage B (LIF units, membrane ports). */
  private runPipelines(l: number, k: number, start: number): { a: number; b: number } {
    const st = this.sample;
    const spec = this.w.spec;
    const plan = this.plans[l];
    const ti = plan.tiles[k];
    const active = st.active[l];
    const nPlanes = st.planes[l];
    const pieces = plan.geo.pieces;
    const P = plan.geo.lm.layer.positions;
    const rp = spec.crossbar.rows_parallel;
    const zs = spec.crossbar.zero_skipping;
    const dB = this.stageB(l, ti);
    const pipelinedB = ti.homeNeurons > 0 && ti.psumFrom === 0;
    let a = start;
    let b = Math.max(start, this.tileBFree[ti.tile]);
    for (let p = 0; p < P; p++) {
      let dA = 0;
      for (let q = 0; q < ti.pieces.length; q++) {
        const piece = ti.pieces[q];
        const perGroup = this.tRead + ti.pieceRounds[q] * this.tConv;
        let tp = 0;
        for (let kk = 0; kk < nPlanes; kk++) {
          const act = active[(p * pieces + piece) * nPlanes + kk];
          tp += (zs ? Math.ceil(act / rp) : Math.ceil(plan.geo.pieceRows[piece] / rp)) * perGroup;
        }
        if (tp > dA) dA = tp;
      }
      a += dA + this.tShift;
      if (pipelinedB) b = Math.max(b, a) + dB;
    }
    if (pipelinedB) this.tileBFree[ti.tile] = b;
    return { a, b: pipelinedB ? b : a };
  }

  /** Stage B cycles per position on a tile: LIF updates of its home neurons, or membrane-port accesses. */
  private stageB(l: number, ti: TileInfo): number {
    if (ti.homeNeurons === 0) return 0;
    const spec = this.w.spec;
    const layer = this.plans[l].geo.lm.layer;
    if (!layer.spiking) return this.tShift;
    const st = this.sample;
    const lif = Math.ceil(ti.homeNeurons / spec.lif_unit.units_per_tile) * this.tLif;
    const accesses = Math.ceil(
      (ti.homeNeurons * spec.lif_unit.potential_bits * st.memOps[l] * (1 - st.spill[l])) /
        spec.membrane_buffer.width_bits,
    );
    return Math.max(lif, Math.ceil(accesses / spec.membrane_buffer.ports));
  }

  private aDone(l: number, k: number, t: number, time: number): void {
    const st = this.sample;
    const plan = this.plans[l];
    const ti = plan.tiles[k];
    const kt = k * st.T2 + t;
    st.aDoneAt[l][kt] = time;
    if (ti.psumFrom > 0 && st.psumPending[l][kt] === 0) this.finishStageB(l, k, t, time);
    const wasted = t >= st.s.inputs[l].length;
    const P = plan.geo.lm.layer.positions;
    for (const [hk, bits] of ti.psumTo)
      this.launch(
        this.newPacket(ti.tile, plan.tiles[hk].tile, bits * P, PURPOSE_PSUM, l, hk, t, wasted),
        time,
      );
    if (ti.homeNeurons === 0) this.sim.at(time, 1, EV_TILE_DONE, l, kt);
  }

  /** A tile that waited for partial sums runs stage B over every position. */
  private finishStageB(l: number, k: number, t: number, time: number): void {
    const plan = this.plans[l];
    const ti = plan.tiles[k];
    const P = plan.geo.lm.layer.positions;
    const start = Math.max(time, this.tileBFree[ti.tile]);
    const end = start + P * this.stageB(l, ti);
    this.tileBFree[ti.tile] = end;
    this.sim.at(end, 1, EV_TILE_DONE, l, k * this.sample.T2 + t);
  }

  private tileDone(l: number, k: number, t: number, time: number): void {
    const st = this.sample;
    const plan = this.plans[l];
    const ti = plan.tiles[k];
    const L = this.plans.length;
    const wasted = t >= st.s.inputs[l].length;
    if (++st.doneCount[l][t] === plan.tiles.length) {
      const c = this.counts.timesteps;
      this.busy[l * c + Math.min(t, c - 1)] += (time - st.layerStart[l]) * this.cycle;
    }
    if (ti.homeNeurons > 0) {
      if (l < L - 1) {
        const next = this.plans[l + 1];
        if (t < this.header.layers[l + 1].timesteps) {
          const nextWasted = wasted || t >= st.s.inputs[l + 1].length;
          const bits = this.payloadOf(l + 1, t) / this.expectedInputs(l + 1);
          next.tiles.forEach((nt, nk) =>
            this.launch(
              this.newPacket(ti.tile, nt.tile, bits * nt.fraction, PURPOSE_INPUT, l + 1, nk, t, nextWasted),
              time,
            ),
          );
        }
      } else if (!wasted) {
        const K = this.w.network.classes;
        const homes = plan.tiles.filter((x) => x.homeNeurons > 0).length;
        const dynamic = this.header.policy.name === 'entropy' || this.header.policy.name === 'confidence';
        if (dynamic || t === st.exitT - 1)
          this.launch(
            this.newPacket(
              ti.tile,
              -1,
              (K * this.w.spec.noc.psum_bits) / homes,
              PURPOSE_LOGITS,
              L,
              0,
              t,
              false,
            ),
            time,
          );
        else if (--st.logitsPending[t] === 0) this.sim.at(time, 3, EV_EXIT_STEP, t, 0);
      }
    }
    // Timestep-pipelined: layer 0 fetches its next frame as soon as it finished this one.
    if (
      l === 0 &&
      st.doneCount[0][t] === plan.tiles.length &&
      this.w.spec.schedule.policy === 'timestep-pipelined'
    )
      this.sendLayerInputs(0, t + 1, time);
    this.sim.at(time, 2, EV_TRY_START, l, k);
  }

  /** The logits of timestep t reached the entropy unit (or, static, the output buffer). */
  private exitStep(t: number, time: number): void {
    const st = this.sample;
    const L = this.plans.length;
    const K = this.w.network.classes;
    const w = this.w;
    let end = time;
    if (this.header.policy.name === 'entropy' || this.header.policy.name === 'confidence') {
      this.counts.add(L, t, A.ENTROPY_CLASS_STEP, K);
      this.counts.add(L, t, A.ENTROPY_DECIDE, 1);
      const eu = w.models.entropy_unit.actions;
      end += K * this.cyc(eu.class_step!.latency_s) + this.cyc(eu.decide!.latency_s);
    }
    if (t === st.exitT - 1) {
      const writes = Math.ceil((K * w.spec.noc.psum_bits) / w.spec.global_buffer.width_bits);
      this.counts.add(L, t, A.GLOBAL_WRITE, writes);
      end += writes * this.cyc(w.models.global_buffer.actions.write!.latency_s);
      this.busy[L * this.counts.timesteps + t] += (end - time) * this.cycle;
      st.ended = true;
      st.endCycle = end;
      return;
    }
    this.busy[L * this.counts.timesteps + t] += (end - time) * this.cycle;
    // Layer-sequential: the next timestep starts after the decision.
    if (w.spec.schedule.policy === 'layer-sequential') this.sendLayerInputs(0, t + 1, end);
  }

  /** Integer cycles of a latency in seconds (every action takes whole cycles). */
  private cyc(seconds: number): number {
    return Math.ceil(seconds / this.cycle - 1e-9);
  }

  /** Allocates a packet from `src` to `dst` (tiles; −1 = I/O node) with at least one flit (the end-of-frame marker). */
  private newPacket(
    src: number,
    dst: number,
    bits: number,
    purpose: number,
    l: number,
    k: number,
    t: number,
    wasted: boolean,
  ): number {
    const m = this.w.mapping;
    const id = this.pk.n++;
    if (id >= this.pk.x.length) this.growPackets();
    this.pk.x[id] = src < 0 ? m.ioXY[0] : m.tileXY[2 * src];
    this.pk.y[id] = src < 0 ? m.ioXY[1] : m.tileXY[2 * src + 1];
    this.pk.dx[id] = dst < 0 ? m.ioXY[0] : m.tileXY[2 * dst];
    this.pk.dy[id] = dst < 0 ? m.ioXY[1] : m.tileXY[2 * dst + 1];
    this.pk.flits[id] = Math.max(1, Math.ceil(bits / this.w.spec.noc.flit_bits));
    this.pk.purpose[id] = purpose;
    this.pk.l[id] = l;
    this.pk.k[id] = k;
    this.pk.t[id] = t;
    this.pk.wasted[id] = wasted ? 1 : 0;
    this.pk.hops[id] = 0;
    this.pk.prevLink[id] = -1;
    return id;
  }

  private growPackets(): void {
    const grow = <T extends Int32Array | Uint8Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(a.length * 2);
      b.set(a);
      return b;
    };
    for (const key of ['x', 'y', 'dx', 'dy', 'flits', 'purpose', 'l', 'k', 't', 'hops', 'prevLink'] as const)
      this.pk[key] = grow(this.pk[key]);
    this.pk.wasted = grow(this.pk.wasted);
  }

  /** A packet at a router: route it one hop (XY), or deliver it. Links are granted first come, first served. */
  private hop(id: number, now: number): void {
    const m = this.w.mapping;
    const pk = this.pk;
    const x = pk.x[id];
    const y = pk.y[id];
    if (x === pk.dx[id] && y === pk.dy[id]) {
      // Ejection: the router pipeline, then the tail flit.
      const flits = pk.flits[id];
      const c = pk.wasted[id] ? this.wasted : this.counts;
      const row = pk.purpose[id] === PURPOSE_LOGITS ? this.plans.length : pk.l[id];
      const ts = Math.min(pk.t[id], c.timesteps - 1);
      c.add(row, ts, A.ROUTER_TRAVERSE, flits * (pk.hops[id] + 1));
      c.add(row, ts, A.LINK_TRAVERSE, flits * pk.hops[id]);
      this.noc.packets++;
      this.noc.flits += flits;
      this.noc.hops += pk.hops[id];
      this.sim.at(now + this.tRouter + flits - 1, 1, EV_ARRIVE, id, 0);
      return;
    }
    const dir = x !== pk.dx[id] ? (pk.dx[id] > x ? 0 : 1) : pk.dy[id] > y ? 2 : 3;
    const link = (y * m.meshColumns + x) * 4 + dir;
    const ready = now + this.tRouter;
    let start = ready;
    if (!this.opts.contentionFree) {
      start = Math.max(ready, this.linkFree[link]);
      if (start - ready > this.noc.maxQueueing_cycles) this.noc.maxQueueing_cycles = start - ready;
      this.linkFree[link] = start + pk.flits[id];
      // Back-pressure: a blocked packet fills this router's input buffer; flits that do not fit stay on
      // the upstream link, which stays held until they can move on.
      const prev = pk.prevLink[id];
      const overflow = pk.flits[id] - this.bufferFlits;
      if (start > ready && prev >= 0 && overflow > 0) {
        const held = start + overflow;
        if (held > this.linkFree[prev]) {
          this.noc.backpressure_cycles += held - this.linkFree[prev];
          this.linkFree[prev] = held;
        }
      }
    }
    pk.prevLink[id] = link;
    this.noc.linkBusy[link] += pk.flits[id];
    if (dir === 0) pk.x[id] = x + 1;
    else if (dir === 1) pk.x[id] = x - 1;
    else if (dir === 2) pk.y[id] = y + 1;
    else pk.y[id] = y - 1;
    pk.hops[id]++;
    this.sim.at(start + this.tLink, 0, EV_HOP, id, 0);
  }

  private planesOf(plan: LayerPlan, frame: Uint8Array | Float32Array, elements: number): number {
    const bits = plan.geo.planes;
    while (this.planeBufs.length < bits) this.planeBufs.push(new Uint8Array(0));
    for (let k = 0; k < bits; k++)
      if (this.planeBufs[k].length < elements) this.planeBufs[k] = new Uint8Array(elements);
    return framePlanes(frame, elements, plan.geo.binary, this.w.spec.crossbar.input_bits, this.planeBufs);
  }

  private activeOf(geo: LayerGeometry, nPlanes: number): Int32Array {
    const n = geo.positions * geo.pieces * nPlanes;
    if (this.activeBuf.length < n) this.activeBuf = new Int32Array(n);
    activeRows(geo, this.planeBufs, nPlanes, this.activeBuf);
    return this.activeBuf;
  }

  get simulatedTime_s(): number {
    return this.nowCycle * this.cycle;
  }

  get eventsProcessed(): number {
    return this.sim.eventsProcessed;
  }
}
