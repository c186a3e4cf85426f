/**
 * Component classes by name. The arch YAML names a class per component; this registry resolves it, and a
 * class without a model is an error that names it (never a silent zero).
 */
import { located } from '../../config/errors.js';
import type { AdcFamily, ArchSpec, ComponentClassName } from '../../config/schema.js';
import { COMPONENTS, type ComponentKey } from '../actions.js';
import { nominalSupplyV } from '../tech.js';
import { isaacSarAdc } from './adc-isaac-sar.js';
import { neurosimSarAdc } from './adc-neurosim-sar.js';
import { spikesimAdc } from './adc-spikesim.js';
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

/**
 * The model of every class name the config accepts (src/config/schema.ts declares the names, by component,
 * once): a listed name without a model, or a model under a name not listed, does not compile.
 */
const MODELS: { readonly [N in ComponentClassName]: ComponentClass } = {
  rram_crossbar: rramCrossbar,
  spikesim_crossbar: spikesimCrossbar,
  row_driver: rowDriver,
  isaac_sar_adc: isaacSarAdc,
  neurosim_sar_adc: neurosimSarAdc,
  spikesim_adc: spikesimAdc,
  column_mux: columnMux,
  shift_add: shiftAdd,
  spikesim_subtractor: spikesimSubtractor,
  output_register: outputRegister,
  spikesim_temp_buffer: spikesimTempBuffer,
  lif_unit: lifUnit,
  spikesim_neuron: spikesimNeuron,
  sram_buffer: sramBuffer,
  spikesim_tile_buffer: spikesimTileBuffer,
  tile_bus: tileBus,
  spikesim_htree: spikesimHtree,
  entropy_unit: entropyUnit,
  edram_buffer: edramBuffer,
  spikesim_memory: spikesimMemory,
  mesh_router: meshRouter,
  mesh_link: meshLink,
};

export const COMPONENT_CLASSES: ReadonlyMap<string, ComponentClass> = new Map(Object.entries(MODELS));

/** The ADC model class of each `adc.family` (one class per family, each with its own reference node). */
export const ADC_CLASS_OF_FAMILY: Readonly<Record<AdcFamily, string>> = {
  isaac: isaacSarAdc.name,
  'neurosim-sar': neurosimSarAdc.name,
  spikesim: spikesimAdc.name,
};

/** The config field that names each component's class (the ADC's is chosen by its family). */
export function classFieldOf(component: ComponentKey): string {
  if (component === 'adc') return 'adc.family';
  if (component === 'router') return 'noc.router_class';
  if (component === 'link') return 'noc.link_class';
  return `${component}.class`;
}

export function classNameOf(spec: ArchSpec, component: ComponentKey): string {
  if (component === 'adc') return ADC_CLASS_OF_FAMILY[spec.adc.family];
  if (component === 'router') return spec.noc.router_class;
  if (component === 'link') return spec.noc.link_class;
  return (spec[component] as { class: string }).class;
}

export type ComponentModels = Readonly<Record<ComponentKey, ComponentModel>>;

/** Resolve and build every component of the chip. */
export function buildComponentModels(spec: ArchSpec): ComponentModels {
  const ctx = {
    spec,
    target: { techNodeNm: spec.chip.tech_node_nm, supplyV: spec.chip.supply_v },
    clockPeriodS: 1 / spec.chip.clock_hz,
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
