import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadNetwork } from '../../src/network/load.js';
import { readSafetensors, writeSafetensors } from '../../src/snn/io/safetensors.js';
import { expectedTensors, initModel, loadModel, saveModel } from '../../src/snn/model.js';

const net = loadNetwork('models/mnist-convnet');

describe('safetensors', () => {
  it('round-trips F32 tensors byte-identically, sorted by name', () => {
    const t = new Map([
      ['b.weight', { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }],
      ['a.bias', { shape: [2], data: Float32Array.from([-1, 0.5]) }],
    ]);
    const bytes = writeSafetensors(t, { note: 'x' });
    const back = readSafetensors(bytes);
    expect([...back.tensors.keys()]).toEqual(['a.bias', 'b.weight']);
    expect(Array.from(back.tensors.get('b.weight')!.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(back.metadata).toEqual({ note: 'x' });
    expect(writeSafetensors(back.tensors, back.metadata)).toEqual(bytes);
    // Data starts 8-byte aligned, as PyTorch's writer does.
    expect(Number(new DataView(bytes.buffer).getBigUint64(0, true)) % 8).toBe(0);
  });
  it('reads other dtypes a PyTorch user may save (F16, I64, F64)', () => {
    const header = JSON.stringify({
      h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] },
      i: { dtype: 'I64', shape: [1], data_offsets: [4, 12] },
      d: { dtype: 'F64', shape: [1], data_offsets: [12, 20] },
    });
    const hb = new TextEncoder().encode(header);
    const buf = new Uint8Array(8 + hb.length + 20);
    const v = new DataView(buf.buffer);
    v.setBigUint64(0, BigInt(hb.length), true);
    buf.set(hb, 8);
    const o = 8 + hb.length;
    v.setUint16(o, 0x3c00, true); // 1.0
    v.setUint16(o + 2, 0xc000, true); // -2.0
    v.setBigInt64(o + 4, -7n, true);
    v.setFloat64(o + 12, 0.25, true);
    const r = readSafetensors(buf);
    expect(Array.from(r.tensors.get('h')!.data)).toEqual([1, -2]);
    expect(r.tensors.get('i')!.data[0]).toBe(-7);
    expect(r.tensors.get('d')!.data[0]).toBe(0.25);
  });
  it('rejects a truncated or garbled file with a clear error', () => {
    expect(() => readSafetensors(new Uint8Array(4), 'w.safetensors')).toThrow(
      /w\.safetensors: not a safetensors file/,
    );
    const good = writeSafetensors(new Map([['x', { shape: [4], data: new Float32Array(4) }]]));
    expect(() => readSafetensors(good.subarray(0, good.length - 4), 'w.safetensors')).toThrow(/data offsets/);
  });
});

describe('model files', () => {
  it('expected tensors follow layer names and shapes', () => {
    const e = expectedTensors(net.spec, net.shapes).filter((t) => !t.optional);
    expect(e.map((t) => `${t.name}[${t.shape}]`)).toEqual([
      'conv1.weight[16,1,3,3]',
      'conv2.weight[32,16,3,3]',
      'fc1.weight[128,1568]',
      'fc2.weight[10,128]',
    ]);
  });
  it('save → load round trip', () => {
    const dir = mkdtempSync(join(tmpdir(), 'imcsim-model-'));
    const m = initModel(net.spec, 42);
    saveModel(dir, m);
    const back = loadModel(dir);
    expect(back.spec).toEqual(m.spec);
    for (const [k, t] of m.tensors) expect(Array.from(back.tensors.get(k)!.data)).toEqual(Array.from(t.data));
  });
  it('names what is missing, extra or mis-shaped', () => {
    const dir = mkdtempSync(join(tmpdir(), 'imcsim-model-'));
    copyFileSync('models/mnist-convnet/network.yaml', join(dir, 'network.yaml'));
    const m = initModel(net.spec, 1);
    const t = new Map(m.tensors);
    t.delete('fc2.weight');
    t.set('conv1.weight', { shape: [16, 1, 5, 5], data: new Float32Array(400) });
    t.set('oops.weight', { shape: [1], data: new Float32Array(1) });
    writeFileSync(join(dir, 'weights.safetensors'), writeSafetensors(t));
    let msg = '';
    try {
      loadModel(dir);
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toContain('missing tensor fc2.weight (expected shape [10, 128])');
    expect(msg).toContain('tensor conv1.weight has shape [16, 1, 5, 5], expected [16, 1, 3, 3]');
    expect(msg).toContain('unexpected tensor oops.weight');
    expect(msg).toContain('weights.safetensors');
  });
  it('a model without weights says how to get them', () => {
    expect(() => loadModel('models/vgg16-cifar10')).toThrow(/imcsim train|imcsim import/);
  });
  it('initialisation is deterministic by seed', () => {
    const a = initModel(net.spec, 5).tensors.get('fc1.weight')!.data;
    const b = initModel(net.spec, 5).tensors.get('fc1.weight')!.data;
    expect(Array.from(a.subarray(0, 50))).toEqual(Array.from(b.subarray(0, 50)));
  });
});
