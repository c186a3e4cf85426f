import { cmosLeakage, factors, MM2, PJ, type ComponentClass } from './model.js';

/**
 * Shift-and-add accumulator. ISAAC (ISCA 2016), 32 nm: 0.021 pJ per 16-b op (docs/SOURCES.md §4);
 * Table 1: 4 S+A units in 0.00024 mm². Energy and area scale linearly with the accumulator width.
 */
export const shiftAdd: ComponentClass = {
  name: 'shift_add',
  components: ['shift_add'],
  description: 'Shift-and-add accumulator',
  source: 'ISAAC (ISCA 2016), 32 nm: 0.021 pJ per 16-b op; 0.00006 mm² per unit',
  refTechNodeNm: 32,
  build(ctx) {
    const s = factors(32, ctx);
    const w = ctx.spec.shift_add.bits / 16;
    const area = 0.00006 * MM2 * w * s.area;
    return {
      component: 'shift_add',
      className: this.name,
      description: `${ctx.spec.shift_add.bits}-b shift-and-add`,
      source: this.source,
      refTechNodeNm: 32,
      techNodeNm: ctx.spec.chip.tech_node_nm,
      actions: { op: { energy_j: 0.021 * PJ * w * s.energy, latency_s: ctx.clockPeriodS } },
      area_m2: area,
      areaUnit: 'instance',
      ...cmosLeakage(area, ctx),
    };
  },
};
