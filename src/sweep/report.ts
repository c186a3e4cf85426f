/**
 * The sweep page (sweep.html): Pareto frontiers (energy vs latency; accuracy vs energy when the workload
 * has labels), the best points by EDP, and per-axis sensitivity charts (mean, min and max of each metric
 * over the other axes, against each axis with more than one value). Built from sweep.csv's rows only, so
 * a resumed or distributed sweep gives the same page.
 */
import { chartFigure, htmlPage, htmlTable, type ChartSpec, type PageSection } from '../report/vega.js';
import { area, si } from '../util/format.js';
import { parseCsvLine } from './csv.js';
import type { PlanAxis, SweepPlan } from './plan.js';
import type { MetricName, Scalar } from './spec.js';

export interface ReportRow {
  id: string;
  index: number;
  values: Record<string, Scalar | null>;
  metrics: Partial<Record<MetricName, number | null>>;
}

/** Reads rows of sweep.csv lines (in the plan's point order) back into values and metrics. */
export function rowsFromCsv(plan: SweepPlan, lines: ReadonlyMap<string, string>): ReportRow[] {
  const out: ReportRow[] = [];
  const axisCols = plan.columns.slice(1, plan.columns.length - plan.metrics.length);
  for (const p of plan.points) {
    const line = lines.get(p.id);
    if (line === undefined) continue;
    const f = parseCsvLine(line);
    const metrics: ReportRow['metrics'] = {};
    plan.metrics.forEach((m, k) => {
      const s = f[1 + axisCols.length + k];
      metrics[m] = s === '' || s === undefined ? null : Number(s);
    });
    out.push({ id: p.id, index: p.index, values: p.values, metrics });
  }
  return out;
}

const num = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

/** Indices (into rows) of the points no other point beats on both: minimise x and y. */
export function paretoMin(
  rows: readonly ReportRow[],
  x: MetricName,
  y: MetricName,
  yMaximise = false,
): ReportRow[] {
  const usable = rows.filter((r) => num(r.metrics[x]) && num(r.metrics[y]));
  const sign = yMaximise ? -1 : 1;
  const sorted = [...usable].sort(
    (a, b) => a.metrics[x]! - b.metrics[x]! || sign * (a.metrics[y]! - b.metrics[y]!) || a.index - b.index,
  );
  const out: ReportRow[] = [];
  let best = Infinity;
  for (const r of sorted) {
    const v = sign * r.metrics[y]!;
    if (v < best) {
      out.push(r);
      best = v;
    }
  }
  return out;
}

const LABEL: Partial<Record<MetricName, string>> = {
  energy_per_sample_j: 'energy per inference (J)',
  latency_per_sample_s: 'latency per inference (s)',
  edp_per_sample_js: 'EDP per inference (J·s)',
  accuracy: 'accuracy',
  area_m2: 'area (mm²)',
  avg_timesteps: 'average timesteps',
};
const label = (m: MetricName) => LABEL[m] ?? m;
const UNIT: Partial<Record<MetricName, string>> = {
  energy_per_sample_j: 'J',
  dynamic_energy_per_sample_j: 'J',
  leakage_energy_per_sample_j: 'J',
  wasted_energy_per_sample_j: 'J',
  latency_per_sample_s: 's',
  edp_per_sample_js: 'J·s',
};

/**
 * Factor from a metric's file unit to its chart unit: area is drawn in mm² (an SI prefix on m² — "2µ" —
 * would read as micro-square-metres); everything else in SI base units with prefixed ticks.
 */
const CHART_FACTOR: Partial<Record<MetricName, number>> = { area_m2: 1e6 };
const chartValue = (m: MetricName, v: number) => v * (CHART_FACTOR[m] ?? 1);

function fmt(m: MetricName, v: number | null | undefined): string {
  if (!num(v)) return '';
  if (m === 'area_m2') return area(v);
  if (m.endsWith('_utilisation')) return `${Number((v * 100).toPrecision(3))} %`;
  if (m === 'accuracy') return `${(v * 100).toFixed(2)} %`;
  const u = UNIT[m];
  return u ? si(v, u) : String(+v.toPrecision(6));
}

/** SI-prefixed tick labels (5µ, 400n) for metrics in base units; plain numbers otherwise. */
function axisFormat(m: MetricName): { format: string } | { format: string; formatType?: never } {
  return m === 'accuracy' || m.endsWith('_utilisation')
    ? { format: '.0%' }
    : m === 'crossbars' || m === 'tiles'
      ? { format: 'd' }
      : m in CHART_FACTOR
        ? { format: '~g' }
        : { format: '~s' };
}

function scaleFor(values: number[]): { type: 'log' } | { type: 'linear'; zero: false } {
  const pos = values.filter((v) => v > 0);
  if (pos.length === values.length && pos.length > 0 && Math.max(...pos) / Math.min(...pos) > 100)
    return { type: 'log' };
  return { type: 'linear', zero: false };
}

function describe(values: Record<string, Scalar | null>, axes: readonly PlanAxis[]): string {
  return axes
    .filter((a) => a.values.length > 1 && values[a.name] !== null)
    .map((a) => `${a.name}=${String(values[a.name])}`)
    .join(', ');
}

function frontierChart(
  rows: readonly ReportRow[],
  front: readonly ReportRow[],
  x: MetricName,
  y: MetricName,
  axes: readonly PlanAxis[],
): ChartSpec {
  const onFront = new Set(front.map((r) => r.id));
  const data = rows
    .filter((r) => num(r.metrics[x]) && num(r.metrics[y]))
    .map((r) => ({
      x: chartValue(x, r.metrics[x]!),
      y: chartValue(y, r.metrics[y]!),
      set: onFront.has(r.id) ? 'Pareto frontier' : 'other points',
      label: describe(r.values, axes),
    }));
  // Frontier points are numbered in the chart as in the table under it (1 = the lowest x).
  const frontData = front.map((r, i) => ({
    x: chartValue(x, r.metrics[x]!),
    y: chartValue(y, r.metrics[y]!),
    n: String(i + 1),
  }));
  const xs = scaleFor(data.map((d) => d.x as number));
  const ys = scaleFor(data.map((d) => d.y as number));
  return {
    width: 520,
    height: 340,
    layer: [
      {
        data: { values: frontData },
        mark: { type: 'line', color: '#d62728', strokeDash: [4, 3] },
        encoding: {
          x: { field: 'x', type: 'quantitative', scale: xs, title: label(x), axis: axisFormat(x) },
          y: { field: 'y', type: 'quantitative', scale: ys, title: label(y), axis: axisFormat(y) },
          order: { field: 'x', type: 'quantitative' },
        },
      },
      {
        data: { values: data },
        mark: { type: 'point', filled: true, size: 50 },
        encoding: {
          x: { field: 'x', type: 'quantitative', scale: xs, title: label(x), axis: axisFormat(x) },
          y: { field: 'y', type: 'quantitative', scale: ys, title: label(y), axis: axisFormat(y) },
          color: {
            field: 'set',
            type: 'nominal',
            scale: { domain: ['Pareto frontier', 'other points'], range: ['#d62728', '#9aa7b5'] },
            title: null,
            legend: { labelLimit: 0 },
          },
        },
      },
      {
        data: { values: frontData.slice(0, FRONT_LISTED) },
        mark: { type: 'text', align: 'left', dx: 6, dy: -6, fontSize: 10, color: '#d62728' },
        encoding: {
          x: { field: 'x', type: 'quantitative', scale: xs },
          y: { field: 'y', type: 'quantitative', scale: ys },
          text: { field: 'n' },
        },
      },
    ],
  } as ChartSpec;
}

/** Frontier points listed (and numbered in the chart). */
const FRONT_LISTED = 50;

function sensitivityChart(rows: readonly ReportRow[], axis: PlanAxis, metrics: MetricName[]): ChartSpec {
  // Points where the axis does not apply (θ of static points) are left out of its chart.
  const values = axis.values.filter((v) => v !== null);
  const numeric = values.every((v) => typeof v === 'number');
  const order = values.map((v) => String(v));
  const charts = metrics.map((m) => {
    const data = values.map((v) => {
      const ms = rows
        .filter((r) => r.values[axis.name] === v)
        .map((r) => r.metrics[m])
        .filter(num)
        .map((v) => chartValue(m, v));
      return {
        x: numeric ? v : String(v),
        mean: ms.length ? ms.reduce((a, b) => a + b, 0) / ms.length : null,
        min: ms.length ? Math.min(...ms) : null,
        max: ms.length ? Math.max(...ms) : null,
      };
    });
    // A numeric axis is a trend (line through the means); a categorical one (ADC family, schedule,
    // policy) has no order between its values, so its means are bars.
    const x = numeric
      ? {
          field: 'x',
          type: 'quantitative',
          title: axis.name,
          scale: { zero: false },
          // Integer axes (bits, rows, flits) get integer ticks only.
          axis: values.every((v) => Number.isInteger(v)) ? { tickMinStep: 1, format: 'd' } : {},
        }
      : {
          field: 'x',
          type: 'nominal',
          title: axis.name,
          sort: order,
          axis: { labelAngle: -30, labelLimit: 0 },
        };
    return {
      width: 200,
      height: 160,
      data: { values: data.filter((d) => d.mean !== null) },
      layer: [
        {
          mark: { type: 'rule', color: '#9aa7b5' },
          encoding: {
            x,
            y: {
              field: 'min',
              type: 'quantitative',
              scale: { zero: false },
              title: label(m),
              axis: axisFormat(m),
            },
            y2: { field: 'max' },
          },
        },
        {
          mark: numeric
            ? { type: 'line', point: true, color: '#1f77b4' }
            : { type: 'bar', color: '#1f77b4', opacity: 0.55, width: { band: 0.6 } },
          encoding: {
            x,
            y: {
              field: 'mean',
              type: 'quantitative',
              // Bars start at zero (a bar's length is its value); lines need not.
              scale: { zero: !numeric },
              title: label(m),
              axis: axisFormat(m),
            },
          },
        },
      ],
    };
  });
  return { hconcat: charts, resolve: { scale: { y: 'independent' } } } as unknown as ChartSpec;
}

/** The whole page. */
export async function sweepHtml(plan: SweepPlan, rows: readonly ReportRow[]): Promise<string> {
  const s = plan.spec;
  const has = (m: MetricName) => plan.metrics.includes(m) && rows.some((r) => num(r.metrics[m]));
  const swept = plan.axes.filter((a) => a.values.length > 1);
  const charted = swept.filter((a) => a.values.filter((v) => v !== null).length > 1);
  const sections: PageSection[] = [];
  const w = plan.workload;
  const workload =
    w.kind === 'network'
      ? `topology ${w.network.name}${w.rates === null ? ', every input active' : typeof w.rates === 'number' ? `, spike rate ${w.rates}` : ', spike-rates file'}${s.mode === 'cycle' ? `, ${w.samples} synthetic samples` : ''}`
      : w.kind === 'model'
        ? `model ${plan.workloadPath} on ${w.dataset}/${w.split}, ${w.samples} samples${w.arithmetic === 'chip' ? ', spikes computed on the arithmetic of each point’s chip' : ''}`
        : `trace ${plan.workloadPath}`;

  sections.push({
    title: 'Sweep',
    text: s.description || undefined,
    html: htmlTable(
      ['axis', 'values'],
      [
        ...plan.axes.map((a) => [a.name, a.values.map((v) => (v === null ? '—' : String(v))).join(', ')]),
        ['metrics', plan.metrics.join(', ')],
        ['points', `${rows.length} of ${plan.points.length}`],
      ],
      2,
    ),
  });

  const metricCols = plan.metrics.filter((m) => has(m));
  const head = (m: MetricName) => (LABEL[m] ?? m).replace(/ \([^)]*\)$/, '');
  const tableOf = (list: readonly ReportRow[], numbered = false) =>
    htmlTable(
      [...(numbered ? ['#'] : []), 'id', ...swept.map((a) => a.name), ...metricCols.map(head)],
      list.map((r, i) => [
        ...(numbered ? [String(i + 1)] : []),
        r.id,
        ...swept.map((a) => (r.values[a.name] === null ? '—' : String(r.values[a.name]))),
        ...metricCols.map((m) => fmt(m, r.metrics[m])),
      ]),
      (numbered ? 2 : 1) + swept.length,
    );

  if (has('energy_per_sample_j') && has('latency_per_sample_s')) {
    const front = paretoMin(rows, 'latency_per_sample_s', 'energy_per_sample_j');
    sections.push({
      title: 'Pareto frontier: energy vs latency',
      text: 'Points no other point beats on both energy and latency per inference (red, joined), numbered from the fastest; the table lists them in the same order.',
      html:
        (await chartFigure(
          'pareto-energy-latency',
          frontierChart(rows, front, 'latency_per_sample_s', 'energy_per_sample_j', plan.axes),
        )) +
        '\n' +
        tableOf(front.slice(0, FRONT_LISTED), true),
    });
  }
  if (has('accuracy') && has('energy_per_sample_j')) {
    const front = paretoMin(rows, 'energy_per_sample_j', 'accuracy', true);
    sections.push({
      title: 'Pareto frontier: accuracy vs energy',
      text: 'Points no other point beats on both accuracy and energy per inference, numbered from the cheapest; the table lists them in the same order.',
      html:
        (await chartFigure(
          'pareto-accuracy-energy',
          frontierChart(rows, front, 'energy_per_sample_j', 'accuracy', plan.axes),
        )) +
        '\n' +
        tableOf(front.slice(0, FRONT_LISTED), true),
    });
  }
  if (has('edp_per_sample_js')) {
    const best = [...rows]
      .filter((r) => num(r.metrics.edp_per_sample_js))
      .sort((a, b) => a.metrics.edp_per_sample_js! - b.metrics.edp_per_sample_js! || a.index - b.index)
      .slice(0, 10);
    sections.push({
      title: 'Lowest EDP',
      text: 'The ten points with the lowest energy-delay product.',
      html: tableOf(best),
    });
  }

  const sensMetrics = (
    [
      'energy_per_sample_j',
      'latency_per_sample_s',
      'edp_per_sample_js',
      'accuracy',
      'area_m2',
    ] as MetricName[]
  ).filter((m) => has(m));
  if (charted.length && sensMetrics.length) {
    const charts: string[] = [];
    for (const a of charted)
      charts.push(await chartFigure(`sensitivity-${a.name}`, sensitivityChart(rows, a, sensMetrics)));
    sections.push({
      title: 'Sensitivity per axis',
      text: 'For each value of one axis: the mean and the range (grey rule, min to max) of each metric over every other axis. Numeric axes join the means with a line; categorical axes show them as bars.',
      html: charts.join('\n'),
    });
  }
  return htmlPage(
    `Sweep ${s.name}`,
    `${s.mode} mode · ${workload} · ${rows.length} points · imcsim ${plan.version}`,
    sections,
  );
}
