import { cmosLeakage, factors, MM2, PJ, type ComponentClass } from './model.js';

/**
 * Output register lane holding one ADC / shift-add result.
 * Energy: SpikeSim temp buffer, 0.2 pJ per ADC-lane write (65 nm). Area: ISAAC (Table 1, 32 nm) output
 * register 256 B in 0.00077 mm², i.e. per 16-b lane 0.00077/128 mm², scaled to the lane width.
 */
export const outputRegister: ComponentClass = {
  name: 'output_register',
  components: ['output_register'],
  description: 'Output register lane',
  source: 'SpikeSim 65 nm: 0.2 pJ per lane write; ISAAC 32 nm: 256 B OR in 0.00077 mm²',
  refTechNodeNm: 65,
  build(ctx) {
    const s65 = factors(65, ctx);
    const s32 = factors(32, ctx);
    const w = ctx.spec.output_register.bits / 16;
    const area = (0.00077 * MM2 * w * s32.area) / 128;
    return {
      component: 'output_register',
      className: this.name,
      description: `${ctx.spec.output_register.bits}-b output register lane`,
      source: this.source,
      refTechNodeNm: 65,
      techNodeNm: ctx.spec.chip.tech_node_nm,
      actions: { write: { energy_j: 0.2 * PJ * w * s65.energy, latency_s: 0 } },
      area_m2: area,
      areaUnit: 'instance',
      ...cmosLeakage(area, ctx),
    };
  },
};
