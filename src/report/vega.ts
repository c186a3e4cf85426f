/**
 * Charts as inline SVG: a Vega-Lite spec is compiled to Vega and rendered headless (no canvas, no
 * browser, no network), so an HTML page made of these SVGs is self-contained and byte-stable.
 *
 * Shared by every HTML page imcsim writes (run report, comparison, sweep, studies).
 */
import type { TopLevelSpec } from 'vega-lite';

/** Vega and Vega-Lite, loaded on the first render (≈ 0.45 s of import every command would pay). */
let vegaLibs: Promise<[typeof import('vega'), typeof import('vega-lite')]> | undefined;

export type ChartSpec = TopLevelSpec;

/** A font stack that every browser has; Vega measures text with an estimate when there is no canvas. */
const FONT = 'Helvetica, Arial, sans-serif';

const CONFIG = {
  font: FONT,
  background: 'white',
  view: { stroke: '#ddd' },
  // Category labels (layer names, runs, schedules) are shown whole up to 400 px, not cut at Vega's 180.
  axis: { labelFontSize: 11, titleFontSize: 12, labelLimit: 400 },
  // Legends are never truncated (labelLimit 0: no limit); a long series name wraps the chart wider instead.
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 0, titleLimit: 0 },
} as const;

/**
 * Render a Vega-Lite spec to an SVG string. Deterministic: same spec, same bytes. Vega numbers gradient
 * and clip-path ids with process-wide counters; they are reset before each render, so the ids do not
 * depend on what was rendered before. `idPrefix` (letters, digits, '-', '_') is put before every id and
 * reference to it, so several SVGs can share one page without their ids colliding.
 */
export async function renderSvg(spec: ChartSpec, idPrefix?: string): Promise<string> {
  vegaLibs ??= Promise.all([import('vega'), import('vega-lite')]);
  const [vega, vl] = await vegaLibs;
  const withConfig = { ...spec, config: { ...CONFIG, ...(spec.config ?? {}) } } as ChartSpec;
  const compiled = vl.compile(withConfig).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logLevel: vega.Error });
  try {
    vega.resetSVGDefIds();
    const svg = await view.toSVG();
    return idPrefix ? prefixIds(svg, idPrefix) : svg;
  } finally {
    view.finalize();
  }
}

/** Renames every `id="X"` of an SVG to `id="P-X"`, and every `url(#X)` / `href="#X"` to match. */
function prefixIds(svg: string, prefix: string): string {
  const p = prefix.replace(/[^A-Za-z0-9_-]/g, '_');
  const ids = new Set<string>();
  for (const m of svg.matchAll(/\sid="([^"]+)"/g)) ids.add(m[1]);
  if (ids.size === 0) return svg;
  const ref = (id: string) => (ids.has(id) ? `${p}-${id}` : id);
  return svg
    .replace(/(\sid=")([^"]+)"/g, (_, a: string, id: string) => `${a}${ref(id)}"`)
    .replace(/url\(#([^)]+)\)/g, (_, id: string) => `url(#${ref(id)})`)
    .replace(/(href=")#([^"]+)"/g, (_, a: string, id: string) => `${a}#${ref(id)}"`);
}

/** HTML-escape text for element content and attribute values. */
export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

export interface PageSection {
  /** Section heading (plain text). */
  title: string;
  /** Optional explanation under the heading (plain text). */
  text?: string;
  /** Trusted HTML: charts (SVG), tables made with htmlTable(). */
  html: string;
}

const STYLE = `
body{font-family:${FONT};margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:.2em}
p.sub{color:#666;margin-top:0}p.note{color:#555;font-size:.92em}
table{border-collapse:collapse;font-size:.9em;margin:.6em 0}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:right}th{background:#f4f4f4}
td.l,th.l{text-align:left}
figure.chart{margin:.6em 0;overflow-x:auto}
div.table{overflow-x:auto;max-width:100%}
figure.chart svg{max-width:100%;height:auto}
.warn{background:#fff4e0;border:1px solid #f0c36d;padding:.5em .8em}
`;

/** One self-contained HTML page: inline CSS and SVG, no scripts, no external resources. */
export function htmlPage(title: string, subtitle: string, sections: PageSection[]): string {
  const body = sections
    .map(
      (s) =>
        `<section><h2>${escapeHtml(s.title)}</h2>\n` +
        (s.text ? `<p class="note">${escapeHtml(s.text)}</p>\n` : '') +
        s.html +
        '\n</section>',
    )
    .join('\n');
  return (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
    `<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>${escapeHtml(title)}</title>\n` +
    `<style>${STYLE}</style>\n</head>\n<body>\n<h1>${escapeHtml(title)}</h1>\n<p class="sub">${escapeHtml(subtitle)}</p>\n` +
    body +
    '\n</body>\n</html>\n'
  );
}

/** A chart wrapped for a page; `name` lets tests and readers find it (data-chart attribute). */
export async function chartFigure(name: string, spec: ChartSpec): Promise<string> {
  return `<figure class="chart" data-chart="${escapeHtml(name)}">${await renderSvg(spec, name)}</figure>`;
}

/** An HTML table; the first `leftColumns` columns are left-aligned (names), the rest right (numbers). */
export function htmlTable(head: string[], rows: Array<Array<string | number>>, leftColumns = 1): string {
  const cls = (i: number) => (i < leftColumns ? ' class="l"' : '');
  const th = head.map((h, i) => `<th${cls(i)}>${escapeHtml(h)}</th>`).join('');
  const trs = rows
    .map((r) => '<tr>' + r.map((c, i) => `<td${cls(i)}>${escapeHtml(String(c))}</td>`).join('') + '</tr>')
    .join('\n');
  // Wide tables scroll inside the page instead of running off its edge.
  return `<div class="table"><table>\n<thead><tr>${th}</tr></thead>\n<tbody>\n${trs}\n</tbody>\n</table></div>`;
}
