import { cmosLeakage, factors, PJ, UM2, type ComponentClass } from './model.js';

/** SpikeSim's H-tree: 19.64 × 8 pJ per PE cycle, 216,830 × 2 µm² per tile (65 nm). */
export const spikesimHtree: ComponentClass = {
  name: 'spikesim_htree',
  components: ['tile_bus'],
  description: 'SpikeSim H-tree (per PE cycle)',
  source: 'SpikeSim ela_spikesim.py, 65 nm: Htree 19.64·8 pJ per PE cycle, 216830·2 µm² per tile',
  refTechNodeNm: 65,
  build(ctx) {
    const s = factors(65, ctx);
    const area = 216830 * 2 * UM2 * s.area;
    return {
      component: 'tile_bus',
      className: this.name,
      description: this.description,
      source: this.source,
      refTechNodeNm: 65,
      techNodeNm: ctx.spec.chip.tech_node_nm,
      actions: { pe_cycle: { energy_j: 19.64 * 8 * PJ * s.energy, latency_s: 0 } },
      area_m2: area,
      areaUnit: 'instance',
      ...cmosLeakage(area, ctx),
    };
  },
};
