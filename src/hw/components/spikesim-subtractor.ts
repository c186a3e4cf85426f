import { cmosLeakage, factors, PJ, UM2, type ComponentClass } from './model.js';

/** SpikeSim's shift/subtract unit: 1.15e-6 pJ per op, 13,411.41498 µm² per unit (one per 8 columns), 65 nm. */
export const spikesimSubtractor: ComponentClass = {
  name: 'spikesim_subtractor',
  components: ['shift_add'],
  description: 'SpikeSim shift-subtract unit',
  source: 'SpikeSim ela_spikesim.py, 65 nm: Sub 1.15e-6 pJ per op, 13411.41498 µm²',
  refTechNodeNm: 65,
  build(ctx) {
    const s = factors(65, ctx);
    const area = 13411.41498 * UM2 * s.area;
    return {
      component: 'shift_add',
      className: this.name,
      description: this.description,
      source: this.source,
      refTechNodeNm: 65,
      techNodeNm: ctx.spec.chip.tech_node_nm,
      actions: { op: { energy_j: 1.15e-6 * PJ * s.energy, latency_s: ctx.clockPeriodS } },
      area_m2: area,
      areaUnit: 'instance',
      ...cmosLeakage(area, ctx),
    };
  },
};
