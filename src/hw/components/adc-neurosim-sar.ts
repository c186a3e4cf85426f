import { MM2, type ComponentClass } from './model.js';
import { buildAdc, sarConversionS } from './sar-adc.js';

/** NeuroSim's SAR clock: 1 GHz (SarADC::CalculateLatency at its default clkFreq). */
export const NEUROSIM_SAR_CYCLE_S = 1e-9;

/** Transistors of NeuroSim's SarADC area model at b bits: NMOS 269 + 109(b−1), PMOS 209 + 73(b−1). */
export function neurosimSarTransistors(bits: number): number {
  return 269 + 109 * (bits - 1) + (209 + 73 * (bits - 1));
}

/**
 * NeuroSim's SAR ADC (SarADC model), 65 nm.
 * - Energy per conversion: comparator + logic, 204 fJ at 4 b to 503 fJ at 8 b (74.75 fJ per bit between;
 *   below 4 b proportional to bits; above 8 b the same slope).
 * - Latency: (b + 1) cycles of its 1 GHz clock (SarADC::CalculateLatency): 4 b 5 ns, 8 b 9 ns.
 * - Area: NeuroSim gives area as transistor counts, linear in bits (NMOS 269 + 109(b−1), PMOS
 *   209 + 73(b−1)); the absolute size is anchored on ISAAC's 8-b ADC (0.0012 mm² at 32 nm) scaled to
 *   65 nm, since the transistor footprint depends on NeuroSim's layout rules [our anchoring].
 */
export const neurosimSarAdc: ComponentClass = {
  name: 'neurosim_sar_adc',
  components: ['adc'],
  description: 'SAR ADC, NeuroSim model (adc.family: neurosim-sar)',
  source:
    'NeuroSim SarADC, 65 nm: comparator + logic 204 fJ (4 b) … 503 fJ (8 b); (b+1) cycles at 1 GHz; area ∝ transistor count 478 + 182(b−1), anchored on ISAAC’s 8-b ADC scaled to 65 nm',
  refTechNodeNm: 65,
  build(ctx) {
    const bits = ctx.spec.adc.bits;
    const fj = bits >= 4 ? 204 + ((503 - 204) / 4) * (bits - 4) : 204 * (bits / 4);
    const area8 = 0.0012 * MM2 * (65 / 32) ** 2;
    return buildAdc(ctx, this, 'neurosim-sar', {
      energyPj: fj / 1000,
      latencyS: sarConversionS(bits, NEUROSIM_SAR_CYCLE_S),
      areaM2: (area8 * neurosimSarTransistors(bits)) / neurosimSarTransistors(8),
    });
  },
};
