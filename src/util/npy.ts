/**
 * NumPy's array files, read without numpy:
 *   .npy  (numpy/lib/format.py, format versions 1.0, 2.0, 3.0): magic "\x93NUMPY", major, minor, a
 *         little-endian u16 (1.0) or u32 (2.0, 3.0) header length, a Python dict literal
 *         {'descr': '<f4', 'fortran_order': False, 'shape': (N, C, H, W), }, then the raw data.
 *   .npz  a ZIP archive of `<name>.npy` members (`numpy.savez` stores them, `savez_compressed` deflates
 *         them), read by util/zip.ts.
 * Supported element types: bool, (u)int8/16/32/64, float16/32/64, either byte order; object arrays
 * (pickles) and structured dtypes are refused by name. Fortran order is accepted and transposed to C order.
 */
import { located } from './errors.js';
import { readFileSync } from 'node:fs';
import { withFileErrors } from './fs-errors.js';
import { ZipArchive } from './zip.js';

export type NpyKind = 'b1' | 'u1' | 'i1' | 'u2' | 'i2' | 'u4' | 'i4' | 'u8' | 'i8' | 'f2' | 'f4' | 'f8';

export interface NpyArray {
  /** Element type, numpy's kind + byte size (byte order already applied). */
  dtype: NpyKind;
  shape: number[];
  /** Values in C order. 64-bit integers become Float64 (exact below 2^53; larger values are refused). */
  data:
    | Uint8Array
    | Int8Array
    | Uint16Array
    | Int16Array
    | Uint32Array
    | Int32Array
    | Float32Array
    | Float64Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

function fail(file: string, message: string, expected?: string, found?: string): never {
  throw located(`not a readable .npy array: ${message}`, { file, expected, found });
}

/** Parses one .npy file's bytes; `file` names it in errors (for an npz member: `archive.npz:name.npy`). */
export function parseNpy(bytes: Uint8Array, file: string): NpyArray {
  if (bytes.length < 10 || MAGIC.some((m, i) => bytes[i] !== m))
    fail(file, 'no \\x93NUMPY magic at its start');
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) ((headerLen = view.getUint16(8, true)), (start = 10));
  else if (major === 2 || major === 3) {
    if (bytes.length < 12) fail(file, 'truncated header');
    ((headerLen = view.getUint32(8, true)), (start = 12));
  } else fail(file, `unknown format version ${major}.${bytes[7]}`, '1.0, 2.0 or 3.0', `${major}.${bytes[7]}`);
  if (start + headerLen > bytes.length) fail(file, 'truncated header');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(
    bytes.subarray(start, start + headerLen),
  );
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined) {
    if (/'descr'\s*:\s*\[/.test(header))
      fail(
        file,
        'structured (record) arrays are read only as event arrays (fields x, y, t, p)',
        'a plain numeric dtype',
        header.trim(),
      );
    fail(file, 'the header has no descr', "{'descr': '<f4', …}", header.trim());
  }
  if (fortran === undefined || shapeText === undefined)
    fail(file, 'the header lacks fortran_order or shape', undefined, header.trim());
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => Number(s.replace(/L$/, '')));
  if (shape.some((d) => !Number.isInteger(d) || d < 0))
    fail(file, 'bad shape', 'non-negative integers', `(${shapeText})`);
  const m = /^([<>|=])([biuf])(\d+)$/.exec(descr);
  if (!m) {
    const why = descr.startsWith('|O') ? 'object arrays (pickles) are not read' : 'unsupported element type';
    fail(file, why, 'bool, (u)int8–64 or float16/32/64', descr);
  }
  const [, order, kindChar, sizeText] = m;
  const size = Number(sizeText);
  const dtype = `${kindChar === 'b' ? 'b' : kindChar}${size}` as NpyKind;
  const known: NpyKind[] = ['b1', 'u1', 'i1', 'u2', 'i2', 'u4', 'i4', 'u8', 'i8', 'f2', 'f4', 'f8'];
  if (!known.includes(dtype))
    fail(file, 'unsupported element type', 'bool, (u)int8–64 or float16/32/64', descr);
  const count = shape.reduce((a, b) => a * b, 1);
  const dataStart = start + headerLen;
  const need = count * size;
  if (bytes.length - dataStart !== need)
    fail(
      file,
      bytes.length - dataStart < need ? 'truncated data' : 'trailing bytes after the data',
      `${need} data bytes`,
      `${bytes.length - dataStart}`,
    );
  const big = order === '>';
  const raw = bytes.subarray(dataStart, dataStart + need);
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const le = !big;
  let data: NpyArray['data'];
  switch (dtype) {
    case 'b1':
    case 'u1':
      data = Uint8Array.from(raw);
      break;
    case 'i1':
      data = new Int8Array(Uint8Array.from(raw).buffer);
      break;
    case 'u2':
      data = new Uint16Array(count);
      for (let i = 0; i < count; i++) data[i] = dv.getUint16(i * 2, le);
      break;
    case 'i2':
      data = new Int16Array(count);
      for (let i = 0; i < count; i++) data[i] = dv.getInt16(i * 2, le);
      break;
    case 'u4':
      data = new Uint32Array(count);
      for (let i = 0; i < count; i++) data[i] = dv.getUint32(i * 4, le);
      break;
    case 'i4':
      data = new Int32Array(count);
      for (let i = 0; i < count; i++) data[i] = dv.getInt32(i * 4, le);
      break;
    case 'u8':
    case 'i8': {
      data = new Float64Array(count);
      for (let i = 0; i < count; i++) {
        const v = dtype === 'u8' ? dv.getBigUint64(i * 8, le) : dv.getBigInt64(i * 8, le);
        if (v > 9007199254740991n || v < -9007199254740991n)
          fail(file, `element ${i} is beyond 2^53`, undefined, String(v));
        data[i] = Number(v);
      }
      break;
    }
    case 'f2':
      data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = halfToFloat(dv.getUint16(i * 2, le));
      break;
    case 'f4':
      data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = dv.getFloat32(i * 4, le);
      break;
    case 'f8':
      data = new Float64Array(count);
      for (let i = 0; i < count; i++) data[i] = dv.getFloat64(i * 8, le);
      break;
  }
  if (fortran === 'True' && shape.length > 1) data = fortranToC(data, shape);
  if (dtype === 'b1') for (let i = 0; i < data.length; i++) data[i] = data[i] ? 1 : 0;
  return { dtype, shape, data };
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

function fortranToC<A extends NpyArray['data']>(src: A, shape: number[]): A {
  const n = src.length;
  const out = new (src.constructor as new (n: number) => A)(n);
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  // Walk C order; the Fortran offset has stride 1 on the first axis.
  const fStride = new Array<number>(rank);
  fStride[0] = 1;
  for (let d = 1; d < rank; d++) fStride[d] = fStride[d - 1] * shape[d - 1];
  for (let i = 0; i < n; i++) {
    let off = 0;
    for (let d = 0; d < rank; d++) off += idx[d] * fStride[d];
    out[i] = src[off];
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

/** A file's bytes; a missing or unreadable file is the imcsim error naming it. */
export function readInputFile(file: string): Uint8Array {
  return withFileErrors(() => readFileSync(file), file);
}

/** Reads one .npy file. */
export function readNpy(file: string): NpyArray {
  return parseNpy(readInputFile(file), file);
}

/** An .npz archive: its arrays by name (the member name without `.npy`), parsed on demand. */
export class NpzFile {
  private readonly zip: ZipArchive;
  constructor(
    readonly file: string,
    bytes?: Uint8Array,
  ) {
    this.zip = new ZipArchive(bytes ?? readInputFile(file), file);
  }
  /** Array names, in archive order. */
  names(): string[] {
    return [...this.zip.entries.keys()].filter((n) => n.endsWith('.npy')).map((n) => n.slice(0, -4));
  }
  has(name: string): boolean {
    return this.zip.entries.has(`${name}.npy`);
  }
  /** The member's raw .npy bytes. */
  bytes(name: string): Uint8Array {
    this.need(name);
    return this.zip.read(`${name}.npy`);
  }
  /** A structured array member (tonic's events). */
  records(name: string): NpyRecords {
    return parseNpyRecords(this.bytes(name), `${this.file}:${name}.npy`);
  }
  private need(name: string): void {
    if (!this.has(name))
      throw located(`the .npz archive has no array '${name}'`, {
        file: this.file,
        path: name,
        expected: `an array named ${name}`,
        found: this.names().join(', ') || 'no arrays',
      });
  }
  get(name: string): NpyArray {
    this.need(name);
    return parseNpy(this.zip.read(`${name}.npy`), `${this.file}:${name}.npy`);
  }
}

/** A structured (record) array's numeric fields, each as Float64 values (exact below 2^53). */
export interface NpyRecords {
  count: number;
  fields: Map<string, Float64Array>;
}

/**
 * Parses a 1-D structured .npy array such as tonic's events, dtype [('x', '<i8'), ('y', '<i8'),
 * ('t', '<i8'), ('p', '<i8')] (any numeric field types, either byte order, packed as numpy lays them
 * out: fields back to back in the declared order). A plain (non-structured) array is refused here.
 */
export function parseNpyRecords(bytes: Uint8Array, file: string): NpyRecords {
  if (bytes.length < 10 || MAGIC.some((m, i) => bytes[i] !== m))
    fail(file, 'no \\x93NUMPY magic at its start');
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (major < 1 || major > 3 || bytes.length < 12)
    fail(file, `unknown format version ${major}.${bytes[7]} or truncated header`, '1.0, 2.0 or 3.0');
  const start = major === 1 ? 10 : 12;
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (start + headerLen > bytes.length) fail(file, 'truncated header');
  const header = new TextDecoder('latin1').decode(bytes.subarray(start, start + headerLen));
  const list = /'descr'\s*:\s*\[(.*)\]\s*,\s*'fortran_order'/s.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (list === undefined || shapeText === undefined)
    fail(file, 'not a structured array', "{'descr': [('x', '<i8'), …], …}", header.trim());
  const dims = shapeText
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)
    .map(Number);
  if (dims.length !== 1 || !Number.isInteger(dims[0]))
    fail(file, 'a structured array must be 1-D', '(n,)', `(${shapeText})`);
  const count = dims[0];
  const fieldRe = /\(\s*'([^']+)'\s*,\s*'([<>|=])([biuf])(\d+)'\s*\)/g;
  const defs: Array<{ name: string; le: boolean; kind: string; size: number; offset: number }> = [];
  let offset = 0;
  for (let m = fieldRe.exec(list); m; m = fieldRe.exec(list)) {
    const size = Number(m[4]);
    defs.push({ name: m[1], le: m[2] !== '>', kind: m[3], size, offset });
    offset += size;
  }
  if (defs.length === 0)
    fail(file, 'no numeric fields in the structured dtype', "fields like ('x', '<i8')", list);
  const rec = offset;
  const dataStart = start + headerLen;
  if (bytes.length - dataStart !== count * rec)
    fail(
      file,
      'the data does not match the structured shape',
      `${count * rec} data bytes`,
      `${bytes.length - dataStart}`,
    );
  const fields = new Map<string, Float64Array>();
  for (const d of defs) {
    const out = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const at = dataStart + i * rec + d.offset;
      let v: number;
      if (d.kind === 'f')
        v = d.size === 4 ? view.getFloat32(at, d.le) : d.size === 8 ? view.getFloat64(at, d.le) : NaN;
      else if (d.size === 1) v = d.kind === 'i' ? view.getInt8(at) : view.getUint8(at);
      else if (d.size === 2) v = d.kind === 'i' ? view.getInt16(at, d.le) : view.getUint16(at, d.le);
      else if (d.size === 4) v = d.kind === 'i' ? view.getInt32(at, d.le) : view.getUint32(at, d.le);
      else if (d.size === 8)
        v = Number(d.kind === 'i' ? view.getBigInt64(at, d.le) : view.getBigUint64(at, d.le));
      else fail(file, `field ${d.name} has an unsupported size`, '1, 2, 4 or 8 bytes', String(d.size));
      out[i] = v;
    }
    fields.set(d.name, out);
  }
  return { count, fields };
}
