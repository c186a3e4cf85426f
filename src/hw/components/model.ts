/**
 * The shape every component model takes (after Accelergy / hwcomponents): actions that cost energy (J)
 * and latency (s), an area (m²) and a leakage power (W) per unit, a reference tech node and a source.
 */
import type { ArchSpec } from '../../config/schema.js';
import type { ActionName, ComponentKey } from '../actions.js';
import { scaleFactors, type ScaleFactors, type TechTarget } from '../tech.js';

export interface ActionCost {
  energy_j: number;
  latency_s: number;
  /** Why the cost is what it is where that is not obvious (e.g. a 0 J action whose charge is counted elsewhere). */
  note?: string;
}

export interface ComponentModel {
  component: ComponentKey;
  className: string;
  description: string;
  /** Citation for the numbers (docs/SOURCES.md or the paper / tool they come from). */
  source: string;
  /** Node the published numbers refer to; null for parts not scaled by CMOS rules (the RRAM array). */
  refTechNodeNm: number | null;
  techNodeNm: number;
  actions: Partial<Record<ActionName, ActionCost>>;
  /** Area of one unit; a unit is one instance or one stored bit, as `areaUnit` says. */
  area_m2: number;
  areaUnit: 'instance' | 'bit';
  /** Static power of one unit. */
  leakage_w: number;
  /** Why leakage is what it is (e.g. "non-volatile", "not modelled"). */
  leakageNote: string;
}

export interface BuildContext {
  spec: ArchSpec;
  target: TechTarget;
  clockPeriodS: number;
  /** Physical length of one NoC link (m): `noc.link_length_m` × the topology's link length in pitches. */
  linkLengthM: number;
}

export interface ComponentClass {
  name: string;
  /** Config sections (components) this class can model. */
  components: readonly ComponentKey[];
  description: string;
  source: string;
  refTechNodeNm: number | null;
  build(ctx: BuildContext, component: ComponentKey): ComponentModel;
}

/**
 * Scale factors from a class's reference node (and the supply its source published at, when the source
 * states one) to the configured chip.
 */
export function factors(refNodeNm: number, ctx: BuildContext, refSupplyV?: number): ScaleFactors {
  return scaleFactors(refNodeNm, ctx.target, refSupplyV);
}

/** Horowitz, ISSCC 2014: the energy table is for 45 nm at 0.9 V (docs/SOURCES.md §4.4). */
export const HOROWITZ_NODE_NM = 45;
export const HOROWITZ_SUPPLY_V = 0.9;

/** Leakage of a unit of CMOS area under the configured leakage model. */
export function cmosLeakage(areaM2: number, ctx: BuildContext): { leakage_w: number; leakageNote: string } {
  if (ctx.spec.leakage.model === 'none')
    return { leakage_w: 0, leakageNote: 'not modelled (leakage.model: none)' };
  return {
    leakage_w: areaM2 * ctx.spec.leakage.density_w_per_m2,
    leakageNote: `area × leakage.density_w_per_m2 (${ctx.spec.leakage.density_w_per_m2} W/m²)`,
  };
}

export const PJ = 1e-12;
export const UM2 = 1e-12;
export const MM2 = 1e-6;
