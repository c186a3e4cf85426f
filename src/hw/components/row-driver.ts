import { cmosLeakage, factors, MM2, type ComponentClass } from './model.js';

/**
 * 1-bit word-line driver (DAC). ISAAC (ISCA 2016, Table 1, 32 nm): 8×128 DACs draw 4 mW in
 * 0.00017 mm², i.e. 3.9 µW and 1.66e-4 mm²/1024 each; energy of one drive = power × read pulse.
 */
export const rowDriver: ComponentClass = {
  name: 'row_driver',
  components: ['row_driver'],
  description: '1-bit DAC driving one word line',
  source: 'ISAAC (ISCA 2016) Table 1, 32 nm: 3.9 µW per 1-bit DAC; 0.00017 mm² per 1024 DACs',
  refTechNodeNm: 32,
  build(ctx) {
    const s = factors(32, ctx);
    const area = (0.00017 * MM2 * s.area) / 1024;
    return {
      component: 'row_driver',
      className: this.name,
      description: this.description,
      source: this.source,
      refTechNodeNm: 32,
      techNodeNm: ctx.spec.chip.tech_node_nm,
      actions: {
        drive: {
          energy_j: ctx.spec.row_driver.power_w * s.energy * ctx.spec.crossbar.read_pulse_s,
          latency_s: 0,
        },
      },
      area_m2: area,
      areaUnit: 'instance',
      ...cmosLeakage(area, ctx),
    };
  },
};
