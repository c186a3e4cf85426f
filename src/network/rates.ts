/**
 * Spike rates: per mapped layer, per timestep, the fraction of the layer's input elements that are
 * active (non-zero). Without rates every input is active (SpikeSim's assumption).
 *
 * File format (YAML or JSON):
 *   default: 0.1            # optional, for layers not listed (else 1.0)
 *   layers:
 *     conv1: [1, 1, 1, 1]   # one value per timestep
 *     conv2: 0.12           # one value for every timestep
 */
import { z } from 'zod';
import { located } from '../config/errors.js';
import type { MappedLayer } from './shapes.js';

const rate = z.number().min(0).max(1);
export const SpikeRatesSchema = z.strictObject({
  default: rate.optional().meta({ description: 'Rate for layers not listed' }),
  layers: z.record(z.string(), z.union([rate, z.array(rate).min(1)])).default({}),
});
export type SpikeRatesSpec = z.output<typeof SpikeRatesSchema>;

/** Resolved rates: rate[layerIndex][t]. */
export type LayerRates = number[][];

export function resolveRates(
  spec: SpikeRatesSpec | undefined,
  layers: readonly MappedLayer[],
  timestepsOf: (l: MappedLayer) => number,
  file?: string,
): LayerRates {
  const known = new Set(layers.map((l) => l.name));
  if (spec) {
    for (const name of Object.keys(spec.layers)) {
      if (!known.has(name))
        throw located(`spike rates name a layer the network does not have`, {
          file,
          path: `layers.${name}`,
          expected: `one of ${[...known].join(', ')}`,
          found: JSON.stringify(name),
        });
    }
  }
  return layers.map((l) => {
    const T = timestepsOf(l);
    const v = spec?.layers[l.name] ?? spec?.default ?? 1;
    if (typeof v === 'number') return new Array<number>(T).fill(v);
    if (v.length < T)
      throw located(`spike rates for layer ${l.name} cover too few timesteps`, {
        file,
        path: `layers.${l.name}`,
        expected: `${T} values`,
        found: `${v.length}`,
      });
    return v.slice(0, T);
  });
}
