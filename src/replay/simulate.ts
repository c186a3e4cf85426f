/**
 * `simulate`: stream a trace through the replay, then price the counts (the same pricing as `estimate`).
 */
import { buildWorkload } from '../chip/workload.js';
import { imcsimArea } from '../chip/area.js';
import type { ArchSpec } from '../config/schema.js';
import { COMPONENTS, NUM_ACTIONS } from '../hw/actions.js';
import { checkNetworkMemory } from '../network/memory.js';
import { inferShapes } from '../network/shapes.js';
import { actionEnergies, chipLeakageW, price, type Priced } from '../pricing/price.js';
import { chipConfiguration, runAssumptions } from '../pricing/assumptions.js';
import { componentUtilisations, runEfficiency } from '../pricing/efficiency.js';
import { ActivityCounter } from './activity.js';
import type { SampleRow, SimulationResult } from '../pricing/results.js';
import { TraceReader } from '../trace/format.js';
import { VERSION } from '../util/version.js';
import { Replay } from './replay.js';
import { exitPolicy } from '../snn/policies/registry.js';

export type { SampleRow, SimulationResult } from '../pricing/results.js';

export interface SimulateOptions {
  samples?: number;
  contentionFree?: boolean;
  onSample?: (done: number, total: number) => void;
}

/**
 * What the exit unit costs by its model, whether or not this run used it: one evaluation (K class steps
 * and a decision, as the replay counts them) and its leakage while powered (all its units).
 */
function exitUnitCosts(
  w: ReturnType<typeof buildWorkload>,
  units: number,
  classes: number,
): { energy_per_evaluation_j: number; leakage_when_powered_w: number } {
  const m = w.models.entropy_unit;
  const step = m.actions.class_step?.energy_j ?? 0;
  const decide = m.actions.decide?.energy_j ?? 0;
  return { energy_per_evaluation_j: classes * step + decide, leakage_when_powered_w: units * m.leakage_w };
}

export async function simulateTrace(
  spec: ArchSpec,
  tracePath: string,
  opts: SimulateOptions = {},
): Promise<SimulationResult> {
  const reader = await TraceReader.open(tracePath);
  try {
    const header = reader.header;
    const shapes = inferShapes(header.network, tracePath);
    checkNetworkMemory(header.network, shapes, {
      timesteps: Math.max(...header.layers.map((l) => l.timesteps)),
      file: tracePath,
    });
    const exit = exitPolicy(header.policy.name);
    const w = buildWorkload(
      spec,
      header.network,
      {
        timesteps: Math.max(...header.layers.map((l) => l.timesteps)),
        // Layerwise (LD-SNN) is static: the exit follows the output layer's last timestep.
        policy: exit.exits !== null ? 'entropy' : 'static',
        // The exit unit the policy needs (confidence: a max-softmax unit, not the entropy unit).
        exitUnitClass: exit.exitUnitClass ?? undefined,
      },
      shapes,
    );
    const replay = new Replay(w, header, { contentionFree: opts.contentionFree, source: tracePath });
    const energies = actionEnergies(w.models);
    const area = imcsimArea(w);
    const leakW = chipLeakageW(w, area);
    const before = new Float64Array(replay.counts.data.length);
    const rows: SampleRow[] = [];
    const total = opts.samples ?? Infinity;
    // The footer knows how many samples the trace holds: progress gets a real total (a truncated
    // trace has no footer; the replay then reports the truncation when it reaches the end).
    const inTrace = await reader.readSummary().then(
      (sum) => sum.samples,
      () => 0,
    );
    const expected = Number.isFinite(total) ? (inTrace ? Math.min(total, inTrace) : total) : inTrace;
    const activity = new ActivityCounter(
      shapes.mapped,
      header.layers.map((l) => l.input_kind),
      Math.max(...header.layers.map((l) => l.timesteps)),
    );
    let correct = 0;
    let labelled = 0;
    let steps = 0;
    for await (const s of reader) {
      if (rows.length >= total) break;
      before.set(replay.counts.data);
      const o = replay.replaySample(s);
      activity.add(s);
      let dyn = 0;
      const d = replay.counts.data;
      for (let i = 0; i < d.length; i++)
        if (d[i] !== before[i]) dyn += (d[i] - before[i]) * energies[i % NUM_ACTIONS];
      rows.push({ ...o, dynamic_energy_j: dyn, energy_j: dyn + leakW * o.latency_s });
      if (s.label >= 0) {
        labelled++;
        if (s.prediction === s.label) correct++;
      }
      steps += s.exitTimestep;
      opts.onSample?.(rows.length, expected);
    }
    const n = rows.length;
    const priced = price(w, {
      counts: replay.counts,
      timing: { busy_s: replay.busy, latency_s: replay.simulatedTime_s },
      area,
      excluded: [],
      notes: [],
    });
    let wasted = 0;
    const wd = replay.wasted.data;
    for (let i = 0; i < wd.length; i++) if (wd[i]) wasted += wd[i] * energies[i % NUM_ACTIONS];
    const m = w.mapping;
    const links = replay.noc.linkBusy;
    const simCycles = replay.simulatedTime_s * spec.chip.clock_hz;
    const util = Array.from(links, (b) => (simCycles > 0 ? b / simCycles : 0));
    const realLinks = util.filter((_, i) => m.noc.hasLink(i));
    const notes: string[] = [];
    if (header.synthetic)
      notes.push('synthetic trace: spike activity drawn from rates, not from a trained network on real data');
    if (opts.contentionFree)
      notes.push(
        "contention-free reference: NoC link reservations ignored, each layer owns its tiles' LIF stage",
      );
    notes.push(
      `NoC: ${m.noc.topology.routing} routing, one flit per link per cycle, first come first served; router buffers unbounded (virtual cut-through)`,
    );
    const act = activity.result();
    return {
      kind: 'simulation',
      engine_version: VERSION,
      arch: spec.chip.name,
      network: header.network.name,
      trace: tracePath,
      synthetic: header.synthetic,
      policy: header.policy.name,
      accounting: spec.accounting,
      adc_family: spec.adc.family,
      schedule: spec.schedule.policy,
      samples: n,
      accuracy: labelled ? correct / labelled : null,
      avg_timesteps: n ? steps / n : 0,
      energy_per_sample_j: n ? priced.energy_j / n : 0,
      latency_per_sample_s: n ? priced.latency_s / n : 0,
      edp_per_sample_js: n ? (priced.energy_j / n) * (priced.latency_s / n) : 0,
      exit_unit: {
        energy_j: priced.components.entropy_unit.energy_j,
        area_m2: priced.components.entropy_unit.area_m2,
        evaluations: priced.components.entropy_unit.actions.decide?.count ?? 0,
        // Time the entropy unit spent evaluating: evaluations × its cycles per evaluation, as replayed.
        latency_s: replay.exitUnitCycles / spec.chip.clock_hz,
        power_gated: priced.components.entropy_unit.power_gated,
        ...exitUnitCosts(w, area.chip[COMPONENTS.indexOf('entropy_unit')], header.classes),
      },
      wasted_j: wasted,
      noc: {
        sent: replay.noc.sent,
        packets: replay.noc.packets,
        flits: replay.noc.flits,
        avg_hops: replay.noc.packets ? replay.noc.hops / replay.noc.packets : 0,
        max_link_utilisation: Math.max(0, ...realLinks),
        mean_link_utilisation: realLinks.length ? realLinks.reduce((a, b) => a + b, 0) / realLinks.length : 0,
        max_queueing_cycles: replay.noc.maxQueueing_cycles,
        backpressure_cycles: replay.noc.backpressure_cycles,
        link_utilisation: util,
      },
      events: replay.eventsProcessed,
      contention_free: !!opts.contentionFree,
      sample_rows: rows,
      notes,
      assumptions: runAssumptions(spec, w, header, priced, !!opts.contentionFree),
      configuration: chipConfiguration(spec, w, header),
      efficiency: runEfficiency({
        samples: n,
        energy_j: priced.energy_j,
        run_time_s: priced.latency_s,
        sops: act.sops,
        area_m2: priced.area_m2,
      }),
      activity: act,
      utilisation: {
        layers: priced.layers.map((l) => ({
          layer: l.name,
          busy_s: l.latency_s,
          utilisation: priced.latency_s > 0 ? l.latency_s / priced.latency_s : 0,
        })),
        components: componentUtilisations(priced),
      },
      ...priced,
    };
  } finally {
    await reader.close();
  }
}
