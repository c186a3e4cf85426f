/**
 * Fuzzing the dataset and recording loaders on disk: NPZ image sets (stored, deflated, ZIP64), event
 * files (tonic structured arrays) and NPZ spike recordings for `trace import`, each with byte flips and
 * truncation. Property: a clear InputError or a result, never anything else (no RangeError from a
 * DataView, no zlib or TypeError escaping).
 */
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/util/errors.js';
import { loadDataset } from '../../src/snn/data/dataset.js';
import { parseNpy, parseNpyRecords } from '../../src/util/npy.js';
import { loadNetwork } from '../../src/network/load.js';
import { importTrace } from '../../src/trace/import.js';
import { npyBytes, npyRecordsBytes, npzBytes } from '../helpers/np-files.js';

const dir = mkdtempSync(join(tmpdir(), 'imcsim-dsfuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const LIMIT = { interruptAfterTimeLimit: 8_000, markInterruptAsFailure: false };
let seq = 0;

const images = npzBytes(
  [
    [
      'images',
      npyBytes(
        '|u1',
        [3, 1, 2, 2],
        Uint8Array.from({ length: 12 }, (_, k) => k * 9),
      ),
    ],
    ['labels', npyBytes('<i8', [3], [0, 1, 2])],
  ],
  { deflate: true, zip64: true },
);
const stored = npzBytes([
  [
    'images',
    npyBytes(
      '<f4',
      [2, 1, 2, 2],
      Float32Array.from({ length: 8 }, (_, k) => k / 8),
    ),
  ],
  ['labels', npyBytes('<i8', [2], [1, 0])],
]);
const events = npzBytes([
  ['events_0', npyRecordsBytes({ x: [0, 1, 2], y: [0, 1, 0], t: [5, 9, 12], p: [1, 0, 1] })],
  ['labels', npyBytes('<i8', [1], [0])],
  ['sensor_size', npyBytes('<i8', [3], [3, 2, 2])],
]);

/** A mutation: flip bytes at positions, or cut the file. */
const mutation = (len: number) =>
  fc.oneof(
    fc.record({ cut: fc.integer({ min: 0, max: len - 1 }) }),
    fc.record({
      flips: fc.array(fc.tuple(fc.integer({ min: 0, max: len - 1 }), fc.integer({ min: 1, max: 255 })), {
        minLength: 1,
        maxLength: 6,
      }),
    }),
  );

function mutate(bytes: Uint8Array, m: { cut?: number; flips?: Array<[number, number]> }): Uint8Array {
  if (m.cut !== undefined) return bytes.subarray(0, m.cut);
  const out = Uint8Array.from(bytes);
  for (const [i, x] of m.flips!) out[i] ^= x;
  return out;
}

function onlyInputErrors(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    expect(e.message).not.toMatch(/\n\s+at /);
  }
}

describe('dataset files on disk under byte flips and truncation', () => {
  for (const [name, bytes, ref] of [
    ['npz (deflate, ZIP64)', images, 'npz'],
    ['npz (stored, float)', stored, 'npz'],
    ['events (tonic)', events, 'events'],
  ] as const) {
    it(`${name}: an InputError or a dataset`, () => {
      fc.assert(
        fc.property(mutation(bytes.length), (m) => {
          const f = join(dir, `m${seq++}.npz`);
          writeFileSync(f, mutate(bytes, m));
          onlyInputErrors(() => loadDataset(`${ref}:${f}`, 'test', { timesteps: 2 }));
        }),
        { numRuns: 150, ...LIMIT },
      );
    });
  }

  it('NPY headers (plain and structured): an InputError or an array', () => {
    const plain = npyBytes('<f4', [2, 3], [1, 2, 3, 4, 5, 6]);
    const rec = npyRecordsBytes({ x: [1, 2], y: [3, 4], t: [5, 6], p: [0, 1] });
    fc.assert(
      fc.property(fc.boolean(), mutation(Math.min(plain.length, rec.length)), (structured, m) => {
        const b = mutate(structured ? rec : plain, m);
        onlyInputErrors(() => (structured ? parseNpyRecords(b, 'x.npy') : parseNpy(b, 'x.npy')));
      }),
      { numRuns: 300, ...LIMIT },
    );
  });
});

describe('NPZ spike recordings under byte flips and truncation', () => {
  const net = loadNetwork('models/mnist-convnet');
  it('trace import: an InputError or a trace', async () => {
    const arrays: Array<[string, Uint8Array]> = net.shapes.mapped.map((l) => [
      l.name,
      npyBytes(
        '|u1',
        [1, 1, l.inputElements],
        new Uint8Array(l.inputElements).map((_, k) => (l.binaryInput ? k % 2 : k % 7)),
      ),
    ]);
    const rec = npzBytes(arrays, { deflate: true });
    await fc.assert(
      fc.asyncProperty(mutation(rec.length), async (m) => {
        const f = join(dir, `r${seq++}.npz`);
        writeFileSync(f, mutate(rec, m));
        try {
          await importTrace(f, net, join(dir, `r${seq++}.trace`));
        } catch (e) {
          if (!(e instanceof InputError)) throw e;
        }
      }),
      { numRuns: 60, ...LIMIT },
    );
  });
});
