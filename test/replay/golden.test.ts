import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadArch } from '../../src/config/load.js';
import { loadNetwork } from '../../src/network/load.js';
import { simulateTrace } from '../../src/replay/simulate.js';
import { writeRunFolder } from '../../src/report/run-folder.js';
import { loadDataset } from '../../src/snn/data/dataset.js';
import { initModel } from '../../src/snn/model.js';
import { traceModel } from '../../src/snn/run.js';

/**
 * Golden per-layer results of the replay for two reference configurations, on a fixed trace (the MNIST
 * convnet with seeded weights on the first 12 MNIST test digits, entropy exit). Regenerate deliberately
 * with UPDATE_GOLDEN=1 after a modelling change, and say why in the commit.
 */
const dir = mkdtempSync(join(tmpdir(), 'imcsim-golden-'));
const trace = join(dir, 'golden.trace');

beforeAll(async () => {
  const net = loadNetwork('models/mnist-convnet');
  const model = initModel(net.spec, 11);
  for (const [k, t] of model.tensors)
    if (k.endsWith('.weight')) for (let i = 0; i < t.data.length; i++) t.data[i] *= 4;
  const ds = loadDataset('mnist', 'test', { limit: 12 });
  await traceModel(model, ds, {
    policy: { name: 'entropy', timesteps: 4, theta: 0.05 },
    modelName: 'golden',
    out: trace,
  });
});

describe.each(['default', 'isaac-32nm'])('replay golden files: %s', (name) => {
  it('layers.csv and timesteps.csv match test/golden', async () => {
    const r = await simulateTrace(loadArch(`arch-configs/${name}.yaml`), trace);
    const out = join(dir, name);
    await writeRunFolder(out, r);
    for (const file of ['layers.csv', 'timesteps.csv']) {
      const golden = `test/golden/replay-${name}-${file}`;
      const got = readFileSync(join(out, file), 'utf8');
      if (process.env.UPDATE_GOLDEN || !existsSync(golden)) writeFileSync(golden, got);
      expect(got).toBe(readFileSync(golden, 'utf8'));
    }
  });
});
