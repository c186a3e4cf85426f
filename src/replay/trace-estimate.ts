/**
 * The closed form over a trace's activity statistics (`imcsim estimate --trace`): the energy, latency
 * and EDP of one inference, per layer and component, without an event queue.
 *
 * Why this lives beside the critical path and not in `analytic/`: the statistics the closed form needs
 * depend on the chip (the row pieces follow `crossbar.rows` and the mapping, the row groups
 * `rows_parallel` and zero-skipping, the bit-planes `input_bits`, the packets the tiles each layer
 * lands on), so they are computed for the chip from the trace's frames as it streams, with the one
 * home of the per-frame work (`work.ts`), and the latency follows the timing rules and step
 * dependencies the replay uses (`critical-path.ts`, `steps.ts`). The trace file itself is unchanged
 * (format version 1).
 *
 * Statistics, per group of samples with the same exit timestep E and per step (layer l, timestep t) the
 * group runs:
 * - Σ over samples of the row groups read (Σ over output positions, row pieces and bit-planes of
 *   ⌈active rows / rows_parallel⌉: padded rows are never active, an empty piece or plane costs no read),
 *   of the active rows (cell reads, row drives), of the bit-planes of the frame;
 * - Σ of each input packet's flits per (source, destination) tile pair, and the NoC payload;
 * - per tile, Σ of stage-A cycles and of the stage-B span of the two-stage position pipeline.
 * Energy: the action counts are these sums over the samples (crossbar side: `countCrossbarWork`, the
 * rest: `countLayerSupport`, partial sums, logits, the exit unit), divided by the samples — exactly
 * what the contention-free replay counts. Latency: per exit group, the critical path over the group's
 * mean per-step work (mean payload, mean stage-A cycles per tile), weighted by the group's share of
 * samples; the replay averages the critical paths of the samples instead, so the two differ only by the
 * maxima over tiles and the flit rounding taken on means (measured: docs/ARCHITECTURE.md).
 * Not counted: pipelined run-ahead past an exit (the replay's separate `wasted` account).
 */
import type { ArchSpec } from '../config/schema.js';
import { buildWorkload, type Workload } from '../chip/workload.js';
import { imcsimArea } from '../chip/area.js';
import { countLayerSupport } from '../chip/layer-counts.js';
import { A } from '../hw/actions.js';
import { ActionCounts } from '../hw/counts.js';
import { checkNetworkMemory } from '../network/memory.js';
import { inferShapes } from '../network/shapes.js';
import { price, type Priced } from '../pricing/price.js';
import { TraceReader } from '../trace/format.js';
import type { TraceHeader } from '../trace/types.js';
import { exitPolicy } from '../snn/policies/registry.js';
import { InputError } from '../util/errors.js';
import { CriticalPath, type StepWorkSource } from './critical-path.js';
import { countCrossbarWork, flitsOf, globalReads, outputWrites, SampleWork } from './work.js';

export interface TraceEstimateOptions {
  /** Use only the first N samples. */
  samples?: number;
}

/** The closed form over a trace: an `EstimateResult` (analytic/estimate.ts) with the trace it read. */
export interface TraceEstimateResult extends Priced {
  kind: 'estimate';
  source: 'trace';
  trace: string;
  samples: number;
  arch: string;
  network: string;
  accounting: ArchSpec['accounting'];
  adc_family: ArchSpec['adc']['family'];
  schedule: ArchSpec['schedule']['policy'];
  policy: Workload['policy'];
  trace_policy: string;
  layer_timesteps: number[];
  /** Share of samples exiting after t = 1 … T output timesteps. */
  exit_distribution: number[];
  mapping: { crossbars: number; pes: number; tiles: number; mesh: string };
  excluded_layers: [];
  notes: string[];
}

/** The workload a trace runs on: its network, its longest T, the exit unit its policy needs. */
export function traceWorkload(spec: ArchSpec, header: TraceHeader, tracePath: string): Workload {
  const shapes = inferShapes(header.network, tracePath);
  const T = Math.max(...header.layers.map((l) => l.timesteps));
  checkNetworkMemory(header.network, shapes, { timesteps: T, file: tracePath });
  const exit = exitPolicy(header.policy.name);
  return buildWorkload(
    spec,
    header.network,
    {
      timesteps: T,
      // Layerwise (LD-SNN) is static: the exit follows the output layer's last timestep.
      policy: exit.exits !== null ? 'entropy' : 'static',
      // The exit unit the policy needs (confidence: a max-softmax unit, not the entropy unit).
      exitUnitClass: exit.exitUnitClass ?? undefined,
    },
    shapes,
  );
}

/** Sums of one exit group's per-step work, and their means for the critical path. */
class GroupWork implements StepWorkSource {
  samples = 0;
  readonly payload: Float64Array;
  readonly aCycles: Float64Array[];
  readonly bSpan: Float64Array[];
  readonly dB: Float64Array[];
  constructor(
    readonly T2: number,
    tiles: number[],
  ) {
    this.payload = new Float64Array(tiles.length * T2);
    this.aCycles = tiles.map((n) => new Float64Array(T2 * n));
    this.bSpan = tiles.map((n) => new Float64Array(T2 * n));
    this.dB = tiles.map((n) => new Float64Array(T2 * n));
  }
  ensure(l: number, t: number): number {
    return l * this.T2 + t;
  }
  /** Turns the sums into means over the group's samples. */
  toMeans(): void {
    const n = this.samples;
    for (const a of [this.payload, ...this.aCycles, ...this.bSpan, ...this.dB])
      for (let i = 0; i < a.length; i++) a[i] /= n;
  }
}

export async function estimateFromTrace(
  spec: ArchSpec,
  tracePath: string,
  opts: TraceEstimateOptions = {},
): Promise<TraceEstimateResult> {
  const reader = await TraceReader.open(tracePath);
  try {
    const header = reader.header;
    const w = traceWorkload(spec, header, tracePath);
    const cp = new CriticalPath(w, header, tracePath);
    const { plans, graph, costs: c } = cp;
    const L = plans.length;
    const T2 = graph.T2;
    const Tout = graph.T[L - 1];
    const T = w.timesteps;
    const counts = new ActionCounts(L + 1, T);
    const work = new SampleWork(w, plans, c);
    const tileCounts = plans.map((p) => p.tiles.length);
    const groups: GroupWork[] = [];
    for (let e = 0; e < Tout; e++) groups.push(new GroupWork(T2, tileCounts));
    const m = w.mapping;
    const noc = m.noc;
    const xy = m.tileXY;
    const io = m.ioXY;
    const flitBits = spec.noc.flit_bits;
    const dynamic = w.policy === 'entropy';
    const logitBits = w.network.classes * spec.noc.psum_bits;
    const route = (row: number, t: number, ax: number, ay: number, bx: number, by: number, bits: number) => {
      const h = noc.hops(ax, ay, bx, by);
      if (h === 0) return; // endpoints on one node: no packet enters the network
      const flits = flitsOf(bits, flitBits);
      counts.add(row, t, A.ROUTER_TRAVERSE, flits * (h + 1));
      counts.add(row, t, A.LINK_TRAVERSE, flits * h);
    };
    const limit = opts.samples ?? Infinity;
    let n = 0;
    for await (const s of reader) {
      if (n >= limit) break;
      graph.checkSample(s);
      work.begin(s);
      const E = s.exitTimestep;
      const g = groups[E - 1];
      g.samples++;
      n++;
      for (let l = 0; l < L; l++) {
        const plan = plans[l];
        const need = graph.required(l, s);
        const nt = plan.tiles.length;
        for (let t = 0; t < need; t++) {
          const key = work.ensure(l, t);
          g.payload[key] += work.payload[key];
          const row = t * nt;
          for (let k = 0; k < nt; k++) {
            g.aCycles[l][row + k] += work.aCycles[l][row + k];
            g.bSpan[l][row + k] += work.bSpan[l][row + k];
            g.dB[l][row + k] += work.dB[l][row + k];
          }
          // --- crossbars and the support around them ---
          countCrossbarWork(plan.geo, work.groupsTotal[key], work.activeRowsTotal[key], counts, l, t);
          countLayerSupport(
            spec,
            plan.geo.lm,
            t,
            plan.timesteps,
            work.nPlanes[key],
            plan.elemBits,
            counts,
            l,
            t,
            plan.staticReuse,
          );
          const reused = plan.staticReuse && t > 0;
          // --- layer 0's frame: global buffer, then one packet per tile from the I/O node ---
          if (l === 0 && !reused) {
            counts.add(0, t, A.GLOBAL_READ, globalReads(spec, plan));
            for (let k = 0; k < nt; k++) {
              const d = plan.tiles[k].tile;
              route(0, t, io[0], io[1], xy[2 * d], xy[2 * d + 1], work.payload[key] * plan.tiles[k].fraction);
            }
          }
          // --- partial sums to each column group's home tile ---
          if (!reused)
            for (let j = 0; j < nt; j++) {
              const tj = plan.tiles[j];
              for (let q = 0; q < tj.psumTo.length; q++) {
                const d = plan.tiles[tj.psumTo[q]].tile;
                route(
                  l,
                  t,
                  xy[2 * tj.tile],
                  xy[2 * tj.tile + 1],
                  xy[2 * d],
                  xy[2 * d + 1],
                  tj.psumBits[q] * plan.geo.positions,
                );
              }
            }
          // --- outputs: the frames of layer l+1 this frame completes, or the logits ---
          for (let j = 0; j < nt; j++) {
            const tj = plan.tiles[j];
            if (tj.homeNeurons === 0) continue;
            const sx = xy[2 * tj.tile];
            const sy = xy[2 * tj.tile + 1];
            if (l < L - 1) {
              const next = plans[l + 1];
              const needNext = graph.required(l + 1, s);
              for (
                let ci = graph.consStart[l * T2 + t], ce = graph.consStart[l * T2 + t + 1];
                ci < ce;
                ci++
              ) {
                const tn = graph.cons[ci];
                if (tn >= needNext) continue;
                const bits = work.payload[work.ensure(l + 1, tn)] / plan.homes;
                for (let k = 0; k < next.tiles.length; k++) {
                  const d = next.tiles[k].tile;
                  route(l + 1, tn, sx, sy, xy[2 * d], xy[2 * d + 1], bits * next.tiles[k].fraction);
                }
              }
            } else if (dynamic || t === E - 1) route(L, t, sx, sy, io[0], io[1], logitBits / plan.homes);
          }
        }
      }
      // --- exit steps: the entropy unit, the final output write ---
      for (let t = 0; t < E; t++)
        if (dynamic) {
          counts.add(L, t, A.ENTROPY_CLASS_STEP, w.network.classes);
          counts.add(L, t, A.ENTROPY_DECIDE, 1);
        }
      counts.add(L, E - 1, A.GLOBAL_WRITE, outputWrites(w));
    }
    if (n === 0) throw new InputError(`${tracePath}: the trace holds no sample to estimate`);
    // --- latency: the critical path over each exit group's mean work ---
    const cycle = 1 / spec.chip.clock_hz;
    const busy = new Float64Array((L + 1) * T);
    let latencyCycles = 0;
    const exitShare: number[] = [];
    for (let e = 0; e < Tout; e++) {
      const g = groups[e];
      exitShare.push(g.samples / n);
      if (g.samples === 0) continue;
      g.toMeans();
      const share = g.samples / n;
      latencyCycles += share * cp.cycles(e + 1, g);
      for (let l = 0; l < L; l++)
        for (let t = 0; t < T; t++) busy[l * T + t] += share * cp.span[l * T2 + t] * cycle;
      // The exit row: the entropy unit at each output timestep, the final write.
      for (let t = 0; t <= e; t++) {
        let cyc = dynamic ? c.entropy : 0;
        if (t === e) cyc += outputWrites(w) * c.globalWrite;
        busy[L * T + t] += share * cyc * cycle;
      }
    }
    const d = counts.data;
    for (let i = 0; i < d.length; i++) d[i] /= n;
    const area = imcsimArea(w);
    const priced = price(w, {
      counts,
      timing: { busy_s: busy, latency_s: latencyCycles * cycle },
      area,
      excluded: [],
      notes: [],
    });
    const notes = [
      'closed form over the trace: action counts from its per-step activity (row groups and active rows per row piece and bit-plane, payloads, flits) on this chip; latency = critical path over each exit group’s mean work, weighted by the exit distribution',
      ...area.notes,
    ];
    if (header.synthetic) notes.push('synthetic trace: spike activity drawn from rates');
    if (spec.schedule.policy === 'timestep-pipelined' && dynamic)
      notes.push('pipelined run-ahead past the exit (the replay’s wasted work) is not counted');
    if (spec.leakage.model === 'none') notes.push('leakage not modelled (leakage.model: none)');
    return {
      kind: 'estimate',
      source: 'trace',
      trace: tracePath,
      samples: n,
      arch: spec.chip.name,
      network: header.network.name,
      accounting: spec.accounting,
      adc_family: spec.adc.family,
      schedule: spec.schedule.policy,
      policy: w.policy,
      trace_policy: header.policy.name,
      layer_timesteps: w.layerTimesteps,
      exit_distribution: exitShare,
      mapping: {
        crossbars: m.totalCrossbars,
        pes: m.totalPes,
        tiles: m.totalTiles,
        mesh: `${m.meshColumns}x${m.meshRows}`,
      },
      excluded_layers: [],
      notes,
      ...priced,
    };
  } finally {
    await reader.close();
  }
}
