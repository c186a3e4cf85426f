import { factors, PJ, type ComponentClass } from './model.js';

/**
 * SpikeSim's neuron module: 1.274 × 4 pJ per PE cycle (65 nm). SpikeSim's area model has no neuron logic
 * term (neuron state is counted in the membrane memory), so the unit's own area is 0 by that convention.
 */
export const spikesimNeuron: ComponentClass = {
  name: 'spikesim_neuron',
  components: ['lif_unit'],
  description: 'SpikeSim LIF neuron module (per PE cycle)',
  source:
    'SpikeSim ela_spikesim.py, 65 nm: neuron 1.274·4 pJ per PE cycle; no logic area (state in membrane memory)',
  refTechNodeNm: 65,
  build(ctx) {
    const s = factors(65, ctx);
    return {
      component: 'lif_unit',
      className: this.name,
      description: this.description,
      source: this.source,
      refTechNodeNm: 65,
      techNodeNm: ctx.spec.chip.tech_node_nm,
      actions: { pe_cycle: { energy_j: 1.274 * 4 * PJ * s.energy, latency_s: 0 } },
      area_m2: 0,
      areaUnit: 'instance',
      leakage_w: 0,
      leakageNote: 'SpikeSim convention: neuron area and leakage counted in membrane memory',
    };
  },
};
