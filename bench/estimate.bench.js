// Analytic estimates per second for VGG-16 (CIFAR shapes) on default.yaml, T=4. Target: ≥ 10,000/s.
// Each call loads nothing from disk: it maps the network, builds the component models, counts and prices.
import { estimate } from '../dist/analytic/estimate.js';
import { loadArch } from '../dist/config/load.js';
import { loadNetwork } from '../dist/network/load.js';

const spec = loadArch('arch-configs/default.yaml');
const vgg16 = loadNetwork('models/vgg16-cifar10');
const spikesim = loadArch('arch-configs/spikesim-65nm.yaml');

export const benchmarks = [
  {
    name: 'estimate VGG16 T=4 (default.yaml, imcsim accounting)',
    unit: 'estimates/s',
    target: 10000,
    fn: () => estimate(spec, vgg16.spec, { timesteps: 4 }, vgg16.shapes),
  },
  {
    name: 'estimate VGG16 T=4 (spikesim-65nm.yaml)',
    unit: 'estimates/s',
    fn: () => estimate(spikesim, vgg16.spec, { timesteps: 4 }, vgg16.shapes),
  },
];
