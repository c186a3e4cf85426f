/**
 * What every co-design study shares: running a model (engine trace → cycle-level replay) or a
 * synthetic trace through the simulator, and writing a study folder (CSVs, an HTML page with charts,
 * a Markdown summary of the findings with their numbers and assumptions).
 */
import { writeToString } from 'fast-csv';
import { mkdirSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import { loadArch, type Override } from '../config/load.js';
import type { ArchSpec } from '../config/schema.js';
import { PACKAGE_ROOT } from '../util/package-root.js';
import { DEFAULT_ARCH_PATH } from '../util/presets.js';
import { COMPONENTS, type ComponentKey } from '../hw/actions.js';
import type { NetworkSpec } from '../network/schema.js';
import { simulateTrace, type SimulationResult } from '../replay/simulate.js';
import { chartFigure, escapeHtml, htmlPage, htmlTable, renderSvg, type ChartSpec } from '../report/vega.js';
import { loadDataset, type Dataset, type DatasetRef } from '../snn/data/dataset.js';
import type { Normalization } from '../snn/data/external.js';
import type { EventBinning } from '../snn/data/events.js';
import { loadModel, type SnnModel } from '../snn/model.js';
import { evaluateModel, traceModel, type EvalResult } from '../snn/run.js';
import { generateSyntheticTrace } from '../trace/synthetic.js';
import type { TracePolicy, TraceSummary } from '../trace/types.js';
import { writeFileAtomic } from '../util/atomic.js';
import { tidyRow } from '../util/format.js';

export const DEFAULT_ARCH = DEFAULT_ARCH_PATH;
export const modelPath = (name: string) => join(PACKAGE_ROOT, 'models', name);
/** A path as a reader of the docs knows it: relative to the package root when inside it. */
export function shownPath(p: string): string {
  const r = relative(PACKAGE_ROOT, p);
  return r && !r.startsWith('..') && !isAbsolute(r) ? r.split(sep).join('/') : p;
}

export interface StudyOptions {
  out: string;
  /** A tiny configuration (a few samples, few points) for tests; the numbers are not meaningful. */
  tiny?: boolean;
  /** Samples per engine run (default: the study's own; tiny: 8). */
  samples?: number;
  /** Hardware description (default arch-configs/default.yaml). */
  arch?: string;
  /** One line per finished step. */
  log?: (line: string) => void;
  /** Where traces go (default OUT/traces). */
  tracesDir?: string;
  /** Your model directory for the engine runs (dtsnn, hardware: with `dataset`; ldsnn: the base model). */
  model?: string;
  /** Your data for the engine runs (dtsnn, hardware: with `model`): a bundled name or FORMAT:PATH. */
  dataset?: DatasetRef;
  /** Declared normalisation of a dataset on disk. */
  normalize?: Normalization;
  /** Binning of an `events:` dataset. */
  events?: EventBinning;
  /** Directory of the Fashion-MNIST files (default /usr/share/datasets/fashion-mnist). */
  dataDir?: string;
}

export interface StudyChart {
  name: string;
  title: string;
  text?: string;
  spec: ChartSpec;
}

export interface StudyTable {
  title: string;
  head: string[];
  rows: Array<Array<string | number>>;
}

export type CsvRow = Record<string, string | number | null>;

export interface StudyResult {
  name: string;
  title: string;
  /** The question the study answers, in one sentence. */
  question: string;
  /** Markdown bullet points: the findings, with their numbers. */
  findings: string[];
  /** Markdown bullet points: what the numbers assume. */
  assumptions: string[];
  csvs: Array<{ file: string; rows: CsvRow[] }>;
  charts: StudyChart[];
  tables: StudyTable[];
  seconds: number;
}

/** The context a study runs in: where traces go, which chip, how many samples. */
export class StudyRunner {
  readonly spec: ArchSpec;
  readonly archFile: string;
  readonly tracesDir: string;
  private readonly models = new Map<string, SnnModel>();
  private seq = 0;

  constructor(
    readonly opts: StudyOptions,
    readonly defaultSamples: number,
  ) {
    this.archFile = opts.arch ?? DEFAULT_ARCH;
    this.spec = loadArch(this.archFile);
    this.tracesDir = opts.tracesDir ?? join(opts.out, 'traces');
    mkdirSync(this.tracesDir, { recursive: true });
  }

  get samples(): number {
    return this.opts.samples ?? (this.opts.tiny ? 8 : this.defaultSamples);
  }

  log(line: string): void {
    this.opts.log?.(line);
  }

  /** The arch with overrides applied (validated like any config). */
  archWith(overrides: Override[]): ArchSpec {
    return overrides.length ? loadArch(this.archFile, overrides) : this.spec;
  }

  model(dir: string): SnnModel {
    let m = this.models.get(dir);
    if (!m) {
      m = loadModel(dir);
      this.models.set(dir, m);
    }
    return m;
  }

  /** Engine run on real data: records a trace under `policy`, then replays it cycle by cycle. */
  async engineRun(o: {
    label: string;
    modelDir: string;
    dataset: DatasetRef;
    policy: TracePolicy;
    spec?: ArchSpec;
    samples?: number;
    /** Hardware-aware: trace on this chip's arithmetic (calibrated on the training split). */
    chip?: { spec: ArchSpec; name: string };
    /** Replay only the first N samples of the trace (accuracy and timesteps still cover them all). */
    replaySamples?: number;
  }): Promise<{ trace: TraceSummary; sim: SimulationResult; path: string }> {
    const model = this.model(o.modelDir);
    const ds = this.dataset(o.dataset, o.policy);
    const path = join(this.tracesDir, `${String(this.seq++).padStart(3, '0')}-${o.label}.trace`);
    const trace = await traceModel(model, ds, {
      policy: o.policy,
      samples: o.samples ?? this.samples,
      seed: 0,
      modelName: o.modelDir.split(/[\\/]/).pop()!,
      out: path,
      chip: o.chip
        ? { ...o.chip, calibration: this.trainSplit(o.dataset, o.policy, o.chip.spec) }
        : undefined,
    });
    const sim = await simulateTrace(o.spec ?? this.spec, path, { samples: o.replaySamples });
    this.log(`${o.label}: ${describeRun(sim)}`);
    return { trace, sim, path };
  }

  /** Engine evaluation without hardware (synaptic updates, neurons evaluated). */
  /** The first adc.calibration_samples training images, loaded as the test split is (chip calibration). */
  trainSplit(ref: DatasetRef, policy: TracePolicy, spec: ArchSpec): Dataset {
    return loadDataset(ref, 'train', {
      normalize: this.opts.normalize,
      events: this.opts.events,
      dataDir: this.opts.dataDir,
      timesteps: policy.name === 'layerwise' ? policy.layer_timesteps![0] : policy.timesteps,
      limit: spec.adc.calibration_samples,
    });
  }

  /** The test split of a dataset, event data binned into the policy's (first layer's) timesteps. */
  dataset(ref: DatasetRef, policy: TracePolicy): Dataset {
    return loadDataset(ref, 'test', {
      normalize: this.opts.normalize,
      events: this.opts.events,
      dataDir: this.opts.dataDir,
      timesteps: policy.name === 'layerwise' ? policy.layer_timesteps![0] : policy.timesteps,
    });
  }

  evaluate(
    modelDir: string,
    dataset: DatasetRef,
    policy: TracePolicy,
    samples?: number,
    chip?: { spec: ArchSpec; name: string },
  ): EvalResult {
    return evaluateModel(this.model(modelDir), this.dataset(dataset, policy), {
      policy,
      samples: samples ?? this.samples,
      seed: 0,
      chip: chip ? { ...chip, calibration: this.trainSplit(dataset, policy, chip.spec) } : undefined,
    });
  }

  /** Synthetic trace (CIFAR shapes without a trained model), replayed cycle by cycle. */
  async syntheticRun(o: {
    label: string;
    network: NetworkSpec;
    rate: number;
    timesteps: number;
    samples: number;
    policy?: TracePolicy;
    exitDistribution?: number[];
    spec?: ArchSpec;
  }): Promise<SimulationResult> {
    const path = join(this.tracesDir, `${String(this.seq++).padStart(3, '0')}-${o.label}.trace`);
    await generateSyntheticTrace({
      network: o.network,
      rates: o.rate,
      samples: o.samples,
      seed: 1,
      timesteps: o.timesteps,
      out: path,
      policy: o.policy,
      exitDistribution: o.exitDistribution,
    });
    const sim = await simulateTrace(o.spec ?? this.spec, path);
    this.log(`${o.label}: ${describeRun(sim)}`);
    return sim;
  }
}

function describeRun(r: SimulationResult): string {
  const acc = r.accuracy === null ? '' : `acc ${(100 * r.accuracy).toFixed(1)} %, `;
  return `${acc}avg T ${r.avg_timesteps.toFixed(3)}, ${fmt(r.energy_per_sample_j * 1e6)} µJ, ${fmt(r.latency_per_sample_s * 1e6)} µs per sample`;
}

/** Four significant digits, plain notation where sensible (for Markdown and HTML text). */
export function fmt(x: number, digits = 4): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e7) return String(Number(x.toPrecision(digits)));
  return x.toPrecision(digits);
}

/** A share to 0.1 %; a small non-zero share reads "< 0.1 %", never "0.0 %". */
export const pct1 = (x: number) => (x > 0 && x < 0.0005 ? '< 0.1 %' : `${(100 * x).toFixed(1)} %`);

/** "a–b", or "a" alone when both ends print the same. */
export const range = (a: string, b: string) => (a === b ? a : `${a}–${b}`);

/**
 * The energy split DT-SNN reports (docs/SOURCES.md §1: digital peripherals ≈45 %, crossbar + ADC ≈25 %):
 * which of our components belong to each group. [our design] grouping: the analog array and its
 * conversion chain is "crossbar + ADC"; the per-tile digital logic and buffers that post-process
 * conversions and hold neuron state are "digital peripherals"; the interconnect and global buffer are
 * "rest" (DT-SNN's remaining ≈30 %).
 */
export const ENERGY_GROUPS: Record<'crossbar + ADC' | 'digital peripherals' | 'rest', ComponentKey[]> = {
  'crossbar + ADC': ['crossbar', 'row_driver', 'adc', 'column_mux'],
  'digital peripherals': [
    'shift_add',
    'output_register',
    'lif_unit',
    'membrane_buffer',
    'tile_buffer',
    'tile_bus',
    'entropy_unit',
  ],
  rest: ['global_buffer', 'router', 'link'],
};

export function energySplit(r: SimulationResult): Record<keyof typeof ENERGY_GROUPS, number> {
  const out = { 'crossbar + ADC': 0, 'digital peripherals': 0, rest: 0 };
  for (const [g, cs] of Object.entries(ENERGY_GROUPS) as Array<[keyof typeof ENERGY_GROUPS, ComponentKey[]]>)
    for (const c of cs) out[g] += r.components[c].energy_j;
  const total = r.energy_j;
  for (const g of Object.keys(out) as Array<keyof typeof out>) out[g] = total > 0 ? out[g] / total : 0;
  return out;
}

// Every component is in exactly one group (checked once at load: a new component must be placed).
{
  const grouped = Object.values(ENERGY_GROUPS).flat();
  if (grouped.length !== COMPONENTS.length || COMPONENTS.some((c) => !grouped.includes(c)))
    throw new Error('ENERGY_GROUPS must place every component exactly once');
}

/** The per-sample metrics every study reports for a simulated run (units in the names). */
export function runMetrics(r: SimulationResult): CsvRow {
  return {
    samples: r.samples,
    accuracy: r.accuracy,
    avg_timesteps: r.avg_timesteps,
    energy_per_sample_j: r.energy_per_sample_j,
    latency_per_sample_s: r.latency_per_sample_s,
    edp_per_sample_js: r.edp_per_sample_js,
    membrane_buffer_energy_per_sample_j: r.components.membrane_buffer.energy_j / Math.max(1, r.samples),
    exit_unit_energy_per_sample_j: r.exit_unit.energy_j / Math.max(1, r.samples),
    wasted_energy_per_sample_j: r.wasted_j / Math.max(1, r.samples),
    area_m2: r.area_m2,
  };
}

async function csv(rows: CsvRow[]): Promise<string> {
  return (await writeToString(rows.map(tidyRow), { headers: true })) + '\n';
}

/** The Markdown summary of a study: question, findings, assumptions, files. */
export function studyMarkdown(r: StudyResult, figureDir?: string): string {
  const lines = [
    `## ${r.title}`,
    '',
    `*${r.question}*`,
    '',
    '**Findings**',
    '',
    ...r.findings.map((f) => `- ${f}`),
    '',
    '**Assumptions**',
    '',
    ...r.assumptions.map((a) => `- ${a}`),
    '',
  ];
  for (const t of r.tables) {
    lines.push(`**${t.title}**`, '', `| ${t.head.join(' | ')} |`, `|${t.head.map(() => '---').join('|')}|`);
    for (const row of t.rows) lines.push(`| ${row.join(' | ')} |`);
    lines.push('');
  }
  if (figureDir) for (const c of r.charts) lines.push(`![${c.title}](${figureDir}/${c.name}.svg)`, '');
  lines.push(`Data: ${r.csvs.map((c) => `\`${c.file}\``).join(', ')}.`, '');
  return lines.join('\n');
}

/** Writes OUT/<csv files>, OUT/<chart>.svg, OUT/index.html, OUT/SUMMARY.md; returns the paths. */
export async function writeStudy(out: string, r: StudyResult): Promise<string[]> {
  const files: Array<[string, string]> = [];
  for (const c of r.csvs) files.push([c.file, await csv(c.rows)]);
  const figures: string[] = [];
  for (const c of r.charts) {
    files.push([`${c.name}.svg`, await renderSvg(c.spec)]);
    figures.push(
      `<h3>${escapeHtml(c.title)}</h3>` +
        (c.text ? `<p class="note">${escapeHtml(c.text)}</p>` : '') +
        (await chartFigure(c.name, c.spec)),
    );
  }
  const md = (items: string[]) =>
    '<ul>' +
    items.map((f) => `<li>${escapeHtml(f.replace(/\*\*/g, '').replace(/`/g, ''))}</li>`).join('') +
    '</ul>';
  files.push([
    'index.html',
    htmlPage(`imcsim study: ${r.title}`, r.question, [
      { title: 'Findings', html: md(r.findings) },
      ...r.tables.map((t) => ({ title: t.title, html: htmlTable(t.head, t.rows) })),
      { title: 'Charts', html: figures.join('\n') },
      { title: 'Assumptions', html: md(r.assumptions) },
      {
        title: 'Data',
        html: '<ul>' + r.csvs.map((c) => `<li>${escapeHtml(c.file)}</li>`).join('') + '</ul>',
      },
    ]),
  ]);
  files.push(['SUMMARY.md', studyMarkdown(r, '.')]);
  for (const [name, text] of files) writeFileAtomic(join(out, name), text);
  return files.map(([n]) => join(out, n));
}

/** Assumption lines every study states for the chip it simulated. */
export function chipAssumptions(
  runner: StudyRunner,
  r: SimulationResult,
  schedule: string = r.schedule,
): string[] {
  return [
    `Chip: ${r.arch} (${shownPath(runner.archFile)}), ${runner.spec.chip.tech_node_nm} nm, ${runner.spec.crossbar.rows}×${runner.spec.crossbar.columns} crossbars, ADC model ${r.adc_family} (${runner.spec.adc.bits} b), schedule ${schedule}, accounting ${r.accounting}.`,
    'Every run is cycle-level: traces replayed by the discrete-event simulator with NoC contention; energy priced by the component models listed in each run folder’s components.csv (docs/CONFIG.md gives every source).',
  ];
}
