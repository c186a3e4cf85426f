import { cmosLeakage, factors, type ComponentClass } from './model.js';

/**
 * NoC link: wires of `flit_bits`, one link long (`link_length_m` × the topology's link length in tile
 * pitches: 1 for the mesh, 2 for the folded torus). Energy: hwcomponents Wire, 0.08 pJ/bit/mm
 * (docs/SOURCES.md §4: 0.05–0.1). Area [our design estimate]: one wire track of 4F pitch per bit over the
 * link length (repeaters neglected).
 */
export const meshLink: ComponentClass = {
  name: 'mesh_link',
  components: ['link'],
  description: 'Mesh link (wires)',
  source: 'hwcomponents Wire: 0.08 pJ/bit/mm; area: our estimate, 4F pitch per bit',
  refTechNodeNm: 32,
  build(ctx) {
    const n = ctx.spec.noc;
    const s = factors(32, ctx);
    const f = ctx.spec.chip.tech_node_nm * 1e-9;
    const len = ctx.linkLengthM;
    const area = n.flit_bits * 4 * f * len;
    return {
      component: 'link',
      className: this.name,
      description: `${n.flit_bits}-b link, ${len * 1e3} mm`,
      source: this.source,
      refTechNodeNm: 32,
      techNodeNm: ctx.spec.chip.tech_node_nm,
      actions: {
        traverse: {
          energy_j: 0.08e-12 * 1e3 * len * n.flit_bits * s.energy,
          latency_s: n.link_latency_cycles * ctx.clockPeriodS,
        },
      },
      area_m2: area,
      areaUnit: 'instance',
      ...cmosLeakage(area, ctx),
    };
  },
};
