import { cmosLeakage, factors, MM2, type ComponentClass } from './model.js';

/**
 * Intra-tile bus from the tile buffer to the PEs. Energy per bit = wire energy per bit per metre × length
 * (hwcomponents Wire, 0.05–0.1 pJ/bit/mm, docs/SOURCES.md §4). Area: ISAAC (Table 1, 32 nm) bus of
 * 384 wires in 0.090 mm², per wire, times the configured width.
 */
export const tileBus: ComponentClass = {
  name: 'tile_bus',
  components: ['tile_bus'],
  description: 'Intra-tile bus (wires)',
  source: 'hwcomponents Wire 0.05–0.1 pJ/bit/mm; ISAAC bus 384 wires in 0.090 mm² (32 nm)',
  refTechNodeNm: 32,
  build(ctx) {
    const b = ctx.spec.tile_bus;
    const s = factors(32, ctx);
    const area = (0.09 * MM2 * s.area * b.width_bits) / 384;
    return {
      component: 'tile_bus',
      className: this.name,
      description: `${b.width_bits}-b bus, ${b.length_m * 1e3} mm`,
      source: this.source,
      refTechNodeNm: 32,
      techNodeNm: ctx.spec.chip.tech_node_nm,
      actions: {
        transfer: {
          energy_j: b.wire_energy_j_per_bit_m * b.length_m,
          latency_s: ctx.clockPeriodS / b.width_bits,
        },
      },
      area_m2: area,
      areaUnit: 'instance',
      ...cmosLeakage(area, ctx),
    };
  },
};
