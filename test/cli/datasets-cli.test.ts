/**
 * End to end on real-format files (written byte-exactly per each spec by test/helpers/np-files.ts):
 * eval / train / trace on npz, npy, idx and CIFAR data; an imported NIR network (Sinabs' CNN) traced on
 * event input binned from a tonic-layout events file and replayed by simulate.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TraceReader } from '../../src/trace/format.js';
import { loadArch } from '../../src/config/load.js';
import { runCli } from '../helpers/cli.js';
import { idxBytes, npyBytes, npyRecordsBytes, npzBytes } from '../helpers/np-files.js';

const dir = mkdtempSync(join(tmpdir(), 'imcsim-dscli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SINABS = join(import.meta.dirname, '..', 'fixtures', 'nir', 'cnn_sinabs.nir');

const px = (i: number, k: number) => (i * 31 + k * 7) % 256;
const images = (n: number, per: number) =>
  Uint8Array.from({ length: n * per }, (_, j) => px(Math.floor(j / per), j % per));

describe('image datasets on disk through the CLI', () => {
  const N = 20;
  const labels = Array.from({ length: N }, (_, i) => i % 3);
  const net = join(dir, 'net.yaml');
  const model = join(dir, 'tiny');
  writeFileSync(
    net,
    [
      'name: tiny',
      'input: { shape: [1, 4, 4], encoding: direct }',
      'classes: 3',
      'timesteps: 2',
      'layers:',
      '  - { type: flatten }',
      '  - { name: fc1, type: linear, out_features: 8 }',
      '  - { name: out, type: linear, out_features: 3, spiking: false }',
      '',
    ].join('\n'),
  );
  const npz = join(dir, 'd.npz');
  writeFileSync(
    npz,
    npzBytes(
      [
        ['images', npyBytes('|u1', [N, 1, 4, 4], images(N, 16))],
        ['labels', npyBytes('<i8', [N], labels)],
      ],
      { deflate: true, zip64: true },
    ),
  );
  const npyDir = join(dir, 'npy');
  mkdirSync(npyDir);
  writeFileSync(join(npyDir, 'images.npy'), npyBytes('|u1', [N, 1, 4, 4], images(N, 16)));
  writeFileSync(join(npyDir, 'labels.npy'), npyBytes('<i8', [N], labels));
  const idxDir = join(dir, 'idx');
  mkdirSync(idxDir);
  writeFileSync(join(idxDir, 'x-images-idx3-ubyte'), idxBytes([N, 4, 4], images(N, 16)));
  writeFileSync(join(idxDir, 'x-labels-idx1-ubyte'), idxBytes([N], Uint8Array.from(labels)));

  it('init, then eval gives the same result on the same images in npz, npy and idx form', async () => {
    expect((await runCli('init', '--network', net, '--out', model)).code).toBe(0);
    const results = [];
    for (const ds of [`npz:${npz}`, `npy:${npyDir}`, `idx:${idxDir}`]) {
      const r = await runCli('eval', '--model', model, '--dataset', ds, '--json');
      expect(r.err).not.toMatch(/error/);
      expect(r.code).toBe(0);
      const j = JSON.parse(r.out) as { samples: number; accuracy: number; synops_per_sample: number };
      expect(j.samples).toBe(N);
      results.push(j);
    }
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
  });

  it('a shape that does not fit the model is exit 2 naming both shapes', async () => {
    const bad = join(dir, 'bad.npz');
    writeFileSync(
      bad,
      npzBytes([
        ['images', npyBytes('|u1', [N, 2, 2, 4], images(N, 16))],
        ['labels', npyBytes('<i8', [N], labels)],
      ]),
    );
    const r = await runCli('eval', '--model', model, '--dataset', `npz:${bad}`);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/do not fit the input of model tiny/);
    expect(r.err).toContain('[1, 4, 4]');
    expect(r.err).toContain('[2, 2, 4]');
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('train runs on an npz file with declared normalisation (90/10 train/validation cut)', async () => {
    const out = join(dir, 'trained');
    const r = await runCli(
      'train',
      '--model',
      model,
      '--dataset',
      `npz:${npz}`,
      '--normalize',
      '0.5/0.25',
      '--out',
      out,
      '--epochs',
      '1',
      '--timesteps',
      '2',
    );
    expect(r.err).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/validation accuracy/);
  });

  it('the dtsnn and hardware studies run your model on your npz data; other studies refuse --model', async () => {
    const sm = join(dir, 'tiny-study');
    expect((await runCli('init', '--network', net, '--out', sm)).code).toBe(0);
    const st = join(dir, 'study-dtsnn');
    const r = await runCli(
      'study',
      'dtsnn',
      '--tiny',
      '--quiet',
      '--model',
      sm,
      '--dataset',
      `npz:${npz}`,
      '--out',
      st,
    );
    expect(r.err).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/tiny/);
    const hw = join(dir, 'study-hw');
    const h = await runCli(
      'study',
      'hardware',
      '--tiny',
      '--quiet',
      '--model',
      sm,
      '--dataset',
      `npz:${npz}`,
      '--out',
      hw,
    );
    expect(h.err).not.toMatch(/error/);
    expect(h.code).toBe(0);
    // The sweep spec it leaves behind names the data relative to itself, so it reruns on its own.
    expect(readFileSync(join(hw, 'hardware-sweep.yaml'), 'utf8')).toMatch(/dataset: npz:\.\.\/d\.npz/);
    const bad = await runCli(
      'study',
      'iir',
      '--tiny',
      '--model',
      sm,
      '--dataset',
      `npz:${npz}`,
      '--out',
      join(dir, 'x'),
    );
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/apply to the dtsnn and hardware studies/);
  });

  it('cifar10:DIR feeds a [3, 32, 32] model; --normalize with the wrong channel count is refused', async () => {
    const c = join(dir, 'cifar');
    mkdirSync(c);
    const rec = (n: number) => {
      const b = new Uint8Array(n * 3073);
      for (let r = 0; r < n; r++) {
        b[r * 3073] = r % 10;
        b.set(
          images(1, 3072).map((_, k) => px(r, k)),
          r * 3073 + 1,
        );
      }
      return b;
    };
    for (let k = 1; k <= 5; k++) writeFileSync(join(c, `data_batch_${k}.bin`), rec(2));
    writeFileSync(join(c, 'test_batch.bin'), rec(4));
    const cnet = join(dir, 'cnet.yaml');
    writeFileSync(
      cnet,
      'name: c\ninput: { shape: [3, 32, 32] }\nclasses: 10\ntimesteps: 1\nlayers:\n  - { type: conv2d, out_channels: 2, kernel: 4, stride: 4 }\n  - { type: flatten }\n  - { type: linear, out_features: 10, spiking: false }\n',
    );
    const cm = join(dir, 'cm');
    expect((await runCli('init', '--network', cnet, '--out', cm)).code).toBe(0);
    const r = await runCli(
      'eval',
      '--model',
      cm,
      '--dataset',
      `cifar10:${c}`,
      '--normalize',
      '0.4914,0.4822,0.4465/0.247,0.2435,0.2616',
      '--json',
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).samples).toBe(4);
    const bad = await runCli(
      'eval',
      '--model',
      cm,
      '--dataset',
      `cifar10:${c}`,
      '--normalize',
      '0.5,0.5/0.5,0.5',
    );
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/2 values for 3 channels/);
    const hwc = join(dir, 'hwc.npz');
    writeFileSync(
      hwc,
      npzBytes([
        ['images', npyBytes('|u1', [2, 32, 32, 3], new Uint8Array(2 * 3072))],
        ['labels', npyBytes('<i8', [2], [0, 1])],
      ]),
    );
    const cl = await runCli('eval', '--model', cm, '--dataset', `npz:${hwc}`);
    expect(cl.code).toBe(2);
    expect(cl.err).toMatch(/look channel-last: store them N×C×H×W/);
  });
});

describe('cnn_sinabs.nir on event input binned from an events file', () => {
  // 3 samples on Sinabs' 34 × 34 × 2 sensor (N-MNIST's), events from a fixed formula.
  const T = 3;
  const samples = [0, 1, 2].map((s) => {
    const n = 150 + 40 * s;
    const x = Array.from({ length: n }, (_, k) => (k * 7 + s * 3) % 34);
    const y = Array.from({ length: n }, (_, k) => (k * 11 + s) % 34);
    const t = Array.from({ length: n }, (_, k) => 1000 + k * 37 + s);
    const p = Array.from({ length: n }, (_, k) => (k * 5 + s) % 2);
    return { x, y, t, p };
  });
  const evFile = join(dir, 'events.npz');
  writeFileSync(
    evFile,
    npzBytes([
      ...samples.map((e, i) => [`events_${i}`, npyRecordsBytes(e)] as [string, Uint8Array]),
      ['labels', npyBytes('<i8', [3], [3, 1, 4])],
      ['sensor_size', npyBytes('<i8', [3], [34, 34, 2])],
    ]),
  );
  const model = join(dir, 'sinabs');
  const trace = join(dir, 'ev.trace');

  it('import with --timesteps and --encoding events; without them the assumptions are printed', async () => {
    const r = await runCli(
      'import',
      SINABS,
      '--out',
      model,
      '--timesteps',
      String(T),
      '--encoding',
      'events',
    );
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/T = 3, events encoding/);
    expect(r.err).not.toMatch(/assumed/);
    const d = await runCli('import', SINABS, '--out', join(dir, 'sinabs-direct'));
    expect(d.code).toBe(0);
    expect(d.err).toMatch(/assumed T = 4 timesteps \(imcsim’s default/);
    expect(d.err).toMatch(/assumed direct input encoding/);
  });

  it('trace records the binned frames as spikes of the first layer (independent binning), simulate replays them', async () => {
    const r = await runCli('trace', '--model', model, '--dataset', `events:${evFile}`, '--out', trace);
    expect(r.err).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const reader = await TraceReader.open(trace);
    try {
      expect(reader.header.encoding).toBe('events');
      expect(reader.header.layers[0].input_kind).toBe('spikes');
      let i = 0;
      for await (const s of reader) {
        const e = samples[i];
        // The rule of docs/DATASETS.md, written out: frame ⌊(t − t0)·T/(t1 − t0 + 1)⌋, channel p > 0.
        const t0 = Math.min(...e.t);
        const span = Math.max(...e.t) - t0 + 1;
        const want = Array.from({ length: T }, () => new Uint8Array(2 * 34 * 34));
        e.t.forEach(
          (t, k) =>
            (want[Math.floor(((t - t0) * T) / span)][(e.p[k] > 0 ? 1 : 0) * 1156 + e.y[k] * 34 + e.x[k]] = 1),
        );
        expect(s.inputs[0]).toHaveLength(T);
        s.inputs[0].forEach((frame, f) => {
          const bits = Array.from({ length: 2312 }, (_, b) => ((frame as Uint8Array)[b >> 3] >> (b & 7)) & 1);
          expect(bits).toEqual([...want[f]]);
        });
        i++;
      }
      expect(i).toBe(3);
    } finally {
      await reader.close();
    }
    const sim = await runCli('simulate', '--trace', trace, '--json');
    expect(sim.code).toBe(0);
    const j = JSON.parse(sim.out) as { samples: number; energy_per_sample_j: number };
    expect(j.samples).toBe(3);
    expect(j.energy_per_sample_j).toBeGreaterThan(0);
  });

  it('event data into a direct-encoded model, or --bin-by count, are handled explicitly', async () => {
    const r = await runCli(
      'trace',
      '--model',
      join(dir, 'sinabs-direct'),
      '--dataset',
      `events:${evFile}`,
      '--out',
      join(dir, 'x.trace'),
    );
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/holds event frames but the input encoding is direct/);
    const c = await runCli(
      'eval',
      '--model',
      model,
      '--dataset',
      `events:${evFile}`,
      '--bin-by',
      'count',
      '--event-values',
      'count',
      '--json',
    );
    expect(c.code).toBe(0);
    expect(JSON.parse(c.out).samples).toBe(3);
    // Count values are multi-bit: the first layer's input is recorded as values (priced bit-serially).
    const ct = join(dir, 'count.trace');
    const t = await runCli(
      'trace',
      '--model',
      model,
      '--dataset',
      `events:${evFile}`,
      '--event-values',
      'count',
      '--out',
      ct,
    );
    expect(t.code).toBe(0);
    const rd = await TraceReader.open(ct);
    expect(rd.header.layers[0].input_kind).toBe('values');
    await rd.close();
    // Priced as spikes vs bit-serially: the same 0/1 frames (no pixel has two events in a frame, so count
    // values equal binary ones) recorded as spikes and as values. A value of 1 quantises to the all-ones
    // code (q = round(v/max·(2^b − 1))), so every active row is read in all input_bits planes: the first
    // layer's crossbar energy is exactly input_bits × the spike version's.
    const uniq = join(dir, 'unique.npz');
    const n = 200;
    writeFileSync(
      uniq,
      npzBytes([
        [
          'events_0',
          npyRecordsBytes({
            x: Array.from({ length: n }, (_, k) => (k * 7) % 34),
            y: Array.from({ length: n }, (_, k) => Math.floor((k * 7) / 34) % 34),
            t: Array.from({ length: n }, (_, k) => k),
            p: Array.from({ length: n }, (_, k) => k % 2),
          }),
        ],
        ['labels', npyBytes('<i8', [1], [0])],
        ['sensor_size', npyBytes('<i8', [3], [34, 34, 2])],
      ]),
    );
    const layer0 = async (values: string) => {
      const tf = join(dir, `u-${values}.trace`);
      const rt = await runCli(
        'trace',
        '--model',
        model,
        '--dataset',
        `events:${uniq}`,
        '--event-values',
        values,
        '--out',
        tf,
      );
      expect(rt.code).toBe(0);
      const out = join(dir, `u-${values}`);
      expect((await runCli('simulate', '--trace', tf, '--out', out)).code).toBe(0);
      const [head, row] = readFileSync(join(out, 'layers.csv'), 'utf8').trim().split('\n');
      const cols = head.split(',');
      const cells = row.split(',');
      return (k: string) => Number(cells[cols.indexOf(k)]);
    };
    const spikes = await layer0('binary');
    const values = await layer0('count');
    const bits = loadArch('arch-configs/default.yaml').crossbar.input_bits;
    // Crossbar cells do not leak: exactly input_bits ×. Row drivers and ADCs add leakage over the layer's
    // busy time, which does not scale with the planes: their ratio lies below input_bits but above 7.
    expect(spikes('crossbar_energy_j')).toBeGreaterThan(0);
    expect(values('crossbar_energy_j') / spikes('crossbar_energy_j')).toBeCloseTo(bits, 9);
    for (const k of ['row_driver_energy_j', 'adc_energy_j']) {
      expect(values(k) / spikes(k)).toBeGreaterThan(7);
      expect(values(k) / spikes(k)).toBeLessThan(bits);
    }
    const tr = await runCli(
      'train',
      '--model',
      model,
      '--dataset',
      `events:${evFile}`,
      '--out',
      join(dir, 'tr'),
      '--epochs',
      '1',
    );
    expect(tr.code).toBe(2);
    expect(tr.err).toMatch(/training on event data is not supported/);
  });
});
