/**
 * `trace import`: spikes recorded elsewhere become a trace that simulate replays.
 *  - NIRData round trip: engine trace → `trace export --nirdata` → `trace import` replays to the same
 *    energy, latency and counts (summary JSON, layers.csv, timesteps.csv, samples.csv), static and entropy.
 *  - NPZ layout: the test converts an engine trace into per-layer (T, N, …) arrays with its own code
 *    (test/helpers/np-files.ts, per the NPY/ZIP specs) — the form a PyTorch hook script saves — and the
 *    imported trace replays exactly like the engine's.
 *  - Refusals: a missing layer, a non-binary spike, a corrupt HDF5 file: one located line, exit 2.
 */
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TraceReader } from '../../src/trace/format.js';
import type { TraceSample } from '../../src/trace/types.js';
import { runCli } from '../helpers/cli.js';
import { npyBytes, npzBytes } from '../helpers/np-files.js';

const dir = mkdtempSync(join(tmpdir(), 'imcsim-timport-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const MODEL = 'models/mnist-convnet-t4';

async function samplesOf(file: string): Promise<{ header: TraceReader['header']; samples: TraceSample[] }> {
  const r = await TraceReader.open(file);
  const samples: TraceSample[] = [];
  try {
    for await (const s of r) samples.push(s);
    return { header: r.header, samples };
  } finally {
    await r.close();
  }
}

/** simulate into a run folder; every CSV and the summary without the trace's own name. */
async function replay(trace: string, tag: string): Promise<Record<string, string>> {
  const out = join(dir, `run-${tag}`);
  const r = await runCli('simulate', '--trace', trace, '--out', out, '--json');
  expect(r.err).not.toMatch(/error/);
  expect(r.code).toBe(0);
  const summary = JSON.parse(r.out) as Record<string, unknown>;
  delete summary.trace;
  const files: Record<string, string> = { summary: JSON.stringify(summary) };
  for (const f of ['layers.csv', 'timesteps.csv', 'samples.csv', 'components.csv'])
    files[f] = readFileSync(join(out, f), 'utf8');
  return files;
}

describe('NIRData round trip', () => {
  for (const policy of ['static', 'entropy']) {
    it(`${policy}: export → import replays to the same energy, latency and counts`, async () => {
      const a = join(dir, `${policy}.trace`);
      const h5 = join(dir, `${policy}.h5`);
      const b = join(dir, `${policy}-back.trace`);
      expect(
        (
          await runCli(
            'trace',
            '--model',
            MODEL,
            '--dataset',
            'mnist',
            '--samples',
            '5',
            '--policy',
            policy,
            '--out',
            a,
          )
        ).code,
      ).toBe(0);
      expect((await runCli('trace', 'export', a, '--nirdata', h5)).code).toBe(0);
      const imp = await runCli('trace', 'import', h5, '--network', MODEL, '--out', b);
      expect(imp.err).toBe('');
      expect(imp.code).toBe(0);
      const A = await samplesOf(a);
      const B = await samplesOf(b);
      expect(B.header.policy).toEqual(A.header.policy);
      expect(B.header.layers).toEqual(A.header.layers);
      expect(B.header.encoding).toBe(A.header.encoding);
      expect(B.samples).toEqual(A.samples);
      const ra = await replay(a, `${policy}-a`);
      const rb = await replay(b, `${policy}-b`);
      expect(rb).toEqual(ra);
    });
  }
});

describe('NPZ layout (per layer, T × N × … input arrays)', () => {
  it('an engine trace rewritten as NPZ by the test imports and replays exactly like the engine trace', async () => {
    const a = join(dir, 'for-npz.trace');
    expect(
      (await runCli('trace', '--model', MODEL, '--dataset', 'mnist', '--samples', '4', '--out', a)).code,
    ).toBe(0);
    const A = await samplesOf(a);
    const T = A.header.policy.timesteps;
    const N = A.samples.length;
    const K = A.header.classes;
    const arrays: Array<[string, Uint8Array]> = A.header.layers.map((l, li) => {
      const n = l.input_elements;
      const vals = new Float32Array(T * N * n);
      A.samples.forEach((s, si) =>
        s.inputs[li].forEach((frame, t) => {
          for (let e = 0; e < n; e++)
            vals[(t * N + si) * n + e] =
              l.input_kind === 'spikes'
                ? ((frame as Uint8Array)[e >> 3] >> (e & 7)) & 1
                : (frame as Float32Array)[e];
        }),
      );
      return [l.name, npyBytes('<f4', [T, N, n], vals)];
    });
    const logits = new Float32Array(T * N * K);
    A.samples.forEach((s, si) => {
      for (let t = 0; t < T; t++)
        for (let k = 0; k < K; k++) logits[(t * N + si) * K + k] = s.logits[t * K + k];
    });
    arrays.push(
      ['logits', npyBytes('<f4', [T, N, K], logits)],
      [
        'labels',
        npyBytes(
          '<i8',
          [N],
          A.samples.map((s) => s.label),
        ),
      ],
    );
    const npz = join(dir, 'rec.npz');
    writeFileSync(npz, npzBytes(arrays, { deflate: true }));
    const b = join(dir, 'from-npz.trace');
    const imp = await runCli('trace', 'import', npz, '--network', MODEL, '--out', b);
    expect(imp.code).toBe(0);
    expect(imp.out).toMatch(/4 samples imported from rec\.npz/);
    const B = await samplesOf(b);
    expect(B.samples).toEqual(A.samples);
    expect(await replay(b, 'npz-b')).toEqual(await replay(a, 'npz-a'));
  });

  it('refuses a missing layer, a non-binary spike and a corrupt HDF5 file with one located line', async () => {
    const net = join(dir, 'n.yaml');
    writeFileSync(
      net,
      'name: n\ninput: { shape: [4], encoding: rate }\nclasses: 2\ntimesteps: 2\nlayers:\n  - { name: a, type: linear, out_features: 3 }\n  - { name: b, type: linear, out_features: 2, spiking: false }\n',
    );
    const only = join(dir, 'only-a.npz');
    writeFileSync(only, npzBytes([['a', npyBytes('|u1', [2, 1, 4], [1, 0, 0, 1, 0, 1, 1, 0])]]));
    const r1 = await runCli('trace', 'import', only, '--network', net, '--out', join(dir, 'x.trace'));
    expect(r1.code).toBe(2);
    expect(r1.err).toMatch(/lacks weighted layer b/);
    const two = join(dir, 'two.npz');
    writeFileSync(
      two,
      npzBytes([
        ['a', npyBytes('|u1', [2, 1, 4], [1, 0, 0, 1, 0, 2, 1, 0])],
        ['b', npyBytes('|u1', [2, 1, 3], [1, 0, 0, 1, 1, 0])],
      ]),
    );
    const r2 = await runCli('trace', 'import', two, '--network', net, '--out', join(dir, 'y.trace'));
    expect(r2.code).toBe(2);
    expect(r2.err).toMatch(/layer a: a spike input is not 0 or 1/);
    expect(r2.err).toMatch(/sample 0, t 1, element 1/);
    const bytes = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'nir', 'cnn_sinabs.nir'));
    const bad = Buffer.from(bytes);
    for (let i = 600; i < 4000; i++) bad[i] ^= 0x5a;
    const badFile = join(dir, 'bad.h5');
    writeFileSync(badFile, bad);
    const r3 = await runCli('trace', 'import', badFile, '--network', MODEL, '--out', join(dir, 'z.trace'));
    expect(r3.code).toBe(2);
    expect(r3.err.trim().split('\n')).toHaveLength(1);
    expect(r3.err).toMatch(/corrupt or unreadable NIRData file \(HDF5\)/);
  });
});

it('NPZ keys may be the PyTorch module names the NIR import named the layers after', async () => {
  const { npzKeyMatches } = await import('../../src/trace/import.js');
  expect(npzKeyMatches('0', 'conv2d_0')).toBe(true);
  expect(npzKeyMatches('3', 'affine_3')).toBe(true);
  expect(npzKeyMatches('features.0', 'features_0')).toBe(true);
  expect(npzKeyMatches('fc1', 'fc1')).toBe(true);
  expect(npzKeyMatches('1', 'conv2d_0')).toBe(false);
  expect(npzKeyMatches('0', 'fc_0')).toBe(false);
});
