/**
 * What the SAR ADC families share (each family is its own class: adc-isaac-sar.ts, adc-neurosim-sar.ts,
 * adc-spikesim.ts; `adc.family` chooses it). Published ADC energies disagree 10–100× (docs/SOURCES.md
 * §4), so the family is printed with every result.
 *
 * Timing follows the circuit: a SAR ADC samples for one cycle of its internal clock and then resolves one
 * bit per cycle, so a b-bit conversion takes (b + 1) internal cycles (NeuroSim SarADC::CalculateLatency:
 * (log2(levels) + 1) / clkFreq). A family fixes its internal cycle at its reference point.
 */
import { cmosLeakage, factors, PJ, type BuildContext, type ComponentModel } from './model.js';

/** Conversion time of a b-bit SAR: one sampling cycle plus one cycle per bit (NeuroSim SarADC). */
export function sarConversionS(bits: number, internalCycleS: number): number {
  return (bits + 1) * internalCycleS;
}

const ISAAC_TABLE: ReadonlyArray<readonly [number, number]> = [
  [4, 0.79],
  [5, 0.99],
  [6, 1.2],
  [8, 1.67],
];

/**
 * ISAAC's SAR ADC energy (pJ per conversion, 32 nm) at `bits`, as tabulated in hwcomponents (4 b 0.79,
 * 5 b 0.99, 6 b 1.20, 8 b 1.67 pJ); log-linear interpolation / extrapolation over the table, so more
 * bits never cost less.
 */
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

/** One family's numbers at the configured resolution, at its reference node. */
export interface AdcPoint {
  energyPj: number;
  latencyS: number;
  areaM2: number;
}

/** Build the ADC model of a family from its reference-node numbers, scaled to the chip. */
export function buildAdc(
  ctx: BuildContext,
  cls: { name: string; source: string; refTechNodeNm: number | null },
  family: string,
  p: AdcPoint,
): ComponentModel {
  const ref = cls.refTechNodeNm as number;
  const s = factors(ref, ctx);
  const area = p.areaM2 * s.area;
  return {
    component: 'adc',
    className: cls.name,
    description: `${ctx.spec.adc.bits}-bit SAR ADC, ${family} model`,
    source: cls.source,
    refTechNodeNm: ref,
    techNodeNm: ctx.spec.chip.tech_node_nm,
    actions: { convert: { energy_j: p.energyPj * PJ * s.energy, latency_s: p.latencyS * s.delay } },
    area_m2: area,
    areaUnit: 'instance',
    ...cmosLeakage(area, ctx),
  };
}
