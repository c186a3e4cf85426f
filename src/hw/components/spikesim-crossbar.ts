import { factors, PJ, UM2, type ComponentClass } from './model.js';

/** SpikeSim's crossbar: 1.76423 pJ per crossbar per mux round, 26.2144 µm² (65 nm, RRAM). */
export const spikesimCrossbar: ComponentClass = {
  name: 'spikesim_crossbar',
  components: ['crossbar'],
  description: 'SpikeSim RRAM crossbar (per mux round)',
  source:
    'SpikeSim ela_spikesim.py (65 nm): xbar_ar 1.76423 pJ per read round, 26.2144 µm² (docs/SOURCES.md §5)',
  refTechNodeNm: 65,
  build(ctx) {
    const s = factors(65, ctx);
    const cycle = ctx.clockPeriodS;
    return {
      component: 'crossbar',
      className: this.name,
      description: this.description,
      source: this.source,
      refTechNodeNm: 65,
      techNodeNm: ctx.spec.chip.tech_node_nm,
      actions: { read_round: { energy_j: 1.76423 * PJ * s.energy, latency_s: cycle } },
      area_m2: 26.2144 * UM2 * s.area,
      areaUnit: 'instance',
      leakage_w: 0,
      leakageNote: 'non-volatile RRAM: no static power when not read',
    };
  },
};
