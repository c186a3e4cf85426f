import { cmosLeakage, factors, MM2, PJ, type ComponentClass } from './model.js';

/**
 * eDRAM global buffer. ISAAC (ISCA 2016), 32 nm: 64 KB with a 256-b port, 20.45 pJ per access
 * (docs/SOURCES.md §4), 0.083 mm² (Table 1). Energy scales with the port width, area with capacity.
 */
export const edramBuffer: ComponentClass = {
  name: 'edram_buffer',
  components: ['global_buffer'],
  description: 'eDRAM global buffer',
  source: 'ISAAC (ISCA 2016), 32 nm: 20.45 pJ per 256-b access; 64 KB in 0.083 mm²',
  refTechNodeNm: 32,
  build(ctx) {
    const g = ctx.spec.global_buffer;
    const s = factors(32, ctx);
    const perAccess = 20.45 * PJ * (g.width_bits / 256) * s.energy;
    const areaPerBit = (0.083 * MM2 * s.area) / (64 * 1024 * 8);
    return {
      component: 'global_buffer',
      className: this.name,
      description: `${g.capacity_bits}-bit eDRAM, ${g.width_bits}-b port`,
      source: this.source,
      refTechNodeNm: 32,
      techNodeNm: ctx.spec.chip.tech_node_nm,
      actions: {
        read: { energy_j: perAccess, latency_s: 2 * ctx.clockPeriodS },
        write: { energy_j: perAccess, latency_s: 2 * ctx.clockPeriodS },
      },
      area_m2: areaPerBit,
      areaUnit: 'bit',
      ...cmosLeakage(areaPerBit, ctx),
    };
  },
};
