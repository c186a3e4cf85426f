import { cmosLeakage, factors, PJ, UM2, type ComponentClass } from './model.js';

/** SpikeSim's tile buffer: 397 pJ per PE cycle; area 0.7391 µm² per bit (8192 bits per tile), 65 nm. */
export const spikesimTileBuffer: ComponentClass = {
  name: 'spikesim_tile_buffer',
  components: ['tile_buffer'],
  description: 'SpikeSim tile buffer (per PE cycle)',
  source: 'SpikeSim ela_spikesim.py, 65 nm: Tile_buff 397 pJ per PE cycle, 0.7391·64·128 µm² per tile',
  refTechNodeNm: 65,
  build(ctx) {
    const s = factors(65, ctx);
    const areaPerBit = 0.7391 * UM2 * s.area;
    return {
      component: 'tile_buffer',
      className: this.name,
      description: this.description,
      source: this.source,
      refTechNodeNm: 65,
      techNodeNm: ctx.spec.chip.tech_node_nm,
      actions: { pe_cycle: { energy_j: 397 * PJ * s.energy, latency_s: 0 } },
      area_m2: areaPerBit,
      areaUnit: 'bit',
      ...cmosLeakage(areaPerBit, ctx),
    };
  },
};
