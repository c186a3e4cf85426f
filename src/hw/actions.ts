/**
 * Every action a component can be asked to perform, as a flat integer-indexed table.
 *
 * Counts (from the analytic model or from the discrete-event replay) are Float64Arrays indexed by these
 * ids, so hot paths never allocate per-event objects. Pricing turns counts into joules through the
 * component models; a non-zero count for an action the configured model does not implement is an error.
 */
export const COMPONENTS = [
  'crossbar',
  'row_driver',
  'adc',
  'column_mux',
  'shift_add',
  'output_register',
  'lif_unit',
  'membrane_buffer',
  'tile_buffer',
  'tile_bus',
  'entropy_unit',
  'global_buffer',
  'router',
  'link',
] as const;
export type ComponentKey = (typeof COMPONENTS)[number];

/** [component, action, unit of one count] */
export const ACTIONS = [
  ['crossbar', 'cell_read', 'active cell (row × column) per read'],
  ['crossbar', 'read', 'read of one row group'],
  ['crossbar', 'read_round', 'crossbar read per mux round (SpikeSim)'],
  ['row_driver', 'drive', 'row driven for one read'],
  ['adc', 'convert', 'conversion'],
  ['column_mux', 'select', 'column selected onto an ADC'],
  ['shift_add', 'op', 'shift-and-add or accumulate'],
  ['output_register', 'write', 'lane write'],
  ['lif_unit', 'update', 'neuron update'],
  ['lif_unit', 'pe_cycle', 'PE cycle (SpikeSim)'],
  ['membrane_buffer', 'read', 'port-width access'],
  ['membrane_buffer', 'write', 'port-width access'],
  ['tile_buffer', 'read', 'port-width access'],
  ['tile_buffer', 'write', 'port-width access'],
  ['tile_buffer', 'pe_cycle', 'PE cycle (SpikeSim)'],
  ['tile_bus', 'transfer', 'bit moved'],
  ['tile_bus', 'pe_cycle', 'PE cycle (SpikeSim)'],
  ['entropy_unit', 'class_step', 'class processed'],
  ['entropy_unit', 'decide', 'exit decision'],
  ['global_buffer', 'read', 'port-width access'],
  ['global_buffer', 'write', 'port-width access'],
  ['global_buffer', 'pe_cycle', 'PE cycle (SpikeSim memory fetch)'],
  ['router', 'traverse', 'flit through a router'],
  ['link', 'traverse', 'flit over a link'],
] as const;

export type ActionName = (typeof ACTIONS)[number][1];
export const NUM_ACTIONS = ACTIONS.length;

const indexByKey = new Map<string, number>(ACTIONS.map(([c, a], i) => [`${c}.${a}`, i]));

/** Integer id of `component.action`; throws on a name that does not exist (a programming error). */
export function actionId(component: ComponentKey, action: ActionName): number {
  const id = indexByKey.get(`${component}.${action}`);
  if (id === undefined) throw new Error(`no action ${component}.${action}`);
  return id;
}

/** Ids as constants for hot paths. */
export const A = {
  XBAR_CELL_READ: actionId('crossbar', 'cell_read'),
  XBAR_READ: actionId('crossbar', 'read'),
  XBAR_READ_ROUND: actionId('crossbar', 'read_round'),
  ROW_DRIVE: actionId('row_driver', 'drive'),
  ADC_CONVERT: actionId('adc', 'convert'),
  MUX_SELECT: actionId('column_mux', 'select'),
  SHIFT_ADD: actionId('shift_add', 'op'),
  OUTREG_WRITE: actionId('output_register', 'write'),
  LIF_UPDATE: actionId('lif_unit', 'update'),
  LIF_PE_CYCLE: actionId('lif_unit', 'pe_cycle'),
  MEMBRANE_READ: actionId('membrane_buffer', 'read'),
  MEMBRANE_WRITE: actionId('membrane_buffer', 'write'),
  TILEBUF_READ: actionId('tile_buffer', 'read'),
  TILEBUF_WRITE: actionId('tile_buffer', 'write'),
  TILEBUF_PE_CYCLE: actionId('tile_buffer', 'pe_cycle'),
  BUS_TRANSFER: actionId('tile_bus', 'transfer'),
  BUS_PE_CYCLE: actionId('tile_bus', 'pe_cycle'),
  ENTROPY_CLASS_STEP: actionId('entropy_unit', 'class_step'),
  ENTROPY_DECIDE: actionId('entropy_unit', 'decide'),
  GLOBAL_READ: actionId('global_buffer', 'read'),
  GLOBAL_WRITE: actionId('global_buffer', 'write'),
  GLOBAL_PE_CYCLE: actionId('global_buffer', 'pe_cycle'),
  ROUTER_TRAVERSE: actionId('router', 'traverse'),
  LINK_TRAVERSE: actionId('link', 'traverse'),
} as const;

export const ACTION_COMPONENT: readonly ComponentKey[] = ACTIONS.map(([c]) => c);
