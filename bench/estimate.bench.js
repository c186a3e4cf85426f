// Analytic estimates per second for VGG-16 (CIFAR shapes) on default.yaml, T=4. Target: ≥ 10,000/s.
// Each call loads nothing from disk. The mapping, component models, routes and area are built once per
// (frozen) hardware description and network and reused (chip/workload.ts, analytic/imcsim-model.ts); the
// "rebuilt" row passes an unfrozen copy of the description, so every call maps and builds everything.
import { estimate } from '../dist/analytic/estimate.js';
import { loadArch } from '../dist/config/load.js';
import { loadNetwork } from '../dist/network/load.js';

const spec = loadArch('arch-configs/default.yaml');
const vgg16 = loadNetwork('models/vgg16-cifar10');
const spikesim = loadArch('arch-configs/spikesim-65nm.yaml');
const unfrozen = structuredClone(spec);

export const benchmarks = [
  {
    name: 'estimate VGG16 T=4 (default.yaml, imcsim accounting)',
    unit: 'estimates/s',
    target: 10000,
    fn: () => estimate(spec, vgg16.spec, { timesteps: 4 }, vgg16.shapes),
  },
  {
    name: 'estimate VGG16 T=4 (default.yaml, chip rebuilt every call: unfrozen description)',
    unit: 'estimates/s',
    fn: () => estimate(unfrozen, vgg16.spec, { timesteps: 4 }, vgg16.shapes),
  },
  {
    name: 'estimate VGG16 T=4 (spikesim-65nm.yaml)',
    unit: 'estimates/s',
    fn: () => estimate(spikesim, vgg16.spec, { timesteps: 4 }, vgg16.shapes),
  },
];
