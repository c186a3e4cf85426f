/** Commands of the SNN engine: eval, trace (run, info, export), import, export-nir, init. */
import type { Command } from 'commander';
import { basename, resolve } from 'node:path';
import { located } from '../util/errors.js';
import { readTextFile } from '../config/load.js';
import { loadYaml } from '../util/yaml-loader.js';
import { SpikeRatesSchema } from '../network/rates.js';
import { loadNetwork } from '../network/load.js';
import { checkNetworkMemory } from '../network/memory.js';
import {
  DATASET_NAMES,
  DATASET_SPLITS,
  loadDataset,
  type Dataset,
  type DatasetRef,
  type LoadDatasetOptions,
  type DatasetSplit,
} from '../snn/data/dataset.js';
import {
  EXTERNAL_FORMATS,
  parseDatasetRef,
  parseNormalize,
  type Normalization,
} from '../snn/data/external.js';
import { INPUT_ENCODINGS, type InputEncoding } from '../network/schema.js';
import { exportNir, importNir } from '../snn/io/nir.js';
import { initModel, loadModel, saveModel } from '../snn/model.js';
import { evaluateModel, traceModel } from '../snn/run.js';
import { progressBar } from './progress.js';
import { formatTraceInfo, traceInfo } from '../trace/info.js';
import { exportTraceNirData } from '../trace/nirdata.js';
import { importTrace } from '../trace/import.js';
import { generateSyntheticTrace } from '../trace/synthetic.js';
import type { TracePolicy } from '../trace/types.js';
import { pct } from '../util/format.js';
import { exitPolicy, POLICY_NAMES } from '../snn/policies/registry.js';
import { THETA } from '../snn/policies/theta.js';
import {
  addChipOptions,
  chipRunOptions,
  parsePositiveInt,
  oneOf,
  parseSeed,
  preset,
  type Io,
} from './common.js';
import { checkOutputDir, checkOutputFile } from '../util/fs-errors.js';

const POLICIES = POLICY_NAMES;

function parseFraction(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0 || n > 1)
      throw located(`${flag} must be a number in [0, 1]`, { path: flag, found: JSON.stringify(v) });
    return n;
  };
}

function parseIntList(flag: string) {
  return (v: string): number[] => {
    const parts = v.split(',').map((s) => Number(s.trim()));
    if (parts.some((n) => !Number.isInteger(n) || n < 1))
      throw located(`${flag} must be a comma-separated list of positive integers`, {
        path: flag,
        found: JSON.stringify(v),
      });
    return parts;
  };
}

interface PolicyFlags {
  policy: (typeof POLICIES)[number];
  timesteps?: number;
  theta?: number;
  layerTimesteps?: number[];
  alignment?: 'repeat' | 'rate' | 'pad';
}

/** The device effects switched on, as a clause ('' when the devices are ideal). */
export function deviceNote(device: Record<string, number | boolean>): string {
  const on = Object.entries(device).filter(([k, v]) => k !== 'seed' && v !== 0 && v !== false);
  const defaults: Record<string, number> = { drift_time_s: 1, drift_t0_s: 1 };
  const shown = on.filter(([k, v]) => !(k in defaults && v === defaults[k]));
  return shown.length === 0
    ? ', ideal devices'
    : `, devices ${shown.map(([k, v]) => `${k}=${v}`).join(' ')} (seed ${device.seed})`;
}

function policyOf(o: PolicyFlags, defaultT: number): TracePolicy {
  const T = o.timesteps ?? defaultT;
  switch (o.policy) {
    case 'static':
      return { name: 'static', timesteps: T };
    case 'entropy':
    case 'confidence':
      return { name: o.policy, timesteps: T, theta: o.theta ?? THETA.default };
    case 'layerwise':
      return {
        name: 'layerwise',
        timesteps: o.layerTimesteps ? Math.max(...o.layerTimesteps) : T,
        layer_timesteps: o.layerTimesteps,
        alignment: o.alignment ?? exitPolicy('layerwise').params.alignment!.default,
      };
  }
}

function addRunOptions(cmd: Command): Command {
  return addChipOptions(cmd)
    .option(
      '--dataset <name|FORMAT:PATH>',
      `dataset: ${DATASET_NAMES.join(' | ')}, or data on disk: npz:FILE | npy:DIR | idx:DIR | cifar10:DIR | cifar100:DIR | events:FILE (docs/DATASETS.md)`,
      datasetRef,
    )
    .option(
      '--normalize <mean/std>',
      'declared per-channel normalisation of a dataset on disk, x ← (x − mean)/std, e.g. 0.4914,0.4822,0.4465/0.247,0.2435,0.2616',
      parseNormalize,
    )
    .option(
      '--bin-by <rule>',
      'events: frames by equal time spans or equal event counts: time | count',
      oneOf('--bin-by', ['time', 'count'] as const),
    )
    .option(
      '--event-values <v>',
      'events: binary (a spike where a pixel had ≥ 1 event in the frame) | count (events per pixel and frame)',
      oneOf('--event-values', ['binary', 'count'] as const),
    )
    .option(
      '--split <split>',
      `split: ${DATASET_SPLITS.join(' | ')}`,
      oneOf('--split', DATASET_SPLITS),
      'test' as DatasetSplit,
    )
    .option('--data-dir <dir>', 'Fashion-MNIST IDX directory (default /usr/share/datasets/fashion-mnist)')
    .option(
      '--policy <name>',
      `exit policy: ${POLICIES.join(' | ')}`,
      oneOf('--policy', POLICIES),
      'static' as const,
    )
    .option(
      '--timesteps <T>',
      'timesteps (maximum for entropy / confidence)',
      parsePositiveInt('--timesteps'),
    )
    .option(
      '--theta <θ>',
      `exit threshold: entropy exits when 1 − H > θ; confidence when max softmax > θ (default ${THETA.default})`,
      parseFraction('--theta'),
    )
    .option(
      '--layer-timesteps <list>',
      'layerwise: timesteps per weighted layer, e.g. 4,2,2,1',
      parseIntList('--layer-timesteps'),
    )
    .option(
      '--alignment <mode>',
      'layerwise frame alignment: repeat | rate | pad',
      oneOf('--alignment', ['repeat', 'rate', 'pad'] as const),
    )
    .option(
      '--encoding <enc>',
      `input encoding: ${INPUT_ENCODINGS.join(' | ')} (default: the network file’s)`,
      oneOf('--encoding', INPUT_ENCODINGS),
    )
    .option('--samples <N>', 'use the first N samples of the split', parsePositiveInt('--samples'))
    .option('--seed <S>', 'seed of the rate encoder (and synthetic traces)', parseSeed, 0);
}

interface RunFlags extends PolicyFlags {
  model?: string;
  dataset?: DatasetRef;
  split: DatasetSplit;
  dataDir?: string;
  normalize?: Normalization;
  binBy?: 'time' | 'count';
  eventValues?: 'binary' | 'count';
  encoding?: InputEncoding;
  samples?: number;
  seed: number;
  json?: boolean;
  arch?: string;
  set?: string[];
}

/** --samples beyond the split is clamped to it: said on stderr, not silently. */
function noteClamp(io: Io, asked: number | undefined, ds: Dataset): void {
  if (asked !== undefined && asked > ds.count)
    io.err(
      `imcsim: note: --samples ${asked} is more than the ${ds.count} samples of ${ds.name}/${ds.split}; using all ${ds.count}`,
    );
}

function needModelAndDataset(o: RunFlags): { model: string; dataset: DatasetRef } {
  if (!o.model)
    throw located('--model is required', { path: '--model', expected: 'a model directory (models/<name>)' });
  if (!o.dataset)
    throw located('--dataset is required', {
      path: '--dataset',
      expected: `${DATASET_NAMES.join(' | ')} or FORMAT:PATH`,
    });
  return { model: o.model, dataset: o.dataset };
}

/** --dataset: a bundled name or FORMAT:PATH (checked here, read later). */
export function datasetRef(v: string): DatasetRef {
  if ((DATASET_NAMES as readonly string[]).includes(v) || parseDatasetRef(v)) return v;
  throw located(`unknown dataset '${v}'`, {
    path: '--dataset',
    expected: `${DATASET_NAMES.join(', ')}, or FORMAT:PATH with FORMAT one of ${EXTERNAL_FORMATS.join(', ')}`,
    found: v,
  });
}

/** The dataset of a run: frames = the first layer's timesteps for event data. */
function runDataset(o: RunFlags, dataset: DatasetRef, policy: TracePolicy): Dataset {
  return loadDataset(dataset, o.split, runDatasetOptions(o, policy));
}

/** How a run loads its data (also the training split it calibrates the chip's arithmetic on). */
function runDatasetOptions(o: RunFlags, policy: TracePolicy): LoadDatasetOptions {
  return {
    dataDir: o.dataDir,
    normalize: o.normalize,
    timesteps: policy.name === 'layerwise' ? policy.layer_timesteps![0] : policy.timesteps,
    events: { by: o.binBy, values: o.eventValues },
  };
}

export function registerSnnCommands(program: Command, io: Io): void {
  addRunOptions(
    program
      .command('eval')
      .description(
        'Run a model on a dataset split under an exit policy: accuracy, average timesteps, exit histogram',
      )
      .option(
        '--model <dir|preset>',
        'model directory (network.yaml + weights.safetensors) or bundled model (`imcsim presets`)',
        preset('--model'),
      ),
  )
    .option('--json', 'print JSON')
    .action((o: RunFlags) => {
      const need = needModelAndDataset(o);
      const model = loadModel(need.model);
      checkNetworkMemory(model.spec, model.shapes, {
        timesteps: policyOf(o, model.spec.timesteps).timesteps,
      });
      const ds = runDataset(o, need.dataset, policyOf(o, model.spec.timesteps));
      noteClamp(io, o.samples, ds);
      const bar = progressBar(`eval ${o.policy}`);
      const chip = chipRunOptions(o, need.dataset, runDatasetOptions(o, policyOf(o, model.spec.timesteps)));
      const r = evaluateModel(model, ds, {
        chip,
        policy: policyOf(o, model.spec.timesteps),
        encoding: o.encoding,
        seed: o.seed,
        samples: o.samples,
        onSample: (d, n) => bar.update(d, n),
      });
      bar.stop();
      if (o.json) io.out(JSON.stringify(r, null, 2));
      else
        io.out(
          [
            `${model.spec.name} on ${ds.name}/${ds.split} (${r.samples} samples), policy ${o.policy}`,
            `accuracy          ${pct(r.accuracy)}`,
            `average timesteps ${r.avg_timesteps.toFixed(3)}`,
            `exit histogram    ${r.exit_histogram.map((n, t) => `t=${t + 1}: ${n}`).join('  ')}`,
            `synaptic ops      ${Math.round(r.synops_per_sample).toLocaleString('en')} per sample`,
            r.chip
              ? `arithmetic        chip ${r.chip.arch} (${r.chip.arch_hash}): ${r.chip.weight_bits}-b weights (${r.chip.weight_scale}, ${r.chip.signed_weights}) on ${r.chip.cell_bits}-b cells, ${r.chip.rows_parallel} rows per read, ${r.chip.adc_bits}-b ADC (${r.chip.adc_range}${r.chip.adc_percentile !== null ? ` at the ${r.chip.adc_percentile}th percentile of ${r.chip.calibration_samples} training samples` : ''}), ${r.chip.potential_bits}-b potentials${deviceNote(r.chip.device)}`
              : `arithmetic        float32 (the float engine; --arch runs the chip's arithmetic)`,
          ].join('\n'),
        );
    });

  const trace = program
    .command('trace')
    .description('Record spike traces (engine or synthetic), inspect and export them');
  addRunOptions(
    trace
      .command('run', { isDefault: true })
      .description(
        'Record a trace: every weighted layer’s input per timestep, logits, exit timestep, label, prediction',
      )
      .option(
        '--model <dir|preset>',
        'model directory or bundled model (`imcsim presets`)',
        preset('--model'),
      )
      .requiredOption('--out <file>', 'trace file to write (e.g. traces/mnist-static.trace)')
      .option('--synthetic', 'generate a synthetic trace from spike rates (networks without reachable data)')
      .option(
        '--network <path|preset>',
        'synthetic: network topology (YAML file, model directory or bundled one)',
        preset('--network'),
      )
      .option('--rates <file>', 'synthetic: per-layer, per-timestep spike rates (YAML/JSON)')
      .option('--rate <r>', 'synthetic: one spike rate for every layer and timestep', parseFraction('--rate'))
      .option(
        '--exit-distribution <p1,…,pT>',
        'synthetic with --policy entropy|confidence: probability of exiting after t = 1..T timesteps',
        (v: string) => v.split(',').map((x) => parseFraction('--exit-distribution')(x)),
      ),
  ).action(
    async (
      o: RunFlags & {
        out: string;
        synthetic?: boolean;
        network?: string;
        rates?: string;
        rate?: number;
        exitDistribution?: number[];
      },
    ) => {
      checkOutputFile(o.out);
      if (o.synthetic) {
        if (!o.network) throw located('--synthetic needs --network', { path: '--network' });
        if ((o.rates === undefined) === (o.rate === undefined))
          throw located('--synthetic needs exactly one of --rates FILE or --rate r', { path: '--rates' });
        const net = loadNetwork(o.network);
        const rates = o.rates ? loadYaml(readTextFile(o.rates), o.rates, SpikeRatesSchema) : o.rate!;
        const summary = await generateSyntheticTrace({
          network: net.spec,
          shapes: net.shapes,
          rates,
          samples: o.samples ?? 100,
          seed: o.seed,
          timesteps: o.timesteps ?? net.spec.timesteps,
          out: o.out,
          model: net.spec.name,
          policy: policyOf(o, net.spec.timesteps),
          exitDistribution: o.exitDistribution,
        });
        io.out(
          `wrote ${o.out}: ${summary.samples} synthetic samples of ${net.spec.name}, T=${o.timesteps ?? net.spec.timesteps}`,
        );
        return;
      }
      const need = needModelAndDataset(o);
      const model = loadModel(need.model);
      const policy = policyOf(o, model.spec.timesteps);
      checkNetworkMemory(model.spec, model.shapes, { timesteps: policy.timesteps });
      const ds = runDataset(o, need.dataset, policy);
      noteClamp(io, o.samples, ds);
      const chip = chipRunOptions(o, need.dataset, runDatasetOptions(o, policy));
      const bar = progressBar(`trace ${o.policy}`);
      const summary = await traceModel(model, ds, {
        chip,
        policy,
        encoding: o.encoding,
        seed: o.seed,
        samples: o.samples,
        modelName: basename(resolve(need.model)),
        out: o.out,
        onSample: (d, n) => bar.update(d, n),
      }).finally(() => bar.stop());
      io.out(
        `wrote ${o.out}: ${summary.samples} samples, accuracy ${summary.accuracy === null ? 'n/a' : pct(summary.accuracy)}, average timesteps ${summary.avg_timesteps.toFixed(3)}`,
      );
    },
  );
  trace
    .command('info')
    .description(
      'Summarise a trace: samples, policy, accuracy, average timesteps, spike rate per layer per timestep',
    )
    .argument('<file>', 'trace file')
    .option('--json', 'print JSON')
    .option('--quick', 'read the header and footer only (skip verifying every chunk; says so)')
    .action(async (file: string, o: { json?: boolean; quick?: boolean }) => {
      const info = await traceInfo(file, { quick: o.quick });
      io.out(o.json ? JSON.stringify(info, null, 2) : formatTraceInfo(info));
    });
  trace
    .command('export')
    .description('Export a trace to NIRData (HDF5) for the neuromorphic ecosystem')
    .argument('<file>', 'trace file')
    .requiredOption('--nirdata <out>', 'NIRData HDF5 file to write')
    .action(async (file: string, o: { nirdata: string }) => {
      checkOutputFile(o.nirdata, '--nirdata');
      await exportTraceNirData(file, o.nirdata);
      io.out(`wrote ${o.nirdata}`);
    });

  trace
    .command('import')
    .description(
      'Import spikes recorded elsewhere (NIRData HDF5, or an NPZ of per-layer T × N × … input arrays) as a trace simulate replays',
    )
    .argument(
      '<file>',
      'NIRData (.h5/.nir) or .npz recording (docs/TRACE_FORMAT.md, "Importing recorded spikes")',
    )
    .requiredOption(
      '--network <path|preset>',
      'the network the spikes were recorded on: topology YAML, model directory or bundled one',
      preset('--network'),
    )
    .requiredOption('--out <file>', 'trace file to write')
    .action(async (file: string, o: { network: string; out: string }) => {
      checkOutputFile(o.out);
      const net = loadNetwork(o.network);
      const s = await importTrace(file, net, o.out);
      io.out(
        `wrote ${o.out}: ${s.samples} samples imported from ${basename(file)}, average timesteps ${s.avg_timesteps.toFixed(3)}${s.accuracy === null ? '' : `, accuracy ${pct(s.accuracy)}`}`,
      );
    });

  program
    .command('import')
    .description('Import a NIR graph (HDF5) as an imcsim model (network.yaml + weights.safetensors)')
    .argument('<file>', 'NIR file')
    .requiredOption('--out <dir>', 'model directory to write (e.g. models/cnn-sinabs)')
    .option('--dt <s>', 'integration step for LIF discretisation (s)', (v: string) => {
      const n = Number(v);
      if (!(n > 0))
        throw located('--dt must be a positive number of seconds', {
          path: '--dt',
          found: JSON.stringify(v),
        });
      return n;
    })
    .option(
      '--convention <c>',
      'neuron convention: snntorch | spikingjelly | norse | dtsnn | iir',
      oneOf('--convention', ['snntorch', 'spikingjelly', 'norse', 'dtsnn', 'iir'] as const),
    )
    .option(
      '--timesteps <T>',
      'timesteps the model runs (NIR does not record it)',
      parsePositiveInt('--timesteps'),
    )
    .option(
      '--encoding <enc>',
      `input encoding: ${INPUT_ENCODINGS.join(' | ')} (events: binned event frames, priced as spikes; direct: multi-bit values, priced bit-serially)`,
      oneOf('--encoding', INPUT_ENCODINGS),
    )
    .action(
      async (
        file: string,
        o: {
          out: string;
          dt?: number;
          convention?: 'snntorch' | 'spikingjelly' | 'norse' | 'dtsnn' | 'iir';
          timesteps?: number;
          encoding?: InputEncoding;
        },
      ) => {
        checkOutputDir(o.out);
        const model = await importNir(file, {
          dt: o.dt,
          convention: o.convention,
          name: basename(resolve(o.out)),
          timesteps: o.timesteps,
          encoding: o.encoding,
        });
        saveModel(o.out, model);
        io.out(
          `imported ${file} → ${o.out} (${model.shapes.mapped.length} weighted layers, input [${model.spec.input.shape.join(', ')}], T = ${model.spec.timesteps}, ${model.spec.input.encoding} encoding)`,
        );
        const from = (k: string) => model.metadata[`nir.${k}_from`];
        if (from('timesteps') !== 'option')
          io.err(
            `imcsim: note: assumed T = ${model.spec.timesteps} timesteps (${from('timesteps') === 'default' ? 'imcsim’s default: NIR records no timestep count' : 'from the file’s imcsim metadata'}); pass --timesteps to set it`,
          );
        if (from('encoding') !== 'option')
          io.err(
            `imcsim: note: assumed ${model.spec.input.encoding} input encoding (${from('encoding') === 'default' ? 'imcsim’s default' : 'from the file’s imcsim metadata'}): ${model.spec.input.encoding === 'direct' ? 'the input is priced as multi-bit values, bit-serially' : 'the input is priced as spikes'}; pass --encoding direct|rate|events to set it`,
          );
      },
    );
  program
    .command('export-nir')
    .description('Export an imcsim model as a NIR graph (HDF5)')
    .requiredOption(
      '--model <dir|preset>',
      'model directory or bundled model (`imcsim presets`)',
      preset('--model'),
    )
    .requiredOption('--out <file>', 'NIR file to write')
    .option('--dt <s>', 'integration step used to express LIF leaks as time constants (s)', Number)
    .action(async (o: { model: string; out: string; dt?: number }) => {
      checkOutputFile(o.out);
      await exportNir(loadModel(o.model), o.out, { dt: o.dt });
      io.out(`wrote ${o.out}`);
    });
  program
    .command('init')
    .description(
      'Create a model with seeded random weights from a topology (a starting point for training or tests)',
    )
    .requiredOption(
      '--network <path|preset>',
      'network topology (YAML file, model directory or bundled one)',
      preset('--network'),
    )
    .requiredOption('--out <dir>', 'model directory to write')
    .option('--seed <S>', 'initialisation seed', parseSeed, 0)
    .action((o: { network: string; out: string; seed: number }) => {
      checkOutputDir(o.out);
      const net = loadNetwork(o.network);
      saveModel(o.out, initModel(net.spec, o.seed));
      io.out(`wrote ${o.out} (seed ${o.seed})`);
    });
}
