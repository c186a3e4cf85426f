/**
 * NIR 1.0.x as the frameworks write it: Threshold, CubaLIF / CubaLI / I, Scale and Delay, optional
 * v_threshold and v_reset, gzip-compressed datasets, recurrent edges refused by name. Files are written by
 * hand with h5wasm in NIR's layout; expected values come from NIR's equations worked in the test (exact
 * binary fractions, so float32 rounding cannot hide a difference) or from an equivalent plain file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import h5wasm from 'h5wasm/node';
import type { Dataset, Group } from 'h5wasm/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/util/errors.js';
import { importNir } from '../../src/snn/io/nir.js';
import { Engine } from '../../src/snn/engine.js';

const dir = mkdtempSync(join(tmpdir(), 'imcsim-nir1x-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  await h5wasm.ready;
});
let seq = 0;

type V = { shape: number[]; data: Float32Array } | BigInt64Array | Float32Array | string;
type Node = Record<string, V>;
const f32 = (...v: number[]) => Float32Array.from(v);
const i64 = (...v: number[]) => BigInt64Array.from(v.map(BigInt));
const mat = (rows: number[][]) => ({
  shape: [rows.length, rows[0].length],
  data: Float32Array.from(rows.flat()),
});
const chain = (...n: string[]): [string, string][] => n.slice(1).map((x, k) => [n[k], x]);

/** A NIR 1.0 file (version 1.0.0, input_type/output_type groups), optionally with gzip-compressed data. */
function write(
  nodes: Record<string, Node>,
  edges: [string, string][],
  opts: { compress?: boolean } = {},
): string {
  const file = join(dir, `g${seq++}.nir`);
  const f = new h5wasm.File(file, 'w');
  const put = (g: Group, k: string, v: V) => {
    if (typeof v === 'string') return g.create_dataset({ name: k, data: v });
    const { data, shape } =
      v instanceof Float32Array || v instanceof BigInt64Array ? { data: v, shape: [v.length] } : v;
    const z = opts.compress && data instanceof Float32Array ? { chunks: shape, compression: 4 } : {};
    g.create_dataset({ name: k, data, shape, ...z });
  };
  f.create_dataset({ name: 'version', data: '1.0.0' });
  const root = f.create_group('node');
  root.create_dataset({ name: 'type', data: 'NIRGraph' });
  root.create_dataset({ name: 'edges', data: edges.flat(), shape: [edges.length, 2] });
  const ng = root.create_group('nodes');
  for (const [name, n] of Object.entries(nodes)) {
    const g = ng.create_group(name);
    for (const [k, v] of Object.entries(n)) {
      if (k === 'input_type' || k === 'output_type') {
        const sub = g.create_group(k);
        put(sub, 'shape', v);
      } else put(g, k, v);
    }
  }
  f.close();
  return file;
}

const io = (inShape: number[], out: number) => ({
  input: { type: 'Input', input_type: BigInt64Array.from(inShape.map(BigInt)) },
  output: { type: 'Output', output_type: i64(out) },
});
const W1 = [
  [0.5, -0.25, 0.125, 1],
  [1, 1, -0.5, 0],
  [-0.75, 0.5, 0.25, 0.5],
];
const W2 = [
  [1, -1, 0.5],
  [0.25, 0.5, -0.125],
];
const affine = (w: number[][], b?: number[]): Node => ({
  type: 'Affine',
  weight: mat(w),
  bias: Float32Array.from(b ?? w.map(() => 0)),
});

async function refused(file: string, opts = {}): Promise<InputError> {
  try {
    await importNir(file, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('import succeeded');
}

describe('Threshold', () => {
  it('is Heaviside(x − θ) with no memory: per-timestep logits worked out by hand', async () => {
    const file = write(
      {
        ...io([4], 2),
        fc1: affine(W1, [0, 0.25, 0]),
        th: { type: 'Threshold', threshold: f32(0.5, 0.5, 0.5) },
        fc2: affine(W2),
        li: { type: 'LI', tau: f32(1e-3, 1e-3), r: f32(1, 1), v_leak: f32(0, 0) },
      },
      chain('input', 'fc1', 'th', 'fc2', 'li', 'output'),
    );
    const m = await importNir(file, { timesteps: 3 });
    expect(m.spec.layers[0]).toMatchObject({
      spiking: true,
      neuron: { leak: 0, threshold: 0.5, reset: 'hard' },
    });
    expect(m.spec.layers[1]).toMatchObject({ spiking: false });
    const x = f32(1, 0.5, 0.25, 0.5);
    // fc1: [0.5 − 0.125 + 0.03125 + 0.5, 1 + 0.5 − 0.125 + 0.25, −0.75 + 0.25 + 0.0625 + 0.25]
    //    = [0.90625, 1.625, −0.1875] → spikes [1, 1, 0] every timestep (no memory).
    // fc2 on [1, 1, 0]: [0, 0.75] per timestep.
    const r = new Engine(m).run(x, 0, { policy: { name: 'static', timesteps: 3 }, encoding: 'direct' });
    expect([...r.logits]).toEqual([0, 0.75, 0, 0.75, 0, 0.75]);
    expect(r.spikeCounts[0]).toEqual([2, 2, 2]);
  });
});

describe('CubaLIF, CubaLI, I', () => {
  const lifFile = (r: number) =>
    write(
      {
        ...io([4], 2),
        fc1: affine(W1),
        n: {
          type: 'LIF',
          tau: f32(2e-3, 2e-3, 2e-3),
          r: f32(r, r, r),
          v_leak: f32(0, 0, 0),
          v_threshold: f32(1, 1, 1),
          v_reset: f32(0, 0, 0),
        },
        fc2: affine(W2),
      },
      chain('input', 'fc1', 'n', 'fc2', 'output'),
    );
  const cuba = (tauSyn: number, extra: Node = {}) =>
    write(
      {
        ...io([4], 2),
        fc1: affine(W1),
        n: {
          type: 'CubaLIF',
          tau_syn: f32(tauSyn, tauSyn, tauSyn),
          tau_mem: f32(2e-3, 2e-3, 2e-3),
          r: f32(1, 1, 1),
          v_leak: f32(0, 0, 0),
          v_threshold: f32(1, 1, 1),
          v_reset: f32(0, 0, 0),
          w_in: f32(2, 2, 2),
          ...extra,
        },
        fc2: affine(W2),
        out: {
          type: 'CubaLI',
          tau_syn: f32(1e-4, 1e-4),
          tau_mem: f32(1e-3, 1e-3),
          r: f32(1, 1),
          v_leak: f32(0, 0),
        },
      },
      chain('input', 'fc1', 'n', 'fc2', 'out', 'output'),
    );

  it('CubaLIF with tau_syn = dt is the LIF with input gain r·w_in (I = w_in·x after one Euler step)', async () => {
    for (const convention of ['norse', 'snntorch'] as const) {
      const c = await importNir(cuba(1e-4), { convention });
      const l = await importNir(lifFile(2), { convention });
      expect(c.spec.layers).toEqual(l.spec.layers);
      expect(c.tensors.get('fc1.weight')!.data).toEqual(l.tensors.get('fc1.weight')!.data);
      const fr = Math.fround;
      expect(c.metadata['nir.fc2.cubali']).toBe(
        JSON.stringify({ tau_syn: fr(1e-4), tau_mem: fr(1e-3), r: 1, v_leak: 0 }),
      );
    }
  });

  it('CubaLIF with a synaptic memory (tau_syn ≠ dt) is refused, naming tau_syn', async () => {
    const e = await refused(cuba(5e-4));
    expect(e.message).toContain('NIR node "n" (CubaLIF)');
    expect(e.message).toMatch(/tau_syn ≠ dt/);
    expect(e.path).toBe('/node/nodes/n/tau_syn');
  });

  it('an I (integrator) at the output is the accumulator', async () => {
    const file = write(
      { ...io([4], 3), fc1: affine(W1), i: { type: 'I', r: f32(1, 1, 1) } },
      chain('input', 'fc1', 'i', 'output'),
    );
    const m = await importNir(file);
    expect(m.spec.layers[0]).toMatchObject({ spiking: false });
    expect(m.metadata['nir.fc1.i']).toBe(JSON.stringify({ r: 1 }));
  });
});

describe('optional parameters and compressed datasets', () => {
  const lif = (over: Node = {}) => ({
    type: 'LIF',
    tau: f32(2e-3, 2e-3, 2e-3),
    r: f32(1, 1, 1),
    v_leak: f32(0, 0, 0),
    ...over,
  });
  const g = (n: Node, opts = {}) =>
    write(
      { ...io([4], 2), fc1: affine(W1, [0.25, 0, -0.5]), n, fc2: affine(W2) },
      chain('input', 'fc1', 'n', 'fc2', 'output'),
      opts,
    );

  it('no v_threshold means 1, no v_reset means 0 (the same model as the explicit file)', async () => {
    const explicit = await importNir(g(lif({ v_threshold: f32(1, 1, 1), v_reset: f32(0, 0, 0) })));
    const bare = await importNir(g(lif()));
    expect({ ...bare.spec, name: '' }).toEqual({ ...explicit.spec, name: '' });
  });

  it('gzip-compressed datasets read to the same bits', async () => {
    const plain = g(lif({ v_threshold: f32(1, 1, 1) }));
    const packed = g(lif({ v_threshold: f32(1, 1, 1) }), { compress: true });
    const f = new h5wasm.File(packed, 'r');
    try {
      const d = f.get('node/nodes/fc1/weight') as Dataset;
      expect(JSON.stringify(d.filters)).toMatch(/deflate|"id":1/);
    } finally {
      f.close();
    }
    const a = await importNir(plain);
    const b = await importNir(packed);
    expect({ ...b.spec, name: '' }).toEqual({ ...a.spec, name: '' });
    for (const [k, t] of a.tensors) expect(b.tensors.get(k)!.data).toEqual(t.data);
  });
});

describe('Scale and Delay', () => {
  const lif3 = {
    type: 'LIF',
    tau: f32(2e-3, 2e-3, 2e-3),
    r: f32(1, 1, 1),
    v_leak: f32(0, 0, 0),
    v_threshold: f32(1, 1, 1),
  };
  it('a Scale before a layer multiplies its input columns; one after it, its rows and bias', async () => {
    const sIn = [1, 2, 0.5, 4];
    const sOut = [2, 1, 0.5];
    const scaled = write(
      {
        ...io([4], 2),
        si: { type: 'Scale', scale: Float32Array.from(sIn) },
        fc1: affine(W1, [0.25, 0.5, -1]),
        so: { type: 'Scale', scale: Float32Array.from(sOut) },
        n: lif3,
        fc2: affine(W2),
      },
      chain('input', 'si', 'fc1', 'so', 'n', 'fc2', 'output'),
    );
    const folded = W1.map((row, o) => row.map((w, j) => w * sIn[j] * sOut[o]));
    const plain = write(
      { ...io([4], 2), fc1: affine(folded, [0.25 * 2, 0.5, -1 * 0.5]), n: lif3, fc2: affine(W2) },
      chain('input', 'fc1', 'n', 'fc2', 'output'),
    );
    const a = await importNir(scaled);
    const b = await importNir(plain);
    expect(a.spec.layers).toEqual(b.spec.layers);
    expect(a.tensors.get('fc1.weight')!.data).toEqual(b.tensors.get('fc1.weight')!.data);
    expect(a.tensors.get('fc1.bias')!.data).toEqual(b.tensors.get('fc1.bias')!.data);
  });

  it('a per-channel Scale before a convolution (through a pooling) folds per input channel; a varying one is refused', async () => {
    const w = { shape: [1, 2, 1, 1], data: f32(0.5, 0.25) };
    const conv = (weight: typeof w): Node => ({
      type: 'Conv2d',
      weight,
      bias: f32(0),
      stride: i64(1, 1),
      padding: i64(0, 0),
      dilation: i64(1, 1),
      groups: i64(1),
    });
    const ifn = { type: 'IF', r: f32(1, 1, 1, 1), v_threshold: f32(1, 1, 1, 1) };
    const pool = { type: 'SumPool2d', kernel_size: i64(2, 2), stride: i64(2, 2), padding: i64(0, 0) };
    const mk = (scale: Float32Array, weight: typeof w, withScale = true) =>
      write(
        {
          input: { type: 'Input', input_type: i64(2, 4, 4) },
          output: { type: 'Output', output_type: i64(1, 2, 2) },
          ...(withScale ? { s: { type: 'Scale', scale } } : {}),
          p: pool,
          c: conv(weight),
          n: ifn,
        },
        withScale ? chain('input', 's', 'p', 'c', 'n', 'output') : chain('input', 'p', 'c', 'n', 'output'),
      );
    const a = await importNir(mk(f32(2, 0.5), w));
    const b = await importNir(mk(f32(), { shape: [1, 2, 1, 1], data: f32(1, 0.125) }, false));
    expect(a.tensors.get('c.weight')!.data).toEqual(b.tensors.get('c.weight')!.data);
    const varying = new Float32Array(32).fill(1);
    varying[5] = 3;
    const e = await refused(mk(varying, w));
    expect(e.message).toMatch(/varies within a channel/);
  });

  it('a Delay of zero is the identity', async () => {
    const withDelay = write(
      { ...io([4], 2), fc1: affine(W1), d: { type: 'Delay', delay: f32(0, 0, 0) }, n: lif3, fc2: affine(W2) },
      chain('input', 'fc1', 'd', 'n', 'fc2', 'output'),
    );
    const without = write(
      { ...io([4], 2), fc1: affine(W1), n: lif3, fc2: affine(W2) },
      chain('input', 'fc1', 'n', 'fc2', 'output'),
    );
    expect((await importNir(withDelay)).spec.layers).toEqual((await importNir(without)).spec.layers);
  });
});

it('a recurrent edge is refused by name', async () => {
  const lif3 = {
    type: 'LIF',
    tau: f32(2e-3, 2e-3, 2e-3),
    r: f32(1, 1, 1),
    v_leak: f32(0, 0, 0),
    v_threshold: f32(1, 1, 1),
  };
  const file = write(
    {
      ...io([4], 3),
      fc: affine(W1),
      rec: affine([
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
      ]),
      n: lif3,
    },
    [...chain('input', 'fc', 'n', 'output'), ['n', 'rec'], ['rec', 'n']],
  );
  const e = await refused(file);
  expect(e.message).toMatch(/recurrent edge rec → n/);
  expect(e.message).toMatch(/feed-forward/);
});

it('end to end: a compressed NIR 1.0 file with Scale, Threshold and CubaLI is imported, traced on npz data and simulated', async () => {
  const { runCli } = await import('../helpers/cli.js');
  const { npyBytes, npzBytes } = await import('../helpers/np-files.js');
  const { writeFileSync } = await import('node:fs');
  const file = write(
    {
      ...io([4], 2),
      s: { type: 'Scale', scale: f32(1, 2, 0.5, 1) },
      fc1: affine(W1, [0, 0.25, 0]),
      th: { type: 'Threshold', threshold: f32(0.5, 0.5, 0.5) },
      fc2: affine(W2),
      out: { type: 'CubaLI', tau_syn: f32(1e-4, 1e-4), tau_mem: f32(1e-3, 1e-3), r: f32(1, 1), v_leak: f32(0, 0) },
    },
    chain('input', 's', 'fc1', 'th', 'fc2', 'out', 'output'),
    { compress: true },
  );
  const model = join(dir, 'e2e-model');
  const imp = await runCli('import', file, '--out', model, '--timesteps', '2', '--encoding', 'direct');
  expect(imp.code).toBe(0);
  const data = join(dir, 'e2e.npz');
  const N = 6;
  writeFileSync(
    data,
    npzBytes([
      ['images', npyBytes('<f4', [N, 4], Float32Array.from({ length: N * 4 }, (_, k) => ((k * 3) % 8) / 8))],
      ['labels', npyBytes('<i8', [N], [0, 1, 0, 1, 1, 0])],
    ]),
  );
  const trace = join(dir, 'e2e.trace');
  const t = await runCli('trace', '--model', model, '--dataset', `npz:${data}`, '--out', trace);
  expect(t.err).not.toMatch(/error/);
  expect(t.code).toBe(0);
  const sim = await runCli('simulate', '--trace', trace, '--json');
  expect(sim.code).toBe(0);
  expect(JSON.parse(sim.out).samples).toBe(N);
});
