/**
 * Area units of the chip (imcsim accounting): every slot of every allocated tile, plus the chip-level
 * parts (routers, links, global buffer, entropy unit). Read by the closed-form model and the replay.
 */
import { COMPONENTS } from '../hw/actions.js';
import { ceilDiv } from './mapping.js';
import type { AreaUnits, Workload } from './workload.js';

const NC = COMPONENTS.length;
const CI = Object.fromEntries(COMPONENTS.map((c, i) => [c, i])) as Record<
  (typeof COMPONENTS)[number],
  number
>;
const ci = (c: (typeof COMPONENTS)[number]) => CI[c];

/** Area units of the imcsim accounting: every slot of every allocated tile, plus chip-level parts. */
export function imcsimArea(w: Workload): AreaUnits {
  const { spec, mapping } = w;
  const L = mapping.layers.length;
  const chip = new Float64Array(NC);
  const perLayer = new Float64Array(L * NC);
  const adcsPerXbar = ceilDiv(spec.crossbar.columns, spec.adc.columns_per_adc);
  const perTile = (c: (typeof COMPONENTS)[number]): number => {
    const xbars = spec.tile.pes_per_tile * spec.pe.crossbars_per_pe;
    switch (c) {
      case 'crossbar':
        return xbars;
      case 'row_driver':
        return xbars * spec.crossbar.rows;
      case 'adc':
      case 'column_mux':
      case 'shift_add':
      case 'output_register':
        return xbars * adcsPerXbar;
      case 'lif_unit':
        return spec.lif_unit.units_per_tile;
      case 'membrane_buffer':
        return spec.membrane_buffer.capacity_bits;
      case 'tile_buffer':
        return spec.tile_buffer.capacity_bits;
      case 'tile_bus':
        return 1;
      default:
        return 0;
    }
  };
  for (const c of COMPONENTS) {
    const u = perTile(c);
    chip[ci(c)] = u * mapping.totalTiles;
    for (let l = 0; l < L; l++) {
      const lm = mapping.layers[l];
      perLayer[l * NC + ci(c)] = u * lm.tiles.length * lm.tileShare;
    }
  }
  const mc = mapping.meshColumns;
  const mr = mapping.meshRows;
  chip[ci('router')] = mc * mr;
  chip[ci('link')] = 2 * ((mc - 1) * mr + mc * (mr - 1));
  chip[ci('global_buffer')] = spec.global_buffer.capacity_bits;
  chip[ci('entropy_unit')] = 1;
  return { chip, perLayer, notes: [] };
}
