/**
 * The demo: what DT-SNN's entropy exit saves on the default chip, end to end on real data.
 *
 * A shipped trained model (models/mnist-convnet-t4) runs on the bundled MNIST test split twice — static
 * T=4 and the entropy exit — recording spike traces; both traces are replayed cycle by cycle on
 * arch-configs/default.yaml; both run folders (with report.html) and their comparison (OUT/compare) are
 * written. The spikes are computed on the chip's arithmetic (hardware-aware inference, --arch: quantised
 * weights, grouped reads through its ADC, fixed-point potentials), so the exit decisions are the chip's;
 * `float: true` traces on the float32 engine instead.
 */
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { loadArch } from '../config/load.js';
import { located } from '../util/errors.js';
import { simulateTrace, type SimulationResult } from '../replay/simulate.js';
import { writeComparison } from '../report/compare.js';
import { writeRunFolder } from '../report/run-folder.js';
import { loadDataset } from '../snn/data/dataset.js';
import { loadModel } from '../snn/model.js';
import { traceModel } from '../snn/run.js';
import type { TracePolicy, TraceSummary } from '../trace/types.js';
import { PACKAGE_ROOT } from '../util/package-root.js';
import { THETA } from '../snn/policies/theta.js';

export const DEMO_DEFAULTS = {
  model: join(PACKAGE_ROOT, 'models', 'mnist-convnet-t4'),
  arch: join(PACKAGE_ROOT, 'arch-configs', 'default.yaml'),
  samples: 200,
  /**
   * Entropy-exit threshold: exit when 1 − H(softmax(Σ_t o_t))/log K > θ (docs/SOURCES.md §1, DT-SNN).
   * The policy's declared default (src/snn/policies/theta.ts).
   */
  theta: THETA.default,
  seed: 0,
} as const;

export interface DemoOptions {
  out: string;
  model?: string;
  arch?: string;
  samples?: number;
  theta?: number;
  seed?: number;
  /** Trace on the float32 engine instead of the chip's arithmetic. */
  float?: boolean;
  /** Progress of the current step: step name, done, total. */
  onProgress?: (step: DemoStep, done: number, total: number) => void;
  /** Called when a step is finished. */
  onStepDone?: (step: DemoStep) => void;
}

export type DemoStep = 'trace static' | 'trace dtsnn' | 'simulate static' | 'simulate dtsnn' | 'compare';

export interface DemoRun {
  label: 'static' | 'dtsnn';
  policy: TracePolicy;
  trace: string;
  folder: string;
  traceSummary: TraceSummary;
  result: SimulationResult;
}

export interface DemoResult {
  out: string;
  model: string;
  arch: string;
  dataset: string;
  samples: number;
  runs: [DemoRun, DemoRun];
  /** OUT/compare: compare.html, compare.csv, compare.json. */
  compare: string;
  seconds: number;
}

/** Runs the demo; writes OUT/static, OUT/dtsnn (run folders with their traces). */
export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const t0 = performance.now();
  const modelDir = resolve(opts.model ?? DEMO_DEFAULTS.model);
  const archFile = resolve(opts.arch ?? DEMO_DEFAULTS.arch);
  const samples = opts.samples ?? DEMO_DEFAULTS.samples;
  const theta = opts.theta ?? DEMO_DEFAULTS.theta;
  const seed = opts.seed ?? DEMO_DEFAULTS.seed;
  if (!existsSync(join(modelDir, 'weights.safetensors')))
    throw located('the demo needs a trained model directory', {
      file: modelDir,
      expected: 'network.yaml and weights.safetensors (models/mnist-convnet-t4 ships with imcsim)',
      found: 'no weights.safetensors',
    });
  const spec = loadArch(archFile);
  const model = loadModel(modelDir);
  const T = model.spec.timesteps;
  const ds = loadDataset('mnist', 'test');
  const policies: Array<[DemoRun['label'], TracePolicy]> = [
    ['static', { name: 'static', timesteps: T }],
    ['dtsnn', { name: 'entropy', timesteps: T, theta }],
  ];
  const runs: DemoRun[] = [];
  for (const [label, policy] of policies) {
    const folder = join(opts.out, label);
    const trace = join(folder, `${label}.trace`);
    const step: DemoStep = `trace ${label}`;
    const traceSummary = await traceModel(model, ds, {
      policy,
      encoding: model.spec.input.encoding,
      seed,
      samples,
      modelName: 'mnist-convnet-t4',
      out: trace,
      chip: opts.float
        ? undefined
        : {
            spec,
            name: basename(archFile).replace(/\.ya?ml$/i, ''),
            calibration: loadDataset('mnist', 'train'),
          },
      onSample: (d, n) => opts.onProgress?.(step, d, n),
    });
    opts.onStepDone?.(step);
    runs.push({
      label,
      policy,
      trace,
      folder,
      traceSummary,
      result: undefined as unknown as SimulationResult,
    });
  }
  for (const run of runs) {
    const step: DemoStep = `simulate ${run.label}`;
    run.result = await simulateTrace(spec, run.trace, {
      onSample: (d, n) => opts.onProgress?.(step, d, n),
    });
    await writeRunFolder(run.folder, run.result);
    opts.onStepDone?.(step);
  }
  const compare = join(opts.out, 'compare');
  await writeComparison(runs[0].folder, runs[1].folder, compare);
  opts.onStepDone?.('compare');
  return {
    out: opts.out,
    compare,
    model: modelDir,
    arch: archFile,
    dataset: `${ds.name}/${ds.split}`,
    samples,
    runs: runs as [DemoRun, DemoRun],
    seconds: (performance.now() - t0) / 1000,
  };
}
