/**
 * A ZIP archive reader (PKWARE APPNOTE 6.3.x): the central directory (with ZIP64 end records and ZIP64
 * extra fields, which numpy's `savez` writes for every member: `force_zip64=True`), members stored
 * (method 0) or deflated (method 8, inflated by node:zlib), CRC-32 checked. Enough for .npz files
 * (`numpy.savez`, `numpy.savez_compressed`, tonic's event files); encryption, multi-disk archives and
 * other compression methods are refused by name. Every problem is an InputError naming the file.
 *
 * No zip library is in node_modules (fflate is on the npm list but not installed); this file uses only
 * node:zlib, so no dependency was added.
 */
import { crc32, inflateRawSync } from 'node:zlib';
import { located } from './errors.js';

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  crc: number;
  /** Offset of the member's local header. */
  localOffset: number;
}

const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_EOCD64_LOC = 0x07064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;
const U32_MAX = 0xffffffff;

/** A ZIP archive held in memory. */
export class ZipArchive {
  readonly entries = new Map<string, ZipEntry>();
  private readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    readonly file: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.readDirectory();
  }

  private fail(message: string, expected?: string, found?: string): never {
    throw located(`not a readable ZIP/NPZ archive: ${message}`, { file: this.file, expected, found });
  }

  private u16(at: number): number {
    if (at + 2 > this.bytes.length) this.fail(`truncated at byte ${at}`);
    return this.view.getUint16(at, true);
  }
  private u32(at: number): number {
    if (at + 4 > this.bytes.length) this.fail(`truncated at byte ${at}`);
    return this.view.getUint32(at, true);
  }
  private u64(at: number): number {
    const lo = this.u32(at);
    const hi = this.u32(at + 4);
    if (hi >= 0x200000) this.fail(`a 64-bit size at byte ${at} is beyond 2^53`);
    return hi * 0x100000000 + lo;
  }

  private readDirectory(): void {
    const b = this.bytes;
    if (b.length < 22)
      this.fail('shorter than an end-of-central-directory record', '≥ 22 bytes', `${b.length} bytes`);
    // The end record is the last thing in the file, followed by a comment of at most 65,535 bytes.
    let eocd = -1;
    for (let p = b.length - 22; p >= Math.max(0, b.length - 22 - 0xffff); p--)
      if (
        this.view.getUint32(p, true) === SIG_EOCD &&
        p + 22 + this.view.getUint16(p + 20, true) === b.length
      ) {
        eocd = p;
        break;
      }
    if (eocd < 0) this.fail('no end-of-central-directory record (not a ZIP file, or truncated)');
    if (this.u16(eocd + 4) !== 0 || this.u16(eocd + 6) !== 0)
      this.fail('multi-disk archives are not supported');
    let count = this.u16(eocd + 10);
    let cdSize = this.u32(eocd + 12);
    let cdOffset = this.u32(eocd + 16);
    if ((count === 0xffff || cdSize === U32_MAX || cdOffset === U32_MAX) && eocd >= 20) {
      const loc = eocd - 20;
      if (this.u32(loc) === SIG_EOCD64_LOC) {
        const e64 = this.u64(loc + 8);
        if (this.u32(e64) !== SIG_EOCD64) this.fail(`bad ZIP64 end record signature at byte ${e64}`);
        count = this.u64(e64 + 32);
        cdSize = this.u64(e64 + 40);
        cdOffset = this.u64(e64 + 48);
      }
    }
    if (cdOffset + cdSize > b.length)
      this.fail('the central directory lies past the end of the file (truncated?)');
    let p = cdOffset;
    for (let i = 0; i < count; i++) {
      if (this.u32(p) !== SIG_CENTRAL) this.fail(`bad central-directory entry ${i} at byte ${p}`);
      const flags = this.u16(p + 8);
      const method = this.u16(p + 10);
      const crc = this.u32(p + 16);
      let compressedSize = this.u32(p + 20);
      let size = this.u32(p + 24);
      const nameLen = this.u16(p + 28);
      const extraLen = this.u16(p + 30);
      const commentLen = this.u16(p + 32);
      let localOffset = this.u32(p + 42);
      const name = new TextDecoder().decode(b.subarray(p + 46, p + 46 + nameLen));
      if (flags & 1) this.fail(`member ${name} is encrypted`);
      // ZIP64 extended information: only the fields whose 32-bit value is 0xFFFFFFFF, in this order.
      let e = p + 46 + nameLen;
      const eEnd = e + extraLen;
      while (e + 4 <= eEnd) {
        const id = this.u16(e);
        const len = this.u16(e + 2);
        if (id === 0x0001) {
          let q = e + 4;
          if (size === U32_MAX) ((size = this.u64(q)), (q += 8));
          if (compressedSize === U32_MAX) ((compressedSize = this.u64(q)), (q += 8));
          if (localOffset === U32_MAX) localOffset = this.u64(q);
        }
        e += 4 + len;
      }
      this.entries.set(name, { name, method, compressedSize, size, crc, localOffset });
      p += 46 + nameLen + extraLen + commentLen;
    }
  }

  /** The uncompressed bytes of a member (CRC-32 checked). */
  read(name: string): Uint8Array {
    const en = this.entries.get(name);
    if (!en) this.fail(`no member ${name}`, [...this.entries.keys()].join(', '));
    const lo = en.localOffset;
    if (this.u32(lo) !== SIG_LOCAL) this.fail(`bad local header of ${name} at byte ${lo}`);
    const start = lo + 30 + this.u16(lo + 26) + this.u16(lo + 28);
    const end = start + en.compressedSize;
    if (end > this.bytes.length) this.fail(`member ${name} runs past the end of the file (truncated?)`);
    const raw = this.bytes.subarray(start, end);
    let out: Uint8Array;
    if (en.method === 0) out = raw;
    else if (en.method === 8) {
      try {
        out = inflateRawSync(raw);
      } catch (e) {
        this.fail(`member ${name} does not inflate (${(e as Error).message})`);
      }
    } else
      this.fail(
        `member ${name} uses compression method ${en.method}`,
        '0 (stored) or 8 (deflate)',
        String(en.method),
      );
    if (out.length !== en.size)
      this.fail(`member ${name} has the wrong size`, `${en.size} bytes`, `${out.length} bytes`);
    if (crc32(out) >>> 0 !== en.crc >>> 0) this.fail(`member ${name} fails its CRC-32 check (corrupt)`);
    return out;
  }
}
