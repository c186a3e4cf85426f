import { cmosLeakage, factors, PJ, UM2, type ComponentClass, HOROWITZ_NODE_NM, HOROWITZ_SUPPLY_V } from './model.js';

/**
 * SRAM buffer. Energy per bit: Horowitz (ISSCC 2014), 8 KB SRAM at 45 nm, 64-b access: ≈0.2 pJ/bit read,
 * ≈0.28 pJ/bit write (docs/SOURCES.md §4); one access moves `width_bits`. Area per bit: SpikeSim's SRAM,
 * 0.7391 µm²/bit at 65 nm (cell and periphery). One access per port per cycle.
 */
export const sramBuffer: ComponentClass = {
  name: 'sram_buffer',
  components: ['membrane_buffer', 'tile_buffer'],
  description: 'SRAM buffer',
  source: 'Horowitz ISSCC 2014 (45 nm): 0.2 pJ/bit read, 0.28 pJ/bit write; SpikeSim 0.7391 µm²/bit (65 nm)',
  refTechNodeNm: 45,
  build(ctx, component) {
    const cfg = component === 'membrane_buffer' ? ctx.spec.membrane_buffer : ctx.spec.tile_buffer;
    const s45 = factors(HOROWITZ_NODE_NM, ctx, HOROWITZ_SUPPLY_V);
    const s65 = factors(65, ctx);
    const areaPerBit = 0.7391 * UM2 * s65.area;
    return {
      component,
      className: this.name,
      description: `${cfg.capacity_bits}-bit SRAM, ${cfg.width_bits}-b port ×${cfg.ports}`,
      source: this.source,
      refTechNodeNm: 45,
      techNodeNm: ctx.spec.chip.tech_node_nm,
      actions: {
        read: { energy_j: 0.2 * PJ * cfg.width_bits * s45.energy, latency_s: ctx.clockPeriodS },
        write: { energy_j: 0.28 * PJ * cfg.width_bits * s45.energy, latency_s: ctx.clockPeriodS },
      },
      area_m2: areaPerBit,
      areaUnit: 'bit',
      ...cmosLeakage(areaPerBit, ctx),
    };
  },
};
