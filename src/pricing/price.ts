/**
 * Pricing: action counts × component models → energy (J); per-unit leakage × time → static energy;
 * area units × unit area → area. The one path every estimate and every simulation goes through, so a
 * run can be re-priced under another model without re-simulating.
 */
import { located } from '../util/errors.js';
import { ACTIONS, COMPONENTS, NUM_ACTIONS, type ComponentKey } from '../hw/actions.js';
import type { ComponentModels } from '../hw/components/registry.js';
import type { AreaUnits, Excluded, Workload } from '../chip/workload.js';
import type { ActionCounts, Timing } from '../hw/counts.js';

const NC = COMPONENTS.length;
/** Components that sit in tiles (power-gated with their layer); the rest are chip-level. */
const TILE_COMPONENTS: ReadonlySet<ComponentKey> = new Set([
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
]);
const IS_TILE = Uint8Array.from(COMPONENTS, (c) => (TILE_COMPONENTS.has(c) ? 1 : 0));
/** Component index of each action, and the action names, as flat tables (pricing runs in sweeps). */
const COMPONENT_OF_ACTION = Int32Array.from(ACTIONS, (a) => COMPONENTS.indexOf(a[0]));
const ACTION_NAME = ACTIONS.map((a) => a[1] as string);
const ACTION_UNIT = ACTIONS.map((a) => a[2] as string);

const ENTROPY = COMPONENTS.indexOf('entropy_unit');
/**
 * Under the static exit policy the exit (entropy) unit is never used, so it is power-gated: it keeps its
 * area but performs no action and leaks nothing. The residue of a gated block (sleep-transistor leakage)
 * is not modelled, i.e. taken as 0 [our design assumption: the cmos leakage model has no gated state].
 */
export const EXIT_UNIT_GATED_NOTE =
  'power-gated and idle: the static exit policy never uses it (gated residue not modelled: 0 W)';

/** Whether component k is power-gated for the whole run (the exit unit under the static policy). */
export function gatedForRun(w: Workload, k: number): boolean {
  return k === ENTROPY && w.policy === 'static';
}

/** Static power of the chip (W) while it runs: every unit of every component not gated for the run. */
export function chipLeakageW(w: Workload, area: { chip: Float64Array }): number {
  let leakW = 0;
  for (let k = 0; k < NC; k++)
    if (!gatedForRun(w, k)) leakW += area.chip[k] * w.models[COMPONENTS[k]].leakage_w;
  return leakW;
}

// byComponent spells the keys out for speed; they must follow COMPONENTS.
if (Object.keys(byComponent(new Float64Array(NC), 0)).join() !== COMPONENTS.join())
  throw new Error('price.ts: byComponent keys out of step with COMPONENTS');

/** What a model of the chip (closed form or replay) hands to pricing. */
export interface ModelOutput {
  counts: ActionCounts;
  timing: Timing;
  area: AreaUnits;
  excluded: Excluded[];
  notes: string[];
}

export interface ActionReport {
  count: number;
  unit: string;
  energy_per_action_j: number;
  /** The model's latency of one action (s); 0 where the time is counted with another action. */
  latency_per_action_s: number;
  energy_j: number;
}

export interface ComponentReport {
  component: ComponentKey;
  class: string;
  description: string;
  source: string;
  tech_node_nm: number;
  ref_tech_node_nm: number | null;
  area_units: number;
  area_unit: 'instance' | 'bit';
  area_m2: number;
  leakage_w: number;
  leakage_note: string;
  /** Power-gated for the whole run (never used, e.g. the exit unit under the static policy): no leakage. */
  power_gated: boolean;
  dynamic_energy_j: number;
  leakage_energy_j: number;
  energy_j: number;
  actions: Record<string, ActionReport>;
}

export interface LayerReport {
  name: string;
  kind: string;
  timesteps: number;
  crossbars: number;
  pes: number;
  tiles: number;
  energy_j: number;
  dynamic_energy_j: number;
  leakage_energy_j: number;
  latency_s: number;
  area_m2: number;
  /** Dynamic + attributed leakage energy per component (J). */
  components: Record<ComponentKey, number>;
}

export interface TimestepReport {
  timestep: number;
  energy_j: number;
  dynamic_energy_j: number;
  busy_s: number;
}

export interface Priced {
  energy_j: number;
  dynamic_energy_j: number;
  leakage_energy_j: number;
  latency_s: number;
  edp_js: number;
  area_m2: number;
  layers: LayerReport[];
  /** The exit row: logits to the I/O node, entropy unit, final output write. */
  exit: { energy_j: number; latency_s: number; components: Record<ComponentKey, number> };
  components: Record<ComponentKey, ComponentReport>;
  timesteps: TimestepReport[];
}

/** Energy per component from a row of a per-component array (a literal: fast, fixed key order). */
function byComponent(v: Float64Array, o: number): Record<ComponentKey, number> {
  return {
    crossbar: v[o],
    row_driver: v[o + 1],
    adc: v[o + 2],
    column_mux: v[o + 3],
    shift_add: v[o + 4],
    output_register: v[o + 5],
    lif_unit: v[o + 6],
    membrane_buffer: v[o + 7],
    tile_buffer: v[o + 8],
    tile_bus: v[o + 9],
    entropy_unit: v[o + 10],
    global_buffer: v[o + 11],
    router: v[o + 12],
    link: v[o + 13],
  };
}

/** Energy per action for the configured models; throws where a counted action has no model. */
export function actionEnergies(models: ComponentModels): Float64Array {
  const e = new Float64Array(NUM_ACTIONS);
  for (let i = 0; i < NUM_ACTIONS; i++) {
    const cost = (
      models[COMPONENTS[COMPONENT_OF_ACTION[i]]].actions as Record<string, { energy_j: number } | undefined>
    )[ACTION_NAME[i]];
    e[i] = cost ? cost.energy_j : NaN;
  }
  return e;
}

/** Per component-model set: energy per action, and whether its class models the action (1) or not (0). */
const actionTables = new WeakMap<ComponentModels, { energyOf: Float64Array; modelled: Uint8Array }>();
function actionTable(models: ComponentModels): { energyOf: Float64Array; modelled: Uint8Array } {
  let t = actionTables.get(models);
  if (!t) {
    const modelled = new Uint8Array(NUM_ACTIONS);
    for (let a = 0; a < NUM_ACTIONS; a++)
      modelled[a] = ACTION_NAME[a] in models[COMPONENTS[COMPONENT_OF_ACTION[a]]].actions ? 1 : 0;
    t = { energyOf: actionEnergies(models), modelled };
    // Component models are frozen (registry.ts): the table cannot go stale.
    if (Object.isFrozen(models)) actionTables.set(models, t);
  }
  return t;
}

/**
 * Defines `key` on `obj` as an enumerable property computed on first read (then kept as a plain data
 * property). Report objects (per-layer, per-component, per-timestep rows) are built only when read:
 * JSON output and every reader see the same values, while a caller that only wants the totals (sweeps,
 * benches) does not pay for them. Key order is the order of definition, as for a literal.
 */
export function defineLazy<T extends object, K extends keyof T>(obj: T, key: K, build: () => T[K]): void {
  const settle = (target: object, value: unknown) =>
    Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  let value: T[K] | undefined;
  let built = false;
  Object.defineProperty(obj, key, {
    enumerable: true,
    configurable: true,
    get(this: object) {
      if (!built) {
        value = build();
        built = true;
      }
      settle(this, value);
      return value;
    },
    set(this: object, v: unknown) {
      settle(this, v);
    },
  });
}

/**
 * Prices a model's output. The priced fields are added to `head` (after its own keys, which therefore
 * come first in JSON), so a caller's report needs no copy; the per-layer, per-component and per-timestep
 * rows are lazy (defineLazy).
 */
export function price<H extends object = Record<never, never>>(
  w: Workload,
  out: ModelOutput,
  head: H = {} as H,
): H & Priced {
  const models = w.models;
  const { counts, timing, area } = out;
  const L = w.mapping.layers.length;
  const T = counts.timesteps;
  const { energyOf, modelled } = actionTable(models);
  // One allocation for every per-call array (views into it): allocations dominate at this size.
  const sizes = [NUM_ACTIONS, (L + 1) * NC, T, L + 1, T, NC, L * NC, NC];
  const all = new Float64Array(sizes.reduce((x, y) => x + y, 0));
  let at = 0;
  const part = (n: number): Float64Array => all.subarray(at, (at += n));
  const actionTotals = part(NUM_ACTIONS);
  const rowComp = part((L + 1) * NC);
  const stepDyn = part(T);
  const d = counts.data;
  for (let row = 0; row <= L; row++) {
    for (let t = 0; t < T; t++) {
      const base = (row * T + t) * NUM_ACTIONS;
      for (let a = 0; a < NUM_ACTIONS; a++) {
        const n = d[base + a];
        if (n === 0) continue;
        const e = energyOf[a];
        if (Number.isNaN(e)) {
          const [c, act] = ACTIONS[a];
          throw located(
            `component "${c}" (class "${models[c].className}") has no model for action "${act}", which this run performs`,
            {
              path: `${c === 'router' ? 'noc.router_class' : c === 'link' ? 'noc.link_class' : `${c}.class`}`,
              expected: `a class implementing ${act}`,
              found: models[c].className,
            },
          );
        }
        const j = n * e;
        actionTotals[a] += n;
        rowComp[row * NC + COMPONENT_OF_ACTION[a]] += j;
        stepDyn[t] += j;
      }
    }
  }
  const latency = timing.latency_s;
  // Busy time per layer row, for power gating and per-layer latency.
  const rowBusy = part(L + 1);
  const stepBusy = part(T);
  for (let row = 0; row <= L; row++)
    for (let t = 0; t < T; t++) {
      rowBusy[row] += timing.busy_s[row * T + t];
      stepBusy[t] += timing.busy_s[row * T + t];
    }
  const gated = w.spec.leakage.power_gating === 'per-layer';
  const compLeak = part(NC);
  const layerLeak = part(L * NC);
  for (let k = 0; k < NC; k++) {
    const leakW = gatedForRun(w, k) ? 0 : models[COMPONENTS[k]].leakage_w;
    if (IS_TILE[k]) {
      let attributed = 0;
      for (let l = 0; l < L; l++) {
        const units = area.perLayer[l * NC + k];
        attributed += units;
        const e = units * leakW * (gated ? rowBusy[l] : latency);
        layerLeak[l * NC + k] = e;
        compLeak[k] += e;
      }
      // Allocated tile slots no layer uses still leak unless gated.
      if (!gated) compLeak[k] += Math.max(0, area.chip[k] - attributed) * leakW * latency;
    } else {
      compLeak[k] += area.chip[k] * leakW * latency;
    }
  }

  let dynTotal = 0;
  let leakTotal = 0;
  let areaTotal = 0;
  const compDyn = part(NC);
  for (let a = 0; a < NUM_ACTIONS; a++)
    if (modelled[a]) compDyn[COMPONENT_OF_ACTION[a]] += actionTotals[a] * energyOf[a];
  for (let k = 0; k < NC; k++) {
    dynTotal += compDyn[k];
    leakTotal += compLeak[k];
    areaTotal += area.chip[k] * models[COMPONENTS[k]].area_m2;
  }

  const buildComponents = (): Record<ComponentKey, ComponentReport> => {
    const components = {} as Record<ComponentKey, ComponentReport>;
    const compActions: Record<string, ActionReport>[] = [];
    for (let k = 0; k < NC; k++) compActions.push({});
    for (let a = 0; a < NUM_ACTIONS; a++) {
      if (!modelled[a]) continue;
      const e = energyOf[a];
      compActions[COMPONENT_OF_ACTION[a]][ACTION_NAME[a]] = {
        count: actionTotals[a],
        unit: ACTION_UNIT[a],
        energy_per_action_j: e,
        latency_per_action_s: (
          models[COMPONENTS[COMPONENT_OF_ACTION[a]]].actions as Record<string, { latency_s: number }>
        )[ACTION_NAME[a]].latency_s,
        energy_j: actionTotals[a] * e,
      };
    }
    for (let k = 0; k < NC; k++) {
      const c = COMPONENTS[k];
      const m = models[c];
      const gatedRun = gatedForRun(w, k);
      components[c] = {
        component: c,
        class: m.className,
        description: m.description,
        source: m.source,
        tech_node_nm: m.techNodeNm,
        ref_tech_node_nm: m.refTechNodeNm,
        area_units: area.chip[k],
        area_unit: m.areaUnit,
        area_m2: area.chip[k] * m.area_m2,
        leakage_w: gatedRun ? 0 : m.leakage_w * area.chip[k],
        leakage_note: gatedRun ? EXIT_UNIT_GATED_NOTE : m.leakageNote,
        power_gated: gatedRun,
        dynamic_energy_j: compDyn[k],
        leakage_energy_j: compLeak[k],
        energy_j: compDyn[k] + compLeak[k],
        actions: compActions[k],
      };
    }
    return components;
  };

  const buildLayers = (): LayerReport[] => {
    const unitArea = new Float64Array(NC);
    for (let k = 0; k < NC; k++) unitArea[k] = models[COMPONENTS[k]].area_m2;
    const layerTotal = new Float64Array(NC);
    const layers: LayerReport[] = [];
    for (let l = 0; l < L; l++) {
      const lm = w.mapping.layers[l];
      let dyn = 0;
      let leak = 0;
      let areaL = 0;
      for (let k = 0; k < NC; k++) {
        const i = l * NC + k;
        layerTotal[k] = rowComp[i] + layerLeak[i];
        dyn += rowComp[i];
        leak += layerLeak[i];
        areaL += area.perLayer[i] * unitArea[k];
      }
      layers.push({
        name: lm.layer.name,
        kind: lm.layer.kind,
        timesteps: w.layerTimesteps[l],
        crossbars: lm.crossbars,
        pes: lm.pes,
        tiles: lm.tiles.length,
        energy_j: dyn + leak,
        dynamic_energy_j: dyn,
        leakage_energy_j: leak,
        latency_s: rowBusy[l],
        area_m2: areaL,
        components: byComponent(layerTotal, 0),
      });
    }
    return layers;
  };
  let exitE = 0;
  for (let k = 0; k < NC; k++) exitE += rowComp[L * NC + k];
  const exitComps = byComponent(rowComp, L * NC);
  // Leakage is spread over timesteps in proportion to their busy time.
  const buildTimesteps = (): TimestepReport[] => {
    let busyAll = 0;
    for (let t = 0; t < T; t++) busyAll += stepBusy[t];
    const timesteps: TimestepReport[] = [];
    for (let t = 0; t < T; t++)
      timesteps.push({
        timestep: t + 1,
        dynamic_energy_j: stepDyn[t],
        energy_j: stepDyn[t] + (busyAll > 0 ? (leakTotal * stepBusy[t]) / busyAll : 0),
        busy_s: stepBusy[t],
      });
    return timesteps;
  };
  const energy = dynTotal + leakTotal;
  const priced = Object.assign(head, {
    energy_j: energy,
    dynamic_energy_j: dynTotal,
    leakage_energy_j: leakTotal,
    latency_s: latency,
    edp_js: energy * latency,
    area_m2: areaTotal,
    layers: undefined as unknown as LayerReport[],
    exit: { energy_j: exitE, latency_s: rowBusy[L], components: exitComps },
    components: undefined as unknown as Record<ComponentKey, ComponentReport>,
    timesteps: undefined as unknown as TimestepReport[],
  } satisfies Priced);
  defineLazy(priced as Priced, 'layers', buildLayers);
  defineLazy(priced as Priced, 'components', buildComponents);
  defineLazy(priced as Priced, 'timesteps', buildTimesteps);
  return priced;
}
