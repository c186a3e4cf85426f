/**
 * Spikes recorded elsewhere → an imcsim trace that `simulate` replays (docs/TRACE_FORMAT.md, "Importing
 * recorded spikes"). Two inputs, told apart by their signature:
 *
 *   NIRData (HDF5)  /nodes/<layer>/observables/spikes/data (samples, T, …) — the input spikes of each
 *                   weighted layer, as `trace export --nirdata` writes them; `values/data` for multi-bit
 *                   inputs; optional /nodes/output/observables/{logits/data (samples, T, classes),
 *                   exit_timestep (samples), labels (samples)}; optional root attributes imcsim_policy,
 *                   imcsim_encoding
 *   NPZ (ZIP)       one array per weighted layer, named by the layer, shaped (T, samples, …) — the
 *                   layer's input per timestep, as PyTorch hooks record it; optional `labels` (samples),
 *                   `logits` (T, samples, classes), `exit_timestep` (samples)
 *
 * The network (`--network`) says which layers exist, their input sizes and, for NPZ, which inputs are
 * spikes (binary; its input encoding decides the first layer) and which are multi-bit values. Every
 * weighted layer must be present; spike arrays must hold only 0 and 1; values must be finite. Without a
 * recorded policy the trace is static over the recorded T. The whole file is read into memory first.
 */
import { basename } from 'node:path';
import type { Dataset as H5Dataset, Group } from 'h5wasm/node';
import type { NetworkSpec } from '../network/schema.js';
import type { NetworkShapes } from '../network/shapes.js';
import { located } from '../util/errors.js';
import { h5, looksLikeHdf5, withQuietHdf5, type H5Lib } from '../util/hdf5.js';
import { NpzFile, readInputFile, type NpyArray } from '../util/npy.js';
import { VERSION } from '../util/version.js';
import { packBits, TraceWriter } from './format.js';
import type { TraceHeader, TraceLayer, TracePolicy, TraceSummary } from './types.js';

/** One layer's recording: per sample, T frames of n values, sample-major (sample, t, element). */
interface LayerData {
  kind: 'spikes' | 'values';
  T: number;
  data: ArrayLike<number>;
  /** Strides: value (s, t, e) at s·sStride + t·tStride + e. */
  sStride: number;
  tStride: number;
}

interface Recording {
  format: 'nirdata' | 'npz';
  samples: number;
  layers: LayerData[];
  logits?: { data: ArrayLike<number>; sStride: number; tStride: number; classes: number };
  exits?: ArrayLike<number>;
  labels?: ArrayLike<number>;
  policy?: TracePolicy;
  encoding?: TraceHeader['encoding'];
}

const nodeName = (layer: string) => layer.replace(/\//g, '_');

/**
 * An NPZ array names a layer by the layer's own name, or by the PyTorch module name it came from: `imcsim
 * import` names a layer after its NIR node, sanitised to [A-Za-z0-9_-] and, when that does not start with
 * a letter, prefixed with the node type (snnTorch's module `0`, a Conv2d, becomes `conv2d_0`; a Linear with
 * bias, exported as Affine, `affine_3`; `features.0` becomes `features_0`).
 */
export function npzKeyMatches(key: string, layer: string): boolean {
  const s = key.replace(/[^A-Za-z0-9_-]/g, '_');
  if (key === layer || s === layer) return true;
  return !/^[A-Za-z_]/.test(s) && ['conv2d', 'affine', 'linear'].some((t) => `${t}_${s}` === layer);
}
const prod = (a: readonly number[]) => a.reduce((x, y) => x * y, 1);

function missing(file: string, names: string[], found: string[]): never {
  throw located(`the recording lacks weighted layer${names.length > 1 ? 's' : ''} ${names.join(', ')}`, {
    file,
    expected: 'one recording per weighted layer of the network (its input spikes per timestep)',
    found: found.join(', ') || 'nothing',
  });
}

function readNirData(file: string, shapes: NetworkShapes, lib: H5Lib): Recording {
  const f = new lib.File(file, 'r');
  try {
    const nodes = f.get('nodes');
    if (!(nodes instanceof lib.Group))
      throw located('not a NIRData file: there is no /nodes group', { file, path: '/nodes' });
    const keys = (nodes as Group).keys();
    const obsOf = (node: string) => {
      if (!keys.includes(node)) return undefined;
      const g = (nodes as Group).get(node);
      if (!(g instanceof lib.Group) || !g.keys().includes('observables')) return undefined;
      return g.get('observables') as Group;
    };
    const dataOf = (obs: Group, name: string): H5Dataset | undefined => {
      if (!obs.keys().includes(name)) return undefined;
      const g = obs.get(name);
      if (g instanceof lib.Dataset) return g;
      if (g instanceof lib.Group && g.keys().includes('data')) {
        const d = g.get('data');
        if (d instanceof lib.Dataset) return d;
      }
      if (g instanceof lib.Group && g.keys().includes('idx'))
        throw located(`observable ${name} is EventData (index/time lists); only TimeGriddedData is read`, {
          file,
          path: `/nodes/.../observables/${name}`,
          expected: 'TimeGriddedData (data of shape samples × T × …)',
        });
      return undefined;
    };
    const layers: LayerData[] = [];
    const absent: string[] = [];
    let samples = -1;
    for (const l of shapes.mapped) {
      const obs = obsOf(nodeName(l.name));
      const sp = obs && dataOf(obs, 'spikes');
      const va = obs && !sp ? dataOf(obs, 'values') : undefined;
      const ds = sp ?? va;
      if (!ds) {
        absent.push(l.name);
        continue;
      }
      const path = `/nodes/${nodeName(l.name)}/observables/${sp ? 'spikes' : 'values'}`;
      const shape = ds.shape ?? [];
      if (shape.length < 3 || prod(shape.slice(2)) !== l.inputElements)
        throw located(`layer ${l.name}: the recording does not match the layer's input`, {
          file,
          path,
          expected: `samples × T × ${l.inputElements} input elements`,
          found: `[${shape.join(', ')}]`,
        });
      if (samples >= 0 && shape[0] !== samples)
        throw located('the layers hold different sample counts', {
          file,
          path,
          expected: String(samples),
          found: String(shape[0]),
        });
      samples = shape[0];
      const data = ds.value as ArrayLike<number>;
      layers.push({
        kind: sp ? 'spikes' : 'values',
        T: shape[1],
        data,
        sStride: shape[1] * l.inputElements,
        tStride: l.inputElements,
      });
    }
    if (absent.length) missing(file, absent, keys);
    const rec: Recording = { format: 'nirdata', samples, layers };
    const out = obsOf('output');
    if (out) {
      const lg = dataOf(out, 'logits');
      if (lg) {
        const s = lg.shape ?? [];
        if (s.length !== 3 || s[0] !== samples)
          throw located('logits must be samples × T × classes', {
            file,
            path: '/nodes/output/observables/logits',
            found: `[${s.join(', ')}]`,
          });
        rec.logits = {
          data: lg.value as ArrayLike<number>,
          sStride: s[1] * s[2],
          tStride: s[2],
          classes: s[2],
        };
      }
      const ex = dataOf(out, 'exit_timestep');
      if (ex) rec.exits = ex.value as ArrayLike<number>;
      const lb = dataOf(out, 'labels');
      if (lb) rec.labels = lb.value as ArrayLike<number>;
    }
    const attrs = f.attrs as Record<string, { value: unknown }>;
    if (attrs.imcsim_policy) rec.policy = JSON.parse(String(attrs.imcsim_policy.value)) as TracePolicy;
    if (attrs.imcsim_encoding) rec.encoding = String(attrs.imcsim_encoding.value) as TraceHeader['encoding'];
    return rec;
  } finally {
    f.close();
  }
}

function readNpzRecording(file: string, shapes: NetworkShapes): Recording {
  const z = new NpzFile(file, readInputFile(file));
  const names = z.names();
  const layers: LayerData[] = [];
  const absent: string[] = [];
  let samples = -1;
  let T = -1;
  for (const l of shapes.mapped) {
    const key = names.find((k) => npzKeyMatches(k, l.name));
    if (!key) {
      absent.push(l.name);
      continue;
    }
    const a: NpyArray = z.get(key);
    if (a.shape.length < 3 || prod(a.shape.slice(2)) !== l.inputElements)
      throw located(`layer ${l.name}: the array does not match the layer's input`, {
        file,
        path: key,
        expected: `T × samples × ${l.inputElements} input elements (e.g. T × N × C × H × W)`,
        found: `[${a.shape.join(', ')}]`,
      });
    const [t, s] = a.shape;
    if (samples >= 0 && s !== samples)
      throw located('the layers hold different sample counts', {
        file,
        path: key,
        expected: String(samples),
        found: String(s),
      });
    if (T >= 0 && t !== T)
      throw located('the layers hold different timestep counts', {
        file,
        path: key,
        expected: String(T),
        found: String(t),
      });
    samples = s;
    T = t;
    // (T, N, n): value (s, t, e) at t·N·n + s·n + e.
    layers.push({
      kind: l.binaryInput ? 'spikes' : 'values',
      T: t,
      data: a.data,
      sStride: l.inputElements,
      tStride: s * l.inputElements,
    });
  }
  if (absent.length) missing(file, absent, names);
  const rec: Recording = { format: 'npz', samples, layers };
  if (z.has('logits')) {
    const lg = z.get('logits');
    if (lg.shape.length !== 3 || lg.shape[0] !== T || lg.shape[1] !== samples)
      throw located('logits must be T × samples × classes', {
        file,
        path: 'logits',
        found: `[${lg.shape.join(', ')}]`,
      });
    rec.logits = {
      data: lg.data,
      sStride: lg.shape[2],
      tStride: samples * lg.shape[2],
      classes: lg.shape[2],
    };
  }
  if (z.has('exit_timestep')) rec.exits = z.get('exit_timestep').data;
  if (z.has('labels')) rec.labels = z.get('labels').data;
  return rec;
}

export interface TraceImportOptions {
  /** Model name recorded in the header (default: the network's name). */
  model?: string;
}

/** Reads a NIRData or NPZ spike recording and writes it as an imcsim trace at `out`. */
export async function importTrace(
  file: string,
  network: { spec: NetworkSpec; shapes: NetworkShapes },
  out: string,
  opts: TraceImportOptions = {},
): Promise<TraceSummary> {
  const { spec, shapes } = network;
  const bytes = readInputFile(file);
  let rec: Recording;
  if (looksLikeHdf5(file)) {
    const lib = await h5();
    rec = withQuietHdf5(file, 'NIRData file', 'an intact HDF5 file (NIRData)', () =>
      readNirData(file, shapes, lib),
    );
  } else if (bytes[0] === 0x50 && bytes[1] === 0x4b) rec = readNpzRecording(file, shapes);
  else
    throw located('not a spike recording: neither HDF5 (NIRData) nor ZIP (NPZ)', {
      file,
      expected: 'a NIRData .h5 file or an .npz of per-layer spike arrays',
    });
  const N = rec.samples;
  const T = Math.max(...rec.layers.map((l) => l.T));
  const K = spec.classes;
  if (rec.layers.some((l) => l.T !== T))
    throw located('the layers hold different timestep counts (per-layer timesteps are not imported)', {
      file,
      expected: `${T} timesteps in every layer`,
      found: rec.layers.map((l, i) => `${shapes.mapped[i].name}: ${l.T}`).join(', '),
    });
  if (rec.logits && rec.logits.classes !== K)
    throw located('the logits do not have one value per class of the network', {
      file,
      path: 'logits',
      expected: `${K} classes`,
      found: String(rec.logits.classes),
    });
  const policy: TracePolicy = rec.policy ?? { name: 'static', timesteps: T };
  if (policy.name === 'layerwise')
    throw located('layerwise (per-layer timestep) recordings are not imported', {
      file,
      path: 'imcsim_policy',
      found: 'layerwise',
    });
  if (policy.timesteps !== T)
    throw located('the recorded policy does not match the recorded timesteps', {
      file,
      path: 'imcsim_policy.timesteps',
      expected: String(T),
      found: String(policy.timesteps),
    });
  const layers: TraceLayer[] = shapes.mapped.map((l, i) => ({
    name: l.name,
    input_elements: l.inputElements,
    input_kind: rec.layers[i].kind,
    timesteps: T,
  }));
  const header: TraceHeader = {
    format: 'imcsim-trace',
    format_version: 1,
    engine_version: VERSION,
    created: 'imported',
    synthetic: false,
    model: opts.model ?? spec.name,
    dataset: null,
    split: null,
    network: spec,
    policy,
    encoding: rec.encoding ?? spec.input.encoding,
    seed: 0,
    classes: K,
    layers,
    notes: { imported_from: basename(file), recording_format: rec.format },
  };
  const writer = await TraceWriter.open(out, header);
  try {
    for (let s = 0; s < N; s++) {
      const exit = rec.exits ? Number(rec.exits[s]) : T;
      if (!Number.isInteger(exit) || exit < 1 || exit > T)
        throw located(`sample ${s}: exit timestep out of range`, {
          file,
          path: `exit_timestep[${s}]`,
          expected: `1..${T}`,
          found: String(exit),
        });
      if (policy.name === 'static' && exit !== T)
        throw located(`sample ${s} stops at timestep ${exit} but the recording has no exit policy`, {
          file,
          path: `exit_timestep[${s}]`,
          expected: `${T} (static) — or an imcsim_policy attribute naming the exit policy`,
          found: String(exit),
        });
      const inputs = rec.layers.map((ld, l) => {
        const n = shapes.mapped[l].inputElements;
        const frames: Array<Uint8Array | Float32Array> = [];
        for (let t = 0; t < exit; t++) {
          const base = s * ld.sStride + t * ld.tStride;
          const frame = new Float32Array(n);
          for (let e = 0; e < n; e++) {
            const v = Number(ld.data[base + e]);
            if (ld.kind === 'spikes' ? v !== 0 && v !== 1 : !Number.isFinite(v))
              throw located(
                `layer ${shapes.mapped[l].name}: ${ld.kind === 'spikes' ? 'a spike input is not 0 or 1' : 'an input value is not finite'}`,
                {
                  file,
                  path: `${shapes.mapped[l].name}[sample ${s}, t ${t}, element ${e}]`,
                  expected:
                    ld.kind === 'spikes'
                      ? '0 or 1 (binary spikes; record multi-bit inputs as values)'
                      : 'a finite number',
                  found: String(v),
                },
              );
            frame[e] = v;
          }
          frames.push(ld.kind === 'spikes' ? packBits(frame) : frame);
        }
        return frames;
      });
      const logits = new Float32Array(exit * K);
      let prediction = -1;
      if (rec.logits) {
        const acc = new Float64Array(K);
        for (let t = 0; t < exit; t++)
          for (let k = 0; k < K; k++) {
            const v = Number(rec.logits.data[s * rec.logits.sStride + t * rec.logits.tStride + k]);
            logits[t * K + k] = v;
            acc[k] += v;
          }
        prediction = 0;
        for (let k = 1; k < K; k++) if (acc[k] > acc[prediction]) prediction = k;
      }
      const label = rec.labels ? Number(rec.labels[s]) : -1;
      await writer.write({
        index: s,
        label: Number.isInteger(label) && label >= 0 && label < K ? label : -1,
        prediction,
        exitTimestep: exit,
        logits,
        inputs,
      });
    }
    return await writer.close();
  } catch (e) {
    await writer.abort();
    throw e;
  }
}
