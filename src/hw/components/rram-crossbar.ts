import type { ComponentClass } from './model.js';

/**
 * RRAM crossbar array, from device physics: a read of an active cell dissipates V²·G·t, with G the mean
 * of the LRS and HRS conductances (weights are not known to the hardware model, so the mean cell is
 * priced). Area is rows × columns × cell_area_f2 × F². Non-volatile: no static power.
 * Sources: NeuroSim / MNSIM / SpikeSim device parameters (docs/SOURCES.md §4).
 */
export const rramCrossbar: ComponentClass = {
  name: 'rram_crossbar',
  components: ['crossbar'],
  description: 'RRAM crossbar, energy per active cell from V²·G·t',
  source: 'NeuroSim / MNSIM device model: E = V_read² · (G_LRS + G_HRS)/2 · t_read; area 4F² per cell',
  refTechNodeNm: null,
  build({ spec }) {
    const x = spec.crossbar;
    const gMean = (1 / x.lrs_ohm + 1 / x.hrs_ohm) / 2;
    const f = spec.chip.tech_node_nm * 1e-9;
    return {
      component: 'crossbar',
      className: this.name,
      description: this.description,
      source: this.source,
      refTechNodeNm: null,
      techNodeNm: spec.chip.tech_node_nm,
      actions: {
        cell_read: { energy_j: x.read_voltage_v * x.read_voltage_v * gMean * x.read_pulse_s, latency_s: 0 },
        read: { energy_j: 0, latency_s: x.read_pulse_s },
      },
      area_m2: x.rows * x.columns * x.cell_area_f2 * f * f,
      areaUnit: 'instance',
      leakage_w: 0,
      leakageNote: 'non-volatile RRAM: no static power when not read',
    };
  },
};
