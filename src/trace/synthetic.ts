/**
 * Synthetic spike traces: random inputs at given per-layer, per-timestep rates, for replaying a network on
 * the hardware without a trained model. Streams through TraceWriter; the same options give the same bytes.
 */
import { located } from '../config/errors.js';
import { resolveRates, type LayerRates, type SpikeRatesSpec } from '../network/rates.js';
import type { NetworkSpec } from '../network/schema.js';
import { checkNetworkMemory } from '../network/memory.js';
import { inferShapes, type NetworkShapes } from '../network/shapes.js';
import { Rng } from '../util/rng.js';
import { VERSION } from '../util/version.js';
import { TRACE_FORMAT_VERSION, TraceWriter, traceLayersOf, type TraceWriterOptions } from './format.js';
import type { TraceHeader, TracePolicy, TraceSample, TraceSummary } from './types.js';

export interface SyntheticTraceOptions {
  network: NetworkSpec;
  shapes?: NetworkShapes;
  /** Spike-rate spec (resolved with resolveRates), or one rate for every layer and timestep. */
  rates: SpikeRatesSpec | number;
  samples: number;
  seed: number;
  timesteps: number;
  out: string;
  /** Model name in the header (default: the network's name). */
  model?: string;
  /** Chunking and frame encoding (tests, benchmarks). */
  writer?: TraceWriterOptions;
  /**
   * Exit policy recorded in the header (default static T). With `entropy` or `confidence`, each
   * sample's exit timestep is drawn from `exitDistribution`; frames after the exit are not recorded,
   * as in an engine trace of a sample that exited.
   */
  policy?: TracePolicy;
  /** P(exit after t timesteps) for t = 1..T (non-negative, sums to 1); needed by a dynamic policy. */
  exitDistribution?: number[];
}

/**
 * Positions of the successes of n Bernoulli(p) trials, in increasing order, written to `out`; returns their
 * number. Draws geometric gaps (about p·n draws instead of n); for p > ½ draws the failures instead.
 */
function bernoulli(rng: Rng, n: number, p: number, out: Uint32Array): number {
  let k = 0;
  if (p <= 0) return 0;
  if (p >= 1) {
    for (let i = 0; i < n; i++) out[i] = i;
    return n;
  }
  const inv = 1 / Math.log1p(-(p <= 0.5 ? p : 1 - p));
  // gap = ⌊ln U / ln(1 − q)⌋ with U uniform in (0, 1]: failures before the next success (of probability q).
  if (p <= 0.5) {
    for (
      let i = Math.floor(Math.log(1 - rng.next()) * inv);
      i < n;
      i += 1 + Math.floor(Math.log(1 - rng.next()) * inv)
    )
      out[k++] = i;
    return k;
  }
  let skip = Math.floor(Math.log(1 - rng.next()) * inv);
  for (let i = 0; i < n; i++) {
    if (i === skip) skip += 1 + Math.floor(Math.log(1 - rng.next()) * inv);
    else out[k++] = i;
  }
  return k;
}

export async function generateSyntheticTrace(opts: SyntheticTraceOptions): Promise<TraceSummary> {
  const { network, samples, seed, timesteps, out } = opts;
  const bad = (path: string, expected: string, found: unknown): never => {
    throw located('invalid synthetic trace option', { path, expected, found: JSON.stringify(found) });
  };
  if (!Number.isInteger(samples) || samples < 0) bad('samples', 'a non-negative integer', samples);
  if (!Number.isInteger(timesteps) || timesteps < 1 || timesteps > 0xffff)
    bad('timesteps', 'an integer in 1..65535', timesteps);
  if (!Number.isInteger(seed)) bad('seed', 'an integer', seed);
  const shapes = opts.shapes ?? inferShapes(network);
  checkNetworkMemory(network, shapes, { timesteps });
  const mapped = shapes.mapped;
  let rates: LayerRates;
  if (typeof opts.rates === 'number') {
    const r = opts.rates;
    if (!(r >= 0 && r <= 1)) bad('rates', 'a rate in [0, 1]', r);
    rates = mapped.map(() => new Array<number>(timesteps).fill(r));
  } else {
    rates = resolveRates(opts.rates, mapped, () => timesteps);
  }
  const policy: TracePolicy = opts.policy ?? { name: 'static', timesteps };
  if (policy.timesteps !== timesteps)
    bad('policy.timesteps', `the trace's timesteps (${timesteps})`, policy.timesteps);
  if (policy.name === 'layerwise') bad('policy.name', 'static | entropy | confidence', policy.name);
  const dynamic = policy.name === 'entropy' || policy.name === 'confidence';
  // Cumulative exit distribution: a sample exits after the first t whose cumulative share exceeds u.
  let exitCdf: Float64Array | null = null;
  if (dynamic) {
    const d = opts.exitDistribution;
    if (!d || d.length !== timesteps || d.some((p) => !(p >= 0)))
      bad('exitDistribution', `${timesteps} non-negative probabilities (exit after t = 1..${timesteps})`, d);
    const sum = d!.reduce((a, b) => a + b, 0);
    if (Math.abs(sum - 1) > 1e-9) bad('exitDistribution', 'probabilities summing to 1', sum);
    exitCdf = new Float64Array(timesteps);
    let c = 0;
    d!.forEach((p, t) => (exitCdf![t] = c += p));
    exitCdf[timesteps - 1] = 1;
  } else if (opts.exitDistribution)
    bad('exitDistribution', `none with the ${policy.name} policy`, opts.exitDistribution);
  const layers = traceLayersOf(mapped, () => timesteps);
  const header: TraceHeader = {
    format: 'imcsim-trace',
    format_version: TRACE_FORMAT_VERSION,
    engine_version: VERSION,
    created: 'synthetic',
    synthetic: true,
    model: opts.model ?? network.name,
    dataset: null,
    split: null,
    network,
    policy,
    encoding: network.input.encoding,
    seed,
    classes: network.classes,
    layers,
    notes: {
      rates_requested: opts.rates,
      rates: Object.fromEntries(layers.map((l, i) => [l.name, rates[i]])),
      values: 'uniform in (0, 1] at a fraction `rate` of the elements of values layers',
      ...(exitCdf ? { exit_distribution: opts.exitDistribution, logits: 'zeros (no network ran)' } : {}),
    },
  };

  // One sample's frames, reused: the writer copies each sample into its chunk before the next is drawn.
  const inputs = layers.map((l) =>
    Array.from({ length: timesteps }, () =>
      l.input_kind === 'spikes'
        ? new Uint8Array((l.input_elements + 7) >> 3)
        : new Float32Array(l.input_elements),
    ),
  );
  const fullLogits = new Float32Array(timesteps * network.classes);
  const sample: TraceSample = {
    index: 0,
    label: -1,
    prediction: -1,
    exitTimestep: timesteps,
    logits: fullLogits,
    inputs: inputs.slice(),
  };
  const rng = new Rng(seed);
  const positions = new Uint32Array(Math.max(...layers.map((l) => l.input_elements)));
  const writer = await TraceWriter.open(out, header, opts.writer);
  try {
    for (let s = 0; s < samples; s++) {
      sample.index = s;
      let exitT = timesteps;
      if (exitCdf) {
        const u = rng.next();
        exitT = 1;
        while (exitT < timesteps && u >= exitCdf[exitT - 1]) exitT++;
      }
      sample.exitTimestep = exitT;
      sample.logits = exitT === timesteps ? fullLogits : new Float32Array(exitT * network.classes);
      for (let l = 0; l < layers.length; l++) {
        const n = layers[l].input_elements;
        sample.inputs[l] = exitT === timesteps ? inputs[l] : inputs[l].slice(0, exitT);
        for (let t = 0; t < exitT; t++) {
          const p = rates[l][t];
          const f = inputs[l][t];
          f.fill(0);
          const k = bernoulli(rng, n, p, positions);
          if (f instanceof Uint8Array)
            for (let j = 0; j < k; j++) {
              const i = positions[j];
              f[i >> 3] |= 1 << (i & 7);
            }
          else for (let j = 0; j < k; j++) f[positions[j]] = 1 - rng.next();
        }
      }
      await writer.write(sample);
    }
    return await writer.close();
  } catch (e) {
    await writer.abort();
    throw e;
  }
}
