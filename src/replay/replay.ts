/**
 * Trace replay: a discrete-event model of the chip driven by a spike trace.
 *
 * Entities and what is real about them:
 * - Tiles: each tile of a layer runs the layer's output positions through a two-stage pipeline —
 *   stage A (its crossbars: row groups of the active rows, conversion rounds of its ADCs, shift-add),
 *   stage B (its LIF units, membrane-buffer ports and, for spilled potentials, the global buffer, for the
 *   neurons whose first row piece it holds). Stage durations per position come from the exact active rows
 *   of the trace frame (`work.ts` holds every timing rule). A tile shared by two layers (packed) shares
 *   its stage B between them.
 * - Partial sums: tiles holding later row pieces send their sums to the tile of the first piece at the
 *   end of their stage A; that tile's stage B waits for them.
 * - NoC: every (source tile, destination tile) flow is a packet of flits routed hop by hop by the chip's
 *   topology (chip/noc: XY on the mesh, the shorter way round on the torus); each
 *   directed link carries one flit per cycle and is granted first come, first served in event order; a
 *   packet blocked at a router fills its `buffer_flits` input buffer and the flits that do not fit hold
 *   the upstream link (one-hop back-pressure); router pipeline and link latency per hop.
 * - Entropy unit: after the last layer's timestep the logits travel to the I/O node; the unit runs K
 *   class steps and one decision; at the trace's exit timestep the sample ends.
 * - Steps (a layer at one of its timesteps) and what they wait for come from `steps.ts`: each layer runs
 *   its own T_l (LD-SNN), its input frame waits for the frames of the layer before it is made of.
 *   Schedules: layer-sequential (one step at a time in demand order; uniform T: layer l+1 starts
 *   timestep t when layer l finished it and its input arrived, the next timestep after the exit decision)
 *   and timestep-pipelined (a step starts when its input arrived and stage A is free, a layer at most one
 *   frame ahead of the next). Under pipelining, work started on timesteps after an exit is wasted: it is
 *   counted apart (priced with the layer's last recorded frame, since the engine never computed later
 *   ones). A layerwise sample ends after the output layer's last timestep, once every recorded frame ran.
 * Samples run back to back: a sample starts when the previous one ended and its packets drained.
 *
 * Speed: the event loop is written here over the kernel's `EventQueue` (integer kinds dispatched by a
 * switch, no closure per event); tiles are numbered globally (slot = first slot of the layer + local
 * index) so per-sample state lives in flat typed arrays; packets are a struct of typed arrays; a layer's
 * work at a timestep is extracted once per sample by scattering its active inputs (`SampleWork`).
 *
 * The simulator only counts actions and keeps times; pricing turns counts into joules.
 */
import { located } from '../util/errors.js';
import { A } from '../hw/actions.js';
import { countLayerSupport } from '../chip/layer-counts.js';
import { EAST, SOUTH, WEST, type Noc } from '../chip/noc/topology.js';
import type { Workload } from '../chip/workload.js';
import { ActionCounts } from '../hw/counts.js';
import type { SampleOutcome } from '../pricing/results.js';
import type { TraceHeader, TraceSample } from '../trace/types.js';
import { EventQueue } from '../sim/queue.js';
import {
  countCrossbarWork,
  cycleCosts,
  flitsOf,
  globalReads,
  outputWrites,
  pipelinedBEnd,
  planLayers,
  SampleWork,
  type CycleCosts,
  type LayerPlan,
} from './work.js';
import { StepGraph } from './steps.js';
import { exitPolicy } from '../snn/policies/registry.js';

const EV_HOP = 0;
const EV_ARRIVE = 1;
const EV_TRY_START = 2;
const EV_A_DONE = 3;
const EV_TILE_DONE = 4;
const EV_EXIT_STEP = 5;
const PURPOSE_INPUT = 0;
const PURPOSE_PSUM = 1;
const PURPOSE_LOGITS = 2;
// A packet is 16 int32 fields (one 64-byte cache line) at id << 4 in one array.
const PK_SHIFT = 4;
const PK_X = 0;
const PK_Y = 1;
const PK_DX = 2;
const PK_DY = 3;
const PK_FLITS = 4;
const PK_HOPS = 5;
const PK_PREV_LINK = 6;
const PK_PURPOSE = 7;
/** Counts row (layer, or L for the logits). */
const PK_ROW = 8;
/** Destination slot (tile), −1 for the I/O node. */
const PK_SLOT = 9;
const PK_T = 10;
const PK_WASTED = 11;

export interface ReplayOptions {
  /**
   * Contention made impossible: link reservations are ignored, and a tile shared by two layers (packed)
   * gives each layer its own stage B. The reference the critical path equals and contention never beats.
   */
  contentionFree?: boolean;
  /** The trace file, to locate input errors. */
  source?: string;
  /**
   * Under `timestep-pipelined`, samples stream (default true): a sample enters the first layer as soon as
   * that layer finished the previous one. `false` (and always under `layer-sequential`): each sample
   * starts on a drained chip, the reference the per-sample critical path describes.
   */
  overlap?: boolean;
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
  /** Cycles the entropy unit spent evaluating exits (all samples). */
  exitUnitCycles = 0;
  /** Latency in cycles of the last replayed sample. */
  lastLatencyCycles = 0;
  readonly plans: LayerPlan[];
  readonly costs: CycleCosts;
  /** What each step waits for (per-layer timesteps, alignment, the schedule's order). */
  readonly graph: StepGraph;
  private readonly work: SampleWork;
  private readonly contentionFree: boolean;
  private readonly pipelined: boolean;
  private readonly dynamic: boolean;
  private readonly cycle: number;
  private readonly L: number;
  private readonly T2: number;
  private readonly K: number;
  private readonly logitBits: number;
  private readonly flitBits: number;
  private readonly bufferFlits: number;
  private readonly meshColumns: number;
  private readonly meshRows: number;
  /** The chip's network-on-chip: the direction of each hop. */
  private readonly nocRoute: Noc;
  private readonly q = new EventQueue();
  private events = 0;
  /**
   * Absolute cycle of the current sample's time 0, and of the end of the last sample. Event times are
   * relative to `base`, so they stay small integers however long the trace (the queue is fastest below
   * 2^30): a sample starts once every event of the previous one ran, when every link and stage B is free.
   */
  private base = 0;
  private nowCycle = 0;
  /** Samples stream through the pipeline (timestep-pipelined): see `ReplayOptions.overlap`. */
  readonly overlap: boolean;
  private samplesRun = 0;
  /** Per layer: latest start of any of its steps in the current sample (cycles from its start). */
  declare private readonly lastStart: Float64Array;
  /** Per layer: cycle before which its first frame may not start (the previous sample's gate). */
  declare private readonly notBefore: Float64Array;
  declare private readonly tRouter: number;
  declare private readonly tLink: number;

  // Global tile slots: slot = tileBase[l] + local index.
  declare private readonly tileBase: Int32Array;
  declare private readonly slotLayer: Int32Array;
  declare private readonly slotLocal: Int32Array;
  /** Physical tile of each slot, its mesh node (x, y), and the stage-B resource it uses. */
  declare private readonly slotX: Int32Array;
  declare private readonly slotY: Int32Array;
  declare private readonly slotB: Int32Array;
  /** Free-at cycle of each stage-B resource (persists across samples). */
  declare private readonly bFree: Float64Array;
  /** Free-at cycle per directed link: index (node * 4 + direction); busy cycles per link (= noc.linkBusy). */
  declare private readonly linkFree: Float64Array;
  declare private readonly linkBusy: Float64Array;

  // Per-sample state.
  private s: TraceSample = undefined as unknown as TraceSample;
  private ended = false;
  /** End of the current sample (cycles from its start). */
  private endCycle = 0;
  private exitT = 0;
  declare private readonly nextT: Int32Array;
  declare private readonly busyUntil: Float64Array;
  /** Last timestep each tile finished (−1: none yet this sample). */
  declare private readonly tileDoneT: Int32Array;
  /** [slot * T2 + t]: input packets still expected, partial sums still expected, stage-A end (−1 before). */
  declare private readonly pending: Int32Array;
  declare private readonly psumPending: Int32Array;
  declare private readonly aDoneAt: Float64Array;
  /** [l * T2 + t]: input packets a tile of layer l waits for at timestep t (0: nothing to wait for). */
  declare private readonly pendingInit: Int32Array;
  /** [l * T2 + t]: layer-sequential hold of a step released by its predecessor (1: may start). */
  declare private readonly seqOpen: Uint8Array;
  declare private readonly seqOpenInit: Uint8Array;
  /** Frames each layer must run this sample, and the steps (all tiles) still to finish. */
  declare private readonly required: Int32Array;
  private stepsLeft = 0;
  /** The exit decision was made; the sample ends once every required step finished. */
  private exitDone = false;
  /** [l * T2 + t]: tiles done, tiles started, cycle the first tile started. */
  declare private readonly doneCount: Int32Array;
  declare private readonly startedCount: Int32Array;
  declare private readonly layerStart: Float64Array;
  declare private readonly waitingNext: Uint8Array;
  declare private readonly logitsPending: Int32Array;
  /** Recorded frames per layer of the current sample. */
  declare private readonly frames: Int32Array;

  // Packets, reset per sample: PK_* fields at id << PK_SHIFT.
  private pkN = 0;
  declare private pk: Int32Array;

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
    checkTraceMatches(w, header, opts.source);
    this.w = w;
    this.header = header;
    this.contentionFree = !!opts.contentionFree;
    this.pipelined = w.spec.schedule.policy === 'timestep-pipelined';
    this.overlap = this.pipelined && opts.overlap !== false;
    this.dynamic = exitPolicy(header.policy.name).exits !== null;
    const L = w.mapping.layers.length;
    this.L = L;
    this.graph = new StepGraph(w, header, opts.source);
    const T = Math.max(...header.layers.map((l) => l.timesteps));
    this.T2 = this.graph.T2;
    this.counts = new ActionCounts(L + 1, T);
    this.wasted = new ActionCounts(L + 1, T);
    this.busy = new Float64Array((L + 1) * T);
    this.cycle = 1 / w.spec.chip.clock_hz;
    this.K = w.network.classes;
    this.logitBits = this.K * w.spec.noc.psum_bits;
    this.flitBits = w.spec.noc.flit_bits;
    this.bufferFlits = w.spec.noc.buffer_flits;
    const m = w.mapping;
    this.meshColumns = m.meshColumns;
    this.meshRows = m.meshRows;
    this.nocRoute = m.noc;
    const nodes = m.meshColumns * m.meshRows;
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
    this.linkBusy = this.noc.linkBusy;
    this.costs = cycleCosts(w);
    this.tRouter = this.costs.router;
    this.tLink = this.costs.link;
    this.plans = planLayers(w, header);
    this.work = new SampleWork(w, this.plans, this.costs);

    const G = this.plans.reduce((n, p) => n + p.tiles.length, 0);
    this.tileBase = new Int32Array(L + 1);
    this.slotLayer = new Int32Array(G);
    this.slotLocal = new Int32Array(G);
    this.slotX = new Int32Array(G);
    this.slotY = new Int32Array(G);
    this.slotB = new Int32Array(G);
    let g = 0;
    for (let l = 0; l < L; l++) {
      this.tileBase[l] = g;
      const plan = this.plans[l];
      for (let k = 0; k < plan.tiles.length; k++, g++) {
        const tile = plan.tiles[k].tile;
        this.slotLayer[g] = l;
        this.slotLocal[g] = k;
        this.slotX[g] = m.tileXY[2 * tile];
        this.slotY[g] = m.tileXY[2 * tile + 1];
        // Without contention every (layer, tile) has its own stage B; else layers sharing a tile share it.
        this.slotB[g] = this.contentionFree ? g : tile;
      }
    }
    const T2 = this.T2;
    // Input packets a tile waits for per timestep: one per producing tile of the layer before, when the
    // frame is sent (not a zero frame, not the same frame again).
    this.pendingInit = new Int32Array(L * T2);
    this.seqOpenInit = new Uint8Array(L * T2);
    for (let l = 0; l < L; l++)
      for (let t = 0; t < T2; t++) {
        const key = l * T2 + t;
        this.pendingInit[key] = this.graph.sends[key] ? (l === 0 ? 1 : this.plans[l - 1].homes) : 0;
        this.seqOpenInit[key] = this.graph.seqExplicit[key] ? 0 : 1;
        // A static first layer reusing its pre-activations gets no packet at t > 0: under
        // layer-sequential it waits to be released by the exit decision before it.
        if (this.plans[l].staticReuse && t > 0) {
          this.pendingInit[key] = 0;
          this.seqOpenInit[key] = 0;
        }
      }
    this.seqOpen = new Uint8Array(L * T2);
    this.required = new Int32Array(L);
    this.tileBase[L] = G;
    this.bFree = new Float64Array(this.contentionFree ? G : m.totalTiles);
    this.nextT = new Int32Array(G);
    this.busyUntil = new Float64Array(G);
    this.tileDoneT = new Int32Array(G);
    this.pending = new Int32Array(G * T2);
    this.psumPending = new Int32Array(G * T2);
    this.aDoneAt = new Float64Array(G * T2);
    this.doneCount = new Int32Array(L * T2);
    this.startedCount = new Int32Array(L * T2);
    this.layerStart = new Float64Array(L * T2);
    this.waitingNext = new Uint8Array(L);
    this.logitsPending = new Int32Array(T2);
    this.frames = new Int32Array(L);
    this.lastStart = new Float64Array(L);
    this.notBefore = new Float64Array(L);
    this.allocPackets(1024);
  }

  private allocPackets(n: number): void {
    const pk = new Int32Array(n << PK_SHIFT);
    if (this.pk) pk.set(this.pk);
    this.pk = pk;
  }

  /** Replays one sample, starting when the previous one ended; returns its outcome. */
  replaySample(s: TraceSample): SampleOutcome {
    const L = this.L;
    this.graph.checkSample(s);
    this.s = s;
    this.ended = false;
    this.exitDone = false;
    if (this.overlap && this.samplesRun > 0) {
      // Streaming: the sample enters layer 0 once layer 0 finished the previous one (its tiles' stage A
      // and B free); the previous sample's hold on tiles, stage B and links carries over (in cycles from
      // the new start), and each layer starts its first frame only once the next layer started the
      // previous sample's last one (double-buffered outputs, as between timesteps).
      let entry = 0;
      for (let g = this.tileBase[0]; g < this.tileBase[1]; g++)
        entry = Math.max(entry, this.busyUntil[g], this.bFree[this.slotB[g]]);
      this.base += entry;
      const shift = (a: Float64Array) => {
        for (let i = 0; i < a.length; i++) a[i] = a[i] > entry ? a[i] - entry : 0;
      };
      shift(this.busyUntil);
      shift(this.bFree);
      shift(this.linkFree);
      for (let l = 0; l < L; l++)
        this.notBefore[l] = l + 1 < L && this.lastStart[l + 1] > entry ? this.lastStart[l + 1] - entry : 0;
    } else {
      // The chip drains packets still in flight from the previous sample before this one starts; then
      // every resource is free (each link and stage B frees no later than the last event that used it).
      this.base = Math.max(this.nowCycle, this.base + this.q.now);
      this.linkFree.fill(0);
      this.bFree.fill(0);
      this.busyUntil.fill(0);
      this.notBefore.fill(0);
    }
    this.nowCycle = Math.max(this.nowCycle, this.base);
    this.q.clear();
    this.lastStart.fill(0);
    this.samplesRun++;
    const now = 0;
    this.endCycle = now;
    this.exitT = s.exitTimestep;
    this.pkN = 0;
    const T2 = this.T2;
    this.stepsLeft = 0;
    for (let l = 0; l < L; l++) {
      this.frames[l] = s.inputs[l].length;
      this.required[l] = this.graph.required(l, s);
      this.stepsLeft += this.required[l];
      const plan = this.plans[l];
      const init = this.pendingInit.subarray(l * T2, (l + 1) * T2);
      for (let k = 0, g = this.tileBase[l]; k < plan.tiles.length; k++, g++) {
        this.pending.set(init, g * T2);
        this.psumPending.fill(plan.tiles[k].psumFrom, g * T2, (g + 1) * T2);
      }
    }
    if (!this.pipelined) this.seqOpen.set(this.seqOpenInit);
    this.nextT.fill(0);
    this.tileDoneT.fill(-1);
    this.aDoneAt.fill(-1);
    this.doneCount.fill(0);
    this.startedCount.fill(0);
    this.waitingNext.fill(0);
    this.logitsPending.fill(this.plans[L - 1].homes);
    this.work.begin(s);
    this.sendLayerInputs(0, now);
    this.run();
    if (!this.ended) throw new Error(`replay of sample ${s.index} ended without its exit decision (a bug)`);
    this.nowCycle = Math.max(this.nowCycle, this.base + this.endCycle);
    this.lastLatencyCycles = this.endCycle;
    return {
      index: s.index,
      label: s.label,
      prediction: s.prediction,
      exitTimestep: s.exitTimestep,
      start_s: this.base * this.cycle,
      latency_s: this.lastLatencyCycles * this.cycle,
    };
  }

  /** The event loop: pops until the queue is empty; after the exit only packets in flight still move. */
  private run(): void {
    const q = this.q;
    let n = 0;
    while (q.pop()) {
      n++;
      const kind = q.kind;
      if (kind === EV_HOP) {
        this.hop(q.a, q.time);
        continue;
      }
      if (this.ended) continue;
      switch (kind) {
        case EV_ARRIVE:
          this.arrive(q.a, q.time);
          break;
        case EV_TRY_START:
          this.tryStart(q.a, q.time);
          break;
        case EV_A_DONE:
          this.aDone(q.a, q.b, q.time);
          break;
        case EV_TILE_DONE:
          this.tileDone(q.a, q.b, q.time);
          break;
        case EV_EXIT_STEP:
          this.exitStep(q.a, q.time);
          break;
      }
    }
    this.events += n;
  }

  /** Layer 0's input frame at t leaves the global buffer for each of its tiles. */
  private sendLayerInputs(t: number, time: number): void {
    const plan = this.plans[0];
    if (t >= plan.timesteps) return;
    if (plan.staticReuse && t > 0) {
      // Nothing to fetch: the tiles read their stored pre-activations once the schedule allows.
      if (!this.pipelined && this.seqOpen[t] === 0) {
        this.seqOpen[t] = 1;
        for (let g = this.tileBase[0]; g < this.tileBase[1]; g++)
          this.q.schedule(time, 2, EV_TRY_START, g, 0);
      }
      return;
    }
    const wasted = t >= this.frames[0];
    const payload = this.work.payload[this.work.ensure(0, t)];
    const counts = wasted ? this.wasted : this.counts;
    const gReads = globalReads(this.w.spec, plan);
    counts.add(0, Math.min(t, counts.timesteps - 1), A.GLOBAL_READ, gReads);
    const leave = time + gReads * this.costs.globalRead;
    const io = this.w.mapping.ioXY;
    for (let k = 0; k < plan.tiles.length; k++)
      this.launch(
        this.newPacket(io[0], io[1], k, payload * plan.tiles[k].fraction, PURPOSE_INPUT, 0, t, wasted),
        leave,
      );
  }

  /** Puts a packet into the network at `time` (or delivers it at once between co-located endpoints). */
  private launch(id: number, time: number): void {
    // Between endpoints on the same node the data stays local: no packet enters the network.
    const o = id << PK_SHIFT;
    const pk = this.pk;
    if (pk[o + PK_X] === pk[o + PK_DX] && pk[o + PK_Y] === pk[o + PK_DY])
      this.q.schedule(time, 1, EV_ARRIVE, id, 0);
    else {
      this.noc.sent++;
      this.q.schedule(time, 0, EV_HOP, id, 0);
    }
  }

  /**
   * Allocates a packet of `bits` from node (x, y) to slot `dst` (a global tile slot; −1: the I/O node),
   * with at least one flit (the end-of-frame marker).
   */
  private newPacket(
    x: number,
    y: number,
    dst: number,
    bits: number,
    purpose: number,
    row: number,
    t: number,
    wasted: boolean,
  ): number {
    const id = this.pkN++;
    if (id << PK_SHIFT >= this.pk.length) this.allocPackets(2 * (this.pk.length >> PK_SHIFT));
    const pk = this.pk;
    const o = id << PK_SHIFT;
    pk[o + PK_X] = x;
    pk[o + PK_Y] = y;
    if (dst < 0) {
      pk[o + PK_DX] = this.w.mapping.ioXY[0];
      pk[o + PK_DY] = this.w.mapping.ioXY[1];
    } else {
      pk[o + PK_DX] = this.slotX[dst];
      pk[o + PK_DY] = this.slotY[dst];
    }
    pk[o + PK_FLITS] = flitsOf(bits, this.flitBits);
    pk[o + PK_HOPS] = 0;
    pk[o + PK_PREV_LINK] = -1;
    pk[o + PK_PURPOSE] = purpose;
    pk[o + PK_ROW] = row;
    pk[o + PK_SLOT] = dst;
    pk[o + PK_T] = t;
    pk[o + PK_WASTED] = wasted ? 1 : 0;
    return id;
  }

  private arrive(id: number, time: number): void {
    const T2 = this.T2;
    const o = id << PK_SHIFT;
    const t = this.pk[o + PK_T];
    const g = this.pk[o + PK_SLOT];
    switch (this.pk[o + PK_PURPOSE]) {
      case PURPOSE_INPUT:
        if (--this.pending[g * T2 + t] === 0) this.q.schedule(time, 2, EV_TRY_START, g, 0);
        return;
      case PURPOSE_PSUM: {
        const kt = g * T2 + t;
        if (--this.psumPending[kt] === 0 && this.aDoneAt[kt] >= 0) this.finishStageB(g, t, time);
        return;
      }
      case PURPOSE_LOGITS:
        if (--this.logitsPending[t] === 0) this.q.schedule(time, 3, EV_EXIT_STEP, t, 0);
        return;
    }
  }

  /** A tile starts its next timestep when its input arrived, its stage A is free, and the schedule allows. */
  private tryStart(g: number, time: number): void {
    const T2 = this.T2;
    const l = this.slotLayer[g];
    const plan = this.plans[l];
    const t = this.nextT[g];
    if (t >= plan.timesteps || this.pending[g * T2 + t] > 0) return;
    // Layer-sequential: a step whose predecessor in the order is not its producer waits to be released.
    if (!this.pipelined && this.seqOpen[l * T2 + t] === 0) return;
    const F = this.frames[l];
    const pipelined = this.pipelined;
    // Beyond the recorded frames only pipelined run-ahead happens (wasted work), one timestep at most.
    if (t >= F && (!pipelined || t > F)) return;
    // A reused static step only reads stored sums through stage B: it follows the tile's previous step.
    if (plan.staticReuse && t > 0 && this.tileDoneT[g] < t - 1) return;
    if (time < this.busyUntil[g]) {
      this.q.schedule(this.busyUntil[g], 2, EV_TRY_START, g, 0);
      return;
    }
    // Streaming: a layer's first frame waits until the next layer started the previous sample's last.
    if (t === 0 && time < this.notBefore[l]) {
      this.q.schedule(this.notBefore[l], 2, EV_TRY_START, g, 0);
      return;
    }
    // Pipelined run-ahead (double-buffered outputs): layer l starts t only once layer l+1 started the first
    // frame made from t−1 (uniform T: layer l at most one timestep ahead of layer l+1; steps.ts).
    const gate = this.graph.gate[l * T2 + t];
    if (pipelined && gate >= 0 && this.startedCount[(l + 1) * T2 + gate] < this.plans[l + 1].tiles.length) {
      this.waitingNext[l] = 1;
      return;
    }
    this.nextT[g] = t + 1;
    if (time > this.lastStart[l]) this.lastStart[l] = time;
    const started = ++this.startedCount[l * T2 + t];
    const nTiles = plan.tiles.length;
    if (pipelined && l > 0 && started === nTiles && this.waitingNext[l - 1]) {
      this.waitingNext[l - 1] = 0;
      for (let s = this.tileBase[l - 1]; s < this.tileBase[l]; s++)
        this.q.schedule(time, 2, EV_TRY_START, s, 0);
    }
    const key = this.work.ensure(l, t);
    if (started === 1) {
      this.countLayerWork(l, t, key, t >= F);
      this.layerStart[l * T2 + t] = time;
    }
    const k = this.slotLocal[g];
    const ti = plan.tiles[k];
    const idx = t * nTiles + k;
    const aEnd = time + this.work.aCycles[l][idx];
    this.busyUntil[g] = aEnd;
    this.q.schedule(aEnd, 1, EV_A_DONE, g, t);
    // A reused static step has no partial sums to wait for: its home tiles read the stored sums.
    if (ti.homeNeurons > 0 && (ti.psumFrom === 0 || (plan.staticReuse && t > 0))) {
      const b = this.slotB[g];
      const bEnd = pipelinedBEnd(
        time,
        this.bFree[b],
        plan.geo.positions,
        this.work.dB[l][idx],
        this.work.bSpan[l][idx],
      );
      this.bFree[b] = bEnd;
      this.q.schedule(bEnd, 1, EV_TILE_DONE, g, t);
    }
  }

  /** Counts the layer's work at timestep t (crossbars from the exact frame, delivery, neurons). */
  private countLayerWork(l: number, t: number, key: number, wasted: boolean): void {
    const plan = this.plans[l];
    const counts = wasted ? this.wasted : this.counts;
    const ts = Math.min(t, counts.timesteps - 1);
    const work = this.work;
    countCrossbarWork(plan.geo, work.groupsTotal[key], work.activeRowsTotal[key], counts, l, ts);
    countLayerSupport(
      this.w.spec,
      plan.geo.lm,
      t,
      plan.timesteps,
      work.nPlanes[key],
      plan.elemBits,
      counts,
      l,
      ts,
      plan.staticReuse,
    );
  }

  private aDone(g: number, t: number, time: number): void {
    const kt = g * this.T2 + t;
    const l = this.slotLayer[g];
    const plan = this.plans[l];
    const ti = plan.tiles[this.slotLocal[g]];
    this.aDoneAt[kt] = time;
    const reused = plan.staticReuse && t > 0;
    if (ti.psumFrom > 0 && !reused && this.psumPending[kt] === 0) this.finishStageB(g, t, time);
    const wasted = t >= this.frames[l];
    const P = plan.geo.positions;
    const base = this.tileBase[l];
    for (let i = 0; i < (reused ? 0 : ti.psumTo.length); i++)
      this.launch(
        this.newPacket(
          this.slotX[g],
          this.slotY[g],
          base + ti.psumTo[i],
          ti.psumBits[i] * P,
          PURPOSE_PSUM,
          l,
          t,
          wasted,
        ),
        time,
      );
    if (ti.homeNeurons === 0) this.q.schedule(time, 1, EV_TILE_DONE, g, t);
    // A next frame that needs no packet (a zero frame, or the frame held again) starts when stage A frees.
    if (t + 1 < plan.timesteps && this.pendingInit[l * this.T2 + t + 1] === 0)
      this.q.schedule(time, 2, EV_TRY_START, g, 0);
  }

  /** A tile that waited for partial sums runs stage B over every position. */
  private finishStageB(g: number, t: number, time: number): void {
    const l = this.slotLayer[g];
    const plan = this.plans[l];
    const b = this.slotB[g];
    const start = Math.max(time, this.bFree[b]);
    const end = start + plan.geo.positions * this.work.dB[l][t * plan.tiles.length + this.slotLocal[g]];
    this.bFree[b] = end;
    this.q.schedule(end, 1, EV_TILE_DONE, g, t);
  }

  private tileDone(g: number, t: number, time: number): void {
    const T2 = this.T2;
    const l = this.slotLayer[g];
    const plan = this.plans[l];
    const ti = plan.tiles[this.slotLocal[g]];
    const L = this.L;
    const wasted = t >= this.frames[l];
    const nTiles = plan.tiles.length;
    const done = ++this.doneCount[l * T2 + t];
    if (t > this.tileDoneT[g]) this.tileDoneT[g] = t;
    if (ti.homeNeurons > 0) {
      if (l < L - 1) {
        // The frames of layer l+1 whose last source frame is t (uniform T: frame t), one packet per tile.
        const graph = this.graph;
        const next = this.plans[l + 1];
        const x = this.slotX[g];
        const y = this.slotY[g];
        const base = this.tileBase[l + 1];
        for (let ci = graph.consStart[l * T2 + t], ce = graph.consStart[l * T2 + t + 1]; ci < ce; ci++) {
          const tn = graph.cons[ci];
          const nextWasted = wasted || tn >= this.frames[l + 1];
          const bits = this.work.payload[this.work.ensure(l + 1, tn)] / plan.homes;
          for (let nk = 0; nk < next.tiles.length; nk++)
            this.launch(
              this.newPacket(
                x,
                y,
                base + nk,
                bits * next.tiles[nk].fraction,
                PURPOSE_INPUT,
                l + 1,
                tn,
                nextWasted,
              ),
              time,
            );
        }
      } else if (!wasted) {
        if (this.dynamic || t === this.exitT - 1)
          this.launch(
            this.newPacket(
              this.slotX[g],
              this.slotY[g],
              -1,
              this.logitBits / plan.homes,
              PURPOSE_LOGITS,
              L,
              t,
              false,
            ),
            time,
          );
        else if (--this.logitsPending[t] === 0) this.q.schedule(time, 3, EV_EXIT_STEP, t, 0);
      }
    }
    if (done === nTiles) {
      const c = this.counts.timesteps;
      this.busy[l * c + Math.min(t, c - 1)] += (time - this.layerStart[l * T2 + t]) * this.cycle;
      // Timestep-pipelined: layer 0 fetches its next frame as soon as it finished this one.
      if (this.pipelined) {
        if (l === 0) this.sendLayerInputs(t + 1, time);
      } else this.release(this.graph.seqNext[l * T2 + t], time);
      if (t < this.required[l] && --this.stepsLeft === 0 && this.exitDone) {
        // Work the exit did not wait for (frames `pad` drops) ran to its end.
        this.ended = true;
        if (time > this.endCycle) this.endCycle = time;
      }
    }
    this.q.schedule(time, 2, EV_TRY_START, g, 0);
  }

  /**
   * Layer-sequential: the item after a finished one in the order may go — layer 0's frame leaves the
   * global buffer; a step its producer does not already release is released; an exit step waits for
   * its logits.
   */
  private release(item: number, time: number): void {
    if (item < 0) return;
    const T2 = this.T2;
    const l = (item / T2) | 0;
    if (l === this.L) return;
    const t = item - l * T2;
    if (l === 0) this.sendLayerInputs(t, time);
    else if (this.seqOpen[item] === 0) {
      this.seqOpen[item] = 1;
      for (let g = this.tileBase[l]; g < this.tileBase[l + 1]; g++)
        this.q.schedule(time, 2, EV_TRY_START, g, 0);
    }
  }

  /** The logits of timestep t reached the entropy unit (or, static, the output buffer). */
  private exitStep(t: number, time: number): void {
    const L = this.L;
    let end = time;
    if (this.dynamic) {
      this.counts.add(L, t, A.ENTROPY_CLASS_STEP, this.K);
      this.counts.add(L, t, A.ENTROPY_DECIDE, 1);
      end += this.costs.entropy;
      this.exitUnitCycles += this.costs.entropy;
    }
    const T = this.counts.timesteps;
    if (t === this.exitT - 1) {
      const writes = outputWrites(this.w);
      this.counts.add(L, t, A.GLOBAL_WRITE, writes);
      end += writes * this.costs.globalWrite;
      this.busy[L * T + t] += (end - time) * this.cycle;
      this.exitDone = true;
      this.endCycle = end;
      if (this.stepsLeft === 0) this.ended = true;
      return;
    }
    this.busy[L * T + t] += (end - time) * this.cycle;
    // Layer-sequential: the next step starts after the decision.
    if (!this.pipelined) this.release(this.graph.seqNext[L * this.T2 + t], end);
  }

  /** A packet at a router: route it one hop (the chip's topology), or deliver it. Links are granted first come, first served. */
  private hop(id: number, now: number): void {
    const pk = this.pk;
    const o = id << PK_SHIFT;
    const x = pk[o + PK_X];
    const y = pk[o + PK_Y];
    const dx = pk[o + PK_DX];
    const dy = pk[o + PK_DY];
    const flits = pk[o + PK_FLITS];
    if (x === dx && y === dy) {
      // Ejection: the router pipeline, then the tail flit.
      const counts = pk[o + PK_WASTED] ? this.wasted : this.counts;
      const hops = pk[o + PK_HOPS];
      const ts = Math.min(pk[o + PK_T], counts.timesteps - 1);
      const row = pk[o + PK_ROW];
      counts.add(row, ts, A.ROUTER_TRAVERSE, flits * (hops + 1));
      counts.add(row, ts, A.LINK_TRAVERSE, flits * hops);
      const noc = this.noc;
      noc.packets++;
      noc.flits += flits;
      noc.hops += hops;
      this.q.schedule(now + this.tRouter + flits - 1, 1, EV_ARRIVE, id, 0);
      return;
    }
    const dir = this.nocRoute.nextDir(x, y, dx, dy);
    const link = (y * this.meshColumns + x) * 4 + dir;
    const ready = now + this.tRouter;
    let start = ready;
    if (!this.contentionFree) {
      const linkFree = this.linkFree;
      const free = linkFree[link];
      if (free > start) start = free;
      if (start > ready) {
        const noc = this.noc;
        if (start - ready > noc.maxQueueing_cycles) noc.maxQueueing_cycles = start - ready;
        // Back-pressure: a blocked packet fills this router's input buffer; flits that do not fit stay
        // on the upstream link, which stays held until they can move on.
        const prev = pk[o + PK_PREV_LINK];
        const overflow = flits - this.bufferFlits;
        if (prev >= 0 && overflow > 0) {
          const held = start + overflow;
          if (held > linkFree[prev]) {
            noc.backpressure_cycles += held - linkFree[prev];
            linkFree[prev] = held;
          }
        }
      }
      linkFree[link] = start + flits;
    }
    pk[o + PK_PREV_LINK] = link;
    this.linkBusy[link] += flits;
    // One hop that way (across the edge only on wrap-around links, which only a torus routes over).
    if (dir === EAST) pk[o + PK_X] = x + 1 === this.meshColumns ? 0 : x + 1;
    else if (dir === WEST) pk[o + PK_X] = x === 0 ? this.meshColumns - 1 : x - 1;
    else if (dir === SOUTH) pk[o + PK_Y] = y + 1 === this.meshRows ? 0 : y + 1;
    else pk[o + PK_Y] = y === 0 ? this.meshRows - 1 : y - 1;
    pk[o + PK_HOPS]++;
    this.q.schedule(start + this.tLink, 0, EV_HOP, id, 0);
  }

  get simulatedTime_s(): number {
    return this.nowCycle * this.cycle;
  }

  get eventsProcessed(): number {
    return this.events;
  }
}

/** The trace must come from this network: same weighted layers, same input sizes. */
export function checkTraceMatches(w: Workload, header: TraceHeader, file?: string): void {
  if (
    header.layers.length !== w.mapping.layers.length ||
    header.layers.some((l, i) => l.input_elements !== w.mapping.layers[i].layer.inputElements)
  )
    throw located('the trace does not match the network: weighted layers or their input sizes differ', {
      file,
      expected: w.mapping.layers.map((l) => `${l.layer.name}:${l.layer.inputElements}`).join(', '),
      found: header.layers.map((l) => `${l.name}:${l.input_elements}`).join(', '),
    });
}
