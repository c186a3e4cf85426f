/**
 * The golden files imcsim produces itself (test/golden/replay-*.csv) and the one recipe that makes them.
 * test/replay/golden.test.ts replays the recipe and compares; it never writes a golden file, and fails
 * when one is missing. `npm run goldens` (scripts/update-goldens.mjs) rewrites them on purpose, after a
 * modelling change that the commit explains.
 *
 * test/golden/spikesim-vgg9.json is not among them: it holds SpikeSim's own output (docs/SOURCES.md §5),
 * which imcsim must reproduce and never regenerates.
 *
 * `lib` is the imcsim library: the test passes src/index.ts, the script dist/index.js (built first).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const REGENERATE_COMMAND = 'npm run goldens';
export const REPLAY_ARCHS = ['default', 'isaac-32nm'];
export const REPLAY_FILES = ['layers.csv', 'timesteps.csv'];

/** Repository-relative path of one replay golden file. */
export const goldenPath = (arch, file) => `test/golden/replay-${arch}-${file}`;

/**
 * The fixed trace: the MNIST convnet with seeded weights (×4, so that layers spike) on the first 12
 * MNIST test digits, entropy exit at θ = 0.05.
 */
export async function writeGoldenTrace(lib, trace) {
  const net = lib.loadNetwork('models/mnist-convnet');
  const model = lib.initModel(net.spec, 11);
  for (const [k, t] of model.tensors)
    if (k.endsWith('.weight')) for (let i = 0; i < t.data.length; i++) t.data[i] *= 4;
  const ds = lib.loadDataset('mnist', 'test', { limit: 12 });
  await lib.traceModel(model, ds, {
    policy: { name: 'entropy', timesteps: 4, theta: 0.05 },
    modelName: 'golden',
    out: trace,
  });
}

/** Replays the trace on `arch-configs/<arch>.yaml`; returns golden path → the text the run produced. */
export async function replayGoldenFiles(lib, trace, arch, outDir) {
  const r = await lib.simulateTrace(lib.loadArch(`arch-configs/${arch}.yaml`), trace);
  await lib.writeRunFolder(outDir, r);
  return Object.fromEntries(
    REPLAY_FILES.map((f) => [goldenPath(arch, f), readFileSync(join(outDir, f), 'utf8')]),
  );
}
