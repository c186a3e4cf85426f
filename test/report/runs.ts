/** Small run folders for the report tests: synthetic traces of the MNIST convnet, replayed and written. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadArch, parseOverride } from '../../src/config/load.js';
import { loadNetwork } from '../../src/network/load.js';
import { simulateTrace, type SimulationResult } from '../../src/replay/simulate.js';
import { writeRunFolder } from '../../src/report/run-folder.js';
import { generateSyntheticTrace } from '../../src/trace/synthetic.js';

export interface TestRuns {
  dir: string;
  /** Static T = 3, layer-sequential. */
  staticTrace: string;
  /** Entropy exit (exit timesteps drawn 1..3), timestep-pipelined: the exit unit and wasted work are used. */
  entropyTrace: string;
  staticRun: string;
  entropyRun: string;
  staticResult: SimulationResult;
  entropyResult: SimulationResult;
}

export const ARCH = 'arch-configs/default.yaml';
export const PIPELINED = 'schedule.policy=timestep-pipelined';

/** Writes the two traces only (the CLI tests simulate them themselves). */
export async function makeTraces(dir: string): Promise<{ staticTrace: string; entropyTrace: string }> {
  const net = loadNetwork('models/mnist-convnet');
  const staticTrace = join(dir, 'static.trace');
  const entropyTrace = join(dir, 'entropy.trace');
  await generateSyntheticTrace({
    network: net.spec,
    shapes: net.shapes,
    rates: 0.15,
    samples: 5,
    seed: 1,
    timesteps: 3,
    out: staticTrace,
  });
  await generateSyntheticTrace({
    network: net.spec,
    shapes: net.shapes,
    rates: 0.15,
    samples: 8,
    seed: 2,
    timesteps: 3,
    policy: { name: 'entropy', timesteps: 3, theta: 0.5 },
    exitDistribution: [0.25, 0.5, 0.25],
    out: entropyTrace,
  });
  return { staticTrace, entropyTrace };
}

export async function makeRuns(prefix = 'imcsim-report-'): Promise<TestRuns> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const { staticTrace, entropyTrace } = await makeTraces(dir);
  const staticResult = await simulateTrace(loadArch(ARCH), staticTrace);
  const entropyResult = await simulateTrace(loadArch(ARCH, [parseOverride(PIPELINED)]), entropyTrace);
  const staticRun = join(dir, 'static');
  const entropyRun = join(dir, 'entropy');
  await writeRunFolder(staticRun, staticResult);
  await writeRunFolder(entropyRun, entropyResult);
  return { dir, staticTrace, entropyTrace, staticRun, entropyRun, staticResult, entropyResult };
}
