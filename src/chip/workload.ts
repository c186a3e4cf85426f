/**
 * The compiled chip: the hardware description, the network mapped onto it, the component models, the
 * timesteps per layer, the input activity and the exit policy, built once by `buildWorkload`. The
 * closed-form model (analytic/), the discrete-event replay (replay/), pricing and reports all read it;
 * it reads none of them.
 */
import { located } from '../config/errors.js';
import type { ArchSpec } from '../config/schema.js';
import { buildComponentModels, type ComponentModels } from '../hw/components/registry.js';
import { resolveRates, type LayerRates, type SpikeRatesSpec } from '../network/rates.js';
import type { NetworkSpec } from '../network/schema.js';
import { inferShapes, type NetworkShapes } from '../network/shapes.js';
import { mapNetwork, type ChipMapping } from './mapping.js';

export type ExitPolicy = 'static' | 'entropy';

export interface Workload {
  spec: ArchSpec;
  network: NetworkSpec;
  shapes: NetworkShapes;
  mapping: ChipMapping;
  models: ComponentModels;
  /** Timesteps each mapped layer runs (LD-SNN: may differ per layer). */
  layerTimesteps: number[];
  /** Longest of layerTimesteps: the timestep axis of counts. */
  timesteps: number;
  /** rates[layer][t]: fraction of the layer's input elements active. */
  rates: LayerRates;
  /** True when rates were given (else every input is assumed active). */
  ratesGiven: boolean;
  policy: ExitPolicy;
}

/** Area units per component (instances or bits), and the share attributed to each mapped layer. */
export interface AreaUnits {
  /** units[componentIndex] for the whole chip. */
  chip: Float64Array;
  /** perLayer[layer * NUM_COMPONENTS + componentIndex]; chip-level parts are attributed to no layer. */
  perLayer: Float64Array;
  notes: string[];
}

export interface Excluded {
  layer: string;
  reason: string;
}

/** What a workload is built from besides the chip and the network. */
export interface WorkloadOptions {
  /** Uniform timesteps; overrides the network's default T (per-layer timesteps still apply). */
  timesteps?: number;
  rates?: SpikeRatesSpec;
  ratesFile?: string;
  policy?: ExitPolicy;
}

/** The compiled chip: map the network, build the component models, resolve timesteps and rates, once. */
export function buildWorkload(
  spec: ArchSpec,
  network: NetworkSpec,
  opts: WorkloadOptions = {},
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
    models: buildComponentModels(spec),
    layerTimesteps,
    timesteps: Math.max(...layerTimesteps),
    rates,
    ratesGiven: opts.rates !== undefined,
    policy: opts.policy ?? 'static',
  };
}
