/**
 * Efficiency figures of a priced run (summary.json `efficiency`, docs/RUN_FOLDER.md), from its totals:
 *
 *   throughput          = samples / run time                 (inferences/s)
 *   average power       = energy / run time                  (W)
 *   energy per SOP      = energy / SOPs                      (J/SOP; reports show pJ/SOP)
 *   SOP/s/W             = (SOPs / run time) / average power   (= SOPs / energy)
 *   per mm²             = throughput and SOP/s over chip area
 *
 * Run time is the simulated time from the first sample's start to the last one's end (`latency_s`), so
 * under a pipelined schedule overlapping samples raise throughput. `runEfficiency` is the one place these
 * are derived (a finer per-sample model of pipelined throughput can replace it).
 */
import type { ComponentReport, Priced } from './price.js';

export interface RunEfficiency {
  throughput_inferences_per_s: number;
  average_power_w: number;
  sops: number;
  sops_per_s: number;
  energy_per_sop_j: number;
  sops_per_s_per_w: number;
  inferences_per_s_per_mm2: number;
  sops_per_s_per_mm2: number;
}

/** Efficiency from totals: `samples`, energy (J), run time (s), SOPs and chip area (m²). 0 where undefined. */
export function runEfficiency(x: {
  samples: number;
  energy_j: number;
  run_time_s: number;
  sops: number;
  area_m2: number;
}): RunEfficiency {
  const t = x.run_time_s;
  const mm2 = x.area_m2 * 1e6;
  const throughput = t > 0 ? x.samples / t : 0;
  const power = t > 0 ? x.energy_j / t : 0;
  const sopsPerS = t > 0 ? x.sops / t : 0;
  return {
    throughput_inferences_per_s: throughput,
    average_power_w: power,
    sops: x.sops,
    sops_per_s: sopsPerS,
    energy_per_sop_j: x.sops > 0 ? x.energy_j / x.sops : 0,
    sops_per_s_per_w: power > 0 ? sopsPerS / power : 0,
    inferences_per_s_per_mm2: mm2 > 0 ? throughput / mm2 : 0,
    sops_per_s_per_mm2: mm2 > 0 ? sopsPerS / mm2 : 0,
  };
}

/**
 * Utilisation of a component over the run: Σ actions × latency per action (its models' figures) /
 * (instances × run time). Null where the component is counted in bits (buffers: the number of ports is
 * not an instance count) or no action has a latency.
 */
export function componentUtilisation(c: ComponentReport, run_time_s: number): number | null {
  if (c.area_unit !== 'instance' || c.area_units <= 0 || run_time_s <= 0) return null;
  let busy = 0;
  let timed = false;
  for (const a of Object.values(c.actions)) {
    if (a.latency_per_action_s > 0) timed = true;
    busy += a.count * a.latency_per_action_s;
  }
  if (!timed) return null;
  return busy / (c.area_units * run_time_s);
}

/** Utilisation of every component (see componentUtilisation). */
export function componentUtilisations(p: Priced): Record<string, number | null> {
  return Object.fromEntries(
    Object.entries(p.components).map(([k, c]) => [k, componentUtilisation(c, p.latency_s)]),
  );
}
