/**
 * What a run's numbers rest on: every component model (class, source, nodes), the chip-wide choices
 * (accounting, ADC family, schedule, clock, leakage) and the mesh the NoC heat map is drawn on. Written to
 * summary.json as `assumptions` (docs/RUN_FOLDER.md).
 */
import type { Workload } from '../chip/workload.js';
import type { ArchSpec } from '../config/schema.js';
import { COMPONENTS } from '../hw/actions.js';
import type { Priced } from './price.js';
import type { TraceHeader } from '../trace/types.js';
import { chipArithmeticHash, type ChipModelled } from '../snn/chip-arith.js';

/** Whether the trace's spikes were computed on this chip's arithmetic, said in one sentence. */
export function traceArithmetic(spec: ArchSpec, header: TraceHeader): string {
  if (header.synthetic) return 'synthetic trace: spikes drawn from rates, no arithmetic';
  const chip = header.notes?.chip as ChipModelled | undefined;
  if (!chip)
    return 'float32 engine: the spikes were not computed on any chip’s arithmetic (trace made without --arch)';
  const own = chipArithmeticHash(spec);
  return chip.arithmetic_hash === own
    ? `this chip’s arithmetic: traced with --arch ${chip.arch} (arch ${chip.arch_hash}, arithmetic ${own})`
    : `another chip’s arithmetic: traced with --arch ${chip.arch} (arithmetic ${chip.arithmetic_hash}; this chip’s is ${own})`;
}

export interface ComponentAssumption {
  component: string;
  class: string;
  description: string;
  source: string;
  /** Node the model is scaled to (nm). */
  tech_node_nm: number;
  /** Node of the published numbers (nm); null when not scaled by CMOS rules (the RRAM array). */
  ref_tech_node_nm: number | null;
  area_unit: string;
  leakage_note: string;
}

export interface MeshTile {
  tile: number;
  x: number;
  y: number;
  /** Layers with crossbars on this tile, in network order. */
  layers: string[];
}

export interface MeshAssumption {
  columns: number;
  rows: number;
  /** Mesh node of the global buffer and entropy unit. */
  io_x: number;
  io_y: number;
  /** How summary.json's link_utilisation is indexed. */
  link_index: string;
  tiles: MeshTile[];
}

export interface RunAssumptions {
  accounting: string;
  adc_family: string;
  schedule: string;
  /**
   * The direct-encoded first layer was computed once per inference and its stored pre-activations read
   * at every timestep (`schedule.reuse_static_input`, applied); false: recomputed every timestep, or no
   * such layer (rate-encoded input).
   */
  reuse_static_input: boolean;
  mapping_scheme: string;
  tile_packing: string;
  synthetic_trace: boolean;
  /** The trace's exit policy: name, maximum timesteps, θ when there is one. */
  trace_policy: { name: string; timesteps: number; theta: number | null };
  trace_encoding: string;
  /**
   * Whose arithmetic computed the trace's spikes: the float engine, this chip's (the trace was made with
   * --arch on a chip whose arithmetic hash equals this one's), or another chip's (named, with its hash).
   */
  trace_arithmetic: string;
  contention_free: boolean;
  /**
   * Samples stream through the chip (timestep-pipelined); false: each sample starts on a drained chip
   * (layer-sequential, or streaming switched off).
   */
  samples_overlap: boolean;
  clock_hz: number;
  tech_node_nm: number;
  supply_v: number;
  leakage_model: string;
  power_gating: string;
  noc: {
    /** `noc.topology` (chip/noc). */
    topology: string;
    routing: string;
    flit_bits: number;
    buffer_flits: number;
    router_pipeline_stages: number;
    link_latency_cycles: number;
    spike_encoding: string;
  };
  mesh: MeshAssumption;
  components: ComponentAssumption[];
}

/**
 * Which chip this is, at a glance (summary.json `configuration`, the top of report.html): the sizes an
 * architect compares first. Every value is the configured (or, for tiles and mesh, mapped) figure.
 */
export interface ChipConfiguration {
  crossbar_rows: number;
  crossbar_columns: number;
  cell_bits: number;
  weight_bits: number;
  adc_family: string;
  adc_bits: number;
  /** Columns sharing one ADC (`adc.columns_per_adc`). */
  columns_per_adc: number;
  crossbars_per_pe: number;
  pes_per_tile: number;
  /** Tiles the mapping uses. */
  tiles: number;
  mesh_columns: number;
  mesh_rows: number;
  noc_topology: string;
  clock_hz: number;
  tech_node_nm: number;
  schedule: string;
  /** The trace's exit policy, its maximum timesteps and θ (null without one). */
  policy: string;
  timesteps: number;
  theta: number | null;
}

export function chipConfiguration(spec: ArchSpec, w: Workload, header: TraceHeader): ChipConfiguration {
  const m = w.mapping;
  return {
    crossbar_rows: spec.crossbar.rows,
    crossbar_columns: spec.crossbar.columns,
    cell_bits: spec.crossbar.cell_bits,
    weight_bits: spec.crossbar.weight_bits,
    adc_family: spec.adc.family,
    adc_bits: spec.adc.bits,
    columns_per_adc: spec.adc.columns_per_adc,
    crossbars_per_pe: spec.pe.crossbars_per_pe,
    pes_per_tile: spec.tile.pes_per_tile,
    tiles: m.totalTiles,
    mesh_columns: m.meshColumns,
    mesh_rows: m.meshRows,
    noc_topology: m.noc.topology.name,
    clock_hz: spec.chip.clock_hz,
    tech_node_nm: spec.chip.tech_node_nm,
    schedule: spec.schedule.policy,
    policy: header.policy.name,
    timesteps: header.policy.timesteps,
    theta: header.policy.theta ?? null,
  };
}

/** The link index convention of `link_utilisation` (see replay/simulate.ts). */
export const LINK_INDEX =
  'node * 4 + dir, node = y * columns + x; dir 0 = east (x+1), 1 = west (x-1), 2 = south (y+1), 3 = north (y-1)';

export function runAssumptions(
  spec: ArchSpec,
  w: Workload,
  header: TraceHeader,
  priced: Priced,
  contentionFree: boolean,
  samplesOverlap = false,
): RunAssumptions {
  const m = w.mapping;
  const tiles: MeshTile[] = [];
  for (let i = 0; i < m.totalTiles; i++)
    tiles.push({ tile: i, x: m.tileXY[2 * i], y: m.tileXY[2 * i + 1], layers: [] });
  for (const lm of m.layers) for (const t of lm.tiles) tiles[t]?.layers.push(lm.layer.name);
  return {
    accounting: spec.accounting,
    adc_family: spec.adc.family,
    schedule: spec.schedule.policy,
    reuse_static_input:
      spec.schedule.reuse_static_input &&
      w.network.input.encoding === 'direct' &&
      header.layers[0]?.input_kind === 'values',
    samples_overlap: samplesOverlap,
    mapping_scheme: spec.mapping.scheme,
    tile_packing: spec.mapping.tile_packing,
    synthetic_trace: header.synthetic,
    trace_policy: {
      name: header.policy.name,
      timesteps: header.policy.timesteps,
      theta: header.policy.theta ?? null,
    },
    trace_encoding: header.encoding,
    trace_arithmetic: traceArithmetic(spec, header),
    contention_free: contentionFree,
    clock_hz: spec.chip.clock_hz,
    tech_node_nm: spec.chip.tech_node_nm,
    supply_v: spec.chip.supply_v,
    leakage_model: spec.leakage.model,
    power_gating: spec.leakage.power_gating,
    noc: {
      topology: m.noc.topology.name,
      routing: m.noc.topology.routing,
      flit_bits: spec.noc.flit_bits,
      buffer_flits: spec.noc.buffer_flits,
      router_pipeline_stages: spec.noc.router_pipeline_stages,
      link_latency_cycles: spec.noc.link_latency_cycles,
      spike_encoding: spec.noc.spike_encoding,
    },
    mesh: {
      columns: m.meshColumns,
      rows: m.meshRows,
      io_x: m.ioXY[0],
      io_y: m.ioXY[1],
      link_index: LINK_INDEX,
      tiles,
    },
    components: COMPONENTS.map((c) => {
      const x = priced.components[c];
      return {
        component: c,
        class: x.class,
        description: x.description,
        source: x.source,
        tech_node_nm: x.tech_node_nm,
        ref_tech_node_nm: x.ref_tech_node_nm,
        area_unit: x.area_unit,
        leakage_note: x.leakage_note,
      };
    }),
  };
}
