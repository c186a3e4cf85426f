/**
 * Fashion-MNIST (Zalando Research): 70,000 grey 28×28 images of 10 clothing classes, read from the IDX
 * files that the Debian package `dataset-fashion-mnist` installs in /usr/share/datasets/fashion-mnist:
 *
 *   train-images-idx3-ubyte.gz  train-labels-idx1-ubyte.gz  (official training set, 60,000)
 *   t10k-images-idx3-ubyte.gz   t10k-labels-idx1-ubyte.gz   (official test set, 10,000)
 *
 * Another directory can be given (`dataDir`, the CLI's `--data-dir`); each file may be gzip-compressed
 * (`<name>.gz`, preferred when both exist) or plain (`<name>`); gzip is recognised by its magic bytes.
 *
 * Split rule (fixed; docs/DATASETS.md), file order kept:
 *   train       official training images 0 … 54,999   (55,000)
 *   validation  official training images 55,000 … 59,999 (the last 5,000)
 *   test        official test images 0 … 9,999          (10,000)
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { located } from '../../util/errors.js';
import { cachedArrays } from './binary-cache.js';
import { bytesToUnit, type Dataset, type DatasetSplit } from './dataset.js';

export const FASHION_MNIST_DEFAULT_DIR = '/usr/share/datasets/fashion-mnist';
export const FASHION_MNIST_CLASS_NAMES: readonly string[] = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];
/** Base names of the four IDX files (without `.gz`). */
export const FASHION_MNIST_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;
export const FASHION_MNIST_TRAIN_COUNT = 55_000;
export const FASHION_MNIST_VALIDATION_COUNT = 5_000;
export const FASHION_MNIST_OFFICIAL_TRAIN = 60_000;
export const FASHION_MNIST_OFFICIAL_TEST = 10_000;
const SIDE = 28;
const PIXELS = SIDE * SIDE;

const INSTALL_HINT =
  'install it with `apt-get install dataset-fashion-mnist` (Debian/Ubuntu; files go to ' +
  `${FASHION_MNIST_DEFAULT_DIR}) or pass --data-dir <directory holding ` +
  `${FASHION_MNIST_FILES.trainImages}[.gz], ${FASHION_MNIST_FILES.trainLabels}[.gz], ` +
  `${FASHION_MNIST_FILES.testImages}[.gz] and ${FASHION_MNIST_FILES.testLabels}[.gz]>`;

/** An IDX array of unsigned bytes. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

const IDX_TYPES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

/**
 * Parses an (uncompressed) IDX file of unsigned bytes: magic 0x00 0x00 0x08 <ndims>, then ndims
 * big-endian uint32 sizes, then the data. The data must be exactly the product of the sizes.
 * `expectedDims` (optional) is checked too. Errors are located at `file`.
 */
export function parseIdx(bytes: Uint8Array, file: string, expectedDims?: number): IdxArray {
  if (bytes.length < 4) {
    throw located('truncated IDX file: shorter than the 4-byte magic number', {
      file,
      expected: 'at least 4 bytes',
      found: `${bytes.length} bytes`,
    });
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const magic = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw located('not an IDX file: bad magic number', { file, expected: '00 00 08 <ndims>', found: magic });
  }
  if (bytes[2] !== 0x08) {
    throw located('unsupported IDX element type', {
      file,
      expected: 'unsigned byte (0x08)',
      found: `${IDX_TYPES[bytes[2]] ?? 'unknown'} (0x${bytes[2].toString(16).padStart(2, '0')})`,
    });
  }
  const ndims = bytes[3];
  if (ndims === 0 || (expectedDims !== undefined && ndims !== expectedDims)) {
    throw located('IDX file has the wrong number of dimensions', {
      file,
      expected: expectedDims !== undefined ? String(expectedDims) : 'at least 1',
      found: String(ndims),
    });
  }
  const header = 4 + 4 * ndims;
  if (bytes.length < header) {
    throw located('truncated IDX file: header cut short', {
      file,
      expected: `${header} header bytes`,
      found: `${bytes.length} bytes`,
    });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let size = 1;
  for (let i = 0; i < ndims; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    size *= d;
  }
  const have = bytes.length - header;
  if (have < size) {
    throw located(`truncated IDX file: header says ${dims.join('×')} but the data is cut short`, {
      file,
      expected: `${size} data bytes`,
      found: `${have}`,
    });
  }
  if (have > size) {
    throw located(`corrupt IDX file: ${have - size} unexpected bytes after the ${dims.join('×')} data`, {
      file,
      expected: `${size} data bytes`,
      found: `${have}`,
    });
  }
  return { dims, data: bytes.subarray(header) };
}

/** Reads an IDX file, gunzipping it when it starts with the gzip magic (1f 8b). */
export function readIdxFile(path: string, expectedDims?: number): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw located(`cannot read IDX file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, {
      file: path,
    });
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw located(`corrupt or truncated gzip data (${(e as Error).message})`, { file: path });
    }
  }
  return parseIdx(bytes, path, expectedDims);
}

/** `<dir>/<base>.gz` if it exists, else `<dir>/<base>`; undefined when neither does. */
function findFile(dir: string, base: string): string | undefined {
  for (const name of [`${base}.gz`, base]) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

interface Part {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  imagesFile: string;
  labelsFile: string;
}

/** Parsed official parts per resolved directory ('train' = the 60,000, 'test' = the 10,000). */
const partCache = new Map<string, Part>();
const splitCache = new Map<string, Dataset>();

/** Forgets every parsed file and split (tests; freeing memory). */
export function clearFashionMnistCache(): void {
  partCache.clear();
  splitCache.clear();
}

function checkLabels(labels: Uint8Array, labelsFile: string): void {
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] >= FASHION_MNIST_CLASS_NAMES.length) {
      throw located(`Fashion-MNIST label ${i} out of range`, {
        file: labelsFile,
        expected: `0…${FASHION_MNIST_CLASS_NAMES.length - 1}`,
        found: String(labels[i]),
      });
    }
  }
}

function readPart(dir: string, which: 'train' | 'test'): Part {
  const key = `${dir}\0${which}`;
  const cached = partCache.get(key);
  if (cached) return cached;
  const imagesBase = which === 'train' ? FASHION_MNIST_FILES.trainImages : FASHION_MNIST_FILES.testImages;
  const labelsBase = which === 'train' ? FASHION_MNIST_FILES.trainLabels : FASHION_MNIST_FILES.testLabels;
  const imagesFile = findFile(dir, imagesBase);
  const labelsFile = findFile(dir, labelsBase);
  if (!imagesFile || !labelsFile) {
    const missing = [imagesFile ? '' : imagesBase, labelsFile ? '' : labelsBase]
      .filter((s) => s !== '')
      .map((s) => `${s}[.gz]`);
    throw located(`Fashion-MNIST files missing in ${dir}: ${INSTALL_HINT}`, {
      file: dir,
      expected: missing.join(' and '),
      found: 'no such file',
    });
  }
  const expectedCount = which === 'train' ? FASHION_MNIST_OFFICIAL_TRAIN : FASHION_MNIST_OFFICIAL_TEST;
  // Decoded once into the binary dataset cache (binary-cache.ts), keyed by the files' sizes and times.
  const stamp = (file: string): string => {
    try {
      const st = statSync(file);
      return `${file}\0${st.size}:${st.mtimeMs}`;
    } catch (e) {
      throw located(`cannot read IDX file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, {
        file,
      });
    }
  };
  const cacheKey = `fashion-idx-v1\0${which}\0${stamp(imagesFile)}\0${stamp(labelsFile)}`;
  const [imageBytes, labelBytes] = cachedArrays('fashion-mnist', cacheKey, () => {
    const images = readIdxFile(imagesFile, 3);
    if (images.dims[0] !== expectedCount || images.dims[1] !== SIDE || images.dims[2] !== SIDE) {
      throw located('unexpected Fashion-MNIST image array size', {
        file: imagesFile,
        expected: `${expectedCount}×${SIDE}×${SIDE}`,
        found: images.dims.join('×'),
      });
    }
    const labels = readIdxFile(labelsFile, 1);
    if (labels.dims[0] !== expectedCount) {
      throw located('unexpected Fashion-MNIST label count', {
        file: labelsFile,
        expected: String(expectedCount),
        found: String(labels.dims[0]),
      });
    }
    checkLabels(labels.data, labelsFile);
    return [images.data, labels.data];
  });
  if (imageBytes.length !== expectedCount * PIXELS || labelBytes.length !== expectedCount) {
    throw located('corrupt Fashion-MNIST cache entry: array sizes do not match the split', {
      file: imagesFile,
      expected: `${expectedCount} images`,
      found: `${imageBytes.length / PIXELS} images, ${labelBytes.length} labels`,
    });
  }
  checkLabels(labelBytes, labelsFile);
  const part: Part = {
    images: imageBytes,
    labels: labelBytes,
    count: expectedCount,
    imagesFile,
    labelsFile,
  };
  partCache.set(key, part);
  return part;
}

/** One whole split (cached per process and directory; arrays shared and read-only). */
export function loadFashionMnist(split: DatasetSplit, opts: { dataDir?: string } = {}): Dataset {
  const dir = resolve(opts.dataDir ?? FASHION_MNIST_DEFAULT_DIR);
  const key = `${dir}\0${split}`;
  const cached = splitCache.get(key);
  if (cached) return cached;
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) {
    throw located(`Fashion-MNIST directory not found: ${INSTALL_HINT}`, {
      file: dir,
      expected: 'a directory with the Fashion-MNIST IDX files',
      found: existsSync(dir) ? 'not a directory' : 'no such directory',
    });
  }
  const part = readPart(dir, split === 'test' ? 'test' : 'train');
  let from = 0;
  let to = part.count;
  let rule = `official test images 0..${FASHION_MNIST_OFFICIAL_TEST - 1}`;
  if (split === 'train') {
    to = FASHION_MNIST_TRAIN_COUNT;
    rule = `official training images 0..${FASHION_MNIST_TRAIN_COUNT - 1}`;
  } else if (split === 'validation') {
    from = FASHION_MNIST_TRAIN_COUNT;
    rule = `official training images ${FASHION_MNIST_TRAIN_COUNT}..${FASHION_MNIST_OFFICIAL_TRAIN - 1} (the last ${FASHION_MNIST_VALIDATION_COUNT})`;
  }
  const ds: Dataset = {
    name: 'fashion-mnist',
    split,
    count: to - from,
    shape: [1, SIDE, SIDE],
    classes: FASHION_MNIST_CLASS_NAMES.length,
    classNames: [...FASHION_MNIST_CLASS_NAMES],
    images: bytesToUnit(part.images.subarray(from * PIXELS, to * PIXELS)),
    labels: part.labels.slice(from, to),
    source:
      `Fashion-MNIST (Zalando Research, MIT) IDX files ${part.imagesFile} and ${part.labelsFile}; ` +
      `${split} = ${rule}, file order; pixels byte/255`,
  };
  splitCache.set(key, ds);
  return ds;
}
