/**
 * Datasets on disk (`FORMAT:PATH`): small files written byte-exactly per each format's spec in this test
 * (test/helpers/np-files.ts), and — when python3 with numpy is present — files numpy itself writes, read
 * back and compared with values computed here.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/util/errors.js';
import { parseNpy, NpzFile } from '../../src/util/npy.js';
import { loadDataset } from '../../src/snn/data/dataset.js';
import { binEvents } from '../../src/snn/data/events.js';
import { hasNumpy, idxBytes, npyBytes, npyRecordsBytes, npzBytes, zipBytes } from '../helpers/np-files.js';

const dir = mkdtempSync(join(tmpdir(), 'imcsim-ds-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The test's pixel rule: byte of image i at flat position k. */
const px = (i: number, k: number) => (i * 31 + k * 7) % 256;

function images(n: number, per: number): Uint8Array {
  const out = new Uint8Array(n * per);
  for (let i = 0; i < n; i++) for (let k = 0; k < per; k++) out[i * per + k] = px(i, k);
  return out;
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

function expectBytesOver255(ds: { images: Float32Array }, n: number, per: number, first = 0): void {
  for (let i = 0; i < n; i++)
    for (let k = 0; k < per; k++) expect(ds.images[i * per + k]).toBe(Math.fround(px(first + i, k) / 255));
}

describe('NPY reader', () => {
  it('reads float32, uint8, int64, big-endian and Fortran-order arrays', () => {
    const f = parseNpy(npyBytes('<f4', [2, 3], [0.5, -1, 2, 3.25, 4, 1e-3]), 'a.npy');
    expect(f.shape).toEqual([2, 3]);
    expect([...f.data]).toEqual([0.5, -1, 2, 3.25, 4, Math.fround(1e-3)]);
    const be = parseNpy(npyBytes('>f4', [3], [1.5, -2, 7]), 'b.npy');
    expect([...be.data]).toEqual([1.5, -2, 7]);
    const l = parseNpy(npyBytes('<i8', [4], [0, 9, 3, 255]), 'c.npy');
    expect(l.dtype).toBe('i8');
    expect([...l.data]).toEqual([0, 9, 3, 255]);
    // Fortran order: column-major bytes of [[1, 2, 3], [4, 5, 6]] are 1 4 2 5 3 6.
    const fo = parseNpy(npyBytes('<i4', [2, 3], [1, 4, 2, 5, 3, 6], true), 'd.npy');
    expect([...fo.data]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('refuses truncation, trailing bytes, object arrays and a bad magic by name', () => {
    const good = npyBytes('<f4', [4], [1, 2, 3, 4]);
    expect(thrown(() => parseNpy(good.subarray(0, good.length - 1), 'x.npy')).message).toMatch(
      /truncated data/,
    );
    const more = new Uint8Array(good.length + 4);
    more.set(good);
    expect(thrown(() => parseNpy(more, 'x.npy')).message).toMatch(/trailing bytes/);
    const obj = npyBytes('|O8', [1], [0]);
    expect(thrown(() => parseNpy(obj, 'x.npy')).message).toMatch(/object arrays/);
    expect(thrown(() => parseNpy(new Uint8Array(20), 'x.npy')).message).toMatch(/magic/);
  });
});

describe('NPZ reader (ZIP)', () => {
  const arrays: Array<[string, Uint8Array]> = [
    ['images', npyBytes('|u1', [3, 1, 2, 2], images(3, 4))],
    ['labels', npyBytes('<i8', [3], [2, 0, 1])],
  ];
  for (const opts of [{}, { deflate: true }, { zip64: true }, { deflate: true, zip64: true }]) {
    it(`reads members ${JSON.stringify(opts)}`, () => {
      const file = join(dir, `z-${JSON.stringify(opts).replace(/\W/g, '')}.npz`);
      writeFileSync(file, npzBytes(arrays, opts));
      const z = new NpzFile(file);
      expect(z.names()).toEqual(['images', 'labels']);
      expect([...z.get('labels').data]).toEqual([2, 0, 1]);
      expect([...z.get('images').data]).toEqual([...images(3, 4)]);
    });
  }

  it('refuses a corrupt member (CRC), a truncated archive and a missing array, naming the file', () => {
    const bytes = npzBytes(arrays);
    const bad = Uint8Array.from(bytes);
    bad[120] ^= 0xff; // inside the first member's data
    const file = join(dir, 'bad.npz');
    writeFileSync(file, bad);
    const e = thrown(() => new NpzFile(file).get('images'));
    expect(e.message).toMatch(/CRC-32/);
    expect(e.message).toContain('bad.npz');
    writeFileSync(file, bytes.subarray(0, bytes.length - 30));
    expect(thrown(() => new NpzFile(file)).message).toMatch(/end-of-central-directory|truncated/);
    writeFileSync(file, bytes);
    expect(thrown(() => new NpzFile(file).get('pixels')).message).toMatch(/no array 'pixels'/);
  });
});

describe('npz: / npy: / idx: / cifar: datasets', () => {
  const N = 20;
  const per = 2 * 3 * 3;
  const labels = Array.from({ length: N }, (_, i) => (i * 3) % 5);
  const npzFile = join(dir, 'set.npz');
  writeFileSync(
    npzFile,
    npzBytes(
      [
        ['images', npyBytes('|u1', [N, 2, 3, 3], images(N, per))],
        ['labels', npyBytes('<i8', [N], labels)],
      ],
      { deflate: true, zip64: true },
    ),
  );

  it('npz:FILE gives byte/255 images, labels and the 90/10 split rule', () => {
    const test = loadDataset(`npz:${npzFile}`, 'test');
    expect(test.shape).toEqual([2, 3, 3]);
    expect(test.count).toBe(N);
    expect(test.classes).toBe(5);
    expect([...test.labels]).toEqual(labels);
    expectBytesOver255(test, N, per);
    const train = loadDataset(`npz:${npzFile}`, 'train');
    const val = loadDataset(`npz:${npzFile}`, 'validation');
    expect(train.count).toBe(18); // N − ⌈N/10⌉
    expect(val.count).toBe(2);
    expectBytesOver255(val, 2, per, 18);
    expect(val.source).toMatch(/last 2/);
  });

  it('declared normalisation is applied per channel; nothing is applied undeclared', () => {
    const ds = loadDataset(`npz:${npzFile}`, 'test', { normalize: { mean: [0.5, 0.25], std: [0.5, 2] } });
    for (let i = 0; i < 3; i++)
      for (let k = 0; k < per; k++) {
        const c = k < 9 ? 0 : 1;
        const x = Math.fround(px(i, k) / 255);
        expect(ds.images[i * per + k]).toBe(Math.fround((x - [0.5, 0.25][c]) / [0.5, 2][c]));
      }
    expect(ds.source).toMatch(/normalised per channel/);
    expect(
      thrown(() => loadDataset(`npz:${npzFile}`, 'test', { normalize: { mean: [0, 0, 0], std: [1, 1, 1] } }))
        .message,
    ).toMatch(/3 values for 2 channels/);
    // The raw load is not changed by a normalised one.
    expectBytesOver255(loadDataset(`npz:${npzFile}`, 'test'), 2, per);
  });

  it('float32 images are taken as they are', () => {
    const f = join(dir, 'float.npz');
    const vals = Float32Array.from({ length: 2 * 4 }, (_, k) => k * 0.75 - 2);
    writeFileSync(
      f,
      npzBytes([
        ['images', npyBytes('<f4', [2, 1, 2, 2], vals)],
        ['labels', npyBytes('<i8', [2], [1, 0])],
      ]),
    );
    expect([...loadDataset(`npz:${f}`, 'test').images]).toEqual([...vals]);
  });

  it('npy:DIR reads images.npy and labels.npy', () => {
    const d = join(dir, 'npydir');
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'images.npy'), npyBytes('|u1', [4, 1, 3, 3], images(4, 9)));
    writeFileSync(join(d, 'labels.npy'), npyBytes('<i8', [4], [3, 1, 0, 2]));
    const ds = loadDataset(`npy:${d}`, 'test');
    expect(ds.shape).toEqual([1, 3, 3]);
    expect([...ds.labels]).toEqual([3, 1, 0, 2]);
    expectBytesOver255(ds, 4, 9);
  });

  it('idx:DIR reads a shipped train/test pair (gzip or plain) and a lone pair', () => {
    const d = join(dir, 'idx');
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'train-images-idx3-ubyte.gz'), gzipSync(idxBytes([10, 2, 2], images(10, 4))));
    writeFileSync(
      join(d, 'train-labels-idx1-ubyte'),
      idxBytes(
        [10],
        Uint8Array.from({ length: 10 }, (_, i) => i % 3),
      ),
    );
    writeFileSync(join(d, 't10k-images-idx3-ubyte'), idxBytes([3, 2, 2], images(3, 4)));
    writeFileSync(join(d, 't10k-labels-idx1-ubyte'), idxBytes([3], Uint8Array.of(2, 2, 0)));
    const test = loadDataset(`idx:${d}`, 'test');
    expect(test.count).toBe(3);
    expect([...test.labels]).toEqual([2, 2, 0]);
    expectBytesOver255(test, 3, 4);
    const train = loadDataset(`idx:${d}`, 'train');
    expect(train.count).toBe(9);
    expect(loadDataset(`idx:${d}`, 'validation').count).toBe(1);
    const lone = join(dir, 'idx-lone');
    mkdirSync(lone, { recursive: true });
    writeFileSync(join(lone, 'my-images.idx'), idxBytes([2, 2, 2], images(2, 4)));
    writeFileSync(join(lone, 'my-labels.idx'), idxBytes([2], Uint8Array.of(1, 0)));
    expect([...loadDataset(`idx:${lone}`, 'test').labels]).toEqual([1, 0]);
  });

  it('cifar10:DIR and cifar100:DIR read the official binary records', () => {
    const rec10 = (n: number, first: number) => {
      const b = new Uint8Array(n * 3073);
      for (let r = 0; r < n; r++) {
        b[r * 3073] = (first + r) % 10;
        b.set(
          images(1, 3072).map((_, k) => px(first + r, k)),
          r * 3073 + 1,
        );
      }
      return b;
    };
    const d = join(dir, 'cifar-10-batches-bin');
    mkdirSync(d, { recursive: true });
    for (let k = 1; k <= 5; k++) writeFileSync(join(d, `data_batch_${k}.bin`), rec10(2, (k - 1) * 2));
    writeFileSync(join(d, 'test_batch.bin'), rec10(3, 100));
    const test = loadDataset(`cifar10:${dir}`, 'test'); // the parent of cifar-10-batches-bin/ works too
    expect(test.shape).toEqual([3, 32, 32]);
    expect(test.count).toBe(3);
    expect([...test.labels]).toEqual([0, 1, 2]);
    expectBytesOver255(test, 3, 3072, 100);
    const train = loadDataset(`cifar10:${d}`, 'train');
    expect(train.count).toBe(9); // 10 shipped − ⌈10/10⌉ validation
    expect([...train.labels]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    const d100 = join(dir, 'c100');
    mkdirSync(d100, { recursive: true });
    const rec100 = (labs: number[]) => {
      const b = new Uint8Array(labs.length * 3074);
      labs.forEach((l, r) => {
        b[r * 3074] = 19; // coarse label, ignored
        b[r * 3074 + 1] = l;
        b.set(
          images(1, 3072).map((_, k) => px(r, k)),
          r * 3074 + 2,
        );
      });
      return b;
    };
    writeFileSync(join(d100, 'train.bin'), rec100([5, 99, 42]));
    writeFileSync(join(d100, 'test.bin'), rec100([7, 64]));
    const t100 = loadDataset(`cifar100:${d100}`, 'test');
    expect(t100.classes).toBe(100);
    expect([...t100.labels]).toEqual([7, 64]);
    expectBytesOver255(t100, 2, 3072);
    writeFileSync(join(d100, 'test.bin'), rec100([7, 64]).subarray(0, 5000));
    expect(thrown(() => loadDataset(`cifar100:${d100}`, 'test')).message).toMatch(
      /not a whole number of 3074-byte records/,
    );
  });

  it('an unknown format and a missing directory are named', () => {
    expect(thrown(() => loadDataset('hdf5:/x', 'test')).message).toMatch(/unknown dataset format 'hdf5'/);
    expect(thrown(() => loadDataset(`npy:${join(dir, 'nope')}`, 'test')).message).toMatch(
      /no such directory/,
    );
  });
});

describe('events: binning', () => {
  // Sensor 3 × 2 (W × H), 2 polarities. Sample 0: 5 events; sample 1: none.
  const ev = { x: [0, 2, 1, 2, 0], y: [0, 1, 1, 1, 0], t: [100, 130, 160, 190, 199], p: [1, 0, 1, 0, 1] };

  it('by time: T equal spans of the sample (hand-worked)', () => {
    const out = new Float32Array(2 * 12);
    binEvents(
      { ...ev, from: 0, to: 5 },
      { W: 3, H: 2, P: 2 },
      2,
      { by: 'time', values: 'count' },
      out,
      String,
    );
    // span = 199 − 100 + 1 = 100: frame ⌊(t−100)·2/100⌋ → 0, 0, 1, 1, 1.
    const at = (f: number, c: number, y: number, x: number) => f * 12 + c * 6 + y * 3 + x;
    const want = new Float32Array(24);
    want[at(0, 1, 0, 0)] = 1; // x0 y0 p1
    want[at(0, 0, 1, 2)] = 1; // x2 y1 p0
    want[at(1, 1, 1, 1)] = 1;
    want[at(1, 0, 1, 2)] = 1;
    want[at(1, 1, 0, 0)] = 1;
    expect([...out]).toEqual([...want]);
  });

  it('by time with real-valued times (seconds): spans of t1 − t0, the last event in frame T − 1', () => {
    const out = new Float32Array(2 * 6);
    const fe = { x: [0, 1, 2, 0], y: [0, 0, 1, 1], t: [0.5, 0.74, 0.75, 1.0], p: [0, 0, 0, 0] };
    binEvents(
      { ...fe, from: 0, to: 4 },
      { W: 3, H: 2, P: 1 },
      2,
      { by: 'time', values: 'binary' },
      out,
      String,
    );
    // span 0.5: ⌊(t − 0.5)·2/0.5⌋ = 0, 0 (0.96), 1, 2 → clamped to 1.
    // Frame 0: (x0, y0), (x1, y0); frame 1: (x2, y1), (x0, y1). Index = f·6 + y·3 + x.
    expect([...out]).toEqual([1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1]);
    const same = new Float32Array(2 * 6);
    binEvents(
      { x: [1, 2], y: [0, 0], t: [0.25, 0.25], p: [0, 0], from: 0, to: 2 },
      { W: 3, H: 2, P: 1 },
      2,
      { by: 'time' },
      same,
      String,
    );
    expect([...same]).toEqual([0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('by count: equal shares of the events in time order; binary values cap at 1', () => {
    const out = new Float32Array(3 * 12);
    // Out-of-order times: sorted order is events 0, 1, 2, 3, 4 by t; here shuffle the file order.
    const sh = { x: [2, 0, 0, 2, 1], y: [1, 0, 0, 1, 1], t: [190, 100, 199, 130, 160], p: [0, 1, 1, 0, 1] };
    binEvents(
      { ...sh, from: 0, to: 5 },
      { W: 3, H: 2, P: 2 },
      3,
      { by: 'count', values: 'binary' },
      out,
      String,
    );
    // Time order: t100 (x0y0p1), t130 (x2y1p0), t160 (x1y1p1), t190 (x2y1p0), t199 (x0y0p1);
    // k-th of 5 → frame ⌊3k/5⌋ = 0, 0, 1, 1, 2.
    const at = (f: number, c: number, y: number, x: number) => f * 12 + c * 6 + y * 3 + x;
    const want = new Float32Array(36);
    want[at(0, 1, 0, 0)] = 1;
    want[at(0, 0, 1, 2)] = 1;
    want[at(1, 1, 1, 1)] = 1;
    want[at(1, 0, 1, 2)] = 1;
    want[at(2, 1, 0, 0)] = 1;
    expect([...out]).toEqual([...want]);
  });

  it('events:FILE reads the flat and the tonic layouts alike; an event off the sensor is named', () => {
    const flat = join(dir, 'ev-flat.npz');
    writeFileSync(
      flat,
      npzBytes(
        [
          ['x', npyBytes('<i8', [5], ev.x)],
          ['y', npyBytes('<i8', [5], ev.y)],
          ['t', npyBytes('<i8', [5], ev.t)],
          ['p', npyBytes('<i8', [5], ev.p)],
          ['offsets', npyBytes('<i8', [3], [0, 5, 5])],
          ['labels', npyBytes('<i8', [2], [1, 0])],
          ['sensor_size', npyBytes('<i8', [3], [3, 2, 2])],
        ],
        { deflate: true },
      ),
    );
    const tonic = join(dir, 'ev-tonic.npz');
    writeFileSync(
      tonic,
      npzBytes([
        ['events_0', npyRecordsBytes(ev)],
        ['events_1', npyRecordsBytes({ x: [], y: [], t: [], p: [] })],
        ['labels', npyBytes('<i8', [2], [1, 0])],
        ['sensor_size', npyBytes('<i8', [3], [3, 2, 2])],
      ]),
    );
    const a = loadDataset(`events:${flat}`, 'test', { timesteps: 2 });
    const b = loadDataset(`events:${tonic}`, 'test', { timesteps: 2 });
    expect(a.shape).toEqual([2, 2, 3]);
    expect(a.frames).toBe(2);
    expect(a.binaryFrames).toBe(true);
    expect(a.images.length).toBe(2 * 2 * 12);
    expect([...a.images]).toEqual([...b.images]);
    expect([...a.images.subarray(24)].every((v) => v === 0)).toBe(true); // sample 1 has no events
    const bad = join(dir, 'ev-bad.npz');
    writeFileSync(
      bad,
      npzBytes([
        ['events_0', npyRecordsBytes({ ...ev, x: [0, 3, 1, 2, 0] })],
        ['labels', npyBytes('<i8', [1], [0])],
        ['sensor_size', npyBytes('<i8', [3], [3, 2, 2])],
      ]),
    );
    const e = thrown(() => loadDataset(`events:${bad}`, 'test', { timesteps: 2 }));
    expect(e.message).toMatch(/event outside the sensor/);
    expect(e.message).toMatch(/events_0\[1\]/);
  });
});

describe.runIf(hasNumpy())('files numpy writes', () => {
  const py = (code: string) => {
    const r = spawnSync('python3', ['-c', code], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
  };

  it('np.savez and np.savez_compressed archives read back to the test’s own values', () => {
    for (const fn of ['savez', 'savez_compressed']) {
      const f = join(dir, `np-${fn}.npz`);
      py(
        `import numpy as np\nn, per = 6, 2*4*4\nimg = np.array([[(i*31 + k*7) % 256 for k in range(per)] for i in range(n)], dtype=np.uint8).reshape(n, 2, 4, 4)\nnp.${fn}(${JSON.stringify(f)}, images=img, labels=np.arange(n) % 4)`,
      );
      const ds = loadDataset(`npz:${f}`, 'test');
      expect(ds.shape).toEqual([2, 4, 4]);
      expect([...ds.labels]).toEqual([0, 1, 2, 3, 0, 1]);
      expectBytesOver255(ds, 6, 32);
    }
  });

  it('np.save float32/float64/big-endian arrays and tonic-style structured events', () => {
    const d = join(dir, 'np-npy');
    mkdirSync(d, { recursive: true });
    py(
      `import numpy as np\nimg = (np.arange(3*1*2*2, dtype=np.float64).reshape(3,1,2,2) * 0.25 - 1).astype('>f4')\nnp.save(${JSON.stringify(join(d, 'images.npy'))}, np.asfortranarray(img))\nnp.save(${JSON.stringify(join(d, 'labels.npy'))}, np.array([2, 0, 1], dtype=np.int32))`,
    );
    const ds = loadDataset(`npy:${d}`, 'test');
    expect([...ds.images]).toEqual(Array.from({ length: 12 }, (_, k) => k * 0.25 - 1));
    expect([...ds.labels]).toEqual([2, 0, 1]);
    const f = join(dir, 'np-events.npz');
    py(
      `import numpy as np\ndt = np.dtype([('x', '<i8'), ('y', '<i8'), ('t', '<i8'), ('p', '<i8')])\ne0 = np.array([(0,0,100,1),(2,1,130,0),(1,1,160,1),(2,1,190,0),(0,0,199,1)], dtype=dt)\ne1 = np.zeros(0, dtype=dt)\nnp.savez_compressed(${JSON.stringify(f)}, events_0=e0, events_1=e1, labels=np.array([1, 0]), sensor_size=np.array([3, 2, 2]))`,
    );
    const tonicLike = join(dir, 'ev-tonic2.npz');
    writeFileSync(
      tonicLike,
      npzBytes([
        [
          'events_0',
          npyRecordsBytes({
            x: [0, 2, 1, 2, 0],
            y: [0, 1, 1, 1, 0],
            t: [100, 130, 160, 190, 199],
            p: [1, 0, 1, 0, 1],
          }),
        ],
        ['events_1', npyRecordsBytes({ x: [], y: [], t: [], p: [] })],
        ['labels', npyBytes('<i8', [2], [1, 0])],
        ['sensor_size', npyBytes('<i8', [3], [3, 2, 2])],
      ]),
    );
    expect([...loadDataset(`events:${f}`, 'test', { timesteps: 2 }).images]).toEqual([
      ...loadDataset(`events:${tonicLike}`, 'test', { timesteps: 2 }).images,
    ]);
  });
});

it('zipBytes helper round-trips through the reader with several members (guards the test writer itself)', () => {
  const f = join(dir, 'multi.zip');
  writeFileSync(
    f,
    zipBytes(
      [
        ['a.npy', npyBytes('<i4', [2], [7, 8])],
        ['b.npy', npyBytes('<i4', [1], [9])],
      ],
      { zip64: true },
    ),
  );
  const z = new NpzFile(f);
  expect([...z.get('a').data]).toEqual([7, 8]);
  expect([...z.get('b').data]).toEqual([9]);
});
