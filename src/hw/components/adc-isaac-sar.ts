import { MM2, type ComponentClass } from './model.js';
import { buildAdc, isaacAdcEnergyPj, sarConversionS } from './sar-adc.js';

/** ISAAC's 8-bit ADC: 1.28 GS/s (ISCA 2016, Table 1), i.e. one conversion every 781.25 ps. */
export const ISAAC_ADC_RATE_HZ = 1.28e9;
export const ISAAC_ADC_REF_BITS = 8;
/** Internal SAR cycle that makes ISAAC's 8-b conversion (8 + 1 cycles) take 1 / 1.28 GS/s: 86.8 ps. */
export const ISAAC_ADC_CYCLE_S = 1 / ISAAC_ADC_RATE_HZ / (ISAAC_ADC_REF_BITS + 1);

/**
 * ISAAC's SAR ADC (ISCA 2016), 32 nm.
 * - Energy per conversion: the ISAAC-derived table of hwcomponents, 4 b 0.79 … 8 b 1.67 pJ (log-linear
 *   between and beyond its points).
 * - Latency: (b + 1) cycles of the internal SAR clock (sample + one bit per cycle, NeuroSim's SAR rule),
 *   with the cycle fixed by ISAAC's operating point, 8 b at 1.28 GS/s → 86.8 ps: 4 b 434 ps, 6 b 608 ps,
 *   8 b 781 ps.
 * - Area: ISAAC Table 1, 8 ADCs in 0.0096 mm² → 0.0012 mm² at 8 b, × 2^(b−8) (the binary-weighted
 *   capacitive DAC dominates a SAR's area and doubles per bit).
 */
export const isaacSarAdc: ComponentClass = {
  name: 'isaac_sar_adc',
  components: ['adc'],
  description: 'SAR ADC, ISAAC model (adc.family: isaac)',
  source:
    'ISAAC (ISCA 2016) Table 1, 32 nm: 8-b ADC at 1.28 GS/s, 0.0012 mm²; energy 4 b 0.79 … 8 b 1.67 pJ (hwcomponents table); latency (b+1) SAR cycles of 86.8 ps (NeuroSim SarADC timing rule at ISAAC’s 8-b rate)',
  refTechNodeNm: 32,
  build(ctx) {
    const bits = ctx.spec.adc.bits;
    return buildAdc(ctx, this, 'isaac', {
      energyPj: isaacAdcEnergyPj(bits),
      latencyS: sarConversionS(bits, ISAAC_ADC_CYCLE_S),
      areaM2: 0.0012 * MM2 * 2 ** (bits - ISAAC_ADC_REF_BITS),
    });
  },
};
