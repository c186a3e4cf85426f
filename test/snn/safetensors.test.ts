/**
 * safetensors rules (huggingface/safetensors README, "Format"): offsets relative to the data region, the
 * tensors index it entirely, without holes or overlaps; dtype × shape = byte length; and imcsim refuses
 * non-finite weights. Every file here is built by hand, byte by byte, not by writeSafetensors.
 */
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/config/errors.js';
import { readSafetensors } from '../../src/snn/io/safetensors.js';

/** A file from a header object and the raw data region. */
function file(header: unknown, data: Uint8Array): Uint8Array {
  const hb = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + hb.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  out.set(data, 8 + hb.length);
  return out;
}
const f32 = (...v: number[]) => new Uint8Array(Float32Array.from(v).buffer);
const err = (bytes: Uint8Array): InputError => {
  try {
    readSafetensors(bytes, 'w.safetensors');
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('accepted');
};

describe('safetensors offsets cover the data region exactly', () => {
  it('control: two contiguous tensors in any header order load', () => {
    const r = readSafetensors(
      file(
        {
          b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] },
          a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
        },
        f32(1, 2, 3),
      ),
    );
    expect(Array.from(r.tensors.get('a')!.data)).toEqual([1, 2]);
    expect(Array.from(r.tensors.get('b')!.data)).toEqual([3]);
  });
  it('two tensors on the same bytes (overlap) are refused, naming the tensor', () => {
    const e = err(
      file(
        {
          a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
          b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
        },
        f32(1, 2, 3, 4),
      ),
    );
    expect(e.message).toContain('tensor b overlaps');
    expect(e.path).toBe('b');
  });
  it('a hole between tensors, and bytes after the last one, are refused', () => {
    let e = err(
      file(
        {
          a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
          b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] },
        },
        f32(1, 2, 3),
      ),
    );
    expect(e.message).toContain('tensor b leaves a gap');
    e = err(file({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32(1, 2)));
    expect(e.message).toMatch(/not covered exactly.*expected 8 bytes.*found 4 bytes/);
  });
  it('offsets that would reach into the header (negative) or past the file are refused', () => {
    expect(err(file({ a: { dtype: 'F32', shape: [2], data_offsets: [-4, 4] } }, f32(1))).message).toContain(
      'data_offsets must be [begin, end]',
    );
    expect(err(file({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, f32(1))).message).toContain(
      'do not match its shape or the file',
    );
    expect(err(file({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, f32(1))).message).toContain(
      'data_offsets must be',
    );
  });
  it('dtype × shape must equal the byte length; a malformed shape or entry is refused', () => {
    expect(err(file({ a: { dtype: 'F16', shape: [1], data_offsets: [0, 4] } }, f32(1))).message).toMatch(
      /tensor a has data offsets that do not match.*expected 2 bytes/,
    );
    expect(err(file({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, f32(1))).message).toContain(
      'shape must be a list of non-negative integers',
    );
    expect(err(file({ a: { dtype: 'F32', shape: [1.5], data_offsets: [0, 4] } }, f32(1))).path).toBe('a');
    expect(err(file({ a: 7 }, f32(1))).message).toContain('tensor a: entry is not an object');
    expect(err(file([1, 2], f32(1))).message).toContain('not a JSON object');
    expect(err(file({ __metadata__: { k: 1 } }, new Uint8Array(0))).path).toBe('__metadata__');
  });
});

describe('non-finite weights are refused, naming the tensor and element', () => {
  it('NaN and ±Inf in F32', () => {
    const e = err(file({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 12] } }, f32(1, NaN, 3)));
    expect(e.message).toContain('tensor w holds a non-finite value');
    expect(e.path).toBe('w[1]');
    expect(
      err(file({ w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32(-Infinity))).message,
    ).toMatch(/found -Infinity/);
  });
  it('F16 infinity (0x7c00) and an F64 beyond the float32 range', () => {
    const h = new Uint8Array([0x00, 0x7c]);
    expect(err(file({ h: { dtype: 'F16', shape: [1], data_offsets: [0, 2] } }, h)).path).toBe('h[0]');
    const d = new Uint8Array(new Float64Array([1e300]).buffer);
    expect(err(file({ d: { dtype: 'F64', shape: [1], data_offsets: [0, 8] } }, d)).message).toMatch(
      /tensor d holds a non-finite value.*found Infinity/,
    );
  });
});
