import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import h5wasm from 'h5wasm/node';
import type { Dataset, Group } from 'h5wasm/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/util/errors.js';
import { NetworkSchema } from '../../src/network/schema.js';
import { initModel, type SnnModel } from '../../src/snn/model.js';
import { exportNir, importNir } from '../../src/snn/io/nir.js';
import { neuronParams, neuronStep } from '../../src/snn/neurons/registry.js';
import { packBits, TraceWriter } from '../../src/trace/format.js';
import { exportTraceNirData } from '../../src/trace/nirdata.js';
import type { TraceHeader, TraceSample } from '../../src/trace/types.js';

const FIX = 'test/fixtures/nir';
const SINABS = join(FIX, 'cnn_sinabs.nir');
const NORSE = join(FIX, 'lif_norse.nir');

const dir = mkdtempSync(join(tmpdir(), 'imcsim-nir-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  await h5wasm.ready;
});
let seq = 0;
const tmp = (ext = 'nir') => join(dir, `f${seq++}.${ext}`);

/** Reads one dataset of an HDF5 file with h5wasm directly. */
function raw(file: string, path: string): { shape: number[]; value: unknown } {
  const f = new h5wasm.File(file, 'r');
  try {
    const d = f.get(path) as Dataset;
    return { shape: d.shape ?? [], value: d.value };
  } finally {
    f.close();
  }
}

type P = Float32Array | BigInt64Array | string | { shape: number[]; data: Float32Array };
interface N {
  type: string;
  [k: string]: P;
}

/** Writes a NIR graph by hand (NIR 0.x layout) for the malformed-input tests. */
function writeNir(nodes: Record<string, N>, edges: [string, string][], nested?: Record<string, N>): string {
  const file = tmp();
  const f = new h5wasm.File(file, 'w');
  const put = (g: Group, k: string, v: P) => {
    if (typeof v === 'string') g.create_dataset({ name: k, data: v });
    else if (v instanceof BigInt64Array) g.create_dataset({ name: k, data: v, shape: [v.length] });
    else if (v instanceof Float32Array) g.create_dataset({ name: k, data: v, shape: [v.length] });
    else g.create_dataset({ name: k, data: v.data, shape: v.shape });
  };
  f.create_dataset({ name: 'version', data: '0.2.0' });
  const root = f.create_group('node');
  root.create_dataset({ name: 'type', data: 'NIRGraph' });
  const flat = edges.flat();
  root.create_dataset({ name: 'edges', data: flat, shape: [edges.length, 2] });
  const ng = root.create_group('nodes');
  for (const [name, n] of Object.entries(nodes)) {
    const g = ng.create_group(name);
    for (const [k, v] of Object.entries(n)) put(g, k, v);
    if (n.type === 'NIRGraph' && nested) {
      g.create_dataset({ name: 'edges', data: ['a', 'b'], shape: [1, 2] });
      const sub = g.create_group('nodes');
      for (const [nn, nv] of Object.entries(nested)) {
        const sg = sub.create_group(nn);
        for (const [k, v] of Object.entries(nv)) put(sg, k, v);
      }
    }
  }
  f.close();
  return file;
}

const i64 = (...v: number[]) => BigInt64Array.from(v.map(BigInt));
const f32 = (...v: number[]) => Float32Array.from(v);
const affine = (o: number, i: number): N => ({
  type: 'Affine',
  weight: { shape: [o, i], data: new Float32Array(o * i).map((_, k) => (k % 7) / 7 - 0.4) },
  bias: new Float32Array(o).fill(0.1),
});
const lif = (n: number, over: Partial<Record<string, Float32Array>> = {}): N => ({
  type: 'LIF',
  tau: new Float32Array(n).fill(0.002),
  r: new Float32Array(n).fill(1),
  v_leak: new Float32Array(n).fill(0),
  v_threshold: new Float32Array(n).fill(1),
  ...(over as Record<string, Float32Array>),
});
const chain = (...names: string[]): [string, string][] => names.slice(1).map((n, k) => [names[k], n]);

async function importError(file: string, opts = {}): Promise<InputError> {
  try {
    await importNir(file, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('import succeeded');
}

describe('cnn_sinabs.nir (N-MNIST CNN exported from Sinabs)', () => {
  let m: SnnModel;
  beforeAll(async () => {
    m = await importNir(SINABS);
  });

  it('input, layer sequence and shapes as docs/SOURCES.md §3 lists them', () => {
    expect(m.spec.input.shape).toEqual([2, 34, 34]);
    expect(m.spec.classes).toBe(10);
    const seq = m.shapes.layers.map((l) => `${l.type} ${l.inShape.join('x')}->${l.outShape.join('x')}`);
    expect(seq).toEqual([
      'conv2d 2x34x34->16x16x16',
      'conv2d 16x16x16->16x16x16',
      'sumpool2d 16x16x16->16x8x8',
      'conv2d 16x8x8->8x8x8',
      'sumpool2d 8x8x8->8x4x4',
      'flatten 8x4x4->128',
      'linear 128->256',
      'linear 256->10',
    ]);
    const [c1, c2, p1, c3, p2, , fc1, fc2] = m.spec.layers;
    expect(c1).toMatchObject({
      type: 'conv2d',
      out_channels: 16,
      kernel: 5,
      stride: 2,
      padding: 1,
      groups: 1,
    });
    expect(c2).toMatchObject({ type: 'conv2d', out_channels: 16, kernel: 3, stride: 1, padding: 1 });
    expect(p1).toMatchObject({ type: 'sumpool2d', kernel: 2 });
    expect(c3).toMatchObject({ type: 'conv2d', out_channels: 8, kernel: 3, stride: 1, padding: 1 });
    expect(p2).toMatchObject({ type: 'sumpool2d', kernel: 2 });
    expect(fc1).toMatchObject({ type: 'linear', out_features: 256 });
    expect(fc2).toMatchObject({ type: 'linear', out_features: 10 });
    // Layers are named after the NIR nodes ("0", "2", …, sanitised to start with a letter).
    expect(m.spec.layers.map((l) => l.name)).toEqual([
      'conv2d_0',
      'conv2d_2',
      'sumpool2d_4',
      'conv2d_5',
      'sumpool2d_7',
      'flatten_8',
      'affine_9',
      'affine_11',
    ]);
  });

  it('every weighted layer is a spiking IF layer (r = 1, v_th = 1, reset to 0); all-zero biases dropped', () => {
    for (const l of m.spec.layers) {
      if (l.type !== 'conv2d' && l.type !== 'linear') continue;
      expect(l.spiking).toBe(true);
      expect(l.bias).toBe(false);
      expect(l.neuron).toMatchObject({
        model: 'if',
        convention: 'dtsnn',
        threshold: 1,
        reset: 'hard',
        v_reset: 0,
      });
    }
    expect([...m.tensors.keys()].sort()).toEqual(
      ['conv2d_0', 'conv2d_2', 'conv2d_5', 'affine_9', 'affine_11'].map((n) => `${n}.weight`).sort(),
    );
    expect(m.tensors.get('conv2d_0.weight')!.shape).toEqual([16, 2, 5, 5]);
    expect(m.tensors.get('conv2d_5.weight')!.shape).toEqual([8, 16, 3, 3]);
    expect(m.tensors.get('affine_9.weight')!.shape).toEqual([256, 128]);
    expect(m.tensors.get('affine_11.weight')!.shape).toEqual([10, 256]);
  });

  it('weights are the file values, bit for bit (against h5wasm raw reads)', () => {
    for (const [node, layer] of [
      ['0', 'conv2d_0'],
      ['2', 'conv2d_2'],
      ['5', 'conv2d_5'],
      ['9', 'affine_9'],
      ['11', 'affine_11'],
    ]) {
      const r = raw(SINABS, `node/nodes/${node}/weight`);
      const t = m.tensors.get(`${layer}.weight`)!;
      expect(t.shape).toEqual(r.shape);
      expect(t.data).toEqual(r.value);
    }
    // Spot checks against values read once from the file.
    expect(m.tensors.get('conv2d_0.weight')!.data[0]).toBe(Math.fround(-0.2573421895503998));
    expect(m.tensors.get('affine_9.weight')!.data[2]).toBe(Math.fround(0.027306580916047096));
    expect(m.tensors.get('affine_11.weight')!.data[1]).toBe(Math.fround(0.016010383144021034));
  });

  it('name option and metadata', async () => {
    const n = await importNir(SINABS, { name: 'nmnist' });
    expect(n.spec.name).toBe('nmnist');
    expect(m.spec.name).toBe('cnn_sinabs');
    expect(m.metadata).toMatchObject({ source: 'nir', nir_version: '0.2.0' });
  });

  it('IF under the snntorch convention keeps it (no reset delay); iir resets softly', async () => {
    const s = await importNir(SINABS, { convention: 'snntorch' });
    expect(s.spec.layers[0]).toMatchObject({
      neuron: { model: 'if', convention: 'snntorch', reset_delay: false },
    });
    const i = await importNir(SINABS, { convention: 'iir' });
    expect(i.spec.layers[0]).toMatchObject({ neuron: { model: 'if', convention: 'iir', reset: 'soft' } });
  });
});

/** Golden traces (input, v, spike), copied from shared/data/nir. */
function golden(file: string): number[][] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(',').map(Number));
}

/** Replays the imported one-neuron model: x = w·input (+ b), then the imported neuron's update. */
function replay(m: SnnModel, rows: number[][]): void {
  const layer = m.spec.layers[0];
  if (layer.type !== 'linear' || !layer.neuron) throw new Error('expected a spiking linear layer');
  const w = m.tensors.get(`${layer.name}.weight`)!.data[0];
  const b = m.tensors.get(`${layer.name}.bias`)?.data[0] ?? 0;
  const p = neuronParams(layer.neuron);
  const u = new Float32Array(1);
  const x = new Float32Array(1);
  const s = new Float32Array(1);
  let spikes = 0;
  rows.forEach(([input, v, spike], t) => {
    x[0] = Math.fround(Math.fround(w * input) + b);
    neuronStep(p, u, x, s);
    expect(u[0], `v at ${t}`).toBe(Math.fround(v));
    expect(s[0], `spike at ${t}`).toBe(spike);
    spikes += spike;
  });
  expect(spikes).toBeGreaterThan(0);
}

describe('lif_norse.nir (one LIF neuron exported from Norse)', () => {
  it('imports with the norse convention and the file parameters', async () => {
    const m = await importNir(NORSE, { convention: 'norse', dt: 1e-4 });
    expect(m.spec.input.shape).toEqual([1]);
    expect(m.spec.classes).toBe(1);
    expect(m.spec.layers).toHaveLength(1);
    const l = m.spec.layers[0];
    expect(l).toMatchObject({ type: 'linear', out_features: 1, spiking: true, bias: false });
    expect(l.type === 'linear' && l.neuron).toMatchObject({
      model: 'lif',
      convention: 'norse',
      tau: Math.fround(0.0025),
      dt: 1e-4,
      threshold: Math.fround(0.1),
      v_leak: 0,
      v_reset: 0, // absent in NIR 0.1 files: NIR's default
      reset: 'hard',
    });
    expect(m.tensors.get('affine_0.weight')!.data).toEqual(f32(1));
  });

  it('default convention is norse and default dt 1e-4', async () => {
    const m = await importNir(NORSE);
    expect(m.spec.layers[0]).toMatchObject({ neuron: { convention: 'norse', dt: 1e-4 } });
  });

  it('reproduces the Norse golden trace bit for bit', async () => {
    replay(await importNir(NORSE, { convention: 'norse', dt: 1e-4 }), golden(join(FIX, 'lif_norse.csv')));
  });

  it('snntorch: β = 1 − dt/τ, threshold in units of the input gain (dt/τ) — the snnTorch golden trace', async () => {
    const m = await importNir(NORSE, { convention: 'snntorch', dt: 1e-4 });
    expect(m.spec.layers[0]).toMatchObject({
      neuron: {
        convention: 'snntorch',
        leak: Math.fround(0.96),
        threshold: 2.5,
        reset_delay: false,
        v_reset: 0,
      },
    });
    replay(m, golden(join(FIX, 'lif_snntorch.csv')));
  });

  it('spikingjelly: τ in steps = τ/dt; dtsnn and iir: β = 1 − dt/τ', async () => {
    const sj = await importNir(NORSE, { convention: 'spikingjelly', dt: 1e-4 });
    expect(sj.spec.layers[0]).toMatchObject({
      neuron: { convention: 'spikingjelly', tau: 25, threshold: Math.fround(0.1) },
    });
    const dt = await importNir(NORSE, { convention: 'dtsnn', dt: 5e-4 });
    expect(dt.spec.layers[0]).toMatchObject({
      neuron: { convention: 'dtsnn', leak: Math.fround(0.8), reset: 'hard' },
    });
    const iir = await importNir(NORSE, { convention: 'iir', dt: 1e-4 });
    expect(iir.spec.layers[0]).toMatchObject({ neuron: { convention: 'iir', reset: 'soft' } });
  });

  it('a dt larger than τ is refused, naming the node', async () => {
    const e = await importError(NORSE, { dt: 0.01 });
    expect(e.message).toContain('NIR node "1" (LIF)');
    expect(e.message).toContain('dt');
  });
});

describe('malformed NIR files: errors name the node', () => {
  const io = { input: { type: 'Input', shape: i64(4) }, output: { type: 'Output', shape: i64(3) } };

  it('a valid hand-written file imports (control)', async () => {
    const file = writeNir({ ...io, fc: affine(3, 4), lif: lif(3) }, chain('input', 'fc', 'lif', 'output'));
    const m = await importNir(file, { dt: 1e-4 });
    expect(m.spec.layers[0]).toMatchObject({ name: 'fc', bias: true, neuron: { tau: Math.fround(0.002) } });
  });

  it('NaN or ±Inf in a weight, a bias or a neuron parameter is refused, naming node and field', async () => {
    const w = affine(3, 4);
    (w.weight as { data: Float32Array }).data[5] = NaN;
    let e = await importError(writeNir({ ...io, fc: w, lif: lif(3) }, chain('input', 'fc', 'lif', 'output')));
    expect(e.message).toContain('NIR node "fc" (Affine): weight holds a non-finite value');
    expect(e.path).toBe('/node/nodes/fc/weight[5]');
    const b = affine(3, 4);
    (b.bias as Float32Array)[0] = -Infinity;
    e = await importError(writeNir({ ...io, fc: b, lif: lif(3) }, chain('input', 'fc', 'lif', 'output')));
    expect(e.message).toMatch(/"fc" \(Affine\): bias holds a non-finite value.*found -Infinity/);
    const n = lif(3, { v_threshold: f32(1, Infinity, 1) });
    e = await importError(writeNir({ ...io, fc: affine(3, 4), n }, chain('input', 'fc', 'n', 'output')));
    expect(e.message).toContain('NIR node "n" (LIF): v_threshold holds a non-finite value');
    expect(e.path).toBe('/node/nodes/n/v_threshold[1]');
  });

  it('unsupported node type', async () => {
    const file = writeNir(
      { ...io, fc: affine(3, 4), d: { type: 'Conv1d', weight: f32(1) }, lif: lif(3) },
      chain('input', 'fc', 'd', 'lif', 'output'),
    );
    const e = await importError(file);
    expect(e.message).toContain('NIR node "d" (Conv1d)');
    expect(e.message).toContain('not supported');
    expect(e.path).toBe('/node/nodes/d/type');
  });

  it('a non-zero Delay is refused by name', async () => {
    const file = writeNir(
      { ...io, fc: affine(3, 4), d: { type: 'Delay', delay: f32(0, 1, 0) }, lif: lif(3) },
      chain('input', 'fc', 'd', 'lif', 'output'),
    );
    const e = await importError(file);
    expect(e.message).toContain('NIR node "d" (Delay)');
    expect(e.message).toMatch(/non-zero delay is not supported/);
    expect(e.found).toBe('1 at index 1');
  });

  it('missing parameter', async () => {
    const bad = lif(3);
    delete (bad as Partial<N>).tau;
    const file = writeNir({ ...io, fc: affine(3, 4), neuron: bad }, chain('input', 'fc', 'neuron', 'output'));
    const e = await importError(file);
    expect(e.message).toContain('NIR node "neuron" (LIF): missing parameter tau');
    expect(e.path).toBe('/node/nodes/neuron/tau');
  });

  it('missing weight', async () => {
    const file = writeNir(
      { ...io, fc: { type: 'Affine', bias: f32(0, 0, 0) }, n: lif(3) },
      chain('input', 'fc', 'n', 'output'),
    );
    expect((await importError(file)).message).toContain('NIR node "fc" (Affine): missing parameter weight');
  });

  it('branching graph (two outgoing edges)', async () => {
    const file = writeNir({ ...io, fc: affine(3, 4), a: lif(3), b: lif(3) }, [
      ...chain('input', 'fc', 'a', 'output'),
      ['fc', 'b'],
    ]);
    const e = await importError(file);
    expect(e.message).toContain('NIR node "fc" (Affine)');
    expect(e.message).toContain('several outgoing edges');
  });

  it('several incoming edges (NIR sums them)', async () => {
    const file = writeNir({ ...io, fc: affine(3, 4), fc2: affine(3, 4), n: lif(3) }, [
      ...chain('input', 'fc', 'n', 'output'),
      ['input', 'fc2'],
      ['fc2', 'n'],
    ]);
    const e = await importError(file);
    expect(e.message).toMatch(/NIR node "(input|n)"/);
    expect(e.message).toMatch(/several (incoming|outgoing) edges/);
  });

  it('nested graph', async () => {
    const file = writeNir({ ...io, sub: { type: 'NIRGraph' } }, chain('input', 'sub', 'output'), {
      a: { type: 'Input', shape: i64(4) },
      b: { type: 'Output', shape: i64(4) },
    });
    const e = await importError(file);
    expect(e.message).toContain('NIR node "sub" (NIRGraph)');
    expect(e.message).toContain('nested');
  });

  it('a cycle off the input path', async () => {
    const file = writeNir({ ...io, fc: affine(3, 4), n: lif(3), x: affine(3, 3), y: lif(3) }, [
      ...chain('input', 'fc', 'n', 'output'),
      ['x', 'y'],
      ['y', 'x'],
    ]);
    expect((await importError(file)).message).toMatch(/NIR node "(x|y)".*not on the path/);
  });

  it('non-uniform neuron parameters', async () => {
    const file = writeNir(
      { ...io, fc: affine(3, 4), n: lif(3, { v_threshold: f32(1, 1, 2) }) },
      chain('input', 'fc', 'n', 'output'),
    );
    const e = await importError(file);
    expect(e.message).toContain('NIR node "n" (LIF): parameter v_threshold is not uniform');
    expect(e.found).toContain('index 2');
  });

  it('a neuron node without a weighted node before it', async () => {
    const file = writeNir(
      { input: io.input, output: { type: 'Output', shape: i64(4) }, n: lif(4) },
      chain('input', 'n', 'output'),
    );
    expect((await importError(file)).message).toContain(
      'NIR node "n" (LIF): a neuron node must directly follow',
    );
  });

  it('weights that do not match the incoming shape', async () => {
    const file = writeNir({ ...io, fc: affine(3, 5), n: lif(3) }, chain('input', 'fc', 'n', 'output'));
    const e = await importError(file);
    expect(e.message).toContain('NIR node "fc" (Affine): weight does not match');
  });

  it('v_leak ≠ 0 under the snntorch convention', async () => {
    const file = writeNir(
      { ...io, fc: affine(3, 4), n: lif(3, { v_leak: f32(0.5, 0.5, 0.5) }) },
      chain('input', 'fc', 'n', 'output'),
    );
    const e = await importError(file, { convention: 'snntorch' });
    expect(e.message).toContain('NIR node "n" (LIF)');
    expect(e.message).toContain('v_leak');
    // …while norse keeps it.
    const m = await importNir(file);
    expect(m.spec.layers[0]).toMatchObject({ neuron: { convention: 'norse', v_leak: 0.5 } });
  });

  it('padding "same" and an LI output accumulator', async () => {
    const file = writeNir(
      {
        input: { type: 'Input', shape: i64(1, 6, 6) },
        c: {
          type: 'Conv2d',
          weight: { shape: [2, 1, 3, 3], data: new Float32Array(18).fill(0.5) },
          bias: f32(0, 0),
          stride: i64(1, 1),
          padding: 'same',
          dilation: i64(1, 1),
          groups: i64(1),
        },
        n: { type: 'IF', r: new Float32Array(72).fill(2), v_threshold: new Float32Array(72).fill(1) },
        fl: { type: 'Flatten', start_dim: i64(0), end_dim: i64(-1) },
        fc: affine(3, 72),
        li: { type: 'LI', tau: f32(0.01, 0.01, 0.01), r: f32(1, 1, 1), v_leak: f32(0, 0, 0) },
        output: { type: 'Output', shape: i64(3) },
      },
      chain('input', 'c', 'n', 'fl', 'fc', 'li', 'output'),
    );
    const m = await importNir(file);
    expect(m.spec.layers[0]).toMatchObject({ type: 'conv2d', padding: 1, neuron: { model: 'if' } });
    // IF r = 2 folded into the weights.
    expect(m.tensors.get('c.weight')!.data[0]).toBe(1);
    expect(m.spec.layers[2]).toMatchObject({ type: 'linear', spiking: false, bias: true });
    expect(JSON.parse(m.metadata['nir.fc.li'])).toEqual({ tau: Math.fround(0.01), r: 1, v_leak: 0 });
  });

  it('not an HDF5 file, and a missing file', async () => {
    const file = tmp();
    writeFileSync(file, 'hello');
    expect((await importError(file)).message).toContain('not a NIR file');
    expect((await importError(join(dir, 'nope.nir'))).message).toContain('not found');
  });
});

describe('export → import round trip', () => {
  const tensorsEqual = (a: SnnModel, b: SnnModel) => {
    expect([...b.tensors.keys()].sort()).toEqual([...a.tensors.keys()].sort());
    for (const [k, t] of a.tensors) {
      const u = b.tensors.get(k)!;
      expect(u.shape, k).toEqual(t.shape);
      expect(u.data, k).toEqual(t.data);
    }
  };

  it('cnn_sinabs: identical topology and tensors; the file is a plain NIR chain', async () => {
    const a = await importNir(SINABS);
    const file = tmp();
    await exportNir(a, file);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    const b = await importNir(file);
    expect(JSON.stringify(b.spec)).toBe(JSON.stringify(a.spec));
    tensorsEqual(a, b);
    expect(raw(file, 'node/type').value).toBe('NIRGraph');
    expect(raw(file, 'node/nodes/input/shape').value).toEqual(i64(2, 34, 34));
    const edges = raw(file, 'node/edges');
    expect(edges.shape).toEqual([14, 2]);
    expect((edges.value as string[]).slice(0, 4)).toEqual(['input', 'conv2d_0', 'conv2d_0', 'conv2d_0_if']);
    expect(raw(file, 'node/nodes/conv2d_0/stride').value).toEqual(i64(2, 2));
    expect(raw(file, 'node/nodes/conv2d_0_if/v_threshold').shape).toEqual([16, 16, 16]);
  });

  it('a model with every convention, biases, avg pooling, threshold tensors, per-layer T and an accumulator', async () => {
    const spec = NetworkSchema.parse({
      name: 'mixed',
      dataset: 'mnist',
      description: 'round trip',
      input: { shape: [1, 8, 8], encoding: 'rate' },
      classes: 3,
      timesteps: 6,
      neuron: { convention: 'iir', leak: 0.9, threshold: 0.7 },
      layers: [
        {
          name: 'c1',
          type: 'conv2d',
          out_channels: 4,
          kernel: [3, 2],
          padding: [1, 0],
          bias: true,
          neuron: { convention: 'snntorch', leak: 0.96, threshold: 2.5, reset: 'soft' },
        },
        { name: 'p1', type: 'avgpool2d', kernel: 2 },
        {
          name: 'c2',
          type: 'conv2d',
          out_channels: 4,
          kernel: 3,
          groups: 2,
          padding: 1,
          timesteps: 3,
          neuron: { convention: 'spikingjelly', tau: 2, threshold: 1 },
        },
        {
          name: 'c3',
          type: 'conv2d',
          out_channels: 2,
          kernel: 1,
          neuron: { convention: 'norse', tau: 0.005, dt: 1e-3, v_leak: 0.1 },
        },
        { name: 'flat', type: 'flatten' },
        { name: 'fc1', type: 'linear', out_features: 5 },
        {
          name: 'fc2',
          type: 'linear',
          out_features: 4,
          neuron: { model: 'if', convention: 'dtsnn', v_reset: -0.5 },
        },
        { type: 'dropout' },
        { name: 'out', type: 'linear', out_features: 3, spiking: false, bias: true },
      ],
    });
    const a = initModel(spec, 3);
    a.tensors.set('fc1.threshold', { shape: [1], data: f32(0.55) });
    a.tensors.set('fc1.leak', { shape: [1], data: f32(0.8) });
    a.tensors.get('c1.bias')!.data.set([0.1, -0.2, 0, 0.3]);
    const file = tmp();
    await exportNir(a, file);
    const b = await importNir(file);
    const dropDropout = { ...a.spec, layers: a.spec.layers.filter((l) => l.type !== 'dropout') };
    expect(JSON.stringify(b.spec)).toBe(JSON.stringify(dropDropout));
    tensorsEqual(a, b);
    // The NIR parameters themselves carry the neuron for other tools: iir fc1 with tensor overrides →
    // τ = dt/(1 − 0.8) at the default dt 1e-4, threshold 0.55, unit gain r = τ/dt.
    expect((raw(file, 'node/nodes/fc1_lif/tau').value as Float32Array)[0]).toBe(Math.fround(5e-4));
    expect((raw(file, 'node/nodes/fc1_lif/r').value as Float32Array)[0]).toBeCloseTo(5, 5);
    expect((raw(file, 'node/nodes/fc1_lif/v_threshold').value as Float32Array)[0]).toBe(Math.fround(0.55));
    expect((raw(file, 'node/nodes/c3_lif/v_leak').value as Float32Array)[0]).toBe(Math.fround(0.1));
    expect(raw(file, 'node/nodes/fc1/type').value).toBe('Linear');
    expect(raw(file, 'node/nodes/out/type').value).toBe('Affine');
    expect(raw(file, 'node/nodes/p1/type').value).toBe('AvgPool2d');
    // An explicit convention that cannot express a layer (norse v_leak under iir) is refused by name.
    await expect(importNir(file, { convention: 'iir', dt: 1e-4 })).rejects.toThrow(
      /"c3_lif" \(LIF\).*v_leak/,
    );
  });

  it('without our metadata (another convention), the NIR parameters give the same leaks and thresholds', async () => {
    const spec = NetworkSchema.parse({
      name: 'plain',
      input: { shape: [6] },
      classes: 2,
      neuron: { convention: 'dtsnn', leak: 0.9, threshold: 0.7 },
      layers: [
        { name: 'fc1', type: 'linear', out_features: 4 },
        {
          name: 'fc2',
          type: 'linear',
          out_features: 2,
          neuron: { convention: 'dtsnn', leak: 0.75, threshold: 1.5 },
        },
      ],
    });
    const a = initModel(spec, 5);
    a.tensors.set('fc1.threshold', { shape: [1], data: f32(0.55) });
    const file = tmp();
    await exportNir(a, file, { dt: 1e-3 });
    // Another convention than the exporter's: our metadata is ignored, the NIR parameters are read.
    const b = await importNir(file, { convention: 'snntorch', dt: 1e-3 });
    const [fc1, fc2] = b.spec.layers.map((l) => (l.type === 'linear' ? l.neuron! : undefined));
    expect(fc1).toMatchObject({ convention: 'snntorch', reset: 'hard', reset_delay: false });
    expect(fc1!.leak).toBeCloseTo(0.9, 6);
    expect(fc1!.threshold).toBeCloseTo(0.55, 6); // the tensor override is what NIR carries
    expect(fc2!.leak).toBeCloseTo(0.75, 6);
    expect(fc2!.threshold).toBeCloseTo(1.5, 6);
    expect(b.tensors.has('fc1.threshold')).toBe(false);
    // Unit input gain (r = τ/dt): the weights are unchanged.
    expect(b.tensors.get('fc2.weight')!.data).toEqual(a.tensors.get('fc2.weight')!.data);
  });

  it('what NIR cannot hold is refused', async () => {
    const spec = NetworkSchema.parse({
      name: 'mp',
      input: { shape: [1, 4, 4] },
      classes: 2,
      layers: [
        { name: 'c', type: 'conv2d', out_channels: 2, kernel: 1 },
        { name: 'mp', type: 'maxpool2d', kernel: 2 },
        { type: 'flatten' },
        { name: 'fc', type: 'linear', out_features: 2, spiking: false },
      ],
    });
    const file = tmp();
    await expect(exportNir(initModel(spec, 1), file)).rejects.toThrow(/max pooling/);
    expect(existsSync(file)).toBe(false);
  });
});

describe('NIRData export of a trace', () => {
  it('time-gridded input spikes per spikes layer, logits padded after exit, exit timesteps', async () => {
    const spec = (await importNir(NORSE)).spec;
    const header: TraceHeader = {
      format: 'imcsim-trace',
      format_version: 1,
      engine_version: '0.1.0',
      created: 'engine',
      synthetic: false,
      model: 'hand-made',
      dataset: null,
      split: null,
      network: spec,
      policy: { name: 'entropy', timesteps: 3, theta: 0.9 },
      encoding: 'direct',
      seed: 1,
      classes: 2,
      layers: [
        { name: 'img', input_elements: 4, input_kind: 'values', timesteps: 3 },
        { name: 'fc1', input_elements: 10, input_kind: 'spikes', timesteps: 3 },
        { name: 'fc2', input_elements: 5, input_kind: 'spikes', timesteps: 3 },
      ],
    };
    const bits =
      (...on: number[]) =>
      (n: number) =>
        packBits(Uint8Array.from({ length: n }, (_, i) => (on.includes(i) ? 1 : 0)));
    const samples: TraceSample[] = [
      {
        index: 0,
        label: 1,
        prediction: 1,
        exitTimestep: 1,
        logits: f32(0.5, 1.5),
        inputs: [[f32(1, 2, 3, 4)], [bits(0, 9)(10)], [bits(4)(5)]],
      },
      {
        index: 1,
        label: 0,
        prediction: 0,
        exitTimestep: 3,
        logits: f32(1, 2, 3, 4, 5, 6),
        inputs: [
          [f32(1, 0, 0, 0), f32(0, 1, 0, 0), f32(0, 0, 1, 0)],
          [bits(1)(10), bits(2)(10), bits(3, 8)(10)],
          [bits()(5), bits(0)(5), bits(1, 2)(5)],
        ],
      },
    ];
    const trace = tmp('imct');
    const w = await TraceWriter.open(trace, header);
    for (const s of samples) await w.write(s);
    await w.close();
    const out = tmp('h5');
    await exportTraceNirData(trace, out);

    const f = new h5wasm.File(out, 'r');
    try {
      expect(f.attrs['__type__'].value).toBe('NIRGraphData');
      // imcsim's addition: the 'values' layer's multi-bit input under observables/values.
      expect((f.get('nodes') as Group).keys().sort()).toEqual(['fc1', 'fc2', 'img', 'output']);
      const iv = f.get('nodes/img/observables/values/data') as Dataset;
      expect(iv.shape).toEqual([2, 3, 4]);
      expect(iv.dtype).toBe('<f');
      const s1 = f.get('nodes/fc1/observables/spikes/data') as Dataset;
      expect(s1.shape).toEqual([2, 3, 10]);
      expect(s1.dtype).toBe('<B');
      const v1 = s1.value as Uint8Array;
      expect([...v1.slice(0, 10)]).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
      expect([...v1.slice(10, 30)]).toEqual(new Array(20).fill(0)); // sample 0 ran one step
      expect([...v1.slice(30 + 20, 30 + 30)]).toEqual([0, 0, 0, 1, 0, 0, 0, 0, 1, 0]);
      const g1 = f.get('nodes/fc1/observables/spikes') as Group;
      expect(g1.attrs['dt'].value).toBe(1e-4);
      expect(g1.attrs['__type__'].value).toBe('TimeGriddedData');
      expect((f.get('nodes/fc2/observables/spikes/data') as Dataset).shape).toEqual([2, 3, 5]);
      const lg = f.get('nodes/output/observables/logits/data') as Dataset;
      expect(lg.shape).toEqual([2, 3, 2]);
      expect([...(lg.value as Float32Array)]).toEqual([0.5, 1.5, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6]);
      expect([...((f.get('nodes/output/observables/exit_timestep') as Dataset).value as Int32Array)]).toEqual(
        [1, 3],
      );
    } finally {
      f.close();
    }
  });
});
