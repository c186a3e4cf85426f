/**
 * report.html: one self-contained page (inline CSS and SVG, no scripts) built from a run folder read
 * back with readRunFolder, so `imcsim simulate --out` and `imcsim report` write the same bytes.
 * docs/RUN_FOLDER.md lists the charts.
 */
import { join } from 'node:path';
import { TOPOLOGIES } from '../chip/noc/registry.js';
import { writeFileAtomic } from '../util/atomic.js';
import { area, pct, si, siScale, tidy } from '../util/format.js';
import { readRunFolder, type RunFolder } from './read-run-folder.js';
import { chartFigure, escapeHtml, htmlPage, htmlTable, type ChartSpec, type PageSection } from './vega.js';

/** The charts of report.html, by their data-chart name, in page order. */
export const REPORT_CHARTS = [
  'layer-energy',
  'layer-utilisation',
  'area-breakdown',
  'component-utilisation',
  'layer-firing',
  'timestep-firing',
  'timestep-energy',
  'timestep-latency',
  'exit-timesteps',
  'sample-energy',
  'sample-latency',
  'noc-heatmap',
  'exit-overhead',
] as const;
export type ReportChart = (typeof REPORT_CHARTS)[number];

/** Name of the exit row (logits to the I/O node, entropy unit, output write) where layers are listed. */
export const EXIT_ROW = '(exit)';

export interface Stats {
  n: number;
  mean: number;
  p50: number;
  p99: number;
  min: number;
  max: number;
}

/** Quantile p of ascending `sorted` by linear interpolation between closest ranks (numpy's default). */
export function quantile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

export function stats(values: readonly number[]): Stats {
  const s = [...values].sort((a, b) => a - b);
  let sum = 0;
  for (const v of s) sum += v;
  return {
    n: s.length,
    mean: s.length ? sum / s.length : NaN,
    p50: quantile(s, 0.5),
    p99: quantile(s, 0.99),
    min: s.length ? s[0] : NaN,
    max: s.length ? s[s.length - 1] : NaN,
  };
}

/** A quantity of the headline table: summary.json key, label, value. */
export interface HeadlineItem {
  key: string;
  label: string;
  value: number | null;
  unit: string;
}

export function headlineItems(run: RunFolder): HeadlineItem[] {
  const s = run.summary;
  return [
    { key: 'energy_per_sample_j', label: 'energy per sample', value: s.energy_per_sample_j, unit: 'J' },
    {
      key: 'latency_per_sample_s',
      label: s.samples_overlap
        ? 'latency per sample (entry to output; samples stream)'
        : 'latency per sample (samples do not overlap)',
      value: s.latency_per_sample_s,
      unit: 's',
    },
    { key: 'edp_per_sample_js', label: 'EDP per sample', value: s.edp_per_sample_js, unit: 'J·s' },
    { key: 'accuracy', label: 'accuracy', value: s.accuracy, unit: '' },
    { key: 'avg_timesteps', label: 'average timesteps', value: s.avg_timesteps, unit: 'timesteps' },
    { key: 'samples', label: 'samples', value: s.samples, unit: '' },
    { key: 'energy_j', label: 'total energy (run)', value: s.energy_j, unit: 'J' },
    { key: 'latency_s', label: 'run time (simulated)', value: s.latency_s, unit: 's' },
    { key: 'area_m2', label: 'chip area', value: s.area_m2, unit: 'm²' },
  ];
}

/** The efficiency figures, each with its definition (summary.json `efficiency`). */
export function efficiencyItems(run: RunFolder): Array<HeadlineItem & { definition: string }> {
  const e = run.summary.efficiency;
  return [
    {
      key: 'efficiency.throughput_inferences_per_s',
      label: 'throughput',
      value: e.throughput_inferences_per_s,
      unit: 'inferences/s',
      definition:
        'samples / run time (when samples stream, timestep-pipelined, they overlap: throughput exceeds 1 / latency per sample)',
    },
    {
      key: 'efficiency.average_power_w',
      label: 'average power',
      value: e.average_power_w,
      unit: 'W',
      definition: 'total energy / run time',
    },
    {
      key: 'efficiency.sops',
      label: 'synaptic operations (run)',
      value: e.sops,
      unit: 'SOP',
      definition: 'Σ non-zero inputs × fan-out (one SOP: one input reaching one neuron through one weight)',
    },
    {
      key: 'efficiency.energy_per_sop_j',
      label: 'energy per SOP',
      value: e.energy_per_sop_j,
      unit: 'J/SOP',
      definition: 'total energy / SOPs (all energy: crossbars, periphery, NoC, leakage)',
    },
    {
      key: 'efficiency.sops_per_s_per_w',
      label: 'SOP/s/W',
      value: e.sops_per_s_per_w,
      unit: 'SOP/s/W',
      definition: '(SOPs / run time) / average power = SOPs / energy',
    },
    {
      key: 'efficiency.inferences_per_s_per_mm2',
      label: 'throughput per mm²',
      value: e.inferences_per_s_per_mm2,
      unit: 'inferences/s/mm²',
      definition: 'throughput / chip area',
    },
    {
      key: 'efficiency.sops_per_s_per_mm2',
      label: 'SOP/s per mm²',
      value: e.sops_per_s_per_mm2,
      unit: 'SOP/s/mm²',
      definition: '(SOPs / run time) / chip area',
    },
  ];
}

/** pJ/SOP is how the field quotes it; other units take an SI prefix. */
function displayEfficiency(h: HeadlineItem): string {
  if (h.value === null) return 'n/a';
  if (h.unit === 'J/SOP') return `${fixed4(h.value * 1e12)} pJ/SOP`;
  if (h.unit === 'SOP') return si(h.value, 'SOP');
  // Inferences read best as a plain number (6,779 inferences/s, not 6.779 kinferences/s).
  if (h.unit.startsWith('inferences'))
    return `${Number(h.value.toPrecision(4)).toLocaleString('en')} ${h.unit}`;
  return si(h.value, h.unit);
}

/** 4 significant digits, no exponent noise. */
function fixed4(v: number): string {
  return String(Number(v.toPrecision(4)));
}

export function efficiencyTable(items: Array<HeadlineItem & { definition: string }>): string {
  const rows = items
    .map(
      (h) =>
        `<tr data-key="${escapeHtml(h.key)}"><td class="l">${escapeHtml(h.label)}</td>` +
        `<td>${escapeHtml(displayEfficiency(h))}</td><td class="l">${escapeHtml(h.definition)}</td>` +
        `<td class="exact">${h.value === null ? 'null' : String(tidy(h.value))}</td></tr>`,
    )
    .join('\n');
  return (
    '<table class="headline">\n<thead><tr><th class="l">figure</th><th>value</th><th class="l">definition</th>' +
    '<th>exact (SI base units, summary.json)</th></tr></thead>\n<tbody>\n' +
    rows +
    '\n</tbody>\n</table>'
  );
}

/** The chip at a glance (summary.json `configuration`). */
export function configurationRows(run: RunFolder): Array<[string, string]> {
  const c = run.summary.configuration;
  return [
    ['crossbar', `${c.crossbar_rows} × ${c.crossbar_columns} cells`],
    [
      'cell / weight bits',
      `${c.cell_bits} b per cell, ${c.weight_bits} b weights (${Math.ceil(c.weight_bits / c.cell_bits)} cells per weight)`,
    ],
    ['ADC', `${c.adc_family}, ${c.adc_bits} b, ${c.columns_per_adc} columns per ADC`],
    ['PE / tile', `${c.crossbars_per_pe} crossbars per PE, ${c.pes_per_tile} PEs per tile`],
    ['tiles', `${c.tiles} used, on a ${c.mesh_columns} × ${c.mesh_rows} ${c.noc_topology}`],
    ['clock', si(c.clock_hz, 'Hz')],
    ['technology node', `${c.tech_node_nm} nm`],
    ['schedule', c.schedule],
    ['exit policy', `${c.policy}, T = ${c.timesteps}${c.theta === null ? '' : `, θ = ${c.theta}`}`],
  ];
}

function display(h: HeadlineItem): string {
  if (h.value === null) return 'n/a (no labels)';
  if (h.key === 'accuracy') return pct(h.value);
  if (h.key === 'samples') return String(h.value);
  if (h.key === 'avg_timesteps') return h.value.toFixed(3);
  if (h.key === 'area_m2') return area(h.value);
  return si(h.value, h.unit);
}

/** The headline table: each row carries its summary.json key and the exact value (SI base units). */
export function headlineTable(items: HeadlineItem[]): string {
  const rows = items
    .map(
      (h) =>
        `<tr data-key="${escapeHtml(h.key)}"><td class="l">${escapeHtml(h.label)}</td>` +
        `<td>${escapeHtml(display(h))}</td><td class="exact">${h.value === null ? 'null' : String(tidy(h.value))}</td></tr>`,
    )
    .join('\n');
  return (
    '<table class="headline">\n<thead><tr><th class="l">quantity</th><th>value</th>' +
    '<th>exact (SI base units, as in summary.json)</th></tr></thead>\n<tbody>\n' +
    rows +
    '\n</tbody>\n</table>'
  );
}

/** Values scaled to a prefix that suits them, for chart axes. */
function scaled(values: readonly number[], unit: string): { f: (v: number) => number; unit: string } {
  let max = 0;
  for (const v of values) if (Number.isFinite(v)) max = Math.max(max, Math.abs(v));
  const { factor, prefix } = siScale(max);
  return { f: (v) => v / factor, unit: prefix + unit };
}

/** Components in a stable order, without those that cost nothing anywhere in the rows. */
function usedComponents(run: RunFolder): string[] {
  return run.components
    .map((c) => c.component)
    .filter(
      (c) => run.layers.some((l) => l.components[c] !== 0) || (run.summary.exit.components[c] ?? 0) !== 0,
    );
}

const WIDTH = 640;

export function layerEnergySpec(run: RunFolder): ChartSpec {
  const n = Math.max(1, run.summary.samples);
  const comps = usedComponents(run);
  const rows: Array<{ layer: string; component: string; e: number; order: number }> = [];
  for (const l of run.layers)
    comps.forEach((c, i) => rows.push({ layer: l.layer, component: c, e: l.components[c] / n, order: i }));
  comps.forEach((c, i) =>
    rows.push({ layer: EXIT_ROW, component: c, e: (run.summary.exit.components[c] ?? 0) / n, order: i }),
  );
  const sc = scaled([...run.layers.map((l) => l.energy_j / n), run.summary.exit.energy_j / n], 'J');
  return {
    width: WIDTH,
    height: 280,
    data: { values: rows.map((r) => ({ ...r, e: sc.f(r.e) })) },
    mark: 'bar',
    encoding: {
      x: {
        field: 'layer',
        type: 'nominal',
        sort: [...run.layers.map((l) => l.layer), EXIT_ROW],
        title: 'layer',
        axis: { labelAngle: -40 },
      },
      y: { field: 'e', type: 'quantitative', title: `energy per sample (${sc.unit})`, stack: 'zero' },
      color: {
        field: 'component',
        type: 'nominal',
        sort: comps,
        scale: { scheme: 'tableau20' },
        title: 'component',
      },
      order: { field: 'order', type: 'quantitative' },
    },
  } as ChartSpec;
}

/** Busy time / run time per layer (and the exit row), as a fraction. */
export function layerUtilisation(run: RunFolder): Array<{ layer: string; utilisation: number }> {
  const T = run.summary.latency_s;
  return [
    ...run.layers.map((l) => ({ layer: l.layer, utilisation: T > 0 ? l.busy_s / T : 0 })),
    { layer: EXIT_ROW, utilisation: T > 0 ? run.summary.exit.latency_s / T : 0 },
  ];
}

export function layerUtilisationSpec(run: RunFolder): ChartSpec {
  const rows = layerUtilisation(run);
  return {
    width: Math.min(WIDTH, 80 + 40 * rows.length),
    height: 200,
    data: { values: rows },
    mark: { type: 'bar', color: '#f58518' },
    encoding: {
      x: {
        field: 'layer',
        type: 'nominal',
        sort: rows.map((r) => r.layer),
        title: 'layer',
        axis: { labelAngle: -40 },
      },
      y: {
        field: 'utilisation',
        type: 'quantitative',
        title: 'utilisation',
        axis: { format: '.0%' },
      },
    },
  } as ChartSpec;
}

/** One area unit for a whole column or axis: mm² unless every value is below 0.01 mm² (then µm²). */
export function areaUnit(maxM2: number): { factor: number; unit: string } {
  return maxM2 >= 1e-8 ? { factor: 1e6, unit: 'mm²' } : { factor: 1e12, unit: 'µm²' };
}

export function areaBreakdownSpec(run: RunFolder): ChartSpec {
  const rows = run.components.filter((c) => c.area_m2 > 0);
  const u = areaUnit(Math.max(0, ...rows.map((c) => c.area_m2)));
  return {
    width: WIDTH * 0.7,
    height: 16 * rows.length + 10,
    data: { values: rows.map((c) => ({ component: c.component, a: c.area_m2 * u.factor })) },
    mark: { type: 'bar', color: '#72b7b2' },
    encoding: {
      y: {
        field: 'component',
        type: 'nominal',
        sort: { field: 'a', order: 'descending' },
        title: null,
        axis: { labelLimit: 200 },
      },
      x: { field: 'a', type: 'quantitative', title: `area (${u.unit})` },
    },
  } as ChartSpec;
}

export function componentUtilisationSpec(run: RunFolder): ChartSpec {
  const rows = Object.entries(run.summary.utilisation.components)
    .filter((e): e is [string, number] => e[1] !== null)
    .map(([component, u]) => ({ component, u }));
  return {
    width: WIDTH * 0.7,
    height: 16 * Math.max(1, rows.length) + 10,
    data: { values: rows },
    mark: { type: 'bar', color: '#e45756' },
    encoding: {
      y: {
        field: 'component',
        type: 'nominal',
        sort: rows.map((r) => r.component),
        title: null,
        axis: { labelLimit: 200 },
      },
      x: {
        field: 'u',
        type: 'quantitative',
        title: 'utilisation (Σ actions × latency / (instances × run time))',
        axis: { format: '.1~%' },
      },
    },
  } as ChartSpec;
}

export function layerFiringSpec(run: RunFolder): ChartSpec {
  const rows = run.summary.activity.layers.map((l) => ({
    layer: l.layer,
    rate: l.firing_rate,
    input: l.input_kind === 'spikes' ? 'spikes' : 'non-zero values',
  }));
  return {
    width: Math.min(WIDTH, 80 + 40 * rows.length),
    height: 200,
    data: { values: rows },
    mark: 'bar',
    encoding: {
      x: {
        field: 'layer',
        type: 'nominal',
        sort: rows.map((r) => r.layer),
        title: 'layer (its input)',
        axis: { labelAngle: -40 },
      },
      y: { field: 'rate', type: 'quantitative', title: 'input firing rate', axis: { format: '.0%' } },
      color: {
        field: 'input',
        type: 'nominal',
        sort: ['spikes', 'non-zero values'],
        scale: { domain: ['spikes', 'non-zero values'], range: ['#4c78a8', '#bab0ac'] },
        title: 'input',
      },
    },
  } as ChartSpec;
}

export function timestepFiringSpec(run: RunFolder): ChartSpec {
  const rows = run.summary.activity.timesteps.map((t) => ({ timestep: t.timestep, rate: t.firing_rate }));
  return {
    width: Math.min(WIDTH, 80 + 50 * rows.length),
    height: 200,
    data: { values: rows },
    mark: { type: 'bar', color: '#4c78a8' },
    encoding: {
      x: { field: 'timestep', type: 'ordinal', title: 'timestep', axis: { labelAngle: 0 } },
      y: {
        field: 'rate',
        type: 'quantitative',
        title: 'spike rate',
        axis: { format: '.1~%' },
      },
    },
  } as ChartSpec;
}

export function timestepEnergySpec(run: RunFolder): ChartSpec {
  const n = Math.max(1, run.summary.samples);
  const sc = scaled(
    run.timesteps.map((t) => t.energy_j / n),
    'J',
  );
  const rows = run.timesteps.flatMap((t) => [
    { timestep: t.timestep, part: 'dynamic', e: sc.f(t.dynamic_energy_j / n), order: 0 },
    { timestep: t.timestep, part: 'leakage', e: sc.f((t.energy_j - t.dynamic_energy_j) / n), order: 1 },
  ]);
  return {
    width: Math.min(WIDTH, 80 + 50 * run.timesteps.length),
    height: 220,
    data: { values: rows },
    mark: 'bar',
    encoding: {
      x: { field: 'timestep', type: 'ordinal', title: 'timestep', axis: { labelAngle: 0 } },
      y: { field: 'e', type: 'quantitative', title: `energy per sample (${sc.unit})`, stack: 'zero' },
      color: {
        field: 'part',
        type: 'nominal',
        sort: ['dynamic', 'leakage'],
        scale: { range: ['#4c78a8', '#bab0ac'] },
        title: 'energy',
      },
      order: { field: 'order', type: 'quantitative' },
    },
  } as ChartSpec;
}

export function timestepLatencySpec(run: RunFolder): ChartSpec {
  const n = Math.max(1, run.summary.samples);
  const sc = scaled(
    run.timesteps.map((t) => t.busy_s / n),
    's',
  );
  return {
    width: Math.min(WIDTH, 80 + 50 * run.timesteps.length),
    height: 220,
    data: { values: run.timesteps.map((t) => ({ timestep: t.timestep, busy: sc.f(t.busy_s / n) })) },
    mark: { type: 'bar', color: '#f58518' },
    encoding: {
      x: { field: 'timestep', type: 'ordinal', title: 'timestep', axis: { labelAngle: 0 } },
      y: { field: 'busy', type: 'quantitative', title: `busy time per sample (${sc.unit})` },
    },
  } as ChartSpec;
}

/** Samples per exit timestep, for every timestep from 1 to the largest (zeros included). */
export function exitHistogram(run: RunFolder): Array<{ timestep: number; samples: number }> {
  let T = run.timesteps.length;
  for (const s of run.samples) T = Math.max(T, s.exit_timestep);
  const counts = new Array<number>(T).fill(0);
  for (const s of run.samples) if (s.exit_timestep >= 1) counts[s.exit_timestep - 1]++;
  return counts.map((c, i) => ({ timestep: i + 1, samples: c }));
}

export function exitTimestepsSpec(run: RunFolder): ChartSpec {
  const h = exitHistogram(run);
  return {
    width: Math.min(WIDTH, 80 + 50 * h.length),
    height: 200,
    data: { values: h },
    mark: { type: 'bar', color: '#54a24b' },
    encoding: {
      x: { field: 'timestep', type: 'ordinal', title: 'exit timestep', axis: { labelAngle: 0 } },
      y: { field: 'samples', type: 'quantitative', title: 'samples', axis: { tickMinStep: 1 } },
    },
  } as ChartSpec;
}

/** A histogram of per-sample values with mean, p50 and p99 marked. */
function distributionSpec(values: number[], unit: string, what: string, color: string): ChartSpec {
  const st = stats(values);
  const sc = scaled(values, unit);
  const bins: Array<{ x0: number; x1: number; samples: number; zero: number }> = [];
  if (values.length > 0) {
    let lo = st.min;
    let hi = st.max;
    let nb = Math.min(30, Math.max(5, Math.ceil(Math.sqrt(values.length))));
    if (hi === lo) {
      const d = Math.abs(lo) * 0.005 || 1e-30;
      lo -= d;
      hi += d;
      nb = 1;
    }
    const w = (hi - lo) / nb;
    for (let i = 0; i < nb; i++)
      bins.push({ x0: sc.f(lo + i * w), x1: sc.f(lo + (i + 1) * w), samples: 0, zero: 0 });
    for (const v of values) bins[Math.min(nb - 1, Math.floor((v - lo) / w))].samples++;
  }
  const marks = values.length
    ? [
        { stat: 'mean', v: sc.f(st.mean) },
        { stat: 'p50', v: sc.f(st.p50) },
        { stat: 'p99', v: sc.f(st.p99) },
      ]
    : [];
  return {
    width: WIDTH * 0.75,
    height: 200,
    layer: [
      {
        data: { values: bins },
        mark: { type: 'rect', color, opacity: 0.85, stroke: '#ffffff', strokeWidth: 1 },
        encoding: {
          x: {
            field: 'x0',
            type: 'quantitative',
            title: `${what} (${sc.unit})`,
            scale: { zero: false, nice: false },
          },
          x2: { field: 'x1' },
          y: { field: 'samples', type: 'quantitative', title: 'samples', axis: { tickMinStep: 1 } },
          y2: { field: 'zero' },
        },
      },
      {
        data: { values: marks },
        mark: { type: 'rule', strokeWidth: 2, strokeDash: [5, 3] },
        encoding: {
          x: { field: 'v', type: 'quantitative' },
          color: {
            field: 'stat',
            type: 'nominal',
            sort: ['mean', 'p50', 'p99'],
            scale: { domain: ['mean', 'p50', 'p99'], range: ['#222222', '#e45756', '#b279a2'] },
            title: 'statistic',
          },
        },
      },
    ],
  } as ChartSpec;
}

export function sampleEnergySpec(run: RunFolder): ChartSpec {
  return distributionSpec(
    run.samples.map((s) => s.energy_j),
    'J',
    'energy per sample',
    '#4c78a8',
  );
}

export function sampleLatencySpec(run: RunFolder): ChartSpec {
  return distributionSpec(
    run.samples.map((s) => s.latency_s),
    's',
    'latency per sample',
    '#f58518',
  );
}

/**
 * The mesh drawn to scale: a grey square per router (labelled with its tile's layers), and between two
 * neighbours their two directed links as two strips coloured by utilisation (east and south links above
 * and left of west and north ones).
 */
export function nocHeatmapSpec(run: RunFolder): ChartSpec {
  const m = run.summary.assumptions.mesh;
  const { columns: C, rows: R } = m;
  const N = 0.5; // router square
  const labels = new Map<string, string[]>();
  for (const t of m.tiles) labels.set(`${t.x},${t.y}`, t.layers);
  const nodes: Array<{
    x0: number;
    x1: number;
    y0: number;
    y1: number;
    cx: number;
    cy: number;
    label: string;
  }> = [];
  for (let y = 0; y < R; y++)
    for (let x = 0; x < C; x++) {
      const ls = labels.get(`${x},${y}`) ?? [];
      const parts = [...(x === m.io_x && y === m.io_y ? ['I/O'] : []), ...ls.slice(0, 2)];
      if (ls.length > 2) parts.push('…');
      nodes.push({
        x0: x,
        x1: x + N,
        y0: y,
        y1: y + N,
        cx: x + N / 2,
        cy: y + N / 2,
        label: parts.join('\n'),
      });
    }
  const links: Array<{ x0: number; x1: number; y0: number; y1: number; u: number }> = [];
  const noc = TOPOLOGIES.get(run.summary.assumptions.noc.topology)!.create(C, R);
  const M = 0.15; // margin: a wrap-around link (torus) is drawn as a stub leaving the grid's edge
  run.summary.link_utilisation.forEach((u, i) => {
    if (i >= 4 * C * R || !noc.hasLink(i)) return;
    const node = Math.floor(i / 4);
    const dir = i % 4;
    const x = node % C;
    const y = Math.floor(node / C);
    if (dir === 0 && x === C - 1) links.push({ x0: x + N, x1: x + N + M, y0: y, y1: y + N / 2, u });
    else if (dir === 1 && x === 0) links.push({ x0: -M, x1: 0, y0: y + N / 2, y1: y + N, u });
    else if (dir === 2 && y === R - 1) links.push({ x0: x, x1: x + N / 2, y0: y + N, y1: y + N + M, u });
    else if (dir === 3 && y === 0) links.push({ x0: x + N / 2, x1: x + N, y0: -M, y1: 0, u });
    else if (dir === 0) links.push({ x0: x + N, x1: x + 1, y0: y, y1: y + N / 2, u });
    else if (dir === 1) links.push({ x0: x - 1 + N, x1: x, y0: y + N / 2, y1: y + N, u });
    else if (dir === 2) links.push({ x0: x, x1: x + N / 2, y0: y + N, y1: y + 1, u });
    else links.push({ x0: x + N / 2, x1: x + N, y0: y - 1 + N, y1: y, u });
  });
  const maxU = Math.max(0, ...links.map((l) => l.u));
  const unit = Math.max(36, Math.min(110, Math.round(560 / Math.max(C, R))));
  const xScale = { domain: [-0.15, C - 1 + N + 0.15], nice: false, zero: false };
  const yScale = { domain: [-0.15, R - 1 + N + 0.15], nice: false, zero: false, reverse: true };
  const pos = {
    x: { field: 'x0', type: 'quantitative', scale: xScale, axis: null },
    x2: { field: 'x1' },
    y: { field: 'y0', type: 'quantitative', scale: yScale, axis: null },
    y2: { field: 'y1' },
  };
  return {
    width: unit * (C - 0.5 + 0.3),
    height: unit * (R - 0.5 + 0.3),
    layer: [
      {
        data: { values: nodes },
        mark: { type: 'rect', color: '#e8e8e8', stroke: '#999999', strokeWidth: 1 },
        encoding: pos,
      },
      {
        data: { values: links },
        mark: { type: 'rect', stroke: '#ffffff', strokeWidth: 0.5 },
        encoding: {
          ...pos,
          color: {
            field: 'u',
            type: 'quantitative',
            title: 'link utilisation',
            scale: { scheme: 'yelloworangered', domain: [0, maxU > 0 ? maxU : 1] },
            legend: { format: '.2~p' },
          },
        },
      },
      {
        data: { values: nodes },
        mark: {
          type: 'text',
          fontSize: 9,
          color: '#333333',
          lineBreak: '\n',
          limit: unit * N,
          align: 'center',
          baseline: 'middle',
        },
        encoding: {
          x: { field: 'cx', type: 'quantitative', scale: xScale, axis: null },
          y: { field: 'cy', type: 'quantitative', scale: yScale, axis: null },
          text: { field: 'label' },
        },
      },
    ],
  } as ChartSpec;
}

/** The cost of exiting early: the entropy unit, the rest of the exit row, work wasted after exits. */
export function exitOverheadItems(run: RunFolder): Array<{ item: string; energy_j: number }> {
  const s = run.summary;
  const entropyDyn = s.exit.components['entropy_unit'] ?? 0;
  return [
    {
      item: s.exit_unit.power_gated ? 'exit unit (power-gated, unused)' : 'entropy unit (dynamic + leakage)',
      energy_j: s.exit_unit.energy_j,
    },
    { item: 'logits to I/O node and output write', energy_j: s.exit.energy_j - entropyDyn },
    { item: 'wasted work (started after an exit)', energy_j: s.wasted_j },
  ];
}

export function exitOverheadSpec(run: RunFolder): ChartSpec {
  const n = Math.max(1, run.summary.samples);
  const items = exitOverheadItems(run);
  const sc = scaled(
    items.map((i) => i.energy_j / n),
    'J',
  );
  return {
    width: WIDTH * 0.7,
    height: 110,
    data: { values: items.map((i) => ({ item: i.item, e: sc.f(i.energy_j / n) })) },
    mark: { type: 'bar', color: '#b279a2' },
    encoding: {
      y: {
        field: 'item',
        type: 'nominal',
        sort: items.map((i) => i.item),
        title: null,
        axis: { labelLimit: 320 },
      },
      x: { field: 'e', type: 'quantitative', title: `energy per sample (${sc.unit})` },
    },
  } as ChartSpec;
}

/** A share of a total; a small non-zero share reads "< 0.1 %", never "0.0 %". */
function share(v: number, total: number): string {
  if (!(total > 0)) return 'n/a';
  const f = v / total;
  return f > 0 && f < 0.0005 ? '< 0.1 %' : pct(f);
}

/** Action counts per component and action, whole run. */
export function actionCountsTable(run: RunFolder): string {
  const rows: Array<Array<string | number>> = [];
  for (const c of run.components) {
    const acts = run.summary.components[c.component]?.actions ?? {};
    for (const [name, a] of Object.entries(acts)) {
      if (a.count === 0) continue;
      rows.push([
        c.component,
        name,
        a.unit,
        a.count.toLocaleString('en'),
        si(a.energy_per_action_j, 'J'),
        si(a.latency_per_action_s, 's'),
        si(a.energy_j, 'J'),
      ]);
    }
  }
  return htmlTable(
    ['component', 'action', 'one action is', 'count', 'energy / action', 'latency / action', 'energy (run)'],
    rows,
    3,
  );
}

/** The whole page. Deterministic: the same folder gives the same bytes. */
export async function buildReportHtml(run: RunFolder): Promise<string> {
  const s = run.summary;
  const a = s.assumptions;
  const n = s.samples;
  const ps = (v: number) => (n > 0 ? v / n : 0);
  const sampleStats = {
    e: stats(run.samples.map((x) => x.energy_j)),
    l: stats(run.samples.map((x) => x.latency_s)),
  };
  const sections: PageSection[] = [];

  const warn = s.synthetic
    ? '<p class="warn">Synthetic trace: spike activity was drawn from rates, not recorded from a trained network on real data; accuracy and exits mean nothing here.</p>\n'
    : '';
  sections.push({
    title: 'Chip',
    html: warn + htmlTable(['', 'configuration'], configurationRows(run), 2),
  });
  sections.push({
    title: 'Headline',
    text: 'Per-sample figures are totals over the run divided by the number of samples; EDP per sample = energy per sample × latency per sample. Run time is the simulated time from the first sample’s start to the last sample’s end.',
    html: headlineTable(headlineItems(run)),
  });
  sections.push({
    title: 'Efficiency',
    text: 'Whole-run figures. A synaptic operation (SOP) is one non-zero input (a spike, or a non-zero value for the direct-encoded first layer) reaching one output neuron through one weight; SOPs are counted from the trace’s inputs and each layer’s fan-out (docs/RUN_FOLDER.md).',
    html: efficiencyTable(efficiencyItems(run)),
  });

  const util = layerUtilisation(run);
  sections.push({
    title: 'Energy per layer',
    text: `Energy per sample of each layer, stacked by component (dynamic + attributed leakage); ${EXIT_ROW} is the exit row (logits to the I/O node, entropy unit, output write).`,
    html:
      (await chartFigure('layer-energy', layerEnergySpec(run))) +
      '\n' +
      htmlTable(
        [
          'layer',
          'kind',
          'timesteps',
          'crossbars',
          'tiles',
          'energy / sample',
          'share',
          'latency (busy) / sample',
          'utilisation',
          'input firing rate',
          'SOP / sample',
        ],
        [
          ...run.layers.map((l, i) => {
            const act = s.activity.layers[i];
            return [
              l.layer,
              l.kind,
              l.timesteps,
              l.crossbars,
              l.tiles,
              si(ps(l.energy_j), 'J'),
              share(l.energy_j, s.energy_j),
              si(ps(l.busy_s), 's'),
              share(util[i].utilisation, 1),
              act ? share(act.firing_rate, 1) + (act.input_kind === 'values' ? ' (values)' : '') : '',
              act ? si(ps(act.sops), '') : '',
            ];
          }),
          [
            EXIT_ROW,
            '',
            '',
            '',
            '',
            si(ps(s.exit.energy_j), 'J'),
            share(s.exit.energy_j, s.energy_j),
            si(ps(s.exit.latency_s), 's'),
            share(util[run.layers.length].utilisation, 1),
            '',
            '',
          ],
        ],
        2,
      ),
  });

  sections.push({
    title: 'Layer utilisation',
    text: 'Busy time of each layer (from its first tile starting a timestep to its last finishing it, summed over timesteps and samples) / run time. Under the layer-sequential schedule the layers take turns, so their utilisations add up to at most 100 %; a pipelined schedule overlaps them.',
    html: await chartFigure('layer-utilisation', layerUtilisationSpec(run)),
  });

  const au = areaUnit(Math.max(0, ...run.components.map((c) => c.area_m2)));
  const areaCell = (m2: number) => (m2 === 0 ? '0' : fixed4(m2 * au.factor));
  sections.push({
    title: 'Energy, area and utilisation per component',
    text: `Utilisation = Σ actions × the model’s latency per action / (instances × run time); n/a for components sized in bits (buffers) and for actions without a latency. Area in ${au.unit} throughout.`,
    html: htmlTable(
      [
        'component',
        'class',
        'dynamic / sample',
        'leakage / sample',
        'energy share',
        `area (${au.unit})`,
        'area share',
        'utilisation',
      ],
      run.components.map((c) => {
        const u = s.utilisation.components[c.component];
        return [
          c.component,
          c.class,
          si(ps(c.dynamic_energy_j), 'J'),
          si(ps(c.leakage_energy_j), 'J'),
          share(c.energy_j, s.energy_j),
          areaCell(c.area_m2),
          share(c.area_m2, s.area_m2),
          u === null || u === undefined ? 'n/a' : share(u, 1),
        ];
      }),
      2,
    ),
  });
  sections.push({
    title: 'Area breakdown',
    text: `Chip area ${area(s.area_m2)}, by component (components with no area left out).`,
    html: await chartFigure('area-breakdown', areaBreakdownSpec(run)),
  });
  sections.push({
    title: 'Component utilisation',
    html: await chartFigure('component-utilisation', componentUtilisationSpec(run)),
  });

  sections.push({
    title: 'Firing rates',
    text: 'Input firing rate of a layer: non-zero input elements / input elements, over every timestep each sample ran (the output spike rate of the layer before it, after pooling). Layers whose input is values, not spikes (the direct-encoded first layer, sums after average or sum pooling) show the fraction of non-zero values, in grey, and are left out of the per-timestep spike rate.',
    html:
      (await chartFigure('layer-firing', layerFiringSpec(run))) +
      '\n' +
      (await chartFigure('timestep-firing', timestepFiringSpec(run))) +
      '\n' +
      htmlTable(
        ['timestep', 'samples that ran it', 'spike rate', 'SOP / sample'],
        s.activity.timesteps.map((t) => [t.timestep, t.samples, share(t.firing_rate, 1), si(ps(t.sops), '')]),
      ),
  });

  sections.push({
    title: 'Energy and latency per timestep',
    text: 'Per sample, averaged over all samples (samples that exited earlier contribute nothing to later timesteps). Busy time is summed over layers; leakage is spread over timesteps in proportion to busy time.',
    html:
      (await chartFigure('timestep-energy', timestepEnergySpec(run))) +
      '\n' +
      (await chartFigure('timestep-latency', timestepLatencySpec(run))),
  });

  sections.push({
    title: 'Exit timesteps',
    text: `Timesteps run before the exit decision, over ${n} samples (trace policy ${a.trace_policy.name}, at most ${a.trace_policy.timesteps} timesteps${a.trace_policy.theta === null ? '' : `, θ = ${a.trace_policy.theta}`}).`,
    html: await chartFigure('exit-timesteps', exitTimestepsSpec(run)),
  });

  const statRow = (label: string, k: 'mean' | 'p50' | 'p99' | 'min' | 'max') => [
    label,
    n ? si(sampleStats.e[k], 'J') : 'n/a',
    n ? si(sampleStats.l[k], 's') : 'n/a',
  ];
  sections.push({
    title: 'Per-sample energy and latency',
    text: 'Distribution over samples; p50 and p99 by linear interpolation between closest ranks.',
    html:
      (await chartFigure('sample-energy', sampleEnergySpec(run))) +
      '\n' +
      (await chartFigure('sample-latency', sampleLatencySpec(run))) +
      '\n' +
      htmlTable(
        ['statistic', 'energy', 'latency'],
        [
          statRow('mean', 'mean'),
          statRow('p50', 'p50'),
          statRow('p99', 'p99'),
          statRow('min', 'min'),
          statRow('max', 'max'),
        ],
      ),
  });

  sections.push({
    title: 'NoC link utilisation',
    text: `${a.mesh.columns} × ${a.mesh.rows} mesh, ${a.noc.routing} routing. Each grey square is a router (labelled with its tile's layers; I/O is the global buffer and entropy unit); between neighbours, two strips: east/south-bound links on top/left, west/north-bound below/right. Utilisation = busy cycles / simulated cycles.`,
    html:
      (await chartFigure('noc-heatmap', nocHeatmapSpec(run))) +
      '\n' +
      htmlTable(
        ['quantity', 'value'],
        [
          ['packets', s.noc.packets],
          ['flits', s.noc.flits],
          ['average hops', s.noc.avg_hops.toFixed(3)],
          ['max link utilisation', pct(s.noc.max_link_utilisation)],
          ['mean link utilisation', pct(s.noc.mean_link_utilisation)],
          ['max queueing', `${s.noc.max_queueing_cycles} cycles`],
          ['back-pressure', `${s.noc.backpressure_cycles} cycles`],
        ],
      ),
  });

  const items = exitOverheadItems(run);
  const xu = s.exit_unit;
  const evalsPerSample = ps(xu.evaluations);
  sections.push({
    title: 'Exit unit: cost when used and when idle',
    text: xu.power_gated
      ? `This run (${s.policy} policy) never uses the exit unit: it is power-gated and idle, so it cost nothing here beyond its area. The table gives what it costs when used (by its model), for comparison with an early-exit run; there is no saving to claim on a unit this run did not use.`
      : 'What the early exit costs: the exit unit (evaluated every timestep until the exit), moving logits to it and writing the output, and work a pipelined schedule had started on later timesteps when a sample exited.',
    html:
      (await chartFigure('exit-overhead', exitOverheadSpec(run))) +
      '\n' +
      htmlTable(
        ['item', 'energy / sample', 'relative to total energy'],
        items.map((i) => [i.item, si(ps(i.energy_j), 'J'), share(i.energy_j, s.energy_j)]),
      ) +
      '\n' +
      htmlTable(
        ['exit unit', 'when used', 'when idle'],
        [
          [
            'state in this run',
            xu.power_gated
              ? 'never used'
              : `${xu.evaluations} evaluations (${fixed4(evalsPerSample)} / sample)`,
            xu.power_gated ? 'power-gated for the whole run' : 'powered (not gated between evaluations)',
          ],
          ['energy per evaluation (dynamic)', si(xu.energy_per_evaluation_j, 'J'), '—'],
          [
            'static power',
            si(xu.leakage_when_powered_w, 'W'),
            xu.power_gated ? '0 W (gated; residue not modelled)' : si(xu.leakage_when_powered_w, 'W'),
          ],
          ['time evaluating / sample', xu.power_gated ? '—' : si(ps(xu.latency_s), 's'), '—'],
          [
            'area',
            area(xu.area_m2) + ` (${share(xu.area_m2, s.area_m2)} of the chip)`,
            'same (gating keeps the area)',
          ],
        ],
      ),
  });

  sections.push({
    title: 'Action counts',
    text: 'Every action each component performed over the whole run (what Accelergy/Timeloop report), with the energy and latency of one action from its model; 0 s where the time is counted with another action.',
    html: actionCountsTable(run),
  });

  const tp = a.trace_policy;
  sections.push({
    title: 'Assumptions',
    html:
      htmlTable(
        ['assumption', 'value'],
        [
          ['accounting', a.accounting],
          ['ADC family', a.adc_family],
          ['schedule', a.schedule],
          ['mapping', `${a.mapping_scheme}, ${a.tile_packing} tiles`],
          ['trace', `${s.trace}${a.synthetic_trace ? ' (synthetic)' : ''}`],
          ['trace policy', `${tp.name}, T = ${tp.timesteps}${tp.theta === null ? '' : `, θ = ${tp.theta}`}`],
          ['spikes computed on', a.trace_arithmetic],
          ['input encoding', a.trace_encoding],
          ['clock', si(a.clock_hz, 'Hz')],
          ['technology node', `${a.tech_node_nm} nm`],
          ['supply', `${a.supply_v} V`],
          ['leakage', `${a.leakage_model}, power gating ${a.power_gating}`],
          [
            'NoC',
            `${a.mesh.columns} × ${a.mesh.rows} mesh, ${a.noc.routing} routing, ${a.noc.flit_bits}-bit flits, ${a.noc.buffer_flits}-flit buffers, ${a.noc.router_pipeline_stages}-stage routers, ${a.noc.spike_encoding} spikes`,
          ],
          ['NoC contention', a.contention_free ? 'ignored (contention-free reference)' : 'modelled'],
          ['engine', `imcsim ${s.engine_version}`],
        ],
        2,
      ) +
      '\n' +
      htmlTable(
        ['component', 'class', 'node', 'reference node', 'source'],
        a.components.map((c) => [
          c.component,
          c.class,
          `${c.tech_node_nm}\u00a0nm`,
          c.ref_tech_node_nm === null ? 'not scaled' : `${c.ref_tech_node_nm}\u00a0nm`,
          c.source,
        ]),
        5,
      ) +
      (s.notes.length
        ? '\n<ul class="notes">\n' + s.notes.map((x) => `<li>${escapeHtml(x)}</li>`).join('\n') + '\n</ul>'
        : ''),
  });

  const title = `${s.network} on ${s.arch}: ${s.policy}`;
  const subtitle =
    `imcsim run report · ${n} samples of ${s.trace}${s.synthetic ? ' (synthetic)' : ''} · ` +
    `accounting ${s.accounting}, ADC ${s.adc_family}, schedule ${s.schedule}; per-sample figures are run totals / samples`;
  return htmlPage(title, subtitle, sections);
}

/** Regenerates DIR/report.html from the run folder's files; returns its path. */
export async function writeReport(dir: string): Promise<string> {
  const run = await readRunFolder(dir);
  const file = join(dir, 'report.html');
  writeFileAtomic(file, await buildReportHtml(run));
  return file;
}
