import { located } from '../../config/errors.js';
import type { AdcFamily } from '../../config/schema.js';
import { cmosLeakage, factors, MM2, PJ, UM2, type ComponentClass } from './model.js';

/**
 * SAR ADC with a choice of published energy model (they disagree 10–100×, docs/SOURCES.md §4, so the
 * family is printed with every result).
 * - isaac: ISAAC (ISCA 2016) as tabulated in hwcomponents, 32 nm: 4 b 0.79 pJ, 5 b 0.99, 6 b 1.20,
 *   8 b 1.67 pJ per conversion at 1.28 GS/s; 8-b ADC area 0.0012 mm² (ISAAC Table 1: 8 ADCs 0.0096 mm²).
 * - neurosim-sar: NeuroSim SarADC comparator + logic, 65 nm: 204 fJ at 4 b … 503 fJ at 8 b (linear in
 *   bits), (b+1) ns per conversion; area from ISAAC's 8-b ADC scaled to 65 nm.
 * - spikesim: SpikeSim, 65 nm: 2.03084 pJ per conversion, 693.633 µm² per ADC, at its 4-b default.
 * Resolutions outside a family's table follow the ISAAC table's shape (log-linear in bits), so more bits
 * never cost less. Area scales as 2^b (capacitive DAC) from each family's reference resolution.
 */
const ISAAC_TABLE: ReadonlyArray<readonly [number, number]> = [
  [4, 0.79],
  [5, 0.99],
  [6, 1.2],
  [8, 1.67],
];

/** ISAAC energy (pJ) at `bits`, log-linear interpolation / extrapolation over the table. */
export function isaacAdcEnergyPj(bits: number): number {
  const t = ISAAC_TABLE;
  let i = 0;
  if (bits <= t[0][0]) i = 0;
  else if (bits >= t[t.length - 1][0]) i = t.length - 2;
  else while (!(bits >= t[i][0] && bits <= t[i + 1][0])) i++;
  const [b0, e0] = t[i];
  const [b1, e1] = t[i + 1];
  const slope = (Math.log(e1) - Math.log(e0)) / (b1 - b0);
  return Math.exp(Math.log(e0) + slope * (bits - b0));
}

export function adcEnergyLatency(
  family: AdcFamily,
  bits: number,
): { energyPj: number; latencyS: number; refNode: number; areaRefMm2: number; areaRefBits: number } {
  switch (family) {
    case 'isaac':
      return {
        energyPj: isaacAdcEnergyPj(bits),
        latencyS: 1 / 1.28e9,
        refNode: 32,
        areaRefMm2: 0.0012,
        areaRefBits: 8,
      };
    case 'neurosim-sar': {
      // 204 fJ at 4 b to 503 fJ at 8 b: 74.75 fJ per extra bit; below 4 b proportional to bits.
      const fj = bits >= 4 ? 204 + ((503 - 204) / 4) * (bits - 4) : 204 * (bits / 4);
      return {
        energyPj: fj / 1000,
        latencyS: (bits + 1) * 1e-9,
        refNode: 65,
        areaRefMm2: 0.0012 * (65 / 32) ** 2,
        areaRefBits: 8,
      };
    }
    case 'spikesim':
      return {
        energyPj: 2.03084 * (isaacAdcEnergyPj(bits) / isaacAdcEnergyPj(4)),
        latencyS: (bits + 1) * 1e-9,
        refNode: 65,
        areaRefMm2: 693.633 * (UM2 / MM2),
        areaRefBits: 4,
      };
    default:
      throw located(`unknown ADC family`, { path: 'adc.family', found: String(family) });
  }
}

export const sarAdc: ComponentClass = {
  name: 'sar_adc',
  components: ['adc'],
  description: 'Successive-approximation ADC (family chosen by adc.family)',
  source: 'ISAAC (ISCA 2016); NeuroSim SarADC; SpikeSim (docs/SOURCES.md §4–5)',
  refTechNodeNm: 32,
  build(ctx) {
    const { family, bits } = ctx.spec.adc;
    const e = adcEnergyLatency(family, bits);
    const s = factors(e.refNode, ctx);
    const area = e.areaRefMm2 * MM2 * 2 ** (bits - e.areaRefBits) * s.area;
    const sources: Record<AdcFamily, string> = {
      isaac: 'ISAAC (ISCA 2016) SAR ADC table as in hwcomponents, 32 nm',
      'neurosim-sar': 'NeuroSim SarADC comparator + logic, 65 nm',
      spikesim: 'SpikeSim ela_spikesim.py, 65 nm: 2.03084 pJ, 693.633 µm²',
    };
    return {
      component: 'adc',
      className: this.name,
      description: `${bits}-bit SAR ADC, ${family} model`,
      source: sources[family],
      refTechNodeNm: e.refNode,
      techNodeNm: ctx.spec.chip.tech_node_nm,
      actions: { convert: { energy_j: e.energyPj * PJ * s.energy, latency_s: e.latencyS * s.delay } },
      area_m2: area,
      areaUnit: 'instance',
      ...cmosLeakage(area, ctx),
    };
  },
};
