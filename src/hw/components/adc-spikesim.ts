import { UM2, type ComponentClass } from './model.js';
import { NEUROSIM_SAR_CYCLE_S } from './adc-neurosim-sar.js';
import { buildAdc, isaacAdcEnergyPj, sarConversionS } from './sar-adc.js';

export const SPIKESIM_ADC_REF_BITS = 4;

/**
 * SpikeSim's ADC (ela_spikesim.py), 65 nm: 2.03084 pJ per conversion and 693.633 µm² per ADC, at its
 * 4-bit default (docs/SOURCES.md §5).
 * - Energy at other resolutions: the ISAAC table's shape (ratio to its 4-b value); SpikeSim gives one point.
 * - Latency: SpikeSim has no per-conversion latency (its PE cycle of 26 clocks covers a whole PE read), so
 *   the NeuroSim SAR rule at 65 nm is used: (b + 1) cycles of 1 GHz (its SpikeSim accounting never reads it).
 * - Area: × 2^(b−4) (capacitive DAC).
 */
export const spikesimAdc: ComponentClass = {
  name: 'spikesim_adc',
  components: ['adc'],
  description: 'SAR ADC, SpikeSim model (adc.family: spikesim)',
  source:
    'SpikeSim ela_spikesim.py, 65 nm: 2.03084 pJ per conversion, 693.633 µm² (4 b); bits scaling: ISAAC table shape, 2^b area; latency: NeuroSim SAR (b+1) ns',
  refTechNodeNm: 65,
  build(ctx) {
    const bits = ctx.spec.adc.bits;
    return buildAdc(ctx, this, 'spikesim', {
      energyPj: 2.03084 * (isaacAdcEnergyPj(bits) / isaacAdcEnergyPj(SPIKESIM_ADC_REF_BITS)),
      latencyS: sarConversionS(bits, NEUROSIM_SAR_CYCLE_S),
      areaM2: 693.633 * UM2 * 2 ** (bits - SPIKESIM_ADC_REF_BITS),
    });
  },
};
