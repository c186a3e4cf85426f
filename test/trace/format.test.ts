import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/util/errors.js';
import { loadNetwork } from '../../src/network/load.js';
import {
  packBits,
  popcount,
  TraceReader,
  TraceWriter,
  unpackBits,
  type TraceWriterOptions,
} from '../../src/trace/format.js';
import { SummaryAccumulator } from '../../src/trace/summary.js';
import type { TraceHeader, TraceSample } from '../../src/trace/types.js';
import { Rng } from '../../src/util/rng.js';

const dir = mkdtempSync(join(tmpdir(), 'imcsim-trace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let seq = 0;
const tmp = (name = 'trace') => join(dir, `${name}-${seq++}.imct`);

const network = loadNetwork('models/mnist-convnet').spec;

/** Four layers: small spikes (padding bits), values, wide spikes (u32 indices), values output. */
function makeHeader(): TraceHeader {
  return {
    format: 'imcsim-trace',
    format_version: 2,
    engine_version: '0.1.0',
    created: 'engine',
    synthetic: false,
    model: 'hand-made',
    dataset: 'none',
    split: 'test',
    network,
    policy: { name: 'entropy', timesteps: 4, theta: 0.9 },
    encoding: 'direct',
    seed: 7,
    classes: 3,
    layers: [
      { name: 'a', input_elements: 13, input_kind: 'spikes', timesteps: 3 },
      { name: 'b', input_elements: 5, input_kind: 'values', timesteps: 2 },
      { name: 'c', input_elements: 70000, input_kind: 'spikes', timesteps: 2 },
      { name: 'd', input_elements: 6, input_kind: 'values', timesteps: 4 },
    ],
  };
}

function spikes(rng: Rng, n: number, p: number): Uint8Array {
  const bits = new Uint8Array(n);
  for (let i = 0; i < n; i++) bits[i] = rng.next() < p ? 1 : 0;
  return packBits(bits);
}
function values(rng: Rng, n: number, p: number): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = rng.next() < p ? rng.normal() : 0;
  return v;
}

/** Random samples exercising every frame kind and differing timesteps per layer. */
function makeSamples(count: number, seed = 1): TraceSample[] {
  const rng = new Rng(seed);
  const h = makeHeader();
  return Array.from({ length: count }, (_, index) => {
    const exit = 1 + rng.int(4);
    const logits = new Float32Array(exit * h.classes).map(() => rng.normal());
    const inputs = h.layers.map((l, li) => {
      const T = li === 3 ? exit : rng.int(l.timesteps + 1);
      return Array.from({ length: T }, (_, t) => {
        const p = [0, 0.002, 0.3, 1][(index + t + li) % 4];
        return l.input_kind === 'spikes'
          ? spikes(rng, l.input_elements, p)
          : values(rng, l.input_elements, p);
      });
    });
    return { index, label: rng.int(4) - 1, prediction: rng.int(3), exitTimestep: exit, logits, inputs };
  });
}

/** First difference between two sample lists, or null (byte comparison: toEqual is slow on big frames). */
function diffSamples(a: TraceSample[], b: TraceSample[]): string | null {
  if (a.length !== b.length) return `${a.length} samples vs ${b.length}`;
  const bytes = (x: Uint8Array | Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);
  const same = (x: Uint8Array | Float32Array, y: Uint8Array | Float32Array) =>
    x.constructor === y.constructor && bytes(x).equals(bytes(y));
  for (let i = 0; i < a.length; i++) {
    const [x, y] = [a[i], b[i]];
    for (const k of ['index', 'label', 'prediction', 'exitTimestep'] as const)
      if (x[k] !== y[k]) return `sample ${i}: ${k} ${x[k]} vs ${y[k]}`;
    if (!same(x.logits, y.logits)) return `sample ${i}: logits`;
    if (x.inputs.length !== y.inputs.length) return `sample ${i}: layer count`;
    for (let l = 0; l < x.inputs.length; l++) {
      if (x.inputs[l].length !== y.inputs[l].length) return `sample ${i} layer ${l}: timesteps`;
      for (let t = 0; t < x.inputs[l].length; t++)
        if (!same(x.inputs[l][t], y.inputs[l][t])) return `sample ${i} layer ${l} timestep ${t}`;
    }
  }
  return null;
}

async function writeTrace(path: string, samples: TraceSample[], opts?: TraceWriterOptions) {
  const w = await TraceWriter.open(path, makeHeader(), opts);
  for (const s of samples) await w.write(s);
  return w.close();
}

async function readAll(path: string): Promise<{ samples: TraceSample[]; error: unknown }> {
  const r = await TraceReader.open(path);
  const samples: TraceSample[] = [];
  let error: unknown = null;
  try {
    for await (const s of r) samples.push(s);
  } catch (e) {
    error = e;
  } finally {
    await r.close();
  }
  return { samples, error };
}

/** Byte offsets of the chunks and the footer of a trace written by this writer. */
function layout(bytes: Uint8Array): { chunks: number[]; footer: number } {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const footer = Number(v.getBigUint64(bytes.length - 8, true));
  const chunks: number[] = [];
  let pos = 20 + v.getUint32(12, true);
  while (pos < footer) {
    chunks.push(pos);
    pos += 16 + v.getUint32(pos + 8, true);
  }
  return { chunks, footer };
}

describe('bit packing', () => {
  it('packs LSB first, bit i in byte i>>3', () => {
    const bits = [1, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1];
    expect([...packBits(new Uint8Array(bits))]).toEqual([0b00001101, 0b10000010]);
    expect([...packBits(new Float32Array([0, 0, 0, 0, 0, 0, 0, 1, 1]))]).toEqual([0x80, 0x01]);
    expect([...packBits([])]).toEqual([]);
    expect([...unpackBits(new Uint8Array([0x0d, 0x82]))]).toEqual(bits);
    expect([...unpackBits(new Uint8Array([0x80, 0x01]), 9)]).toEqual([0, 0, 0, 0, 0, 0, 0, 1, 1]);
    expect(popcount(new Uint8Array([0xff, 0x0d, 0x80, 0]))).toBe(12);
  });

  it('round-trips random bit vectors', () => {
    const rng = new Rng(3);
    for (const n of [1, 7, 8, 9, 63, 64, 1000]) {
      const bits = new Uint8Array(n).map(() => (rng.next() < 0.3 ? 1 : 0));
      const packed = packBits(bits);
      expect(packed.length).toBe(Math.ceil(n / 8));
      expect(unpackBits(packed, n)).toEqual(bits);
      expect(popcount(packed)).toBe(bits.reduce((a, b) => a + b, 0));
    }
  });
});

describe('trace file format', () => {
  it('lays out header, chunk and sample bytes as documented', async () => {
    const path = tmp();
    const h = makeHeader();
    h.layers = [
      { name: 'x', input_elements: 10, input_kind: 'spikes', timesteps: 2 },
      { name: 'y', input_elements: 2, input_kind: 'values', timesteps: 2 },
    ];
    const sample: TraceSample = {
      index: 0,
      label: 2,
      prediction: -1,
      exitTimestep: 1,
      logits: new Float32Array([0.5, -1, 2]),
      inputs: [[packBits([1, 0, 1, 1, 1, 1, 1, 1, 0, 1])], [new Float32Array([0.25, 3])]],
    };
    const w = await TraceWriter.open(path, h);
    await w.write(sample);
    await w.close();
    const b = readFileSync(path);
    const json = Buffer.from(JSON.stringify(h));
    expect(b.subarray(0, 8).toString('latin1')).toBe('IMCTRACE');
    expect(b.readUInt32LE(8)).toBe(2);
    expect(b.readUInt32LE(12)).toBe(json.length);
    expect(b.subarray(16, 16 + json.length)).toEqual(json);
    expect(b.readUInt32LE(16 + json.length)).toBe(crc32(json));
    const c = 20 + json.length;
    expect(b.subarray(c, c + 4).toString('latin1')).toBe('CHNK');
    expect(b.readUInt32LE(c + 4)).toBe(1);
    const len = b.readUInt32LE(c + 8);
    const payload = b.subarray(c + 16, c + 16 + len);
    expect(b.readUInt32LE(c + 12)).toBe(crc32(payload));
    const expected = Buffer.alloc(len);
    let o = 0;
    o = expected.writeUInt32LE(0, o);
    o = expected.writeInt32LE(2, o);
    o = expected.writeInt32LE(-1, o);
    o = expected.writeUInt16LE(1, o);
    o = expected.writeUInt16LE(2, o);
    for (const x of [0.5, -1, 2]) o = expected.writeFloatLE(x, o);
    o = expected.writeUInt16LE(1, o); // layer x: one timestep
    o = expected.writeUInt8(0, o); // bitmap (2 bytes) beats an index list (4 + 8·2 bytes)
    o = expected.writeUInt8(0b11111101, o);
    o = expected.writeUInt8(0b10, o);
    o = expected.writeUInt16LE(1, o); // layer y: one timestep
    o = expected.writeUInt8(0, o); // dense (8 bytes) beats sparse (4 + 2·6 bytes)
    o = expected.writeFloatLE(0.25, o);
    o = expected.writeFloatLE(3, o);
    expect(o).toBe(len);
    expect(payload).toEqual(expected);
    const f = c + 16 + len;
    expect(b.subarray(f, f + 4).toString('latin1')).toBe('TEND');
    expect(b.readUInt32LE(f + 4)).toBe(1);
    const slen = b.readUInt32LE(f + 8);
    const summary = b.subarray(f + 12, f + 12 + slen);
    expect(JSON.parse(summary.toString()).samples).toBe(1);
    expect(b.readUInt32LE(f + 12 + slen)).toBe(crc32(summary));
    expect(Number(b.readBigUInt64LE(f + 16 + slen))).toBe(f);
    expect(b.length).toBe(f + 24 + slen);
  });

  it('uses index lists for sparse spike frames and sparse values frames', async () => {
    const path = tmp();
    const h = makeHeader();
    h.layers = [
      { name: 'x', input_elements: 100, input_kind: 'spikes', timesteps: 1 },
      { name: 'y', input_elements: 10, input_kind: 'values', timesteps: 1 },
    ];
    const bits = new Uint8Array(100);
    bits[3] = bits[97] = 1;
    const v = new Float32Array(10);
    v[9] = 1.5;
    const sample: TraceSample = {
      index: 0,
      label: -1,
      prediction: -1,
      exitTimestep: 1,
      logits: new Float32Array(3),
      inputs: [[packBits(bits)], [v]],
    };
    const w = await TraceWriter.open(path, h);
    await w.write(sample);
    await w.close();
    const b = readFileSync(path);
    const p = 20 + b.readUInt32LE(12) + 16 + 16 + 12; // payload + fixed fields + logits
    expect(b.readUInt16LE(p)).toBe(1);
    expect(b[p + 2]).toBe(1); // index list
    expect(b.readUInt32LE(p + 3)).toBe(2);
    expect([b.readUInt16LE(p + 7), b.readUInt16LE(p + 9)]).toEqual([3, 97]);
    expect(b.readUInt16LE(p + 11)).toBe(1);
    expect(b[p + 13]).toBe(1); // sparse values
    expect(b.readUInt32LE(p + 14)).toBe(1);
    expect(b.readUInt16LE(p + 18)).toBe(9);
    expect(b.readFloatLE(p + 20)).toBe(1.5);
    const { samples } = await readAll(path);
    expect(samples).toEqual([sample]);
  });

  it('stores values bit-exactly: −0 and NaN payloads survive sparse frames; ±0 count as inactive', async () => {
    const path = tmp();
    const h = makeHeader();
    h.layers = [{ name: 'y', input_elements: 10, input_kind: 'values', timesteps: 1 }];
    const v = new Float32Array(10);
    const bits = new Uint32Array(v.buffer);
    bits[0] = 0x80000000; // −0
    bits[4] = 0x7fc00123; // a NaN with a payload
    bits[9] = 0x3f800000; // 1
    const sample: TraceSample = {
      index: 0,
      label: -1,
      prediction: -1,
      exitTimestep: 1,
      logits: new Float32Array([-0, NaN, 1]),
      inputs: [[v]],
    };
    const w = await TraceWriter.open(path, h);
    await w.write(sample);
    const summary = await w.close();
    expect(summary.spike_rate).toEqual([[0.2]]);
    const [back] = (await readAll(path)).samples;
    expect(back.inputs[0][0]).toBeInstanceOf(Float32Array);
    expect([...new Uint32Array(back.inputs[0][0].buffer)]).toEqual([...bits]);
    expect(Object.is(back.logits[0], -0)).toBe(true);
    expect(readFileSync(path).length).toBeLessThan(
      200 + JSON.stringify(h).length + JSON.stringify(summary).length,
    );
  });

  it('round-trips samples over several chunks, spikes and values, varying timesteps', async () => {
    const path = tmp();
    const samples = makeSamples(40);
    const summary = await writeTrace(path, samples, { chunkSamples: 7 });
    expect(summary.samples).toBe(40);
    expect(layout(readFileSync(path)).chunks).toHaveLength(6);
    const r = await TraceReader.open(path);
    expect(r.header).toEqual(makeHeader());
    expect(await r.readSummary()).toEqual(summary);
    await r.close();
    const back = await readAll(path);
    expect(back.error).toBeNull();
    expect(diffSamples(back.samples, samples)).toBeNull();
    expect(diffSamples(back.samples, makeSamples(40, 2))).not.toBeNull();
    // Dense encoding gives a bigger file with the same samples.
    const dense = tmp();
    await writeTrace(dense, samples, { chunkSamples: 7, frameEncoding: 'dense' });
    expect(readFileSync(dense).length).toBeGreaterThan(readFileSync(path).length);
    expect(diffSamples((await readAll(dense)).samples, samples)).toBeNull();
  });

  it('stores a frame equal to the one before once (kind 2, version 2) and reads it back', async () => {
    // Layer d (values, 6 elements) sees the same input at its 4 timesteps, as a direct-encoded image does.
    const img = Float32Array.of(0.5, 0, 0.25, 1, 0, 0.75);
    const base = makeSamples(1, 5)[0];
    const T = base.exitTimestep;
    const same: TraceSample = {
      ...base,
      inputs: base.inputs.map((f, l) => (l === 3 ? f.map(() => img) : f)),
    };
    const copies: TraceSample = {
      ...base,
      inputs: base.inputs.map((f, l) => (l === 3 ? f.map(() => img.slice()) : f)),
    };
    const distinct: TraceSample = {
      ...base,
      inputs: base.inputs.map((f, l) => (l === 3 ? f.map((_, t) => img.map((v) => v * (t + 1))) : f)),
    };
    const pa = tmp('repeat');
    const pb = tmp('repeat');
    const pc = tmp('repeat');
    await writeTrace(pa, [same]);
    await writeTrace(pb, [copies]);
    await writeTrace(pc, [distinct]);
    // Equal contents, not only the same object, are stored once; by the format (docs/TRACE_FORMAT.md)
    // a dense 6-value frame is 1 + 24 bytes, a sparse one with 4 non-zeros 1 + 4 + 4·(2 + 4) = 29, a
    // repeat 1: T − 1 repeats save (T − 1)·24 bytes against distinct dense frames.
    expect(statSync(pa).size).toBe(statSync(pb).size);
    if (T > 1) expect(statSync(pc).size - statSync(pa).size).toBe((T - 1) * 24);
    for (const [p, want] of [
      [pa, same],
      [pb, copies],
      [pc, distinct],
    ] as const) {
      const r = await readAll(p);
      expect(r.error).toBeNull();
      expect(diffSamples(r.samples, [want])).toBeNull();
    }
    // The version after the magic is 2.
    expect(readFileSync(pa).readUInt32LE(8)).toBe(2);
  });

  it('reads version-1 traces; a repeat frame in one is corruption', async () => {
    const samples = makeSamples(4, 9);
    const p = tmp('v1');
    await writeTrace(p, samples);
    const b = readFileSync(p);
    b.writeUInt32LE(1, 8);
    const v1 = tmp('v1');
    writeFileSync(v1, b);
    // Without repeated frames the bytes are those of version 1.
    const hasRepeat = samples.some((s) =>
      s.inputs.some((f) =>
        f.some((x, t) => t > 0 && Buffer.from(x.buffer).equals(Buffer.from(f[t - 1].buffer))),
      ),
    );
    const r = await readAll(v1);
    if (!hasRepeat) {
      expect(r.error).toBeNull();
      expect(diffSamples(r.samples, samples)).toBeNull();
    }
    // A version-2 trace with a repeat frame relabelled as version 1: kind 2 is unknown there.
    const img = Float32Array.of(1, 2, 3, 4, 5, 6);
    const base = makeSamples(1, 5)[0];
    const rep: TraceSample = {
      ...base,
      exitTimestep: 4,
      logits: new Float32Array(4 * 3),
      inputs: base.inputs.map((f, l) => (l === 3 ? [img, img, img, img] : f)),
    };
    const p2 = tmp('v1');
    await writeTrace(p2, [rep]);
    const b2 = readFileSync(p2);
    b2.writeUInt32LE(1, 8);
    writeFileSync(p2, b2);
    const r2 = await readAll(p2);
    expect(String(r2.error)).toMatch(/unknown frame kind.*expected 0 or 1, found 2/);
  });

  it('closes chunks at the byte limit', async () => {
    const path = tmp();
    const samples = makeSamples(12);
    await writeTrace(path, samples, { chunkBytes: 20000 });
    const b = readFileSync(path);
    const { chunks } = layout(b);
    expect(chunks.length).toBeGreaterThan(2);
    for (const c of chunks) expect(b.readUInt32LE(c + 8)).toBeLessThan(20000 + 70000 / 8 + 200);
    expect(diffSamples((await readAll(path)).samples, samples)).toBeNull();
  });

  it('writes an empty trace', async () => {
    const path = tmp();
    const summary = await writeTrace(path, []);
    expect(summary).toEqual({
      samples: 0,
      accuracy: null,
      avg_timesteps: 0,
      exit_histogram: [0, 0, 0, 0],
      spike_rate: [[], [], [], []],
    });
    expect(diffSamples((await readAll(path)).samples, [])).toBeNull();
  });

  it('is deterministic: same samples, byte-identical files', async () => {
    const a = tmp();
    const b = tmp();
    await writeTrace(a, makeSamples(20, 5), { chunkSamples: 6 });
    await writeTrace(b, makeSamples(20, 5), { chunkSamples: 6 });
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
  });

  it('summarises samples as computed by hand', async () => {
    const h = makeHeader();
    h.layers = [
      { name: 's', input_elements: 8, input_kind: 'spikes', timesteps: 3 },
      { name: 'v', input_elements: 4, input_kind: 'values', timesteps: 4 },
    ];
    const frame = (...on: number[]) =>
      packBits(Array.from({ length: 8 }, (_, i) => (on.includes(i) ? 1 : 0)));
    const samples: TraceSample[] = [
      {
        index: 0,
        label: 1,
        prediction: 1,
        exitTimestep: 2,
        logits: new Float32Array(6),
        inputs: [
          [frame(0, 1), frame()],
          [new Float32Array([1, 0, 0, 0]), new Float32Array([0.5, 2, 0, 0])],
        ],
      },
      {
        index: 1,
        label: 2,
        prediction: 0,
        exitTimestep: 4,
        logits: new Float32Array(12),
        inputs: [
          [frame(0, 1, 2, 3), frame(7), frame(1, 2, 3, 4, 5, 6)],
          [1, 2, 3, 4].map((k) => new Float32Array([1, 1, 1, 1].map((x, i) => (i < k ? x : 0)))),
        ],
      },
      {
        index: 2,
        label: -1,
        prediction: 0,
        exitTimestep: 1,
        logits: new Float32Array(3),
        inputs: [[frame(0, 1, 2, 3, 4, 5, 6, 7)], [new Float32Array([0, 0, 0, -3])]],
      },
    ];
    const path = tmp();
    const w = await TraceWriter.open(path, h);
    for (const s of samples) await w.write(s);
    const summary = await w.close();
    expect(summary.samples).toBe(3);
    expect(summary.accuracy).toBe(0.5);
    expect(summary.avg_timesteps).toBeCloseTo(7 / 3, 12);
    expect(summary.exit_histogram).toEqual([1, 1, 0, 1]);
    expect(summary.spike_rate).toHaveLength(2);
    const [s, v] = summary.spike_rate;
    expect(s).toHaveLength(3);
    expect(s[0]).toBeCloseTo((2 / 8 + 4 / 8 + 8 / 8) / 3, 12);
    expect(s[1]).toBeCloseTo((0 / 8 + 1 / 8) / 2, 12);
    expect(s[2]).toBeCloseTo(6 / 8, 12);
    expect(v).toHaveLength(4);
    expect(v[0]).toBeCloseTo((1 / 4 + 1 / 4 + 1 / 4) / 3, 12);
    expect(v[1]).toBeCloseTo((2 / 4 + 2 / 4) / 2, 12);
    expect(v[2]).toBeCloseTo(3 / 4, 12);
    expect(v[3]).toBeCloseTo(4 / 4, 12);
    // The accumulator on its own (counting frames itself) agrees with the writer.
    const acc = new SummaryAccumulator();
    for (const x of samples) acc.add(x, h);
    expect(acc.result()).toEqual(summary);
    const r = await TraceReader.open(path);
    expect(await r.readSummary()).toEqual(summary);
    await r.close();
  });
});

describe('trace validation', () => {
  it('rejects samples that do not match the header, and stays usable', async () => {
    const path = tmp();
    const w = await TraceWriter.open(path, makeHeader());
    const [good] = makeSamples(1);
    const bad = (patch: Partial<TraceSample>) => w.write({ ...good, ...patch });
    const frames = (l: number, f: Array<Uint8Array | Float32Array>) =>
      good.inputs.map((x, i) => (i === l ? f : x));
    await expect(bad({ index: 5 })).rejects.toThrow(/index must be the position in the trace.*expected 0/);
    await expect(bad({ label: 3 })).rejects.toThrow(/label out of range/);
    await expect(bad({ exitTimestep: 5 })).rejects.toThrow(/exit timestep out of range/);
    await expect(bad({ logits: new Float32Array(1) })).rejects.toThrow(
      /logits must be exitTimestep × classes.*Float32Array\(1\)/,
    );
    await expect(bad({ inputs: good.inputs.slice(1) })).rejects.toThrow(
      /inputs: .*one input list per trace layer/,
    );
    await expect(
      bad({ inputs: frames(1, [new Float32Array(5), new Float32Array(5), new Float32Array(5)]) }),
    ).rejects.toThrow(/inputs\[1\]: .*layer b records too many timesteps.*at most 2/);
    await expect(bad({ inputs: frames(0, [new Uint8Array(3)]) })).rejects.toThrow(
      /inputs\[0\]\[0\]: .*bit-packed spikes.*Uint8Array\(2\) for 13 elements, found Uint8Array\(3\)/,
    );
    await expect(bad({ inputs: frames(0, [new Uint8Array([0, 0x20])]) })).rejects.toThrow(
      /bits past the last/,
    );
    await expect(bad({ inputs: frames(1, [new Uint8Array(20)]) })).rejects.toThrow(/takes float32 values/);
    const err = await bad({ label: 9 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).file).toBe(path);
    await w.write(good);
    await w.close();
    expect(diffSamples((await readAll(path)).samples, [good])).toBeNull();
  });

  it('rejects a bad header', async () => {
    const h = makeHeader();
    h.layers[1].input_kind = 'bits' as 'spikes';
    await expect(TraceWriter.open(tmp(), h)).rejects.toThrow(/header\.layers\[1\]\.input_kind/);
    await expect(TraceWriter.open(tmp(), { ...makeHeader(), format_version: 1 })).rejects.toThrow(
      /header\.format_version/,
    );
  });

  it('leaves nothing at the final path when the writer fails or is aborted', async () => {
    const sub = mkdtempSync(join(dir, 'fail-'));
    const path = join(sub, 'out.imct');
    const w = await TraceWriter.open(path, makeHeader(), { chunkSamples: 2 });
    for (const s of makeSamples(5)) await w.write(s);
    expect(existsSync(path)).toBe(false); // only the temporary file exists until close()
    expect(readdirSync(sub)).toEqual([`out.imct.tmp-${process.pid}`]);
    await expect(w.write(makeSamples(1)[0])).rejects.toThrow(InputError);
    await w.abort();
    expect(readdirSync(sub)).toEqual([]);
    await expect(w.write(makeSamples(1)[0])).rejects.toThrow(/aborted/);
    await w.abort(); // idempotent

    // An I/O failure on close (the target is a directory) removes the temporary file too.
    const target = join(sub, 'is-a-dir');
    const w2 = await TraceWriter.open(target, makeHeader());
    for (const s of makeSamples(3)) await w2.write(s);
    rmSync(target, { force: true });
    mkdirSync(join(target, 'x'), { recursive: true });
    await expect(w2.close()).rejects.toThrow();
    expect(readdirSync(sub)).toEqual(['is-a-dir']);
    expect(readdirSync(target)).toEqual(['x']);
  });
});

describe('corrupt and truncated traces', () => {
  const samples = makeSamples(20, 9);
  let good: Buffer;
  const variant = async (edit: (b: Buffer) => Buffer): Promise<string> => {
    good ??= await (async () => {
      const p = tmp();
      await writeTrace(p, samples, { chunkSamples: 5 });
      return readFileSync(p);
    })();
    const path = tmp('bad');
    writeFileSync(path, edit(Buffer.from(good)));
    return path;
  };
  const flip = (at: (b: Buffer) => number) => (b: Buffer) => {
    b[at(b)] ^= 0x40;
    return b;
  };

  it('refuses files that are not traces', async () => {
    const text = tmp('text');
    writeFileSync(text, 'name: mnist\nlayers: []\n');
    await expect(TraceReader.open(text)).rejects.toThrow(/not an imcsim trace.*expected magic "IMCTRACE"/);
    const empty = tmp('empty');
    writeFileSync(empty, '');
    await expect(TraceReader.open(empty)).rejects.toThrow(/not an imcsim trace/);
    await expect(TraceReader.open(join(dir, 'missing.imct'))).rejects.toThrow(
      /cannot open trace: no such file/,
    );
    const err = await TraceReader.open(text).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).file).toBe(text);
  });

  it('refuses other format versions', async () => {
    const path = await variant((b) => {
      b.writeUInt32LE(3, 8);
      return b;
    });
    await expect(TraceReader.open(path)).rejects.toThrow(
      /unsupported trace format version.*expected 1 or 2, found 3/,
    );
  });

  it('detects a flipped byte in the header', async () => {
    const path = await variant(flip(() => 40));
    await expect(TraceReader.open(path)).rejects.toThrow(/trace header is corrupt \(CRC mismatch\)/);
  });

  it('detects a flipped byte in a chunk payload, naming the chunk and offset', async () => {
    let chunk2 = 0;
    const path = await variant(
      flip((b) => {
        chunk2 = layout(b).chunks[2];
        return chunk2 + 16 + 30;
      }),
    );
    const { samples: read, error } = await readAll(path);
    expect(diffSamples(read, samples.slice(0, 10))).toBeNull();
    expect(error).toBeInstanceOf(InputError);
    expect(String(error)).toMatch(
      new RegExp(`trace chunk 2 at byte offset ${chunk2} is corrupt \\(CRC mismatch\\)`),
    );
  });

  it('detects a flipped byte in the footer', async () => {
    const path = await variant(flip((b) => layout(b).footer + 14));
    const r = await TraceReader.open(path);
    await expect(r.readSummary()).rejects.toThrow(/trace footer is corrupt \(CRC mismatch\)/);
    await r.close();
    const { samples: read, error } = await readAll(path);
    expect(diffSamples(read, samples)).toBeNull();
    expect(String(error)).toMatch(/trace footer is corrupt \(CRC mismatch\)/);
  });

  it('reads the complete chunks of a file cut mid-chunk, then reports truncation', async () => {
    let chunk3 = 0;
    const path = await variant((b) => {
      chunk3 = layout(b).chunks[3];
      return b.subarray(0, chunk3 + 100);
    });
    const { samples: read, error } = await readAll(path);
    expect(diffSamples(read, samples.slice(0, 15))).toBeNull();
    expect(error).toBeInstanceOf(InputError);
    expect(String(error)).toMatch(
      new RegExp(`trace is truncated: chunk 3 at byte offset ${chunk3} is shorter than declared`),
    );
    const r = await TraceReader.open(path);
    await expect(r.readSummary()).rejects.toThrow(/trace is truncated/);
    await r.close();
  });

  it('reads every sample of a file cut before the footer, then reports truncation', async () => {
    const path = await variant((b) => b.subarray(0, layout(b).footer));
    const { samples: read, error } = await readAll(path);
    expect(diffSamples(read, samples)).toBeNull();
    expect(String(error)).toMatch(/trace is truncated: no footer after 4 chunks \(20 samples\)/);
    const r = await TraceReader.open(path);
    await expect(r.readSummary()).rejects.toThrow(/trace is truncated/);
    await r.close();
  });

  it('reports a file cut inside the footer or header as truncated', async () => {
    const inFooter = await variant((b) => b.subarray(0, layout(b).footer + 20));
    const { samples: read, error } = await readAll(inFooter);
    expect(diffSamples(read, samples)).toBeNull();
    expect(String(error)).toMatch(/trace is truncated: footer at byte offset \d+ is cut short/);
    const inHeader = await variant((b) => b.subarray(0, 100));
    await expect(TraceReader.open(inHeader)).rejects.toThrow(/truncated inside its header/);
  });
});
