import { cmosLeakage, factors, PJ, UM2, type ComponentClass } from './model.js';

/** Column multiplexer in front of an ADC: SpikeSim, 65 nm: 0.094245 pJ per selection, 45.9 µm² per mux. */
export const columnMux: ComponentClass = {
  name: 'column_mux',
  components: ['column_mux'],
  description: 'Analog column multiplexer feeding one ADC',
  source: 'SpikeSim ela_spikesim.py, 65 nm: MUX 0.094245 pJ, 45.9 µm²',
  refTechNodeNm: 65,
  build(ctx) {
    const s = factors(65, ctx);
    const area = 45.9 * UM2 * s.area;
    return {
      component: 'column_mux',
      className: this.name,
      description: this.description,
      source: this.source,
      refTechNodeNm: 65,
      techNodeNm: ctx.spec.chip.tech_node_nm,
      actions: { select: { energy_j: 0.094245 * PJ * s.energy, latency_s: 0 } },
      area_m2: area,
      areaUnit: 'instance',
      ...cmosLeakage(area, ctx),
    };
  },
};
