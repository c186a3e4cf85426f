/**
 * What an estimate prices: the chip, the network mapped onto it, timesteps per layer, input activity and
 * the exit policy. Both accountings (imcsim, spikesim) and the discrete-event replay read this.
 */
import type { ArchSpec } from '../config/schema.js';
import type { ComponentModels } from '../hw/components/registry.js';
import type { ChipMapping } from '../hw/mapping.js';
import type { NetworkSpec } from '../network/schema.js';
import type { NetworkShapes } from '../network/shapes.js';
import type { LayerRates } from './rates.js';

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
