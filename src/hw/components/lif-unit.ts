import { cmosLeakage, factors, MM2, PJ, type ComponentClass } from './model.js';

/**
 * Digital LIF update unit: integrate (one add), leak (shift-and-subtract, one add), compare with the
 * threshold, reset (mux). Aladdin, 40 nm: 32-b adder 0.21 pJ, comparator 0.029 pJ (docs/SOURCES.md §4),
 * scaled linearly to the potential width. Area: ISAAC's sigmoid unit (Table 1, 32 nm, 2 units in
 * 0.0006 mm²) as the closest published per-neuron digital unit.
 */
export const lifUnit: ComponentClass = {
  name: 'lif_unit',
  components: ['lif_unit'],
  description: 'LIF neuron update unit',
  source: 'Aladdin 40 nm: 32-b add 0.21 pJ, compare 0.029 pJ; area: ISAAC sigmoid unit 0.0003 mm² (32 nm)',
  refTechNodeNm: 40,
  build(ctx) {
    const s40 = factors(40, ctx);
    const s32 = factors(32, ctx);
    const w = ctx.spec.lif_unit.potential_bits / 32;
    const energyPj = (2 * 0.21 + 0.029) * w;
    const area = 0.0003 * MM2 * s32.area;
    return {
      component: 'lif_unit',
      className: this.name,
      description: `${ctx.spec.lif_unit.potential_bits}-b LIF unit`,
      source: this.source,
      refTechNodeNm: 40,
      techNodeNm: ctx.spec.chip.tech_node_nm,
      actions: {
        update: {
          energy_j: energyPj * PJ * s40.energy,
          latency_s: ctx.spec.lif_unit.latency_cycles * ctx.clockPeriodS,
        },
      },
      area_m2: area,
      areaUnit: 'instance',
      ...cmosLeakage(area, ctx),
    };
  },
};
