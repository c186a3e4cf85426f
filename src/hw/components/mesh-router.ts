import { cmosLeakage, factors, MM2, PJ, type ComponentClass } from './model.js';

/**
 * Mesh router. ISAAC (ISCA 2016), 32 nm: 20.74 pJ per 256-b flit traversal (≈0.081 pJ/bit/hop,
 * docs/SOURCES.md §4); 0.151 mm² (Table 1, 8 ports, 32 flits of buffering). Energy and area scale with the
 * flit width; latency is the configured pipeline (BookSim: route, VC, switch, traversal).
 */
export const meshRouter: ComponentClass = {
  name: 'mesh_router',
  components: ['router'],
  description: 'Input-buffered mesh router',
  source: 'ISAAC (ISCA 2016), 32 nm: 20.74 pJ per 256-b flit, 0.151 mm²; BookSim pipeline',
  refTechNodeNm: 32,
  build(ctx) {
    const n = ctx.spec.noc;
    const s = factors(32, ctx);
    const w = n.flit_bits / 256;
    const area = 0.151 * MM2 * w * s.area;
    return {
      component: 'router',
      className: this.name,
      description: `${n.flit_bits}-b flit router, ${n.router_pipeline_stages}-stage pipeline`,
      source: this.source,
      refTechNodeNm: 32,
      techNodeNm: ctx.spec.chip.tech_node_nm,
      actions: {
        traverse: {
          energy_j: 20.74 * PJ * w * s.energy,
          latency_s: n.router_pipeline_stages * ctx.clockPeriodS,
        },
      },
      area_m2: area,
      areaUnit: 'instance',
      ...cmosLeakage(area, ctx),
    };
  },
};
