/**
 * Reading a run folder back: summary.json and the four CSVs (docs/RUN_FOLDER.md) into one typed
 * structure, which is all report.html and the comparison are built from. Every problem with the folder
 * is an InputError naming the file, the line and what was expected.
 */
import { parseString } from 'fast-csv';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { TOPOLOGIES } from '../chip/noc/registry.js';
import { InputError, located } from '../util/errors.js';
import { validatePlain } from '../util/yaml-loader.js';

/** Files of a run folder, in the order they are read. */
export const RUN_FILES = [
  'summary.json',
  'components.csv',
  'layers.csv',
  'timesteps.csv',
  'samples.csv',
] as const;
export type RunFileName = (typeof RUN_FILES)[number];

export const RUN_FOLDER_FORMAT = 'imcsim-run';
/** 2: `configuration`, `efficiency`, `activity`, `utilisation` and per-action latencies added. */
export const RUN_FOLDER_FORMAT_VERSION = 2;

const num = z.number();
const count = z.number().int().min(0);

const ComponentAssumptionSchema = z.object({
  component: z.string(),
  class: z.string(),
  description: z.string(),
  source: z.string(),
  tech_node_nm: num,
  ref_tech_node_nm: num.nullable(),
  area_unit: z.string(),
  leakage_note: z.string(),
});

const AssumptionsSchema = z.object({
  accounting: z.string(),
  adc_family: z.string(),
  schedule: z.string(),
  // Folders written before the switch existed recomputed the first layer every timestep.
  reuse_static_input: z.boolean().default(false),
  mapping_scheme: z.string(),
  tile_packing: z.string(),
  synthetic_trace: z.boolean(),
  trace_policy: z.object({ name: z.string(), timesteps: count, theta: num.nullable() }),
  trace_encoding: z.string(),
  // Absent in run folders written before hardware-aware inference: their traces came from the float engine.
  trace_arithmetic: z.string().default('float32 engine (run folder written before trace_arithmetic existed)'),
  contention_free: z.boolean(),
  // Absent in run folders written before samples could stream (they never overlapped).
  samples_overlap: z.boolean().default(false),
  clock_hz: num,
  tech_node_nm: num,
  supply_v: num,
  leakage_model: z.string(),
  power_gating: z.string(),
  noc: z.object({
    // Absent in run folders written before the torus existed: those ran on the mesh.
    topology: z
      .string()
      .refine((t) => TOPOLOGIES.has(t), { message: `expected one of ${[...TOPOLOGIES.keys()].join(', ')}` })
      .default('mesh'),
    routing: z.string(),
    flit_bits: count,
    buffer_flits: count,
    router_pipeline_stages: count,
    link_latency_cycles: count,
    spike_encoding: z.string(),
  }),
  mesh: z.object({
    columns: z.number().int().min(1),
    rows: z.number().int().min(1),
    io_x: count,
    io_y: count,
    link_index: z.string(),
    tiles: z.array(z.object({ tile: count, x: count, y: count, layers: z.array(z.string()) })),
  }),
  components: z.array(ComponentAssumptionSchema),
});

const ActionSchema = z.object({
  count: num,
  unit: z.string(),
  energy_per_action_j: num,
  latency_per_action_s: num,
  energy_j: num,
});

const ConfigurationSchema = z.object({
  crossbar_rows: count,
  crossbar_columns: count,
  cell_bits: count,
  weight_bits: count,
  adc_family: z.string(),
  adc_bits: count,
  columns_per_adc: count,
  crossbars_per_pe: count,
  pes_per_tile: count,
  tiles: count,
  mesh_columns: count,
  mesh_rows: count,
  noc_topology: z.string(),
  clock_hz: num,
  tech_node_nm: num,
  schedule: z.string(),
  policy: z.string(),
  timesteps: count,
  theta: num.nullable(),
});

const EfficiencySchema = z.object({
  throughput_inferences_per_s: num,
  average_power_w: num,
  sops: num,
  sops_per_s: num,
  energy_per_sop_j: num,
  sops_per_s_per_w: num,
  inferences_per_s_per_mm2: num,
  sops_per_s_per_mm2: num,
});

const ActivitySchema = z.object({
  sops: num,
  layers: z.array(
    z.object({
      layer: z.string(),
      input_kind: z.enum(['spikes', 'values']),
      input_elements: count,
      frames: count,
      active_inputs: num,
      firing_rate: num,
      sops: num,
    }),
  ),
  timesteps: z.array(z.object({ timestep: count, samples: count, firing_rate: num, sops: num })),
});

const UtilisationSchema = z.object({
  layers: z.array(z.object({ layer: z.string(), busy_s: num, utilisation: num })),
  components: z.record(z.string(), num.nullable()),
});

/** The part of summary.json the reports use (other keys are kept in the file, not read). */
export const RunSummarySchema = z.object({
  format: z.literal(RUN_FOLDER_FORMAT),
  format_version: z.literal(RUN_FOLDER_FORMAT_VERSION),
  kind: z.literal('simulation'),
  engine_version: z.string(),
  arch: z.string(),
  network: z.string(),
  trace: z.string(),
  synthetic: z.boolean(),
  policy: z.string(),
  accounting: z.string(),
  adc_family: z.string(),
  schedule: z.string(),
  samples: count,
  accuracy: num.nullable(),
  avg_timesteps: num,
  energy_per_sample_j: num,
  latency_per_sample_s: num,
  edp_per_sample_js: num,
  // Absent in run folders written before samples could stream (they never overlapped).
  samples_overlap: z.boolean().default(false),
  energy_j: num,
  dynamic_energy_j: num,
  leakage_energy_j: num,
  latency_s: num,
  edp_js: num,
  area_m2: num,
  exit: z.object({ energy_j: num, latency_s: num, components: z.record(z.string(), num) }),
  exit_unit: z.object({
    energy_j: num,
    area_m2: num,
    evaluations: num,
    latency_s: num,
    // Absent in run folders written before the exit unit was gated under the static policy.
    power_gated: z.boolean().default(false),
    energy_per_evaluation_j: num,
    leakage_when_powered_w: num,
  }),
  wasted_j: num,
  noc: z.object({
    sent: num,
    packets: num,
    flits: num,
    avg_hops: num,
    max_link_utilisation: num,
    mean_link_utilisation: num,
    max_queueing_cycles: num,
    backpressure_cycles: num,
  }),
  link_utilisation: z.array(num),
  events: num,
  contention_free: z.boolean(),
  notes: z.array(z.string()),
  assumptions: AssumptionsSchema,
  configuration: ConfigurationSchema,
  efficiency: EfficiencySchema,
  activity: ActivitySchema,
  utilisation: UtilisationSchema,
  components: z.record(
    z.string(),
    z.object({
      class: z.string(),
      energy_j: num,
      dynamic_energy_j: num,
      leakage_energy_j: num,
      area_m2: num,
      area_units: num,
      area_unit: z.string(),
      actions: z.record(z.string(), ActionSchema),
    }),
  ),
});

export type RunSummary = z.output<typeof RunSummarySchema>;

export interface RunLayerRow {
  layer: string;
  kind: string;
  timesteps: number;
  crossbars: number;
  pes: number;
  tiles: number;
  energy_j: number;
  dynamic_energy_j: number;
  leakage_energy_j: number;
  busy_s: number;
  area_m2: number;
  /** `<component>_energy_j` columns, keyed by component (components.csv order). */
  components: Record<string, number>;
}

export interface RunTimestepRow {
  timestep: number;
  energy_j: number;
  dynamic_energy_j: number;
  busy_s: number;
}

export interface RunComponentRow {
  component: string;
  class: string;
  tech_node_nm: number;
  ref_tech_node_nm: number | null;
  area_units: number;
  area_unit: string;
  area_m2: number;
  leakage_w: number;
  dynamic_energy_j: number;
  leakage_energy_j: number;
  energy_j: number;
  source: string;
}

export interface RunSampleRow {
  sample: number;
  label: number;
  prediction: number;
  exit_timestep: number;
  start_s: number;
  latency_s: number;
  dynamic_energy_j: number;
  energy_j: number;
}

/** A run folder, read back. */
export interface RunFolder {
  summary: RunSummary;
  components: RunComponentRow[];
  layers: RunLayerRow[];
  timesteps: RunTimestepRow[];
  samples: RunSampleRow[];
}

/** The text of each file of a run folder. */
export type RunFolderTexts = Record<RunFileName, string>;

type ColumnKind = 'string' | 'number' | 'int' | 'number?';
type Columns = ReadonlyArray<readonly [string, ColumnKind]>;

const COMPONENT_COLUMNS: Columns = [
  ['component', 'string'],
  ['class', 'string'],
  ['tech_node_nm', 'number'],
  ['ref_tech_node_nm', 'number?'],
  ['area_units', 'number'],
  ['area_unit', 'string'],
  ['area_m2', 'number'],
  ['leakage_w', 'number'],
  ['dynamic_energy_j', 'number'],
  ['leakage_energy_j', 'number'],
  ['energy_j', 'number'],
  ['source', 'string'],
];
const LAYER_COLUMNS: Columns = [
  ['layer', 'string'],
  ['kind', 'string'],
  ['timesteps', 'int'],
  ['crossbars', 'int'],
  ['pes', 'int'],
  ['tiles', 'int'],
  ['energy_j', 'number'],
  ['dynamic_energy_j', 'number'],
  ['leakage_energy_j', 'number'],
  ['busy_s', 'number'],
  ['area_m2', 'number'],
];
const TIMESTEP_COLUMNS: Columns = [
  ['timestep', 'int'],
  ['energy_j', 'number'],
  ['dynamic_energy_j', 'number'],
  ['busy_s', 'number'],
];
const SAMPLE_COLUMNS: Columns = [
  ['sample', 'int'],
  ['label', 'int'],
  ['prediction', 'int'],
  ['exit_timestep', 'int'],
  ['start_s', 'number'],
  ['latency_s', 'number'],
  ['dynamic_energy_j', 'number'],
  ['energy_j', 'number'],
];

/** Every row of a CSV text as string arrays (quotes resolved); a malformed file is an InputError. */
async function csvRows(text: string, file: string): Promise<string[][]> {
  return new Promise((resolve, reject) => {
    const rows: string[][] = [];
    parseString<string[], string[]>(text, { headers: false, ignoreEmpty: true })
      .on('error', (e: Error) =>
        reject(located('malformed CSV', { file, expected: 'comma-separated values', found: e.message })),
      )
      .on('data', (r: string[]) => rows.push(r))
      .on('end', () => resolve(rows));
  });
}

/**
 * Reads a CSV with the given columns (others are ignored). Lines are counted from 1 (the header); the
 * run folder's CSVs have no line breaks inside fields, so row i is line i + 2.
 */
async function readCsv(
  text: string,
  file: string,
  columns: Columns,
): Promise<Array<Record<string, string | number | null>>> {
  const rows = await csvRows(text, file);
  if (rows.length === 0)
    throw located('empty CSV file', {
      file,
      line: 1,
      expected: `a header line: ${columns.map((c) => c[0]).join(',')}`,
    });
  const header = rows[0];
  const index = new Map<string, number>();
  header.forEach((h, i) => index.set(h, i));
  for (const [name] of columns)
    if (!index.has(name))
      throw located(`missing column "${name}"`, {
        file,
        line: 1,
        expected: `columns ${columns.map((c) => c[0]).join(', ')}`,
        found: header.join(','),
      });
  const out: Array<Record<string, string | number | null>> = [];
  for (let r = 1; r < rows.length; r++) {
    const row = rows[r];
    const line = r + 1;
    if (row.length !== header.length)
      throw located('wrong number of fields', {
        file,
        line,
        expected: `${header.length} fields (as in the header)`,
        found: `${row.length}`,
      });
    const rec: Record<string, string | number | null> = {};
    for (const [name, kind] of columns) {
      const cell = row[index.get(name)!];
      if (kind === 'string') {
        rec[name] = cell;
        continue;
      }
      if (kind === 'number?' && cell === '') {
        rec[name] = null;
        continue;
      }
      const v = cell.trim() === '' ? NaN : Number(cell);
      const ok = Number.isFinite(v) && (kind !== 'int' || Number.isInteger(v));
      if (!ok)
        throw located(`column "${name}": not ${kind === 'int' ? 'an integer' : 'a number'}`, {
          file,
          line,
          path: name,
          expected:
            kind === 'int' ? 'an integer' : kind === 'number?' ? 'a number or empty' : 'a finite number',
          found: JSON.stringify(cell),
        });
      rec[name] = v;
    }
    out.push(rec);
  }
  return out;
}

/** summary.json: strict JSON, then the schema (problems located at file:line:column). */
function parseSummary(text: string, file: string): RunSummary {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const m = /position (\d+)/.exec(msg);
    let line: number | undefined;
    let column: number | undefined;
    if (m) {
      const before = text.slice(0, Number(m[1]));
      line = before.split('\n').length;
      column = before.length - before.lastIndexOf('\n');
    }
    throw located('not valid JSON', { file, line, column, expected: 'a JSON object', found: msg });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) || !('format' in value))
    throw located('not the summary of an imcsim run folder', {
      file,
      line: 1,
      expected: `a JSON object with "format": "${RUN_FOLDER_FORMAT}" (a folder written by an older imcsim must be simulated again)`,
      found: Array.isArray(value)
        ? 'an array'
        : typeof value === 'object' && value
          ? 'no "format" key'
          : typeof value,
    });
  const version = (value as { format_version?: unknown }).format_version;
  if ((value as { format?: unknown }).format === RUN_FOLDER_FORMAT && version !== RUN_FOLDER_FORMAT_VERSION)
    throw located('run folder written in another format version', {
      file,
      path: 'format_version',
      expected: `${RUN_FOLDER_FORMAT_VERSION} (simulate again with this imcsim to rebuild the folder)`,
      found: JSON.stringify(version),
    });
  const quick = RunSummarySchema.safeParse(value);
  if (quick.success) return quick.data;
  // Locate every problem in the text (JSON is YAML): file:line:column, path, expected, found.
  return validatePlain(value, RunSummarySchema, { text, file }) as RunSummary;
}

/** Builds the typed structure from the files' texts (`dir` only names them in errors). */
export async function parseRunFolder(dir: string, texts: RunFolderTexts): Promise<RunFolder> {
  const f = (name: RunFileName) => join(dir, name);
  const summary = parseSummary(texts['summary.json'], f('summary.json'));
  const components = (await readCsv(
    texts['components.csv'],
    f('components.csv'),
    COMPONENT_COLUMNS,
  )) as unknown as RunComponentRow[];
  const compCols = components.map((c) => [`${c.component}_energy_j`, 'number'] as const);
  const layerRecs = await readCsv(texts['layers.csv'], f('layers.csv'), [...LAYER_COLUMNS, ...compCols]);
  const layers: RunLayerRow[] = layerRecs.map((r) => {
    const row = Object.fromEntries(LAYER_COLUMNS.map(([k]) => [k, r[k]])) as unknown as RunLayerRow;
    row.components = Object.fromEntries(
      components.map((c) => [c.component, r[`${c.component}_energy_j`] as number]),
    );
    return row;
  });
  const timesteps = (await readCsv(
    texts['timesteps.csv'],
    f('timesteps.csv'),
    TIMESTEP_COLUMNS,
  )) as unknown as RunTimestepRow[];
  const samples = (await readCsv(
    texts['samples.csv'],
    f('samples.csv'),
    SAMPLE_COLUMNS,
  )) as unknown as RunSampleRow[];
  if (samples.length !== summary.samples)
    throw located('samples.csv does not match summary.json', {
      file: f('samples.csv'),
      expected: `${summary.samples} sample rows (summary.json "samples")`,
      found: `${samples.length}`,
    });
  return { summary, components, layers, timesteps, samples };
}

/** Reads a run folder written by `imcsim simulate --out` (or writeRunFolder). */
export async function readRunFolder(dir: string): Promise<RunFolder> {
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new InputError(
      `${dir}: run folder not found (expected a directory written by imcsim simulate --out, holding ${RUN_FILES.join(', ')})`,
      { file: dir, expected: 'a run folder' },
    );
  const texts = {} as RunFolderTexts;
  for (const name of RUN_FILES) {
    const file = join(dir, name);
    if (!existsSync(file))
      throw located('missing file of the run folder', {
        file,
        expected: `${RUN_FILES.join(', ')} (written by imcsim simulate --out)`,
        found: 'no such file',
      });
    texts[name] = readFileSync(file, 'utf8');
  }
  return parseRunFolder(dir, texts);
}
