import { cmosLeakage, factors, PJ, UM2, type ComponentClass } from './model.js';

/** SpikeSim's temp buffer: 0.2 pJ per ADC-lane write, 484.643999 µm² per tile (65 nm). */
export const spikesimTempBuffer: ComponentClass = {
  name: 'spikesim_temp_buffer',
  components: ['output_register'],
  description: 'SpikeSim temp buffer (one per tile)',
  source: 'SpikeSim ela_spikesim.py, 65 nm: Temp_Buff 0.2 pJ per lane, 484.643999 µm² per tile',
  refTechNodeNm: 65,
  build(ctx) {
    const s = factors(65, ctx);
    const area = 484.643999 * UM2 * s.area;
    return {
      component: 'output_register',
      className: this.name,
      description: this.description,
      source: this.source,
      refTechNodeNm: 65,
      techNodeNm: ctx.spec.chip.tech_node_nm,
      actions: { write: { energy_j: 0.2 * PJ * s.energy, latency_s: 0 } },
      area_m2: area,
      areaUnit: 'instance',
      ...cmosLeakage(area, ctx),
    };
  },
};
