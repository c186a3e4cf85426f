/**
 * The critical path of one sample through the chip, in closed form: the latency the schedule implies when
 * no resource is contended (every packet takes its contention-free path, every layer has its tiles'
 * stage B to itself), computed without an event queue from the same per-timestep work and the same timing
 * rules as the replay (`work.ts`) and the same step dependencies (`steps.ts`). With contention made
 * impossible (`Replay` with `contentionFree`) the replay's latency equals it exactly, in integer cycles;
 * with contention it is never below it.
 *
 * Recurrence over the steps in a topological order (cycles from the sample's start; tile k of layer l at
 * its timestep t):
 * - input: layer 0's frame leaves the global buffer `globalReads × read` after it is sent (at 0; then
 *   layer-sequential: when the step or exit step before it in the order finished; pipelined: when every
 *   layer-0 tile finished t−1); layer l > 0, when its frame is sent, receives one packet from each home
 *   tile j of layer l−1, sent when j finished the last frame the input is made of (`depHi`):
 *   in(l,k,t) = max over senders of (send + packetCycles(hops, flits)); a frame not sent (a zero frame,
 *   or the frame held again) waits for nothing;
 * - start: S(l,k,t) = max(in(l,k,t), Aend(l,k,t−1), layer-sequential: the step before it in the order
 *   done on every tile, or the exit step before it; pipelined: max_k' S(l+1,k',gate(l,t)) — the frame of
 *   layer l+1 made from t−1 started);
 * - stage A ends Aend = S + aCycles; a tile without home neurons is done then and ships its partial sums;
 *   a home tile waiting for none runs stage B as positions come out of A (`pipelinedBEnd`); a home tile
 *   with partial sums runs stage B over all positions once they and its own stage A are in;
 * - exit step at τ: the logits reach the I/O node (dynamic policies every timestep, static at the last),
 *   the entropy unit evaluates, and at the exit timestep the output is written; the sample ends then, or
 *   when the last required step ends if later (frames `pad` drops, pipelined).
 */
import type { Workload } from '../chip/workload.js';
import type { TraceHeader, TraceSample } from '../trace/types.js';
import {
  cycleCosts,
  flitsOf,
  globalReads,
  outputWrites,
  packetCycles,
  pipelinedBEnd,
  planLayers,
  SampleWork,
  type CycleCosts,
  type LayerPlan,
} from './work.js';
import { checkTraceMatches } from './replay.js';

/** What the critical path reads of a sample's work (`SampleWork`, or group means in `trace-estimate.ts`). */
export type StepWorkSource = Pick<SampleWork, 'ensure' | 'payload' | 'aCycles' | 'bSpan' | 'dB'>;
import { StepGraph } from './steps.js';
import { exitPolicy } from '../snn/policies/registry.js';

export class CriticalPath {
  readonly w: Workload;
  readonly header: TraceHeader;
  readonly plans: LayerPlan[];
  readonly costs: CycleCosts;
  readonly graph: StepGraph;
  private readonly work: SampleWork;
  /** Mesh node of each tile of each layer: x, y. */
  private readonly xs: Int32Array[];
  private readonly ys: Int32Array[];
  // Per layer, [t * tiles + k]: start, stage-A end and done of every step; per tile the stage-B free cycle.
  private readonly S: Float64Array[];
  private readonly aEnd: Float64Array[];
  private readonly done: Float64Array[];
  private readonly bFree: Float64Array[];
  /** [item]: cycle a step is done on every tile, or an exit step ended. */
  private readonly itemEnd: Float64Array;
  private readonly input: Float64Array;
  private readonly psumIn: Float64Array;
  /**
   * [l·T2 + t]: cycles from the first tile's start to the last tile's end of each step of the last
   * `cycles` call (0 for steps that did not run): what the replay books as the layer's busy time.
   */
  readonly span: Float64Array;

  constructor(w: Workload, header: TraceHeader, source?: string) {
    checkTraceMatches(w, header, source);
    this.w = w;
    this.header = header;
    this.graph = new StepGraph(w, header, source);
    this.costs = cycleCosts(w);
    this.plans = planLayers(w, header);
    this.work = new SampleWork(w, this.plans, this.costs);
    const m = w.mapping;
    this.xs = this.plans.map((p) => Int32Array.from(p.tiles, (ti) => m.tileXY[2 * ti.tile]));
    this.ys = this.plans.map((p) => Int32Array.from(p.tiles, (ti) => m.tileXY[2 * ti.tile + 1]));
    const T2 = this.graph.T2;
    const per = (rows: number) => this.plans.map((p) => new Float64Array(rows * p.tiles.length));
    this.S = per(T2);
    this.aEnd = per(T2);
    this.done = per(T2);
    this.bFree = per(1);
    this.itemEnd = new Float64Array((this.plans.length + 1) * T2);
    const maxTiles = Math.max(...this.plans.map((p) => p.tiles.length));
    this.input = new Float64Array(maxTiles);
    this.psumIn = new Float64Array(maxTiles);
    this.span = new Float64Array(this.plans.length * T2);
  }

  /** Latency of one sample in cycles. */
  sampleCycles(s: TraceSample): number {
    this.graph.checkSample(s);
    this.work.begin(s);
    return this.cycles(s.exitTimestep, this.work);
  }

  /**
   * Latency in cycles of a sample exiting after `exitT` output timesteps whose per-step work is `work`
   * (one sample's, or the means of a group of samples: `trace-estimate.ts`). Also records each step's span
   * (`stepSpan`).
   */
  cycles(exitT: number, work: StepWorkSource): number {
    const { plans, costs: c, graph } = this;
    const spec = this.w.spec;
    const L = plans.length;
    const T2 = graph.T2;
    this.span.fill(0);
    const pipelined = spec.schedule.policy === 'timestep-pipelined';
    const dynamic = exitPolicy(this.header.policy.name).exits !== null;
    const flitBits = spec.noc.flit_bits;
    const io = this.w.mapping.ioXY;
    const noc = this.w.mapping.noc;
    for (const b of this.bFree) b.fill(0);
    const itemEnd = this.itemEnd;
    itemEnd.fill(0);
    /** When the item before `item` in the layer-sequential order ended (0: none before it). */
    const predEnd = (item: number) => {
      const p = graph.seqPred[item];
      return p < 0 ? 0 : itemEnd[p];
    };
    const order = pipelined ? graph.pipeOrder : graph.seqOrder;
    let end = 0;
    for (let i = 0; i < order.length; i++) {
      const item = order[i];
      const l = (item / T2) | 0;
      const t = item - l * T2;
      if (l === L) {
        // --- exit step ---
        if (t >= exitT) continue;
        const last = plans[L - 1];
        const lx = this.xs[L - 1];
        const ly = this.ys[L - 1];
        const lDone = this.done[L - 1];
        const nl = last.tiles.length;
        const send = dynamic || t === exitT - 1;
        const flits = flitsOf((this.w.network.classes * spec.noc.psum_bits) / last.homes, flitBits);
        let at = 0;
        for (let k = 0; k < nl; k++) {
          if (last.tiles[k].homeNeurons === 0) continue;
          const hops = noc.hops(lx[k], ly[k], io[0], io[1]);
          at = Math.max(at, lDone[t * nl + k] + (send ? packetCycles(c, hops, flits) : 0));
        }
        itemEnd[item] = at + (dynamic ? c.entropy : 0);
        if (t === exitT - 1) end = Math.max(end, itemEnd[item] + outputWrites(this.w) * c.globalWrite);
        continue;
      }
      if (t >= (graph.layerwise ? graph.T[l] : exitT)) continue;
      const plan = plans[l];
      const n = plan.tiles.length;
      const xs = this.xs[l];
      const ys = this.ys[l];
      const S = this.S[l];
      const aEnd = this.aEnd[l];
      const done = this.done[l];
      const bFree = this.bFree[l];
      const input = this.input;
      const key = work.ensure(l, t);
      const payload = work.payload[key];
      // --- input arrival ---
      const reused = plan.staticReuse && t > 0;
      if (reused) {
        // A static first layer reading its stored pre-activations: nothing to deliver; under
        // layer-sequential it waits for the exit decision before it.
        input.fill(pipelined ? 0 : predEnd(item), 0, n);
      } else if (l === 0) {
        let sent = 0;
        if (pipelined) {
          if (t > 0) for (let k = 0; k < n; k++) sent = Math.max(sent, done[(t - 1) * n + k]);
        } else sent = predEnd(item);
        const leave = sent + globalReads(spec, plan) * c.globalRead;
        for (let k = 0; k < n; k++) {
          const hops = noc.hops(xs[k], ys[k], io[0], io[1]);
          input[k] = leave + packetCycles(c, hops, flitsOf(payload * plan.tiles[k].fraction, flitBits));
        }
      } else if (graph.sends[item]) {
        const prev = plans[l - 1];
        const np = prev.tiles.length;
        const px = this.xs[l - 1];
        const py = this.ys[l - 1];
        const pDone = this.done[l - 1];
        const src = graph.depHi[item] * np;
        const bits = payload / prev.homes;
        for (let k = 0; k < n; k++) {
          const flits = flitsOf(bits * plan.tiles[k].fraction, flitBits);
          let arrive = 0;
          for (let j = 0; j < np; j++) {
            if (prev.tiles[j].homeNeurons === 0) continue;
            const hops = noc.hops(xs[k], ys[k], px[j], py[j]);
            arrive = Math.max(arrive, pDone[src + j] + packetCycles(c, hops, flits));
          }
          input[k] = arrive;
        }
      } else input.fill(0, 0, n);
      // --- start: input in, stage A free, and the schedule's hold ---
      let gate = 0;
      if (pipelined) {
        const g = graph.gate[item];
        if (g >= 0) {
          const next = this.S[l + 1];
          const nn = plans[l + 1].tiles.length;
          for (let k = 0; k < nn; k++) gate = Math.max(gate, next[g * nn + k]);
        }
      } else if (l > 0) gate = predEnd(item);
      const aCycles = work.aCycles[l];
      const bSpan = work.bSpan[l];
      const dB = work.dB[l];
      const P = plan.geo.positions;
      const row = t * n;
      for (let k = 0; k < n; k++) {
        let start = Math.max(input[k], gate);
        if (t > 0) start = Math.max(start, aEnd[row - n + k]);
        // A reused static step only reads stored sums through stage B: it follows the tile's previous step.
        if (reused) start = Math.max(start, done[row - n + k]);
        S[row + k] = start;
        aEnd[row + k] = start + aCycles[row + k];
      }
      // --- done: stage B ---
      for (let k = 0; k < n; k++) {
        const ti = plan.tiles[k];
        const i = row + k;
        if (ti.homeNeurons === 0) done[i] = aEnd[i];
        else if (ti.psumFrom === 0 || reused)
          done[i] = bFree[k] = pipelinedBEnd(S[i], bFree[k], P, dB[i], bSpan[i]);
      }
      // Partial sums leave their tiles when stage A ends; a home tile runs stage B once all arrived.
      const psumIn = this.psumIn;
      psumIn.fill(0, 0, n);
      for (let j = 0; j < (reused ? 0 : n); j++) {
        const tj = plan.tiles[j];
        for (let q = 0; q < tj.psumTo.length; q++) {
          const k = tj.psumTo[q];
          const hops = noc.hops(xs[k], ys[k], xs[j], ys[j]);
          const arrive = aEnd[row + j] + packetCycles(c, hops, flitsOf(tj.psumBits[q] * P, flitBits));
          if (arrive > psumIn[k]) psumIn[k] = arrive;
        }
      }
      let stepEnd = 0;
      for (let k = 0; k < n; k++) {
        const ti = plan.tiles[k];
        const i = row + k;
        if (ti.homeNeurons > 0 && ti.psumFrom > 0 && !reused) {
          const ready = Math.max(aEnd[i], psumIn[k]);
          done[i] = bFree[k] = Math.max(ready, bFree[k]) + P * dB[i];
        }
        if (done[i] > stepEnd) stepEnd = done[i];
      }
      itemEnd[item] = stepEnd;
      let first = Infinity;
      for (let k = 0; k < n; k++) if (S[row + k] < first) first = S[row + k];
      this.span[l * T2 + t] = stepEnd - first;
      if (stepEnd > end) end = stepEnd;
    }
    return end;
  }
}

/** Critical-path latency (cycles) of one sample: a convenience over `CriticalPath`. */
export function criticalPathCycles(w: Workload, header: TraceHeader, s: TraceSample): number {
  return new CriticalPath(w, header).sampleCycles(s);
}
