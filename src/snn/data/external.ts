/**
 * Datasets on disk, named `FORMAT:PATH` (docs/DATASETS.md, "Your own data"):
 *
 *   npz:FILE        arrays `images` (N×C×H×W or N×H×W, uint8 or float) and `labels` (N integers), as
 *                   numpy.savez / savez_compressed write them
 *   npy:DIR         DIR/images.npy and DIR/labels.npy, as numpy.save writes them
 *   idx:DIR         an IDX pair (unsigned bytes; gzip or plain): train-images… / t10k- or test-images…
 *                   (shipped split) or exactly one *images* and one *labels* file (one set)
 *   cifar10:DIR     the official binary batches: data_batch_1..5.bin (train), test_batch.bin (test)
 *   cifar100:DIR    the official binary files: train.bin, test.bin (fine labels, 100 classes)
 *   events:FILE     event streams per sample (events.ts), binned into frames
 *
 * Fixed rules (no guessing): uint8 pixels become byte/255, float pixels are taken as they are; other
 * integer pixel types are refused. Normalisation is applied only when declared (`normalize`: per-channel
 * mean and std, x ← (x − mean_c)/std_c). Splits: formats that ship train and test keep them; the
 * `validation` split is the last ⌈n/10⌉ images of the train set and `train` the rest. A one-set format
 * (npz, npy, a lone IDX pair, events) gives the whole set as `test`, and the same 90 % / 10 % cut of it as
 * `train` / `validation` (so a one-set file's test overlaps its train: give separate files to keep them
 * apart).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { located } from '../../util/errors.js';
import { NpzFile, readNpy, type NpyArray } from '../../util/npy.js';
import { readIdxFile } from './fashion-mnist.js';
import { readCifar } from './cifar.js';
import { loadEvents, type EventBinning } from './events.js';
import type { Dataset, DatasetSplit } from './dataset.js';

export const EXTERNAL_FORMATS = ['npz', 'npy', 'idx', 'cifar10', 'cifar100', 'events'] as const;
export type ExternalFormat = (typeof EXTERNAL_FORMATS)[number];

export interface Normalization {
  mean: number[];
  std: number[];
}

export interface ExternalOptions {
  normalize?: Normalization;
  /** events: how to bin (frames = the run's timesteps). */
  events?: EventBinning;
}

/** A loaded set before the split rule: images as Float32 C·H·W per image, labels. */
export interface RawSet {
  images: Float32Array;
  labels: Uint8Array;
  count: number;
  shape: [number, number, number];
  /** Frames per sample (events); 1 for images. */
  frames: number;
  classes: number;
  classNames: string[];
  source: string;
  /** events with count values: frames hold small integers, not 0/1. */
  binary?: boolean;
}

export interface SetPair {
  /** The shipped training set, or the one set. */
  train: () => RawSet;
  /** The shipped test set; undefined for one-set formats. */
  test?: () => RawSet;
}

/** `FORMAT:PATH` → its parts; undefined when the text has no known `FORMAT:` prefix. */
export function parseDatasetRef(ref: string): { format: ExternalFormat; path: string } | undefined {
  const m = /^([a-z0-9]+):(.+)$/.exec(ref);
  if (!m) return undefined;
  if (!(EXTERNAL_FORMATS as readonly string[]).includes(m[1]))
    throw located(`unknown dataset format '${m[1]}'`, {
      path: '--dataset',
      expected: `mnist, fashion-mnist or FORMAT:PATH with FORMAT one of ${EXTERNAL_FORMATS.join(', ')}`,
      found: ref,
    });
  return { format: m[1] as ExternalFormat, path: m[2] };
}

/** `0.49,0.48,0.45/0.25,0.24,0.26` or `0.5/0.5` (one value for every channel). */
export function parseNormalize(text: string): Normalization {
  const parts = text.split('/');
  const nums = (s: string) => s.split(',').map((x) => Number(x.trim()));
  const bad = () =>
    located('--normalize must be MEAN/STD, each a number or a comma-separated list per channel (std > 0)', {
      path: '--normalize',
      expected: 'e.g. 0.4914,0.4822,0.4465/0.2470,0.2435,0.2616 or 0.5/0.5',
      found: JSON.stringify(text),
    });
  if (parts.length !== 2) throw bad();
  const mean = nums(parts[0]);
  const std = nums(parts[1]);
  if (mean.some((x) => !Number.isFinite(x)) || std.some((x) => !(x > 0) || !Number.isFinite(x))) throw bad();
  return { mean, std };
}

function pixelsToFloat(a: NpyArray, file: string): Float32Array {
  switch (a.dtype) {
    case 'u1':
    case 'b1': {
      const out = new Float32Array(a.data.length);
      for (let i = 0; i < out.length; i++) out[i] = a.data[i] / 255;
      return out;
    }
    case 'f2':
    case 'f4':
    case 'f8': {
      const out = a.data instanceof Float32Array ? a.data : Float32Array.from(a.data);
      for (let i = 0; i < out.length; i++)
        if (!Number.isFinite(out[i]))
          throw located(`image value ${i} is not finite`, { file, path: 'images', found: String(out[i]) });
      return out;
    }
    default:
      throw located('images must be uint8 (read as byte/255) or float (read as is)', {
        file,
        path: 'images',
        expected: 'uint8, float16, float32 or float64',
        found: a.dtype,
      });
  }
}

function shapeOf(dims: number[], file: string): [number, number, number] {
  if (dims.length === 4) return [dims[1], dims[2], dims[3]];
  if (dims.length === 3) return [1, dims[1], dims[2]];
  if (dims.length === 2) return [dims[1], 1, 1];
  throw located('images must be N×C×H×W, N×H×W or N×F', {
    file,
    path: 'images',
    expected: '2 to 4 dimensions',
    found: `[${dims.join(', ')}]`,
  });
}

export function labelsOf(
  a: NpyArray | { dims: number[]; data: Uint8Array },
  n: number,
  file: string,
): Uint8Array {
  const dims = 'shape' in a ? a.shape : a.dims;
  if (dims.length !== 1 || dims[0] !== n)
    throw located('labels must be one integer per image', {
      file,
      path: 'labels',
      expected: `shape [${n}]`,
      found: `[${dims.join(', ')}]`,
    });
  if ('dtype' in a && a.dtype.startsWith('f'))
    throw located('labels must be integers', {
      file,
      path: 'labels',
      expected: 'an integer dtype',
      found: a.dtype,
    });
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = a.data[i];
    if (!Number.isInteger(v) || v < 0 || v > 255)
      throw located(`label ${i} is out of range`, {
        file,
        path: `labels[${i}]`,
        expected: 'an integer in 0..255',
        found: String(v),
      });
    out[i] = v;
  }
  return out;
}

export function classesOf(labels: Uint8Array): number {
  let max = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] > max) max = labels[i];
  return max + 1;
}

function arraysSet(images: NpyArray, labels: NpyArray, file: string, what: string): RawSet {
  const shape = shapeOf(images.shape, file);
  const count = images.shape[0];
  const lab = labelsOf(labels, count, file);
  const classes = classesOf(lab);
  return {
    images: pixelsToFloat(images, file),
    labels: lab,
    count,
    shape,
    frames: 1,
    classes,
    classNames: Array.from({ length: classes }, (_, k) => String(k)),
    source: `${what} (${images.dtype === 'u1' ? 'uint8 pixels read as byte/255' : 'float pixels read as is'})`,
  };
}

function isDir(p: string): boolean {
  return existsSync(p) && statSync(p).isDirectory();
}

function needDir(p: string, format: string): void {
  if (!isDir(p))
    throw located(`${format}: no such directory`, {
      file: p,
      path: '--dataset',
      expected: `${format}:DIR, a directory`,
    });
}

function idxPairs(dir: string): SetPair {
  needDir(dir, 'idx');
  const files = readdirSync(dir)
    .filter((f) => !f.startsWith('.'))
    .sort();
  const pick = (role: 'images' | 'labels', prefix?: RegExp) =>
    files.filter((f) => f.includes(role) && (!prefix || prefix.test(f)));
  const load = (imgs: string, labs: string) => (): RawSet => {
    const im = readIdxFile(join(dir, imgs));
    const lb = readIdxFile(join(dir, labs), 1);
    const count = im.dims[0];
    const shape: [number, number, number] =
      im.dims.length === 3
        ? [1, im.dims[1], im.dims[2]]
        : im.dims.length === 4
          ? [im.dims[1], im.dims[2], im.dims[3]]
          : [im.dims.slice(1).reduce((a, b) => a * b, 1), 1, 1];
    const labels = labelsOf(lb, count, join(dir, labs));
    const classes = classesOf(labels);
    const images = new Float32Array(im.data.length);
    for (let i = 0; i < images.length; i++) images[i] = im.data[i] / 255;
    return {
      images,
      labels,
      count,
      shape,
      frames: 1,
      classes,
      classNames: Array.from({ length: classes }, (_, k) => String(k)),
      source: `IDX ${imgs} + ${labs} (byte/255)`,
    };
  };
  const trainI = pick('images', /^train/);
  const trainL = pick('labels', /^train/);
  const testI = pick('images', /^(t10k|test)/);
  const testL = pick('labels', /^(t10k|test)/);
  const one = (a: string[]) =>
    a.length === 2 && a[0] + '.gz' === a[1] ? [a[1]] : a.length === 2 && a[1] + '.gz' === a[0] ? [a[0]] : a;
  const [ti, tl, si, sl] = [one(trainI), one(trainL), one(testI), one(testL)];
  if (ti.length === 1 && tl.length === 1 && si.length === 1 && sl.length === 1)
    return { train: load(ti[0], tl[0]), test: load(si[0], sl[0]) };
  const allI = one(pick('images'));
  const allL = one(pick('labels'));
  if (allI.length === 1 && allL.length === 1) return { train: load(allI[0], allL[0]) };
  throw located('idx: cannot tell the IDX pair(s) in the directory', {
    file: dir,
    expected:
      'train-images… + train-labels… and t10k-/test-images… + labels…, or exactly one file with "images" and one with "labels" in its name',
    found: files.join(', ') || 'no files',
  });
}

/** The sets of a dataset reference, unread (each is read when its split is asked for). */
export function externalSets(
  format: ExternalFormat,
  path: string,
  opts: ExternalOptions,
  T: number,
): SetPair {
  switch (format) {
    case 'npz':
      return {
        train: () => {
          const z = new NpzFile(path);
          return arraysSet(z.get('images'), z.get('labels'), path, `npz ${path}`);
        },
      };
    case 'npy':
      needDir(path, 'npy');
      return {
        train: () =>
          arraysSet(
            readNpy(join(path, 'images.npy')),
            readNpy(join(path, 'labels.npy')),
            path,
            `npy ${path}/images.npy + labels.npy`,
          ),
      };
    case 'idx':
      return idxPairs(path);
    case 'cifar10':
    case 'cifar100':
      needDir(path, format);
      return { train: () => readCifar(format, path, 'train'), test: () => readCifar(format, path, 'test') };
    case 'events':
      return { train: () => loadEvents(path, opts.events ?? {}, T) };
  }
}

function applyNormalize(set: RawSet, n: Normalization, file: string): string {
  const C = set.shape[0];
  const expand = (v: number[], what: string) => {
    if (v.length === 1) return new Array<number>(C).fill(v[0]);
    if (v.length !== C)
      throw located(`--normalize ${what} has ${v.length} values for ${C} channels`, {
        file,
        path: '--normalize',
        expected: `1 or ${C} values`,
        found: String(v.length),
      });
    return v;
  };
  const mean = expand(n.mean, 'mean');
  const std = expand(n.std, 'std');
  const hw = set.shape[1] * set.shape[2];
  const per = C * hw;
  for (let s = 0; s < set.count * set.frames; s++)
    for (let c = 0; c < C; c++) {
      const base = s * per + c * hw;
      for (let i = 0; i < hw; i++) set.images[base + i] = (set.images[base + i] - mean[c]) / std[c];
    }
  return `; normalised per channel: mean [${mean.join(', ')}], std [${std.join(', ')}]`;
}

function slice(set: RawSet, from: number, to: number): RawSet {
  const per = set.shape[0] * set.shape[1] * set.shape[2] * set.frames;
  return {
    ...set,
    images: set.images.subarray(from * per, to * per),
    labels: set.labels.subarray(from, to),
    count: to - from,
  };
}

/** One split of a dataset on disk, by the split rule above. */
export function loadExternal(
  ref: string,
  split: DatasetSplit,
  opts: ExternalOptions & { timesteps?: number } = {},
): Dataset {
  const parsed = parseDatasetRef(ref)!;
  const T = opts.timesteps ?? 1;
  const pair = externalSets(parsed.format, parsed.path, opts, T);
  let set: RawSet;
  let rule: string;
  if (split === 'test') {
    set = (pair.test ?? pair.train)();
    rule = pair.test ? 'the shipped test set' : 'the whole set (one-set format)';
  } else {
    const all = pair.train();
    const held = Math.ceil(all.count / 10);
    if (all.count - held < 1)
      throw located('too few samples to cut a validation split', {
        file: parsed.path,
        expected: 'at least 2 samples',
        found: String(all.count),
      });
    const what = pair.test ? 'the shipped train set' : 'the set';
    if (split === 'train') {
      set = slice(all, 0, all.count - held);
      rule = `${what} but its last ${held} (validation)`;
    } else {
      set = slice(all, all.count - held, all.count);
      rule = `the last ${held} of ${what}`;
    }
  }
  let norm = '';
  if (opts.normalize) {
    set = { ...set, images: Float32Array.from(set.images) };
    norm = applyNormalize(set, opts.normalize, parsed.path);
  }
  return {
    name: ref,
    split,
    count: set.count,
    shape: set.shape,
    classes: set.classes,
    classNames: set.classNames,
    images: set.images,
    labels: set.labels,
    source: `${set.source}; ${split} = ${rule}${norm}`,
    ...(set.frames > 1 || parsed.format === 'events'
      ? { frames: set.frames, binaryFrames: set.binary ?? true }
      : {}),
  };
}
