import { cmosLeakage, factors, PJ, UM2, type ComponentClass, HOROWITZ_NODE_NM, HOROWITZ_SUPPLY_V } from './model.js';
import { exitUnitPrimitivesPj } from './entropy-unit.js';

/**
 * Max-softmax unit for the confidence exit (exit when max_k softmax(A_t)_k > θ), in the chip's exit-unit
 * slot (`entropy_unit` section: bits, lut_entries, lanes). Derived from the entropy unit's costs
 * (entropy-unit.ts: Horowitz ISSCC 2014, 45 nm: 32-b add 0.1 pJ, 32-b mult 3.1 pJ, scaled as bits and
 * bits²; SRAM 0.2 pJ/bit per LUT read; Aladdin 40 nm comparator 0.029 pJ at 32 b):
 *   per class: accumulate the logit (A_t += o_t, one add), compare with the running maximum (one
 *   compare), look up exp(A − m) (one LUT read) and add it to the denominator (one add);
 *   per decision: max softmax > θ ⇔ 1 > θ·Σ_k exp(A_k − m), one multiply and one compare.
 * No log or reciprocal table and no p·log p products, so one LUT instead of the entropy unit's three.
 * Area [our design estimate, as the entropy unit's]: the exp LUT bits at SpikeSim's 0.7391 µm²/bit
 * (65 nm) plus the entropy unit's 3,000 µm² datapath at 45 nm (one multiplier, adders, comparator).
 */
export const maxSoftmaxUnit: ComponentClass = {
  name: 'max_softmax_unit',
  components: ['entropy_unit'],
  description: 'Max-softmax exit unit (running max, LUT exp, accumulate, compare with θ·Σ)',
  source:
    'derived from the entropy unit: Horowitz ISSCC 2014 (45 nm) add/mult/SRAM energies; Aladdin comparator; area: our estimate (one LUT + datapath)',
  refTechNodeNm: 45,
  build(ctx) {
    const e = ctx.spec.entropy_unit;
    const s45 = factors(HOROWITZ_NODE_NM, ctx, HOROWITZ_SUPPLY_V);
    const s65 = factors(65, ctx);
    const { add, mult, lut, cmp } = exitUnitPrimitivesPj(e.bits);
    const classStepPj = 2 * add + cmp + lut;
    const decidePj = mult + cmp;
    const area = e.lut_entries * e.bits * 0.7391 * UM2 * s65.area + 3000 * UM2 * s45.area;
    const cycle = ctx.clockPeriodS;
    return {
      component: 'entropy_unit',
      className: this.name,
      description: `${e.bits}-b max-softmax unit, ${e.lut_entries}-entry exp LUT, ${e.lanes} lane(s)`,
      source: this.source,
      refTechNodeNm: 45,
      techNodeNm: ctx.spec.chip.tech_node_nm,
      actions: {
        class_step: { energy_j: classStepPj * PJ * s45.energy, latency_s: cycle / e.lanes },
        decide: { energy_j: decidePj * PJ * s45.energy, latency_s: 2 * cycle },
      },
      area_m2: area,
      areaUnit: 'instance',
      ...cmosLeakage(area, ctx),
    };
  },
};
