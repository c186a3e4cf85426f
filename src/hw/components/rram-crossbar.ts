import { factors, type ComponentClass } from './model.js';

/** NeuroSim's interconnect model: unit-length wire capacitance 0.2 fF/µm (HTree / Bus, `unitLengthWireCap`). */
export const WIRE_CAP_F_PER_M = 0.2e-15 / 1e-6;

/**
 * RRAM crossbar array, from device physics: a read of an active cell dissipates V²·G·t, with G the mean
 * of the LRS and HRS conductances (weights are not known to the hardware model, so the mean cell is
 * priced). Area is rows × columns × cell_area_f2 × F². Non-volatile: no static power.
 * Sources: NeuroSim / MNSIM / SpikeSim device parameters (docs/SOURCES.md §4).
 *
 * The `read` action (one row group read) costs its latency, read_pulse_s, and 0 J of its own, because
 * every charge a read moves is priced by another action:
 * - the cell currents: `cell_read`, per active row × column;
 * - the word line of each active row, C_WL·V_read² with C_WL = columns × cell pitch (√cell_area_f2·F) ×
 *   0.2 fF/µm (NeuroSim's wire capacitance): the row driver drives it and is charged per active row
 *   (`row_driver.drive`, ISAAC's DAC power × pulse, which is orders of magnitude larger: the note on the
 *   action prints both for the configured chip);
 * - the bit lines: held at virtual ground by the column readout (current sensing into the ADC's
 *   sample-and-hold), so they do not swing; the conversion is `adc.convert`.
 */
export const rramCrossbar: ComponentClass = {
  name: 'rram_crossbar',
  components: ['crossbar'],
  description: 'RRAM crossbar, energy per active cell from V²·G·t',
  source:
    'NeuroSim / MNSIM device model: E = V_read² · (G_LRS + G_HRS)/2 · t_read; area 4F² per cell; word-line capacitance 0.2 fF/µm (NeuroSim wire model)',
  refTechNodeNm: null,
  build(ctx) {
    const spec = ctx.spec;
    const x = spec.crossbar;
    const gMean = (1 / x.lrs_ohm + 1 / x.hrs_ohm) / 2;
    const f = spec.chip.tech_node_nm * 1e-9;
    const pitch = Math.sqrt(x.cell_area_f2) * f;
    const wordLineJ = x.columns * pitch * WIRE_CAP_F_PER_M * x.read_voltage_v * x.read_voltage_v;
    // What row_driver.drive charges per active row (row-driver.ts: ISAAC's DAC power × pulse, from 32 nm).
    const driveJ = spec.row_driver.power_w * factors(32, ctx).energy * x.read_pulse_s;
    const fmt = (j: number) => `${(j * 1e18).toPrecision(3)} aJ`;
    return {
      component: 'crossbar',
      className: this.name,
      description: this.description,
      source: this.source,
      refTechNodeNm: null,
      techNodeNm: spec.chip.tech_node_nm,
      actions: {
        cell_read: { energy_j: x.read_voltage_v * x.read_voltage_v * gMean * x.read_pulse_s, latency_s: 0 },
        read: {
          energy_j: 0,
          latency_s: x.read_pulse_s,
          note:
            `0 J of its own: the word-line charge of each active row (C_WL·V_read² = ${fmt(wordLineJ)}: ` +
            `${x.columns} cells × ${(pitch * 1e9).toPrecision(3)} nm × 0.2 fF/µm at ${x.read_voltage_v} V) is ` +
            `driven per active row by the row driver and inside its row_driver.drive energy (${fmt(driveJ)}); bit lines sit at virtual ground (no swing); ` +
            `cell currents are cell_read`,
        },
      },
      area_m2: x.rows * x.columns * x.cell_area_f2 * f * f,
      areaUnit: 'instance',
      leakage_w: 0,
      leakageNote: 'non-volatile RRAM: no static power when not read',
    };
  },
};
