/**
 * Byte-level surgery on trace files for corruption tests, written from docs/TRACE_FORMAT.md (not from the
 * reader): header = "IMCTRACE", u32 version, u32 JSON length, JSON, u32 CRC; chunk = "CHNK", u32 samples,
 * u32 payload length, u32 payload CRC, payload; footer = "TEND", u32 samples, u32 JSON length, JSON,
 * u32 CRC, u64 footer offset.
 */
import { crc32 } from 'node:zlib';

export interface ChunkSpan {
  /** Byte offset of the chunk header. */
  at: number;
  samples: number;
  /** Payload bytes. */
  len: number;
}

export interface TraceLayout {
  headerEnd: number;
  chunks: ChunkSpan[];
  footerAt: number;
}

export function layout(buf: Uint8Array): TraceLayout {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerEnd = 16 + v.getUint32(12, true) + 4;
  const chunks: ChunkSpan[] = [];
  let p = headerEnd;
  while (String.fromCharCode(...buf.subarray(p, p + 4)) === 'CHNK') {
    const len = v.getUint32(p + 8, true);
    chunks.push({ at: p, samples: v.getUint32(p + 4, true), len });
    p += 16 + len;
  }
  return { headerEnd, chunks, footerAt: p };
}

/** Recomputes every chunk CRC (after editing payload bytes). */
export function fixChunkCrcs(buf: Uint8Array): Uint8Array {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (const c of layout(buf).chunks)
    v.setUint32(c.at + 12, crc32(buf.subarray(c.at + 16, c.at + 16 + c.len)), true);
  return buf;
}

/** Same file with chunks in the given order (CRCs stay valid: each chunk moves whole). */
export function reorderChunks(buf: Uint8Array, order: number[]): Uint8Array {
  const L = layout(buf);
  const parts = order.map((i) => buf.subarray(L.chunks[i].at, L.chunks[i].at + 16 + L.chunks[i].len));
  const body = Buffer.concat(parts);
  const out = Buffer.concat([buf.subarray(0, L.headerEnd), body, buf.subarray(L.footerAt)]);
  return refooter(out, L.headerEnd + body.length);
}

/** Rewrites the footer: optional new summary JSON and total, valid CRC, trailer pointing at footerAt. */
export function refooter(buf: Uint8Array, footerAt: number, summary?: unknown, total?: number): Uint8Array {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const oldLen = v.getUint32(footerAt + 8, true);
  const oldJson = buf.subarray(footerAt + 12, footerAt + 12 + oldLen);
  const json = summary === undefined ? oldJson : new TextEncoder().encode(JSON.stringify(summary));
  const n = total ?? v.getUint32(footerAt + 4, true);
  const foot = new Uint8Array(12 + json.length + 4 + 8);
  const fv = new DataView(foot.buffer);
  foot.set([0x54, 0x45, 0x4e, 0x44], 0); // TEND
  fv.setUint32(4, n, true);
  fv.setUint32(8, json.length, true);
  foot.set(json, 12);
  fv.setUint32(12 + json.length, crc32(json), true);
  fv.setBigUint64(16 + json.length, BigInt(footerAt), true);
  return Buffer.concat([buf.subarray(0, footerAt), foot]);
}

/** The footer's summary JSON. */
export function footerSummary(buf: Uint8Array): Record<string, unknown> {
  const L = layout(buf);
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const len = v.getUint32(L.footerAt + 8, true);
  return JSON.parse(new TextDecoder().decode(buf.subarray(L.footerAt + 12, L.footerAt + 12 + len)));
}
