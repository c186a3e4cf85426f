/**
 * Running a model over a dataset: evaluation (accuracy, timesteps, exit histogram, synaptic operations)
 * and trace recording. Streams sample by sample; nothing but the current sample is kept.
 */
import { located } from '../util/errors.js';
import type { InputEncoding } from '../network/schema.js';
import { TRACE_FORMAT_VERSION, TraceWriter } from '../trace/format.js';
import type { TraceHeader, TracePolicy, TraceSample, TraceSummary } from '../trace/types.js';
import { VERSION } from '../util/version.js';
import type { Dataset } from './data/dataset.js';
import { Engine } from './engine.js';
import type { SnnModel } from './model.js';
import type { ArchSpec } from '../config/schema.js';
import { ChipArithmetic, type ChipModelled } from './chip-arith.js';

export interface RunOptions {
  policy: TracePolicy;
  encoding?: InputEncoding;
  seed?: number;
  /** Use only the first N samples of the dataset. */
  samples?: number;
  /** Called after each sample (progress bars). */
  onSample?: (done: number, total: number) => void;
  /** Hardware-aware inference: run on this chip's arithmetic (snn/chip-arith.ts). */
  chip?: ChipRunOptions;
}

export interface ChipRunOptions {
  spec: ArchSpec;
  /** The arch's name as given (preset name or file name), recorded with its content hash. */
  name: string;
  /** Calibration samples (ADC and potential ranges): the first adc.calibration_samples of this split. */
  calibration: Dataset;
}

export interface EvalResult {
  samples: number;
  accuracy: number;
  avg_timesteps: number;
  /** exit_histogram[t-1]: samples that exited after t timesteps. */
  exit_histogram: number[];
  synops_per_sample: number;
  neuron_updates_per_sample: number;
  /** Under --arch: the chip whose arithmetic computed the spikes and what was modelled. */
  chip?: ChipModelled;
}

/**
 * An engine for a run: float, or on a chip's arithmetic, calibrated on the first
 * adc.calibration_samples samples of the calibration split (under a static policy over the run's longest
 * timestep count, so every timestep's partial sums are seen; ADC ideal, potentials in float).
 */
export function prepareEngine(
  model: SnnModel,
  opts: { policy: TracePolicy; encoding?: InputEncoding; seed?: number; chip?: ChipRunOptions },
  binaryFrames = true,
): { engine: Engine; chip: ChipArithmetic | null } {
  const eng = new Engine(model);
  if (!opts.chip) return { engine: eng, chip: null };
  const { spec, name, calibration } = opts.chip;
  const encoding = opts.encoding ?? model.spec.input.encoding;
  checkInput(model, calibration, encoding);
  const chip = new ChipArithmetic(eng.net, spec, model.shapes, name);
  eng.attachChip(chip, binaryFrames);
  const calPolicy: TracePolicy =
    opts.policy.name === 'layerwise' ? opts.policy : { name: 'static', timesteps: opts.policy.timesteps };
  const n = Math.min(spec.adc.calibration_samples, calibration.count);
  const size = sampleSize(model, calibration);
  for (let i = 0; i < n; i++)
    eng.run(calibration.images.subarray(i * size, (i + 1) * size), i, {
      policy: calPolicy,
      encoding,
      seed: opts.seed,
      frames: calibration.frames,
    });
  chip.finishCalibration();
  chip.resetReadCounts();
  return { engine: eng, chip };
}

export function checkPolicy(model: SnnModel, policy: TracePolicy): void {
  if (!Number.isInteger(policy.timesteps) || policy.timesteps < 1)
    throw located('timesteps must be a positive integer', {
      path: '--timesteps',
      found: String(policy.timesteps),
    });
  if (
    (policy.name === 'entropy' || policy.name === 'confidence') &&
    (policy.theta === undefined || !(policy.theta >= 0 && policy.theta <= 1))
  )
    throw located(`the ${policy.name} policy needs θ in [0, 1]`, {
      path: '--theta',
      found: String(policy.theta),
    });
  if (policy.name === 'layerwise') {
    const n = model.shapes.mapped.length;
    const lt = policy.layer_timesteps;
    if (!lt || lt.length !== n || lt.some((t) => !Number.isInteger(t) || t < 1))
      throw located('the layerwise policy needs a positive timestep count per weighted layer', {
        path: '--layer-timesteps',
        expected: `${n} integers (${model.shapes.mapped.map((l) => l.name).join(', ')})`,
        found: lt ? lt.join(',') : 'none',
      });
  }
}

function sampleCount(ds: Dataset, n?: number): number {
  return n === undefined ? ds.count : Math.min(n, ds.count);
}

/**
 * The dataset must fit the model: the same [C, H, W] (a 1-D model input takes any image of as many
 * values, flattened), labels below the model's class count, and event frames only under the events
 * encoding (and the events encoding only with event frames).
 */
export function checkInput(model: SnnModel, ds: Dataset, encoding: InputEncoding): void {
  const shape = model.spec.input.shape;
  const want = shape.reduce((a, b) => a * b, 1);
  const got = ds.shape.reduce((a, b) => a * b, 1);
  const sameDims =
    shape.length === 1
      ? want === got
      : shape.length === ds.shape.length && shape.every((d, i) => d === ds.shape[i]);
  const need =
    shape.length === 3 ? shape : ds.shape.length === 3 && shape.length === 2 ? [1, ...shape] : shape;
  const fits = sameDims || (need.length === 3 && need.every((d, i) => d === ds.shape[i]));
  // Channel-last arrays (N×H×W×C, as Keras and many numpy datasets store images) are read as C×H×W.
  const channelLast =
    shape.length === 3 && ds.shape[0] === shape[1] && ds.shape[1] === shape[2] && ds.shape[2] === shape[0];
  if (!fits)
    throw located(
      `the images of dataset ${ds.name} do not fit the input of model ${model.spec.name}${channelLast ? ' — they look channel-last: store them N×C×H×W, e.g. np.transpose(images, (0, 3, 1, 2))' : ''}`,
      {
        path: 'input.shape',
        expected: `[${shape.join(', ')}] (the model's input)`,
        found: `[${ds.shape.join(', ')}] per sample in the dataset`,
      },
    );
  if (ds.classes > model.spec.classes)
    throw located(`dataset ${ds.name} has labels beyond the model's ${model.spec.classes} classes`, {
      path: 'classes',
      expected: `labels 0..${model.spec.classes - 1}`,
      found: `labels up to ${ds.classes - 1}`,
    });
  if ((ds.frames !== undefined) !== (encoding === 'events'))
    throw located(
      ds.frames !== undefined
        ? `dataset ${ds.name} holds event frames but the input encoding is ${encoding}`
        : `the input encoding is events but dataset ${ds.name} holds static images`,
      {
        path: 'encoding',
        expected:
          ds.frames !== undefined
            ? 'events (--encoding events or the network file)'
            : 'an events:FILE dataset',
        found: encoding,
      },
    );
}

function sampleSize(model: SnnModel, ds: Dataset): number {
  return model.spec.input.shape.reduce((a, b) => a * b, 1) * (ds.frames ?? 1);
}

export function evaluateModel(model: SnnModel, ds: Dataset, opts: RunOptions): EvalResult {
  checkPolicy(model, opts.policy);
  const encoding = opts.encoding ?? model.spec.input.encoding;
  checkInput(model, ds, encoding);
  const { engine: eng, chip } = prepareEngine(model, opts, ds.binaryFrames ?? true);
  const n = sampleCount(ds, opts.samples);
  const size = sampleSize(model, ds);
  const runOpts = { ...opts, encoding, frames: ds.frames };
  const maxT =
    opts.policy.name === 'layerwise' ? Math.max(...opts.policy.layer_timesteps!) : opts.policy.timesteps;
  const hist = new Array<number>(maxT).fill(0);
  let correct = 0;
  let steps = 0;
  let synops = 0;
  let updates = 0;
  for (let i = 0; i < n; i++) {
    const r = eng.run(ds.images.subarray(i * size, (i + 1) * size), i, runOpts);
    if (r.prediction === ds.labels[i]) correct++;
    steps += r.exitTimestep;
    hist[r.exitTimestep - 1]++;
    synops += r.synops;
    updates += r.neuronUpdates;
    opts.onSample?.(i + 1, n);
  }
  return {
    samples: n,
    accuracy: n ? correct / n : 0,
    avg_timesteps: n ? steps / n : 0,
    exit_histogram: hist,
    synops_per_sample: n ? synops / n : 0,
    neuron_updates_per_sample: n ? updates / n : 0,
    ...(chip ? { chip: chip.modelled } : {}),
  };
}

/** Packs a 0/1 frame into bits (bit i → byte i>>3, bit i&7, LSB first). */
function packFrame(x: Float32Array): Uint8Array {
  const out = new Uint8Array((x.length + 7) >> 3);
  for (let i = 0; i < x.length; i++) if (x[i] !== 0) out[i >> 3] |= 1 << (i & 7);
  return out;
}

export interface TraceRunOptions extends RunOptions {
  modelName: string;
  out: string;
}

/** Runs the model over the dataset and streams every sample's layer inputs and logits to a trace. */
export async function traceModel(model: SnnModel, ds: Dataset, opts: TraceRunOptions): Promise<TraceSummary> {
  checkPolicy(model, opts.policy);
  const encoding = opts.encoding ?? model.spec.input.encoding;
  checkInput(model, ds, encoding);
  const { engine: eng, chip } = prepareEngine(model, { ...opts, encoding }, ds.binaryFrames ?? true);
  const kinds = eng.inputKinds(encoding, opts.policy, ds.binaryFrames ?? true);
  const header: TraceHeader = {
    format: 'imcsim-trace',
    format_version: TRACE_FORMAT_VERSION,
    engine_version: VERSION,
    created: 'engine',
    synthetic: false,
    model: opts.modelName,
    dataset: ds.name,
    split: ds.split,
    network: model.spec,
    policy: opts.policy,
    encoding,
    seed: opts.seed ?? 0,
    classes: model.spec.classes,
    layers: eng.net.stages.map((st, l) => ({
      name: st.name,
      input_elements: st.inSize,
      input_kind: kinds[l],
      timesteps: opts.policy.name === 'layerwise' ? opts.policy.layer_timesteps![l] : opts.policy.timesteps,
    })),
    notes: {
      dataset_source: ds.source,
      ...(ds.frames !== undefined ? { event_frames: ds.frames } : {}),
      // Under --arch: the chip whose arithmetic computed these spikes (simulate compares it with its own).
      ...(chip ? { chip: chip.modelled } : {}),
    },
  };
  const n = sampleCount(ds, opts.samples);
  const size = sampleSize(model, ds);
  const writer = await TraceWriter.open(opts.out, header);
  try {
    for (let i = 0; i < n; i++) {
      const r = eng.run(ds.images.subarray(i * size, (i + 1) * size), i, {
        ...opts,
        encoding,
        frames: ds.frames,
        record: true,
      });
      const sample: TraceSample = {
        index: i,
        label: ds.labels[i],
        prediction: r.prediction,
        exitTimestep: r.exitTimestep,
        logits: r.logits,
        inputs: r.inputs!.map((frames, l) => frames.map((f) => (kinds[l] === 'spikes' ? packFrame(f) : f))),
      };
      await writer.write(sample);
      opts.onSample?.(i + 1, n);
    }
    return await writer.close();
  } catch (e) {
    await writer.abort();
    throw e;
  }
}
