import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPARE_CHARTS, writeComparison } from '../../src/report/compare.js';
import { REPORT_CHARTS } from '../../src/report/report-html.js';
import { runStudy } from '../../src/studies/index.js';
import { runCli } from '../helpers/cli.js';
import { makeRuns, type TestRuns } from './runs.js';

/**
 * The pages in a real browser: headless Chromium (Debian's chromium; `npm test` installs it) opens report.html
 * and compare.html from disk, finds every chart rendered and no console or page errors. Screenshots go to
 * test-artifacts/. A missing browser is a failure, never a skip.
 */
const CHROMIUM = process.env.IMCSIM_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = resolve('test-artifacts');
const TIMEOUT = 60_000;

let runs: TestRuns;
let compareHtml: string;
let browser: Browser | undefined;

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `Chromium not found at ${CHROMIUM}: the browser test needs it. Install it (Debian/Ubuntu: apt-get install chromium; npm test does as root) or point IMCSIM_CHROMIUM at a Chromium binary.`,
    );
  runs = await makeRuns('imcsim-browser-');
  const cmp = join(runs.dir, 'cmp');
  await writeComparison(runs.staticRun, runs.entropyRun, cmp);
  compareHtml = join(cmp, 'compare.html');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  mkdirSync(ARTIFACTS, { recursive: true });
}, TIMEOUT);

afterAll(async () => {
  await browser?.close();
});

/** An element with a layout box (the test's tsconfig has no DOM types). */
type Boxed = { getBoundingClientRect(): { width: number; height: number } };

interface ChartInfo {
  name: string;
  width: number;
  height: number;
  /** Data marks (children of Vega's role-mark groups) with a non-zero box. */
  visibleMarks: number;
  /** Visible marks per Vega mark kind (rect = bars, line, symbol = points, text, rule). */
  kinds: Record<string, number>;
  /** Legend and axis label texts that end in "…" (cut by Vega's label limit). */
  truncated: string[];
}

async function inspect(file: string, screenshot: string): Promise<{ charts: ChartInfo[]; errors: string[] }> {
  const page = await browser!.newPage({ viewport: { width: 1200, height: 900 } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
  try {
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    const charts = await page.$$eval('figure[data-chart]', (figs) =>
      figs.map((f) => {
        const svg = f.querySelector('svg');
        const box = svg?.getBoundingClientRect();
        let visibleMarks = 0;
        const kinds: Record<string, number> = {};
        type Marked = Boxed & { parentElement: { getAttribute(n: string): string | null } | null };
        for (const m of Array.from(f.querySelectorAll('g.role-mark > *')) as Marked[]) {
          const b = m.getBoundingClientRect();
          if (!(b.width > 0 || b.height > 0)) continue;
          if (b.width > 0 && b.height > 0) visibleMarks++;
          const cls = m.parentElement?.getAttribute('class') ?? '';
          const kind = /mark-(\w+)/.exec(cls)?.[1] ?? 'other';
          kinds[kind] = (kinds[kind] ?? 0) + 1;
        }
        type Texted = { textContent: string | null };
        const truncated = (
          Array.from(f.querySelectorAll('g.role-legend-label text, g.role-axis-label text')) as Texted[]
        )
          .map((t) => t.textContent ?? '')
          .filter((t) => t.endsWith('…'));
        return {
          name: f.getAttribute('data-chart') ?? '',
          width: box?.width ?? 0,
          height: box?.height ?? 0,
          visibleMarks,
          kinds,
          truncated,
        };
      }),
    );
    await page.screenshot({ path: join(ARTIFACTS, screenshot), fullPage: true });
    return { charts, errors };
  } finally {
    await page.close();
  }
}

describe('report pages in headless Chromium', () => {
  it(
    'report.html: every chart rendered as an SVG with visible marks, no errors',
    async () => {
      for (const [run, shot] of [
        [runs.staticRun, 'report-static.png'],
        [runs.entropyRun, 'report-entropy.png'],
      ] as const) {
        const { charts, errors } = await inspect(join(run, 'report.html'), shot);
        expect(errors).toEqual([]);
        expect(charts.map((c) => c.name)).toEqual([...REPORT_CHARTS]);
        for (const c of charts) {
          expect(c.width, c.name).toBeGreaterThan(0);
          expect(c.height, c.name).toBeGreaterThan(0);
          expect(c.visibleMarks, c.name).toBeGreaterThan(0);
          expect(c.truncated, c.name).toEqual([]);
        }
        // The new charts are bar charts with a bar per layer / component / timestep.
        const by = new Map(charts.map((c) => [c.name, c]));
        const layers = 4; // conv1, conv2, fc1, fc2 of the MNIST convnet
        expect(by.get('layer-firing')!.kinds.rect).toBe(layers);
        expect(by.get('timestep-firing')!.kinds.rect).toBe(3);
        expect(by.get('area-breakdown')!.kinds.rect).toBeGreaterThanOrEqual(10);
        expect(by.get('layer-utilisation')!.kinds.rect).toBeGreaterThanOrEqual(2);
        expect(by.get('component-utilisation')!.kinds.rect).toBeGreaterThanOrEqual(3);
      }
    },
    TIMEOUT,
  );

  it(
    'compare.html: every chart rendered, no errors',
    async () => {
      const { charts, errors } = await inspect(compareHtml, 'compare.png');
      expect(errors).toEqual([]);
      expect(charts.map((c) => c.name)).toEqual([...COMPARE_CHARTS]);
      for (const c of charts) {
        expect(c.truncated, c.name).toEqual([]);
        expect(c.width, c.name).toBeGreaterThan(0);
        expect(c.height, c.name).toBeGreaterThan(0);
        expect(c.visibleMarks, c.name).toBeGreaterThan(0);
      }
    },
    TIMEOUT,
  );
});

describe('study and sweep pages in headless Chromium', () => {
  // The pages `npm run studies` committed under docs/studies/: what a reader of docs/STUDIES.md opens.
  const studies: Array<[string, string[]]> = [
    ['dtsnn', ['accuracy-vs-timesteps', 'edp-vs-timesteps', 'energy-latency-vs-t', 'energy-split']],
    ['iir', ['iir-stages', 'iir-energy-by-component']],
    ['ldsnn', ['ldsnn-energy-latency', 'ldsnn-accuracy']],
    ['exit-overhead', ['exit-unit-energy-vs-classes', 'exit-saving-vs-overhead']],
    ['hardware', ['hardware-pareto', 'hardware-sensitivity']],
  ];
  it(
    'every study page and the hardware sweep page: charts rendered, no errors',
    async () => {
      for (const [name, expected] of studies) {
        const { charts, errors } = await inspect(
          resolve('docs/studies', name, 'index.html'),
          `study-${name}.png`,
        );
        expect(errors, name).toEqual([]);
        expect(charts.map((c) => c.name)).toEqual(expected);
        for (const c of charts) expect(c.visibleMarks, `${name}/${c.name}`).toBeGreaterThan(0);
      }
      const sweep = await inspect(resolve('docs/studies/hardware/sweep/sweep.html'), 'sweep-hardware.png');
      expect(sweep.errors).toEqual([]);
      expect(sweep.charts.length).toBeGreaterThan(0);
      for (const c of sweep.charts) expect(c.visibleMarks, `sweep/${c.name}`).toBeGreaterThan(0);
    },
    TIMEOUT,
  );
});

describe('sweep and study pages built by this code, in headless Chromium', () => {
  it(
    'a sweep with a categorical axis: its sensitivity means are bars, numeric axes lines; Pareto points numbered; no label cut',
    async () => {
      const dir = join(runs.dir, 'sweep');
      const spec = join(runs.dir, 'sweep.yaml');
      writeFileSync(
        spec,
        [
          'name: browser-sweep',
          'description: ADC family (categorical) against ADC bits (numeric), analytic',
          'mode: analytic',
          `arch: ${resolve('arch-configs/default.yaml')}`,
          'workload:',
          `  network: ${resolve('models/mnist-convnet')}`,
          '  rate: 0.15',
          'axes:',
          '  adc.family: [isaac, neurosim-sar, spikesim]',
          '  adc.bits: [4, 6]',
          'metrics: [energy_per_sample_j, latency_per_sample_s, edp_per_sample_js, area_m2]',
          '',
        ].join('\n'),
      );
      const r = await runCli('sweep', spec, '--out', dir);
      expect(r.code, r.err).toBe(0);
      const { charts, errors } = await inspect(join(dir, 'sweep.html'), 'sweep-categorical.png');
      expect(errors).toEqual([]);
      const by = new Map(charts.map((c) => [c.name, c]));
      // adc.family has no order: 4 metrics × 3 families = 12 bars, no line.
      const fam = by.get('sensitivity-adc.family')!;
      expect(fam.kinds.rect).toBe(12);
      expect(fam.kinds.line ?? 0).toBe(0);
      // adc.bits is numeric: a line per metric, no bar.
      const bits = by.get('sensitivity-adc.bits')!;
      expect(bits.kinds.line).toBe(4);
      expect(bits.kinds.rect ?? 0).toBe(0);
      // The Pareto points carry their numbers as text marks.
      expect(by.get('pareto-energy-latency')!.kinds.text).toBeGreaterThan(0);
      for (const c of charts) expect(c.truncated, c.name).toEqual([]);
    },
    TIMEOUT,
  );

  it(
    'tiny study pages (every study) render with no errors and no cut labels',
    async () => {
      for (const name of ['dtsnn', 'exit-overhead', 'hardware'] as const) {
        const out = join(runs.dir, 'study-' + name);
        await runStudy(name, { out, tiny: true });
        const { charts, errors } = await inspect(join(out, 'index.html'), `study-tiny-${name}.png`);
        expect(errors, name).toEqual([]);
        expect(charts.length, name).toBeGreaterThan(0);
        for (const c of charts) {
          expect(c.visibleMarks, `${name}/${c.name}`).toBeGreaterThan(0);
          expect(c.truncated, `${name}/${c.name}`).toEqual([]);
        }
        if (name === 'hardware') {
          const pareto = charts.find((c) => c.name === 'hardware-pareto')!;
          expect(pareto.kinds.text).toBeGreaterThan(0);
        }
      }
    },
    3 * TIMEOUT,
  );
});
