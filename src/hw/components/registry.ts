/**
 * Component classes by name. The arch YAML names a class per component; this registry resolves it, and a
 * class without a model is an error that names it (never a silent zero).
 */
import { located } from '../../config/errors.js';
import type { ArchSpec } from '../../config/schema.js';
import { COMPONENTS, type ComponentKey } from '../actions.js';
import { nominalSupplyV } from '../tech.js';
import { columnMux } from './column-mux.js';
import { edramBuffer } from './edram-buffer.js';
import { entropyUnit } from './entropy-unit.js';
import { lifUnit } from './lif-unit.js';
import { meshLink } from './mesh-link.js';
import { meshRouter } from './mesh-router.js';
import type { ComponentClass, ComponentModel } from './model.js';
import { outputRegister } from './output-register.js';
import { rowDriver } from './row-driver.js';
import { rramCrossbar } from './rram-crossbar.js';
import { sarAdc } from './sar-adc.js';
import { shiftAdd } from './shift-add.js';
import { spikesimCrossbar } from './spikesim-crossbar.js';
import { spikesimHtree } from './spikesim-htree.js';
import { spikesimMemory } from './spikesim-memory.js';
import { spikesimNeuron } from './spikesim-neuron.js';
import { spikesimSubtractor } from './spikesim-subtractor.js';
import { spikesimTempBuffer } from './spikesim-temp-buffer.js';
import { spikesimTileBuffer } from './spikesim-tile-buffer.js';
import { sramBuffer } from './sram-buffer.js';
import { tileBus } from './tile-bus.js';

const CLASSES: readonly ComponentClass[] = [
  rramCrossbar,
  spikesimCrossbar,
  rowDriver,
  sarAdc,
  columnMux,
  shiftAdd,
  spikesimSubtractor,
  outputRegister,
  spikesimTempBuffer,
  lifUnit,
  spikesimNeuron,
  sramBuffer,
  spikesimTileBuffer,
  tileBus,
  spikesimHtree,
  entropyUnit,
  edramBuffer,
  spikesimMemory,
  meshRouter,
  meshLink,
];

export const COMPONENT_CLASSES: ReadonlyMap<string, ComponentClass> = new Map(
  CLASSES.map((c) => [c.name, c]),
);

/** The config field that names each component's class. */
export function classFieldOf(component: ComponentKey): string {
  if (component === 'router') return 'noc.router_class';
  if (component === 'link') return 'noc.link_class';
  return `${component}.class`;
}

export function classNameOf(spec: ArchSpec, component: ComponentKey): string {
  if (component === 'router') return spec.noc.router_class;
  if (component === 'link') return spec.noc.link_class;
  return (spec[component] as { class: string }).class;
}

export type ComponentModels = Readonly<Record<ComponentKey, ComponentModel>>;

/**
 * Resolve and build every component of the chip. `linkLengthM`: the length of one NoC link, which the
 * topology decides (chip/noc; default `noc.link_length_m`, the mesh's one tile pitch).
 */
export function buildComponentModels(spec: ArchSpec, linkLengthM = spec.noc.link_length_m): ComponentModels {
  const ctx = {
    spec,
    target: { techNodeNm: spec.chip.tech_node_nm, supplyV: spec.chip.supply_v },
    clockPeriodS: 1 / spec.chip.clock_hz,
    linkLengthM,
  };
  // Validate the supply lookup early so a bad node is reported once, as an input error.
  nominalSupplyV(spec.chip.tech_node_nm);
  const out = {} as Record<ComponentKey, ComponentModel>;
  for (const component of COMPONENTS) {
    const name = classNameOf(spec, component);
    const cls = COMPONENT_CLASSES.get(name);
    if (!cls) {
      throw located(`component "${component}" names class "${name}", which has no model`, {
        path: classFieldOf(component),
        expected: `one of ${[...COMPONENT_CLASSES.values()]
          .filter((c) => c.components.includes(component))
          .map((c) => `"${c.name}"`)
          .join(', ')}`,
        found: JSON.stringify(name),
      });
    }
    if (!cls.components.includes(component)) {
      throw located(`class "${name}" cannot model component "${component}"`, {
        path: classFieldOf(component),
        expected: `a class for ${component}`,
        found: JSON.stringify(name),
      });
    }
    out[component] = Object.freeze(cls.build(ctx, component));
  }
  return Object.freeze(out);
}
