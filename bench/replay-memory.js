// Peak memory of a full replay as the trace grows (target: flat). Replays synthetic MNIST-convnet traces
// of increasing length through `simulateTrace` in a fresh process each and records peak RSS and heap.
// Usage: node bench/replay-memory.js [sizes...]   (default 100 2000 10000)
import { machine } from './machine.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
const list = sizes.length ? sizes : [100, 2000, 10000];
const dir = mkdtempSync(join(tmpdir(), 'imcsim-mem-'));
const child = `
import { loadArch } from '../dist/config/load.js';
import { loadNetwork } from '../dist/network/load.js';
import { simulateTrace } from '../dist/replay/simulate.js';
import { generateSyntheticTrace } from '../dist/trace/synthetic.js';
const [n, out] = process.argv.slice(2);
const net = loadNetwork('models/mnist-convnet');
await generateSyntheticTrace({ network: net.spec, shapes: net.shapes, rates: 0.1, samples: Number(n), seed: 1, timesteps: 4, out });
global.gc?.();
const base = process.memoryUsage();
let peakHeap = 0;
const r = await simulateTrace(loadArch('arch-configs/default.yaml'), out, { onSample: () => { const h = process.memoryUsage().heapUsed; if (h > peakHeap) peakHeap = h; } });
console.log(JSON.stringify({ samples: r.samples, base_heap_mb: base.heapUsed / 2 ** 20, peak_heap_mb: peakHeap / 2 ** 20, max_rss_mb: process.resourceUsage().maxRSS / 1024 }));
`;
writeFileSync(new URL('./.replay-memory-child.mjs', import.meta.url), child);
const results = [];
for (const n of list) {
  const out = execFileSync(
    process.execPath,
    [
      '--expose-gc',
      new URL('./.replay-memory-child.mjs', import.meta.url).pathname,
      String(n),
      join(dir, `m${n}.trace`),
    ],
    { encoding: 'utf8' },
  );
  const r = JSON.parse(out.trim().split('\n').pop());
  results.push(r);
  console.log(
    `replay ${r.samples} samples: peak heap ${r.peak_heap_mb.toFixed(1)} MB, max RSS ${r.max_rss_mb.toFixed(1)} MB`,
  );
}
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(
  new URL('./results/replay-memory.json', import.meta.url),
  JSON.stringify(
    {
      benchmark: 'replay-memory',
      date: new Date().toISOString().slice(0, 10),
      machine: machine(),
      results,
    },
    null,
    2,
  ) + '\n',
);
