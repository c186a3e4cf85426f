import { cmosLeakage, factors, PJ, UM2, type ComponentClass, HOROWITZ_NODE_NM, HOROWITZ_SUPPLY_V } from './model.js';

/**
 * Entropy unit for the DT-SNN exit (docs/SOURCES.md §1): per class, accumulate the logit (A_t += o_t),
 * look up exp(A), add to the softmax denominator, look up log p, multiply p·log p and add to the entropy
 * sum; per decision, a reciprocal lookup, two multiplies (normalise p, divide by log K) and a compare.
 * Horowitz (ISSCC 2014), 45 nm: 32-b add 0.1 pJ, 32-b mult 3.1 pJ (scaled as bits and bits²), SRAM
 * 0.2 pJ/bit per LUT read; Aladdin 40 nm comparator 0.029 pJ (32 b).
 * Area [our design estimate]: the LUT bits at SpikeSim's 0.7391 µm²/bit (65 nm) plus 3,000 µm² of
 * datapath at 45 nm (one multiplier and three adders of `bits` width).
 */
/**
 * Energies (pJ, 45 nm) of the exit units' primitives at `bits` width: a 32-bit add 0.1 pJ and multiply
 * 3.1 pJ (Horowitz ISSCC 2014; add linear, multiply quadratic in width), an SRAM LUT read 0.2 pJ/bit, an
 * Aladdin comparator 0.029 pJ at 32 bits. Shared by the entropy and max-softmax units.
 */
export function exitUnitPrimitivesPj(bits: number) {
  return {
    add: 0.1 * (bits / 32),
    mult: 3.1 * (bits / 32) ** 2,
    lut: 0.2 * bits,
    cmp: 0.029 * (bits / 32),
  };
}

export const entropyUnit: ComponentClass = {
  name: 'entropy_unit',
  components: ['entropy_unit'],
  description: 'Entropy exit unit (LUT exp/log, multiply-accumulate, compare)',
  source:
    'Horowitz ISSCC 2014 (45 nm) add/mult/SRAM energies; Aladdin comparator; area: our estimate (LUT bits + datapath)',
  refTechNodeNm: 45,
  build(ctx) {
    const e = ctx.spec.entropy_unit;
    const s45 = factors(HOROWITZ_NODE_NM, ctx, HOROWITZ_SUPPLY_V);
    const s65 = factors(65, ctx);
    const { add, mult, lut, cmp } = exitUnitPrimitivesPj(e.bits);
    const classStepPj = 3 * add + mult + 2 * lut;
    const decidePj = lut + 2 * mult + cmp;
    const area = 3 * e.lut_entries * e.bits * 0.7391 * UM2 * s65.area + 3000 * UM2 * s45.area;
    const cycle = ctx.clockPeriodS;
    return {
      component: 'entropy_unit',
      className: this.name,
      description: `${e.bits}-b entropy unit, ${e.lut_entries}-entry LUTs, ${e.lanes} lane(s)`,
      source: this.source,
      refTechNodeNm: 45,
      techNodeNm: ctx.spec.chip.tech_node_nm,
      actions: {
        class_step: { energy_j: classStepPj * PJ * s45.energy, latency_s: cycle / e.lanes },
        decide: { energy_j: decidePj * PJ * s45.energy, latency_s: 4 * cycle },
      },
      area_m2: area,
      areaUnit: 'instance',
      ...cmosLeakage(area, ctx),
    };
  },
};
