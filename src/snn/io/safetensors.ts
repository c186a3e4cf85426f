/**
 * safetensors (the format PyTorch users write with `safetensors.torch.save_file`): an 8-byte little-endian
 * header length, a JSON header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {…}},
 * then the raw little-endian tensor bytes. Read: F32, F64, F16, BF16, I64, I32, I16, I8, U8, BOOL (all
 * returned as Float32Array); write: F32. Tensors are written in sorted name order so files are
 * byte-identical for the same content.
 */
import { located } from '../../config/errors.js';

export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}

export type TensorMap = Map<string, NamedTensor>;

const DTYPE_BYTES: Record<string, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

function halfToFloat(h: number): number {
  const s = (h & 0x8000) >> 15;
  const e = (h & 0x7c00) >> 10;
  const f = h & 0x03ff;
  if (e === 0) return (s ? -1 : 1) * 2 ** -14 * (f / 1024);
  if (e === 0x1f) return f ? NaN : (s ? -1 : 1) * Infinity;
  return (s ? -1 : 1) * 2 ** (e - 15) * (1 + f / 1024);
}

export function readSafetensors(
  bytes: Uint8Array,
  file = '<buffer>',
): { tensors: TensorMap; metadata: Record<string, string> } {
  if (bytes.length < 8)
    throw located('not a safetensors file (shorter than its 8-byte header length)', { file });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > bytes.length - 8 || headerLen > 100 * 1024 * 1024)
    throw located('safetensors header length exceeds the file', {
      file,
      expected: `≤ ${bytes.length - 8} bytes`,
      found: String(headerLen),
    });
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    throw located(`safetensors header is not JSON (${(e as Error).message})`, { file });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw located('safetensors header is not a JSON object', {
      file,
      expected: '{"<tensor>": {dtype, shape, data_offsets}, …}',
      found: Array.isArray(parsed) ? 'an array' : String(parsed),
    });
  const header = parsed as Record<string, unknown>;
  const base = 8 + headerLen;
  const dataBytes = bytes.length - base;
  const tensors: TensorMap = new Map();
  let metadata: Record<string, string> = {};
  // The safetensors rules (huggingface/safetensors README, "Format"): offsets are relative to the start of
  // the byte buffer after the header, and the tensors must index that buffer entirely, without holes or
  // overlaps. Checked before any value is decoded, so a forged header cannot alias the header or a tensor.
  const spans: Array<{ name: string; dtype: string; shape: number[]; b0: number; b1: number }> = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') {
      const m = info;
      if (
        typeof m !== 'object' ||
        m === null ||
        Array.isArray(m) ||
        Object.values(m).some((v) => typeof v !== 'string')
      )
        throw located('safetensors __metadata__ must map names to strings', {
          file,
          path: '__metadata__',
          found: JSON.stringify(m).slice(0, 80),
        });
      metadata = { ...(m as Record<string, string>) };
      continue;
    }
    const bad = (what: string, expected: string, found: unknown): never => {
      throw located(`tensor ${name}: ${what}`, {
        file,
        path: name,
        expected,
        found: JSON.stringify(found) ?? 'nothing',
      });
    };
    if (typeof info !== 'object' || info === null || Array.isArray(info))
      bad('entry is not an object', '{dtype, shape, data_offsets}', info);
    const t = info as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof t.dtype !== 'string' || !DTYPE_BYTES[t.dtype])
      throw located(`tensor ${name} has an unsupported dtype`, {
        file,
        path: name,
        expected: Object.keys(DTYPE_BYTES).join(', '),
        found: String(t.dtype),
      });
    const size = DTYPE_BYTES[t.dtype];
    if (
      !Array.isArray(t.shape) ||
      t.shape.length > 32 ||
      !t.shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)
    )
      bad('shape must be a list of non-negative integers', 'e.g. [16, 1, 3, 3]', t.shape);
    const shape = t.shape as number[];
    const offs = t.data_offsets;
    if (
      !Array.isArray(offs) ||
      offs.length !== 2 ||
      !offs.every((o) => Number.isSafeInteger(o) && (o as number) >= 0) ||
      (offs[0] as number) > (offs[1] as number)
    )
      bad('data_offsets must be [begin, end] with 0 ≤ begin ≤ end', '[begin, end]', offs);
    const [b0, b1] = offs as [number, number];
    // Element count in floating point: a product beyond 2^53 cannot match any real byte length anyway.
    const n = shape.reduce((a, b) => a * b, 1);
    if (b1 - b0 !== n * size || b1 > dataBytes)
      throw located(`tensor ${name} has data offsets that do not match its shape or the file`, {
        file,
        path: name,
        expected: `${n * size} bytes (${t.dtype} [${shape.join(', ')}]) within the ${dataBytes}-byte data region`,
        found: `[${b0}, ${b1})`,
      });
    spans.push({ name, dtype: t.dtype, shape, b0, b1 });
  }
  spans.sort((a, b) => a.b0 - b.b0 || a.b1 - b.b1);
  let covered = 0;
  for (const s of spans) {
    if (s.b0 !== covered)
      throw located(
        s.b0 < covered
          ? `tensor ${s.name} overlaps the tensor before it in the data region`
          : `tensor ${s.name} leaves a gap in the data region`,
        {
          file,
          path: s.name,
          expected: `data offsets starting at ${covered} (tensors must cover the data region contiguously)`,
          found: `[${s.b0}, ${s.b1})`,
        },
      );
    covered = s.b1;
  }
  if (covered !== dataBytes)
    throw located('safetensors data region is not covered exactly by the tensors', {
      file,
      expected: `${dataBytes} bytes of tensor data (the file after the header)`,
      found: `${covered} bytes indexed`,
    });
  for (const { name, dtype, shape, b0 } of spans) {
    const size = DTYPE_BYTES[dtype];
    const n = shape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(n);
    const off = base + b0;
    const bf16 = new DataView(new ArrayBuffer(4));
    for (let i = 0; i < n; i++) {
      const p = off + i * size;
      switch (dtype) {
        case 'F32':
          out[i] = view.getFloat32(p, true);
          break;
        case 'F64':
          out[i] = view.getFloat64(p, true);
          break;
        case 'F16':
          out[i] = halfToFloat(view.getUint16(p, true));
          break;
        case 'BF16':
          bf16.setUint32(0, view.getUint16(p, true) << 16, true);
          out[i] = bf16.getFloat32(0, true);
          break;
        case 'I64':
          out[i] = Number(view.getBigInt64(p, true));
          break;
        case 'I32':
          out[i] = view.getInt32(p, true);
          break;
        case 'I16':
          out[i] = view.getInt16(p, true);
          break;
        case 'I8':
          out[i] = view.getInt8(p);
          break;
        default:
          out[i] = view.getUint8(p);
      }
    }
    for (let i = 0; i < n; i++)
      if (!Number.isFinite(out[i]))
        throw located(`tensor ${name} holds a non-finite value`, {
          file,
          path: `${name}[${i}]`,
          expected: 'finite weights (float32 range)',
          found: String(out[i]),
        });
    tensors.set(name, { shape: [...shape], data: out });
  }
  return { tensors, metadata };
}

export function writeSafetensors(tensors: TensorMap, metadata: Record<string, string> = {}): Uint8Array {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const t = tensors.get(name)!;
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length)
      throw new Error(`tensor ${name}: shape [${t.shape}] does not match ${t.data.length} values`);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * n] };
    offset += 4 * n;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data starts 8-byte aligned (as the reference implementation does).
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += ' ';
  const hb = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + hb.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let p = 8 + hb.length;
  for (const name of names) {
    const d = tensors.get(name)!.data;
    for (let i = 0; i < d.length; i++, p += 4) view.setFloat32(p, d[i], true);
  }
  return out;
}
