import { cmosLeakage, factors, PJ, UM2, type ComponentClass } from './model.js';

/**
 * SpikeSim's memory fetch: 4.64 pJ per PE cycle (65 nm); its storage of every layer's input activations is
 * priced at 0.7391 µm² per bit, 22 bits per activation.
 */
export const spikesimMemory: ComponentClass = {
  name: 'spikesim_memory',
  components: ['global_buffer'],
  description: 'SpikeSim activation memory (per PE cycle)',
  source: 'SpikeSim ela_spikesim.py, 65 nm: mem_fetch 4.64 pJ per PE cycle; 0.7391·22 µm² per activation',
  refTechNodeNm: 65,
  build(ctx) {
    const s = factors(65, ctx);
    const areaPerBit = 0.7391 * UM2 * s.area;
    return {
      component: 'global_buffer',
      className: this.name,
      description: this.description,
      source: this.source,
      refTechNodeNm: 65,
      techNodeNm: ctx.spec.chip.tech_node_nm,
      actions: { pe_cycle: { energy_j: 4.64 * PJ * s.energy, latency_s: 0 } },
      area_m2: areaPerBit,
      areaUnit: 'bit',
      ...cmosLeakage(areaPerBit, ctx),
    };
  },
};
