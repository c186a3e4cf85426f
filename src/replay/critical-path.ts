/**
 * The critical path of one sample through the chip, in closed form: the latency the schedule implies when
 * no resource is contended (every packet takes its contention-free path, every layer has its tiles'
 * stage B to itself), computed without an event queue from the same per-timestep work and the same timing
 * rules as the replay (`work.ts`). With contention made impossible (`Replay` with `contentionFree`) the
 * replay's latency equals it exactly, in integer cycles; with contention it is never below it.
 *
 * Recurrence (cycles from the sample's start; tile k of layer l at timestep t):
 * - input: layer 0's frame leaves the global buffer `globalReads × read` after it is sent (at 0; then
 *   layer-sequential: when the exit decision of t−1 ended; pipelined: when every layer-0 tile finished
 *   t−1); layer l > 0 receives one packet from each home tile j of layer l−1, sent when j finished t:
 *   in(l,k,t) = max over senders of (send + packetCycles(hops, flits));
 * - start: S(l,k,t) = max(in(l,k,t), Aend(l,k,t−1), and under pipelining max_k' S(l+1,k',t−1): a layer
 *   runs at most one timestep ahead of the next);
 * - stage A ends Aend = S + aCycles; a tile without home neurons is done then and ships its partial sums;
 *   a home tile waiting for none runs stage B as positions come out of A (`pipelinedBEnd`); a home tile
 *   with partial sums runs stage B over all positions once they and its own stage A are in;
 * - exit step at t: the logits reach the I/O node (dynamic policies every timestep, static at the last),
 *   the entropy unit evaluates, and at the exit timestep the output is written — the sample ends.
 */
import { located } from '../config/errors.js';
import type { Workload } from '../analytic/workload.js';
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

export class CriticalPath {
  readonly w: Workload;
  readonly header: TraceHeader;
  readonly plans: LayerPlan[];
  readonly costs: CycleCosts;
  private readonly work: SampleWork;
  /** Mesh node of each tile of each layer: x, y. */
  private readonly xs: Int32Array[];
  private readonly ys: Int32Array[];
  // Per layer and tile: start and stage-A end of the latest timestep, done of the latest, stage B free.
  private readonly S: Float64Array[];
  private readonly aEnd: Float64Array[];
  private readonly done: Float64Array[];
  private readonly bFree: Float64Array[];
  private readonly input: Float64Array;

  constructor(w: Workload, header: TraceHeader) {
    checkTraceMatches(w, header);
    this.w = w;
    this.header = header;
    this.costs = cycleCosts(w);
    this.plans = planLayers(w, header);
    this.work = new SampleWork(w, this.plans, this.costs);
    const m = w.mapping;
    this.xs = this.plans.map((p) => Int32Array.from(p.tiles, (ti) => m.tileXY[2 * ti.tile]));
    this.ys = this.plans.map((p) => Int32Array.from(p.tiles, (ti) => m.tileXY[2 * ti.tile + 1]));
    const per = () => this.plans.map((p) => new Float64Array(p.tiles.length));
    this.S = per();
    this.aEnd = per();
    this.done = per();
    this.bFree = per();
    this.input = new Float64Array(Math.max(...this.plans.map((p) => p.tiles.length)));
  }

  /** Latency of one sample in cycles. */
  sampleCycles(s: TraceSample): number {
    const { plans, costs: c, work } = this;
    const spec = this.w.spec;
    const L = plans.length;
    if (s.inputs.length !== L)
      throw located('trace sample has the wrong number of layers', {
        expected: String(L),
        found: String(s.inputs.length),
      });
    const pipelined = spec.schedule.policy === 'timestep-pipelined';
    const dynamic = this.header.policy.name === 'entropy' || this.header.policy.name === 'confidence';
    const flitBits = spec.noc.flit_bits;
    const io = this.w.mapping.ioXY;
    const exitT = s.exitTimestep;
    work.begin(s);
    for (const b of this.bFree) b.fill(0);
    let exitEnd = 0;
    for (let t = 0; t < exitT; t++) {
      for (let l = 0; l < L; l++) {
        const plan = plans[l];
        if (t >= plan.timesteps || t >= s.inputs[l].length)
          throw located('critical path: a layer does not run a timestep the exit needs', {
            path: `layers[${l}]`,
            expected: `≥ ${exitT} timesteps`,
            found: String(Math.min(plan.timesteps, s.inputs[l].length)),
          });
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
        if (l === 0) {
          let send = 0;
          if (t > 0) {
            if (pipelined) for (let k = 0; k < n; k++) send = Math.max(send, done[k]);
            else send = exitEnd;
          }
          const leave = send + globalReads(spec, plan) * c.globalRead;
          for (let k = 0; k < n; k++) {
            const hops = Math.abs(xs[k] - io[0]) + Math.abs(ys[k] - io[1]);
            input[k] = leave + packetCycles(c, hops, flitsOf(payload * plan.tiles[k].fraction, flitBits));
          }
        } else {
          const prev = plans[l - 1];
          const px = this.xs[l - 1];
          const py = this.ys[l - 1];
          const pDone = this.done[l - 1];
          const bits = payload / prev.homes;
          for (let k = 0; k < n; k++) {
            const flits = flitsOf(bits * plan.tiles[k].fraction, flitBits);
            let arrive = 0;
            for (let j = 0; j < prev.tiles.length; j++) {
              if (prev.tiles[j].homeNeurons === 0) continue;
              const hops = Math.abs(xs[k] - px[j]) + Math.abs(ys[k] - py[j]);
              arrive = Math.max(arrive, pDone[j] + packetCycles(c, hops, flits));
            }
            input[k] = arrive;
          }
        }
        // --- start: input in, stage A free, and (pipelined) the next layer started t−1 everywhere ---
        let gate = 0;
        if (pipelined && l < L - 1 && t > 0) for (const x of this.S[l + 1]) gate = Math.max(gate, x);
        const aCycles = work.aCycles[l];
        const bSpan = work.bSpan[l];
        const dB = work.dB[l];
        const P = plan.geo.positions;
        for (let k = 0; k < n; k++) {
          let start = Math.max(input[k], gate);
          if (t > 0) start = Math.max(start, aEnd[k]);
          S[k] = start;
          aEnd[k] = start + aCycles[t * n + k];
        }
        // --- done: stage B ---
        for (let k = 0; k < n; k++) {
          const ti = plan.tiles[k];
          const i = t * n + k;
          if (ti.homeNeurons === 0) done[k] = aEnd[k];
          else if (ti.psumFrom === 0) done[k] = bFree[k] = pipelinedBEnd(S[k], bFree[k], P, dB[i], bSpan[i]);
        }
        // Partial sums leave their tiles when stage A ends; a home tile runs stage B once all arrived.
        input.fill(0, 0, n);
        for (let j = 0; j < n; j++) {
          const tj = plan.tiles[j];
          for (let q = 0; q < tj.psumTo.length; q++) {
            const k = tj.psumTo[q];
            const hops = Math.abs(xs[k] - xs[j]) + Math.abs(ys[k] - ys[j]);
            const arrive = aEnd[j] + packetCycles(c, hops, flitsOf(tj.psumBits[q] * P, flitBits));
            if (arrive > input[k]) input[k] = arrive;
          }
        }
        for (let k = 0; k < n; k++) {
          const ti = plan.tiles[k];
          if (ti.homeNeurons === 0 || ti.psumFrom === 0) continue;
          const ready = Math.max(aEnd[k], input[k]);
          done[k] = bFree[k] = Math.max(ready, bFree[k]) + P * dB[t * n + k];
        }
      }
      // --- exit step ---
      const last = plans[L - 1];
      const lx = this.xs[L - 1];
      const ly = this.ys[L - 1];
      const lDone = this.done[L - 1];
      const send = dynamic || t === exitT - 1;
      const flits = flitsOf((this.w.network.classes * spec.noc.psum_bits) / last.homes, flitBits);
      let at = 0;
      for (let k = 0; k < last.tiles.length; k++) {
        if (last.tiles[k].homeNeurons === 0) continue;
        const hops = Math.abs(lx[k] - io[0]) + Math.abs(ly[k] - io[1]);
        at = Math.max(at, lDone[k] + (send ? packetCycles(c, hops, flits) : 0));
      }
      exitEnd = at + (dynamic ? c.entropy : 0);
      if (t === exitT - 1) return exitEnd + outputWrites(this.w) * c.globalWrite;
    }
    throw located('critical path: the sample has no exit timestep', {
      path: 'exitTimestep',
      expected: '≥ 1',
      found: String(exitT),
    });
  }
}

/** Critical-path latency (cycles) of one sample: a convenience over `CriticalPath`. */
export function criticalPathCycles(w: Workload, header: TraceHeader, s: TraceSample): number {
  return new CriticalPath(w, header).sampleCycles(s);
}
