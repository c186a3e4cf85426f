/**
 * `estimate`: the closed-form (analytic) pricing of one inference. The discrete-event simulator must
 * equal it when no contention exists; both share the counts → pricing path.
 */
import type { ArchSpec } from '../config/schema.js';
import {
  buildWorkload,
  type Excluded,
  type ExitPolicy,
  type Workload,
  type WorkloadOptions,
} from '../chip/workload.js';
import type { NetworkSpec } from '../network/schema.js';
import type { NetworkShapes } from '../network/shapes.js';
import { price, type ModelOutput, type Priced } from '../pricing/price.js';
import { imcsimModel } from './imcsim-model.js';
import { spikesimModel } from './spikesim-model.js';

export type EstimateOptions = WorkloadOptions;

export interface EstimateResult extends Priced {
  kind: 'estimate';
  arch: string;
  network: string;
  accounting: ArchSpec['accounting'];
  adc_family: ArchSpec['adc']['family'];
  schedule: ArchSpec['schedule']['policy'];
  policy: ExitPolicy;
  timesteps: Priced['timesteps'];
  layer_timesteps: number[];
  mapping: { crossbars: number; pes: number; tiles: number; mesh: string };
  excluded_layers: Excluded[];
  notes: string[];
}

export function runModel(w: Workload): ModelOutput {
  return w.spec.accounting === 'spikesim' ? spikesimModel(w) : imcsimModel(w);
}

export function estimate(
  spec: ArchSpec,
  network: NetworkSpec,
  opts: EstimateOptions = {},
  shapes?: NetworkShapes,
): EstimateResult {
  const w = buildWorkload(spec, network, opts, shapes);
  const out = runModel(w);
  const notes = [...out.notes, ...out.area.notes];
  if (spec.leakage.model === 'none') notes.push('leakage not modelled (leakage.model: none)');
  const head = {
    kind: 'estimate' as const,
    arch: spec.chip.name,
    network: network.name,
    accounting: spec.accounting,
    adc_family: spec.adc.family,
    schedule: spec.schedule.policy,
    policy: w.policy,
    layer_timesteps: w.layerTimesteps,
    mapping: {
      crossbars: w.mapping.totalCrossbars,
      pes: w.mapping.totalPes,
      tiles: w.mapping.totalTiles,
      mesh: `${w.mapping.meshColumns}x${w.mapping.meshRows}`,
    },
    excluded_layers: out.excluded,
    notes,
  };
  // The priced fields follow the head's, added to it in place (no copy; their report rows stay lazy).
  return price(w, out, head);
}
