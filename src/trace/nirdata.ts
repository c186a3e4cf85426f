/**
 * Exports a spike trace as NIRData (the observables layout of the public NIR repository, docs/SOURCES.md §3),
 * HDF5 written with h5wasm:
 *   / (attr __type__ = "NIRGraphData")
 *   /nodes/<layer>/observables/spikes/data   u8 (samples, timesteps, input_elements) — the INPUT spikes of
 *                                            each 'spikes' layer of the trace, zero after the layer stopped
 *                                            ('values' layers — direct-encoded images, sums after pooling —
 *                                            hold no spikes and are not written)
 *   /nodes/output/observables/logits/data    f32 (samples, timesteps, classes) — per-timestep logits o_t
 *                                            (not accumulated), zero after the sample's exit
 *   /nodes/output/observables/exit_timestep  i32 (samples) — timesteps the output layer ran (1-based)
 * imcsim's additions, so that `trace import` rebuilds the same trace (other readers may ignore them):
 *   /nodes/<layer>/observables/values/data   f32 (samples, timesteps, input_elements) — the multi-bit input
 *                                            of each 'values' layer (direct-encoded image, sums after pooling)
 *   /nodes/output/observables/labels         i32 (samples) — true class, −1 when unknown
 *   / attrs imcsim_policy (JSON of the trace's policy), imcsim_encoding (its input encoding)
 * Each node group carries attr __type__ = "NIRNodeData"; each observable group __type__ =
 * "TimeGriddedData" and attr dt (seconds per timestep). The file is written to a temporary name and
 * renamed, so it appears whole or not at all. Samples are streamed; at most one batch is in memory.
 */
import { renameSync, rmSync } from 'node:fs';
import type { Dataset, Group } from 'h5wasm/node';
import { located } from '../util/errors.js';
import { fileSystemError, prepareOutputFile } from '../util/fs-errors.js';
import { registerTemp, releaseTemp } from '../util/temp-files.js';
import { TraceReader } from './format.js';
import type { TraceHeader } from './types.js';

export interface NirDataOptions {
  /**
   * Seconds per timestep written as the `dt` attribute. Default: the network's neuron dt when its
   * convention is norse, else 1e-4 s (the step NIR exporters assume, as in importNir).
   */
  dt?: number;
  /** Samples buffered before a write (default 64). */
  batch?: number;
}

const DEFAULT_DT = 1e-4;

function defaultDt(h: TraceHeader): number {
  const n = h.network?.neuron;
  return n && n.convention === 'norse' && n.dt > 0 ? n.dt : DEFAULT_DT;
}

/** A resizable (samples, T, width) dataset filled a batch of samples at a time. */
class Gridded<A extends Uint8Array | Float32Array> {
  rows = 0;
  private buf: A;
  private fill = 0;
  readonly ds: Dataset;
  constructor(
    parent: Group,
    readonly T: number,
    readonly width: number,
    readonly batch: number,
    make: (n: number) => A,
    dtype: string,
  ) {
    this.buf = make(batch * T * width);
    this.ds = parent.create_dataset({
      name: 'data',
      data: make(0),
      shape: [0, T, width],
      maxshape: [null, T, width],
      chunks: [1, T, width],
      dtype,
    });
  }
  /** The zeroed slot of the next sample in the batch buffer. */
  next(): A {
    if (this.fill === this.batch) this.flush();
    const size = this.T * this.width;
    const slot = this.buf.subarray(this.fill * size, (this.fill + 1) * size) as A;
    slot.fill(0);
    this.fill++;
    return slot;
  }
  flush(): void {
    if (this.fill === 0) return;
    const n = this.fill;
    this.ds.resize([this.rows + n, this.T, this.width]);
    this.ds.write_slice([[this.rows, this.rows + n], [], []], this.buf.subarray(0, n * this.T * this.width));
    this.rows += n;
    this.fill = 0;
  }
}

function observable(nodes: Group, node: string, obs: string, dt: number): Group {
  const ng = nodes.keys().includes(node) ? (nodes.get(node) as Group) : nodes.create_group(node);
  if (!ng.keys().includes('observables')) {
    ng.create_attribute('__type__', 'NIRNodeData');
    ng.create_group('observables');
  }
  const og = (ng.get('observables') as Group).create_group(obs);
  og.create_attribute('__type__', 'TimeGriddedData');
  og.create_attribute('dt', dt);
  return og;
}

/** Writes the trace at tracePath as a NIRData HDF5 file at out. */
export async function exportTraceNirData(
  tracePath: string,
  out: string,
  opts: NirDataOptions = {},
): Promise<void> {
  const reader = await TraceReader.open(tracePath);
  try {
    const h = reader.header;
    const dt = opts.dt ?? defaultDt(h);
    if (!(dt > 0))
      throw located('dt must be a positive number of seconds', { path: 'dt', found: String(dt) });
    const batch = Math.max(1, Math.floor(opts.batch ?? 64));
    const classes = h.classes;
    const outT = Math.max(h.policy.timesteps, h.layers[h.layers.length - 1].timesteps);
    const used = new Set(['output']);
    const spikeLayers = h.layers
      .map((l, i) => ({ l, i }))
      .map(({ l, i }) => {
        // Node names must be unique HDF5 names: no '/', and 'output' is taken.
        const base = l.name.replace(/\//g, '_') || `layer${i}`;
        let name = base;
        for (let k = 2; used.has(name); k++) name = `${base}_${k}`;
        used.add(name);
        return { i, name, n: l.input_elements, T: l.timesteps, spikes: l.input_kind === 'spikes' };
      });

    // Loaded on first use, not at every command's start-up.
    const h5wasm = (await import('h5wasm/node')).default;
    await h5wasm.ready;
    const tmp = `${out}.tmp-${process.pid}`;
    prepareOutputFile(out, tmp);
    registerTemp(tmp);
    try {
      const f = new h5wasm.File(tmp, 'w');
      try {
        f.create_attribute('__type__', 'NIRGraphData');
        f.create_attribute('imcsim_policy', JSON.stringify(h.policy));
        f.create_attribute('imcsim_encoding', h.encoding);
        const nodes = f.create_group('nodes');
        const spikes = spikeLayers.map((s) =>
          s.spikes
            ? new Gridded(observable(nodes, s.name, 'spikes', dt), s.T, s.n, batch, (k) => new Uint8Array(k), '<B')
            : new Gridded(observable(nodes, s.name, 'values', dt), s.T, s.n, batch, (k) => new Float32Array(k), '<f'),
        );
        const logits = new Gridded(
          observable(nodes, 'output', 'logits', dt),
          outT,
          classes,
          batch,
          (k) => new Float32Array(k),
          '<f',
        );
        const exits: number[] = [];
        const labels: number[] = [];
        for await (const s of reader) {
          spikeLayers.forEach((sl, j) => {
            const slot = spikes[j].next();
            const frames = s.inputs[sl.i] ?? [];
            if (frames.length > sl.T)
              throw located(`sample ${s.index} has more timesteps than its layer`, {
                file: tracePath,
                path: `samples[${s.index}].inputs[${sl.i}]`,
                expected: `≤ ${sl.T}`,
                found: String(frames.length),
              });
            frames.forEach((frame, t) => {
              const base = t * sl.n;
              if (!sl.spikes) slot.set(frame as Float32Array, base);
              else if (frame instanceof Float32Array) {
                for (let e = 0; e < sl.n; e++) slot[base + e] = frame[e] !== 0 ? 1 : 0;
              } else {
                for (let e = 0; e < sl.n; e++) slot[base + e] = (frame[e >> 3] >> (e & 7)) & 1;
              }
            });
          });
          if (s.exitTimestep > outT || s.logits.length !== s.exitTimestep * classes)
            throw located(`sample ${s.index} has logits that do not match its exit timestep`, {
              file: tracePath,
              path: `samples[${s.index}].logits`,
              expected: `exitTimestep (≤ ${outT}) × ${classes} values`,
              found: `${s.logits.length} values, exit at ${s.exitTimestep}`,
            });
          logits.next().set(s.logits);
          exits.push(s.exitTimestep);
          labels.push(s.label);
        }
        for (const g of spikes) g.flush();
        logits.flush();
        const og = (nodes.get('output') as Group).get('observables') as Group;
        og.create_dataset({ name: 'exit_timestep', data: Int32Array.from(exits), shape: [exits.length] });
        og.create_dataset({ name: 'labels', data: Int32Array.from(labels), shape: [labels.length] });
      } finally {
        f.close();
      }
      renameSync(tmp, out);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw fileSystemError(e, out) ?? e;
    } finally {
      releaseTemp(tmp);
    }
  } finally {
    await reader.close();
  }
}
