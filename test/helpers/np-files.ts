/**
 * Byte-exact writers of the file formats the dataset loaders read, written from the format specs (not
 * from the code under test):
 *   NPY 1.0   numpy/lib/format.py: "\x93NUMPY" 01 00, u16 LE header length, dict literal padded with
 *             spaces and ended by "\n" so that the data starts at a multiple of 64
 *   ZIP       PKWARE APPNOTE 6.3.x: local headers, central directory, end record; optional ZIP64
 *             (sizes 0xFFFFFFFF + extra field 0x0001, ZIP64 end record and locator), stored or deflated
 *   IDX       magic 00 00 08 ndims, big-endian u32 sizes, bytes
 *   CIFAR     per record: label byte(s) then 3,072 pixel bytes
 */
import { spawnSync } from 'node:child_process';
import { crc32, deflateRawSync } from 'node:zlib';

export type NpyValues =
  | { descr: '<f4' | '>f4'; data: Float32Array }
  | { descr: '|u1' | '|b1'; data: Uint8Array }
  | { descr: '<i8' | '<i4' | '<i2' | '<f8'; data: ArrayLike<number> };

export function npyBytes(
  descr: string,
  shape: number[],
  values: ArrayLike<number>,
  fortran = false,
): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${shapeText}, }`;
  const total = 10 + dict.length + 1;
  dict += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const size = Number(/\d+$/.exec(descr)![0]);
  const n = values.length;
  const out = new Uint8Array(10 + dict.length + n * size);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  const dv = new DataView(out.buffer);
  dv.setUint16(8, dict.length, true);
  for (let i = 0; i < dict.length; i++) out[10 + i] = dict.charCodeAt(i);
  const at = 10 + dict.length;
  const le = !descr.startsWith('>');
  const kind = descr[1];
  for (let i = 0; i < n; i++) {
    const v = values[i];
    const o = at + i * size;
    if (kind === 'f' && size === 4) dv.setFloat32(o, v, le);
    else if (kind === 'f' && size === 8) dv.setFloat64(o, v, le);
    else if (size === 1) dv.setUint8(o, v);
    else if (size === 2) dv.setInt16(o, v, le);
    else if (size === 4) dv.setInt32(o, v, le);
    else if (size === 8) dv.setBigInt64(o, BigInt(v), le);
  }
  return out;
}

/** A 1-D structured array with the given fields (all of one descr, e.g. '<i8'), as tonic's events. */
export function npyRecordsBytes(fields: Record<string, ArrayLike<number>>, descr = '<i8'): Uint8Array {
  const names = Object.keys(fields);
  const n = fields[names[0]].length;
  let dict = `{'descr': [${names.map((k) => `('${k}', '${descr}')`).join(', ')}], 'fortran_order': False, 'shape': (${n},), }`;
  const total = 10 + dict.length + 1;
  dict += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const size = 8;
  const out = new Uint8Array(10 + dict.length + n * size * names.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  const dv = new DataView(out.buffer);
  dv.setUint16(8, dict.length, true);
  for (let i = 0; i < dict.length; i++) out[10 + i] = dict.charCodeAt(i);
  const at = 10 + dict.length;
  for (let i = 0; i < n; i++)
    names.forEach((k, f) => dv.setBigInt64(at + (i * names.length + f) * size, BigInt(fields[k][i]), true));
  return out;
}

export interface ZipOptions {
  deflate?: boolean;
  zip64?: boolean;
}

/** A ZIP archive of the members (name → bytes), in the given order. */
export function zipBytes(members: Array<[string, Uint8Array]>, opts: ZipOptions = {}): Uint8Array {
  const chunks: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  const method = opts.deflate ? 8 : 0;
  for (const [name, data] of members) {
    const nameBytes = new TextEncoder().encode(name);
    const body = opts.deflate ? deflateRawSync(data) : data;
    const crc = crc32(data) >>> 0;
    const z64 = opts.zip64 === true;
    // Local header.
    const lExtra = z64 ? 20 : 0;
    const local = new Uint8Array(30 + nameBytes.length + lExtra);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, z64 ? 45 : 20, true);
    lv.setUint16(8, method, true);
    lv.setUint16(10, 0, true);
    lv.setUint16(12, 0x21, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, z64 ? 0xffffffff : body.length, true);
    lv.setUint32(22, z64 ? 0xffffffff : data.length, true);
    lv.setUint16(26, nameBytes.length, true);
    lv.setUint16(28, lExtra, true);
    local.set(nameBytes, 30);
    if (z64) {
      const e = 30 + nameBytes.length;
      lv.setUint16(e, 1, true);
      lv.setUint16(e + 2, 16, true);
      lv.setBigUint64(e + 4, BigInt(data.length), true);
      lv.setBigUint64(e + 12, BigInt(body.length), true);
    }
    // Central directory entry (ZIP64: usize, csize, offset in the extra field).
    const cExtra = z64 ? 28 : 0;
    const c = new Uint8Array(46 + nameBytes.length + cExtra);
    const cv = new DataView(c.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 45, true);
    cv.setUint16(6, z64 ? 45 : 20, true);
    cv.setUint16(10, method, true);
    cv.setUint16(14, 0x21, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, z64 ? 0xffffffff : body.length, true);
    cv.setUint32(24, z64 ? 0xffffffff : data.length, true);
    cv.setUint16(28, nameBytes.length, true);
    cv.setUint16(30, cExtra, true);
    cv.setUint32(42, z64 ? 0xffffffff : offset, true);
    c.set(nameBytes, 46);
    if (z64) {
      const e = 46 + nameBytes.length;
      cv.setUint16(e, 1, true);
      cv.setUint16(e + 2, 24, true);
      cv.setBigUint64(e + 4, BigInt(data.length), true);
      cv.setBigUint64(e + 12, BigInt(body.length), true);
      cv.setBigUint64(e + 20, BigInt(offset), true);
    }
    chunks.push(local, body);
    central.push(c);
    offset += local.length + body.length;
  }
  const cdSize = central.reduce((a, c) => a + c.length, 0);
  const tail: Uint8Array[] = [];
  if (opts.zip64) {
    const e64 = new Uint8Array(56);
    const v = new DataView(e64.buffer);
    v.setUint32(0, 0x06064b50, true);
    v.setBigUint64(4, 44n, true);
    v.setUint16(12, 45, true);
    v.setUint16(14, 45, true);
    v.setBigUint64(24, BigInt(members.length), true);
    v.setBigUint64(32, BigInt(members.length), true);
    v.setBigUint64(40, BigInt(cdSize), true);
    v.setBigUint64(48, BigInt(offset), true);
    const loc = new Uint8Array(20);
    const lv = new DataView(loc.buffer);
    lv.setUint32(0, 0x07064b50, true);
    lv.setBigUint64(8, BigInt(offset + cdSize), true);
    lv.setUint32(16, 1, true);
    tail.push(e64, loc);
  }
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, opts.zip64 ? 0xffff : members.length, true);
  ev.setUint16(10, opts.zip64 ? 0xffff : members.length, true);
  ev.setUint32(12, opts.zip64 ? 0xffffffff : cdSize, true);
  ev.setUint32(16, opts.zip64 ? 0xffffffff : offset, true);
  const all = [...chunks, ...central, ...tail, end];
  const out = new Uint8Array(all.reduce((a, c) => a + c.length, 0));
  let p = 0;
  for (const c of all) (out.set(c, p), (p += c.length));
  return out;
}

/** An .npz of named arrays (each an .npy member). */
export function npzBytes(arrays: Array<[string, Uint8Array]>, opts: ZipOptions = {}): Uint8Array {
  return zipBytes(
    arrays.map(([k, v]) => [`${k}.npy`, v]),
    opts,
  );
}

export function idxBytes(dims: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out.set([0, 0, 8, dims.length]);
  const dv = new DataView(out.buffer);
  dims.forEach((d, i) => dv.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

/** Whether python3 with numpy can run here (then tests also read files numpy itself wrote). */
export function hasNumpy(): boolean {
  return spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;
}
