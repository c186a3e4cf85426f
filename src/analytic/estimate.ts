/**
 * `estimate`: the closed-form (analytic) pricing of one inference. The discrete-event simulator must
 * equal it when no contention exists; both share the counts → pricing path.
 */
import { located } from '../config/errors.js';
import type { ArchSpec } from '../config/schema.js';
import { buildComponentModels } from '../hw/components/registry.js';
import { mapNetwork } from '../hw/mapping.js';
import type { NetworkSpec } from '../network/schema.js';
import { inferShapes, type NetworkShapes } from '../network/shapes.js';
import { price, type Priced } from '../pricing/price.js';
import { imcsimModel, type ModelOutput } from './imcsim-model.js';
import { resolveRates, type SpikeRatesSpec } from './rates.js';
import { spikesimModel } from './spikesim-model.js';
import type { Excluded, ExitPolicy, Workload } from './workload.js';

export interface EstimateOptions {
  /** Uniform timesteps; overrides the network's default T (per-layer timesteps still apply). */
  timesteps?: number;
  rates?: SpikeRatesSpec;
  ratesFile?: string;
  policy?: ExitPolicy;
  /** Component class of the exit unit the policy needs (snn/policies: e.g. max_softmax_unit for confidence). */
  exitUnitClass?: string;
}

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

export function buildWorkload(
  spec: ArchSpec,
  network: NetworkSpec,
  opts: EstimateOptions = {},
  shapes: NetworkShapes = inferShapes(network),
): Workload {
  const T = opts.timesteps ?? network.timesteps;
  if (!Number.isInteger(T) || T < 1)
    throw located('timesteps must be a positive integer', { path: '--timesteps', found: String(T) });
  const mapping = mapNetwork(spec, shapes);
  const layerTimesteps = shapes.mapped.map((l) => l.timesteps ?? T);
  const rates = resolveRates(opts.rates, shapes.mapped, (l) => layerTimesteps[l.index], opts.ratesFile);
  return {
    spec,
    network,
    shapes,
    mapping,
    models: buildComponentModels(spec, opts.exitUnitClass ? { entropy_unit: opts.exitUnitClass } : {}),
    layerTimesteps,
    timesteps: Math.max(...layerTimesteps),
    rates,
    ratesGiven: opts.rates !== undefined,
    policy: opts.policy ?? 'static',
  };
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
  const priced = price(w, out);
  const notes = [...out.notes, ...out.area.notes];
  if (spec.leakage.model === 'none') notes.push('leakage not modelled (leakage.model: none)');
  return {
    kind: 'estimate',
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
    ...priced,
  };
}
