import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPARE_CHARTS, writeComparison } from '../../src/report/compare.js';
import { REPORT_CHARTS } from '../../src/report/report-html.js';
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
        for (const m of Array.from(f.querySelectorAll('g.role-mark > *')) as Boxed[]) {
          const b = m.getBoundingClientRect();
          if (b.width > 0 && b.height > 0) visibleMarks++;
        }
        return {
          name: f.getAttribute('data-chart') ?? '',
          width: box?.width ?? 0,
          height: box?.height ?? 0,
          visibleMarks,
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
        }
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
