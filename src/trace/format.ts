/**
 * The spike-trace file format (docs/TRACE_FORMAT.md gives the bytes): a header with the TraceHeader as
 * JSON, chunks of samples each guarded by a CRC32, and a footer with the TraceSummary. TraceWriter streams
 * samples to a temporary file and renames it into place on close, so a trace appears whole or not at all;
 * TraceReader streams them back chunk by chunk with positioned reads. Neither holds more than one chunk.
 */
import { type FileHandle, mkdir, open, rename, rm } from 'node:fs/promises';
import { endianness } from 'node:os';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';
import { located } from '../util/errors.js';
import { checkOutputFile, fileSystemError } from '../util/fs-errors.js';
import { registerTemp, releaseTemp, removeStaleTemps } from '../util/temp-files.js';
import { NetworkSchema } from '../network/schema.js';
import type { MappedLayer } from '../network/shapes.js';
import { SummaryAccumulator } from './summary.js';
import type { TraceHeader, TraceLayer, TraceSample, TraceSummary } from './types.js';

/**
 * Version written into new traces (2: a frame may repeat the one before it, `FRAME_REPEAT`); readers
 * accept these versions (a version-1 trace never holds a repeat frame).
 */
export const TRACE_FORMAT_VERSION = 2;
export const READABLE_TRACE_VERSIONS: readonly number[] = [1, 2];
export const FILE_MAGIC = 'IMCTRACE';
export const CHUNK_MAGIC = 'CHNK';
export const FOOTER_MAGIC = 'TEND';
export const DEFAULT_CHUNK_SAMPLES = 256;
export const DEFAULT_CHUNK_BYTES = 4 * 1024 * 1024;

/** Frame kinds (the byte that starts every frame). */
export const FRAME_BITMAP = 0; // 'spikes' layer: ceil(n/8) bytes, bit-packed
export const FRAME_INDICES = 1; // 'spikes' layer: u32 count, then count ascending u16/u32 indices
export const FRAME_DENSE = 0; // 'values' layer: n × f32
export const FRAME_SPARSE = 1; // 'values' layer: u32 count, count ascending u16/u32 indices, count × f32
/** Either kind of layer, t > 0, version ≥ 2: the frame equals the layer's previous frame (no payload). */
export const FRAME_REPEAT = 2;

/** True when two frames hold the same bytes (values: the same float bit patterns). */
function sameFrame(a: Uint8Array | Float32Array, b: Uint8Array | Float32Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length || a.constructor !== b.constructor) return false;
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

const HEADER_FIXED = 16; // magic, version, JSON length
const CHUNK_HEADER = 16; // magic, sample count, payload length, payload CRC
const FOOTER_FIXED = 12; // magic, total samples, JSON length
const TRAILER = 8; // u64 byte offset of the footer
const SAMPLE_FIXED = 16; // index, label, prediction, exitTimestep, layer count
const U32_MAX = 0xffffffff;
const LITTLE_ENDIAN = endianness() === 'LE';
const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));
const FILE_MAGIC_BYTES = ascii(FILE_MAGIC);
const CHUNK_MAGIC_BYTES = ascii(CHUNK_MAGIC);
const FOOTER_MAGIC_BYTES = ascii(FOOTER_MAGIC);
const hex = (n: number): string => '0x' + (n >>> 0).toString(16).padStart(8, '0');

function hasMagic(buf: Uint8Array, off: number, magic: number[]): boolean {
  for (let i = 0; i < magic.length; i++) if (buf[off + i] !== magic[i]) return false;
  return true;
}

// ───────────────────────────── bit packing ─────────────────────────────

const POP8 = new Uint8Array(256);
for (let i = 1; i < 256; i++) POP8[i] = (i & 1) + POP8[i >> 1];

/** Packs 0/1 values (any non-zero counts as 1): bit i → byte i>>3, bit i&7, least significant bit first. */
export function packBits(bits: Uint8Array | Float32Array | ArrayLike<number>): Uint8Array {
  const n = bits.length;
  const out = new Uint8Array((n + 7) >> 3);
  for (let i = 0; i < n; i++) if (bits[i] !== 0) out[i >> 3] |= 1 << (i & 7);
  return out;
}

/** Unpacks the first n bits (default: all of them) into a 0/1 byte per element. */
export function unpackBits(packed: Uint8Array, n = packed.length * 8): Uint8Array {
  if (n > packed.length * 8) throw new RangeError(`unpackBits: ${n} bits asked of ${packed.length} bytes`);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (packed[i >> 3] >> (i & 7)) & 1;
  return out;
}

/** Number of set bits. */
export function popcount(packed: Uint8Array): number {
  let c = 0;
  for (let i = 0; i < packed.length; i++) c += POP8[packed[i]];
  return c;
}

/** Non-zero elements of a values frame (±0 count as zero; NaN counts as non-zero). */
export function countNonZero(values: Float32Array): number {
  const u = new Uint32Array(values.buffer, values.byteOffset, values.length);
  let c = 0;
  // Branch-free: random sparsity defeats branch prediction. x << 1 drops the sign bit, so −0 is zero.
  for (let i = 0; i < u.length; i++) {
    const x = u[i] << 1;
    c += (x | -x) >>> 31;
  }
  return c;
}

/**
 * Elements of a values frame whose bit pattern is not +0 (−0 included, so sparse frames are bit-exact),
 * their positions written to pos (which needs values.length + 1 entries); returns how many.
 */
function nonZeroBits(u: Uint32Array, pos: Uint32Array): number {
  let k = 0;
  for (let i = 0; i < u.length; i++) {
    const x = u[i];
    pos[k] = i;
    k += (x | -x) >>> 31;
  }
  return k;
}

/** The trace layers of a mapped network: binary inputs are 'spikes', multi-bit inputs 'values'. */
export function traceLayersOf(
  mapped: readonly MappedLayer[],
  timestepsOf: (l: MappedLayer) => number,
): TraceLayer[] {
  return mapped.map((l) => ({
    name: l.name,
    input_elements: l.inputElements,
    input_kind: l.binaryInput ? 'spikes' : 'values',
    timesteps: timestepsOf(l),
  }));
}

// ───────────────────────────── header checks ─────────────────────────────

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown, min: number, max: number): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
const show = (v: unknown): string => (v === undefined ? 'nothing' : JSON.stringify(v));

/** Checks the fields the binary layout depends on; the rest of the header is provenance. */
export function checkTraceHeader(h: unknown, file: string): TraceHeader {
  const bad = (path: string, expected: string, found: unknown): never => {
    throw located('invalid trace header', { file, path: `header.${path}`, expected, found: show(found) });
  };
  if (!isObject(h)) return bad('', 'an object', h);
  if (h.format !== 'imcsim-trace') bad('format', '"imcsim-trace"', h.format);
  if (!READABLE_TRACE_VERSIONS.includes(h.format_version as number))
    bad('format_version', READABLE_TRACE_VERSIONS.join(' or '), h.format_version);
  if (!isInt(h.classes, 1, U32_MAX)) bad('classes', 'a positive integer', h.classes);
  if (!isObject(h.policy)) bad('policy', 'an object', h.policy);
  const policy = h.policy as Record<string, unknown>;
  if (!isInt(policy.timesteps, 1, 0xffff))
    bad('policy.timesteps', 'an integer in 1..65535', policy.timesteps);
  if (!Array.isArray(h.layers) || h.layers.length === 0 || h.layers.length > 0xffff)
    bad('layers', 'a list of 1..65535 layers', h.layers);
  (h.layers as unknown[]).forEach((l, i) => {
    if (!isObject(l)) return bad(`layers[${i}]`, 'an object', l);
    if (typeof l.name !== 'string') bad(`layers[${i}].name`, 'a string', l.name);
    if (!isInt(l.input_elements, 1, U32_MAX))
      bad(`layers[${i}].input_elements`, 'a positive integer', l.input_elements);
    if (l.input_kind !== 'spikes' && l.input_kind !== 'values')
      bad(`layers[${i}].input_kind`, '"spikes" or "values"', l.input_kind);
    if (!isInt(l.timesteps, 1, 0xffff)) bad(`layers[${i}].timesteps`, 'an integer in 1..65535', l.timesteps);
  });
  // The replay rebuilds the chip from the recorded network: it must be a valid topology too.
  const net = NetworkSchema.safeParse(h.network);
  if (!net.success) {
    const issue = net.error.issues[0];
    const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
    throw located(`invalid network in the trace header: ${issue.message}`, {
      file,
      path: `header.network${path}`,
    });
  }
  return h as unknown as TraceHeader;
}

// ───────────────────────────── sample encoding ─────────────────────────────

interface LayerCodec {
  name: string;
  n: number;
  spikes: boolean;
  /** Bitmap bytes: ceil(n/8). */
  bytes: number;
  /** Indices are u32 (else u16). */
  wide: boolean;
  /** Bits of the last bitmap byte that lie past n and must be zero. */
  padMask: number;
  T: number;
}

function codecsOf(header: TraceHeader): LayerCodec[] {
  return header.layers.map((l) => {
    const n = l.input_elements;
    return {
      name: l.name,
      n,
      spikes: l.input_kind === 'spikes',
      bytes: (n + 7) >> 3,
      wide: n > 0x10000,
      padMask: n % 8 === 0 ? 0 : (0xff << (n % 8)) & 0xff,
      T: l.timesteps,
    };
  });
}

export type FrameEncoding = 'auto' | 'dense';

/** Validates samples against the header and encodes them; one instance per writer. */
class SampleEncoder {
  private readonly layers: LayerCodec[];
  private readonly classes: number;
  private readonly maxExit: number;
  /** Per frame of the last measured sample, in layer/timestep order: kind, and stored element count. */
  private kinds: number[] = [];
  private stored: number[] = [];
  /** active[l][t] of the last measured sample: non-zero elements (for the summary). */
  active: number[][] = [];
  /** Scratch positions of stored elements. */
  private pos = new Uint32Array(1);

  constructor(
    header: TraceHeader,
    private readonly file: string,
    private readonly mode: FrameEncoding,
  ) {
    this.layers = codecsOf(header);
    this.classes = header.classes;
    this.maxExit = header.layers[header.layers.length - 1].timesteps;
  }

  private fail(index: number, path: string, message: string, expected: string, found: string): never {
    throw located(`sample ${index}: ${message}`, { file: this.file, path, expected, found });
  }

  /** Checks the sample; returns its encoded size and remembers frame kinds and active counts. */
  measure(s: TraceSample, expectedIndex: number): number {
    const idx = s.index;
    if (idx !== expectedIndex)
      this.fail(
        expectedIndex,
        'index',
        'index must be the position in the trace',
        String(expectedIndex),
        show(idx),
      );
    if (!isInt(s.label, -1, this.classes - 1))
      this.fail(idx, 'label', 'label out of range', `-1..${this.classes - 1}`, show(s.label));
    if (!isInt(s.prediction, -1, this.classes - 1))
      this.fail(idx, 'prediction', 'prediction out of range', `-1..${this.classes - 1}`, show(s.prediction));
    if (!isInt(s.exitTimestep, 1, this.maxExit))
      this.fail(
        idx,
        'exitTimestep',
        'exit timestep out of range',
        `1..${this.maxExit} (output layer timesteps)`,
        show(s.exitTimestep),
      );
    const nLogits = s.exitTimestep * this.classes;
    if (!(s.logits instanceof Float32Array) || s.logits.length !== nLogits)
      this.fail(
        idx,
        'logits',
        'logits must be exitTimestep × classes float32 values',
        `Float32Array(${nLogits})`,
        describe(s.logits),
      );
    if (!Array.isArray(s.inputs) || s.inputs.length !== this.layers.length)
      this.fail(
        idx,
        'inputs',
        'one input list per trace layer',
        `${this.layers.length} layers`,
        Array.isArray(s.inputs) ? `${s.inputs.length}` : describe(s.inputs),
      );
    let size = SAMPLE_FIXED + 4 * nLogits;
    const kinds = this.kinds;
    kinds.length = 0;
    const stored = this.stored;
    stored.length = 0;
    const active = this.active;
    active.length = this.layers.length;
    for (let l = 0; l < this.layers.length; l++) {
      const L = this.layers[l];
      const frames = s.inputs[l];
      if (!Array.isArray(frames) || frames.length > L.T)
        this.fail(
          idx,
          `inputs[${l}]`,
          `layer ${L.name} records too many timesteps`,
          `at most ${L.T}`,
          Array.isArray(frames) ? String(frames.length) : describe(frames),
        );
      const act = (active[l] ??= []);
      act.length = frames.length;
      size += 2;
      const w = L.wide ? 4 : 2;
      for (let t = 0; t < frames.length; t++) {
        const f = frames[t];
        let k: number;
        let keep: number;
        let dense: number;
        let sparse: number;
        if (L.spikes) {
          if (!(f instanceof Uint8Array) || f.length !== L.bytes)
            this.fail(
              idx,
              `inputs[${l}][${t}]`,
              `layer ${L.name} takes bit-packed spikes`,
              `Uint8Array(${L.bytes}) for ${L.n} elements`,
              describe(f),
            );
          if (L.padMask !== 0 && (f[L.bytes - 1] & L.padMask) !== 0)
            this.fail(
              idx,
              `inputs[${l}][${t}]`,
              `layer ${L.name}: bits past the last of ${L.n} elements are set`,
              'zero padding bits',
              `last byte ${hex(f[L.bytes - 1]).slice(-2)}`,
            );
          k = keep = popcount(f as Uint8Array);
          dense = L.bytes;
          sparse = 4 + k * w;
        } else {
          if (!(f instanceof Float32Array) || f.length !== L.n)
            this.fail(
              idx,
              `inputs[${l}][${t}]`,
              `layer ${L.name} takes float32 values`,
              `Float32Array(${L.n})`,
              describe(f),
            );
          // Stored: every element whose bits are not +0 (a −0 survives a sparse round trip).
          const u = new Uint32Array(f.buffer, f.byteOffset, L.n);
          k = keep = 0;
          for (let i = 0; i < u.length; i++) {
            const x = u[i];
            const y = x << 1;
            keep += (x | -x) >>> 31;
            k += (y | -y) >>> 31;
          }
          dense = 4 * L.n;
          sparse = 4 + keep * (w + 4);
        }
        act[t] = k;
        // The same input as the step before (the direct-encoded image at every timestep) is stored once.
        if (this.mode === 'auto' && t > 0 && sameFrame(f, frames[t - 1])) {
          kinds.push(FRAME_REPEAT);
          stored.push(0);
          size += 1;
          continue;
        }
        const useSparse = this.mode === 'auto' && sparse < dense;
        kinds.push(useSparse ? 1 : 0);
        stored.push(keep);
        size += 1 + (useSparse ? sparse : dense);
      }
    }
    return size;
  }

  /** Writes the last measured sample at off; returns the offset after it. */
  encode(s: TraceSample, buf: Uint8Array, view: DataView, off: number): number {
    view.setUint32(off, s.index, true);
    view.setInt32(off + 4, s.label, true);
    view.setInt32(off + 8, s.prediction, true);
    view.setUint16(off + 12, s.exitTimestep, true);
    view.setUint16(off + 14, this.layers.length, true);
    off = writeFloats(s.logits, buf, view, off + SAMPLE_FIXED);
    let fi = 0;
    for (let l = 0; l < this.layers.length; l++) {
      const L = this.layers[l];
      const frames = s.inputs[l];
      view.setUint16(off, frames.length, true);
      off += 2;
      for (let t = 0; t < frames.length; t++) {
        const kind = this.kinds[fi++];
        buf[off++] = kind;
        if (kind === FRAME_REPEAT) continue;
        if (L.spikes) {
          const f = frames[t] as Uint8Array;
          if (kind === FRAME_BITMAP) {
            buf.set(f, off);
            off += L.bytes;
          } else {
            view.setUint32(off, this.stored[fi - 1], true);
            off += 4;
            for (let i = 0; i < f.length; i++) {
              let b = f[i];
              while (b !== 0) {
                const bit = 31 - Math.clz32(b & -b);
                const e = (i << 3) | bit;
                if (L.wide) {
                  view.setUint32(off, e, true);
                  off += 4;
                } else {
                  view.setUint16(off, e, true);
                  off += 2;
                }
                b &= b - 1;
              }
            }
          }
        } else {
          const f = frames[t] as Float32Array;
          if (kind === FRAME_DENSE) {
            off = writeFloats(f, buf, view, off);
          } else {
            const k = this.stored[fi - 1];
            if (this.pos.length <= L.n) this.pos = new Uint32Array(L.n + 1);
            const pos = this.pos;
            const u = new Uint32Array(f.buffer, f.byteOffset, L.n);
            if (nonZeroBits(u, pos) !== k) throw new Error('trace encoder: frame changed while writing');
            view.setUint32(off, k, true);
            off += 4;
            if (L.wide) for (let j = 0; j < k; j++, off += 4) view.setUint32(off, pos[j], true);
            else for (let j = 0; j < k; j++, off += 2) view.setUint16(off, pos[j], true);
            // Raw float bits: NaN payloads and −0 come back exactly.
            for (let j = 0; j < k; j++, off += 4) view.setUint32(off, u[pos[j]], true);
          }
        }
      }
    }
    return off;
  }
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as Uint8Array).length})`;
  if (Array.isArray(v)) return `Array(${v.length})`;
  return typeof v;
}

function writeFloats(f: Float32Array, buf: Uint8Array, view: DataView, off: number): number {
  if (LITTLE_ENDIAN) {
    buf.set(new Uint8Array(f.buffer, f.byteOffset, f.byteLength), off);
    return off + f.byteLength;
  }
  for (let i = 0; i < f.length; i++, off += 4) view.setFloat32(off, f[i], true);
  return off;
}

function readFloats(buf: Uint8Array, view: DataView, off: number, n: number): Float32Array {
  const out = new Float32Array(n);
  if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(buf.subarray(off, off + 4 * n));
  else for (let i = 0; i < n; i++) out[i] = view.getFloat32(off + 4 * i, true);
  return out;
}

// ───────────────────────────── file I/O helpers ─────────────────────────────

async function writeAll(fh: FileHandle, buf: Uint8Array, len: number, pos: number): Promise<void> {
  let done = 0;
  while (done < len) {
    const { bytesWritten } = await fh.write(buf, done, len - done, pos + done);
    done += bytesWritten;
  }
}

async function readAt(fh: FileHandle, buf: Uint8Array, len: number, pos: number): Promise<number> {
  let done = 0;
  while (done < len) {
    const { bytesRead } = await fh.read(buf, done, len - done, pos + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

const dataView = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

// ───────────────────────────── writer ─────────────────────────────

export interface TraceWriterOptions {
  /** Samples per chunk (default 256). */
  chunkSamples?: number;
  /** A chunk is closed once its payload reaches this many bytes (default 4 MiB). */
  chunkBytes?: number;
  /** 'auto' (default) picks the smaller of bitmap / index list and dense / sparse per frame. */
  frameEncoding?: FrameEncoding;
}

/**
 * Streams samples into a trace: `open`, `await write(sample)` for each (one at a time), `close()`.
 * Writes go to `<path>.tmp-<pid>`; close() fsyncs and renames it to path, abort() removes it.
 */
export class TraceWriter {
  private state: 'open' | 'closed' | 'aborted' = 'open';
  private busy = false;
  private buf: Uint8Array;
  private view: DataView;
  /** Bytes of the current chunk in buf, including the 16-byte chunk header reserved at the start. */
  private used = CHUNK_HEADER;
  private chunkCount = 0;
  private count = 0;
  private readonly encoder: SampleEncoder;
  private readonly summary: SummaryAccumulator;
  private readonly chunkSamples: number;
  private readonly chunkBytes: number;

  private constructor(
    readonly path: string,
    readonly header: TraceHeader,
    private readonly tmp: string,
    private readonly fh: FileHandle,
    private pos: number,
    opts: TraceWriterOptions,
  ) {
    this.chunkSamples = opts.chunkSamples ?? DEFAULT_CHUNK_SAMPLES;
    this.chunkBytes = opts.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    this.encoder = new SampleEncoder(header, path, opts.frameEncoding ?? 'auto');
    this.summary = new SummaryAccumulator(header);
    this.buf = new Uint8Array(Math.min(this.chunkBytes + CHUNK_HEADER, 1 << 16));
    this.view = dataView(this.buf);
  }

  static async open(path: string, header: TraceHeader, opts: TraceWriterOptions = {}): Promise<TraceWriter> {
    checkTraceHeader(header, path);
    // Writers write the current version only (readers still read version 1).
    if (header.format_version !== TRACE_FORMAT_VERSION)
      throw located('invalid trace header', {
        file: path,
        path: 'header.format_version',
        expected: String(TRACE_FORMAT_VERSION),
        found: JSON.stringify(header.format_version),
      });
    if (opts.chunkSamples !== undefined && !isInt(opts.chunkSamples, 1, U32_MAX))
      throw new RangeError(`TraceWriter: chunkSamples must be a positive integer, not ${opts.chunkSamples}`);
    if (opts.chunkBytes !== undefined && !isInt(opts.chunkBytes, 1, 0x7fffffff))
      throw new RangeError(`TraceWriter: chunkBytes must be a positive integer, not ${opts.chunkBytes}`);
    const json = new TextEncoder().encode(JSON.stringify(header));
    const head = new Uint8Array(HEADER_FIXED + json.length + 4);
    const v = dataView(head);
    head.set(FILE_MAGIC_BYTES, 0);
    v.setUint32(8, TRACE_FORMAT_VERSION, true);
    v.setUint32(12, json.length, true);
    head.set(json, HEADER_FIXED);
    v.setUint32(HEADER_FIXED + json.length, crc32(json), true);
    checkOutputFile(path);
    const tmp = `${path}.tmp-${process.pid}`;
    let fh: FileHandle;
    try {
      await mkdir(dirname(path), { recursive: true });
      removeStaleTemps(path);
      fh = await open(tmp, 'w');
      registerTemp(tmp);
    } catch (e) {
      throw fileSystemError(e, path) ?? e;
    }
    try {
      await writeAll(fh, head, head.length, 0);
    } catch (e) {
      await fh.close().catch(() => undefined);
      await rm(tmp, { force: true });
      releaseTemp(tmp);
      throw fileSystemError(e, path) ?? e;
    }
    return new TraceWriter(path, header, tmp, fh, head.length, opts);
  }

  /** Samples accepted so far. */
  get samples(): number {
    return this.count;
  }

  /**
   * Validates the sample against the header (bad samples throw an InputError and leave the writer usable)
   * and adds it to the current chunk, writing the chunk out when full. Await each call before the next.
   */
  async write(sample: TraceSample): Promise<void> {
    this.ready('write');
    const size = this.encoder.measure(sample, this.count);
    this.busy = true;
    try {
      if (this.chunkCount > 0 && this.used - CHUNK_HEADER + size > this.chunkBytes) await this.flush();
      if (this.used + size > U32_MAX + CHUNK_HEADER)
        throw new RangeError(`sample ${sample.index} is too large for one chunk (${size} bytes)`);
      this.reserve(size);
      const end = this.encoder.encode(sample, this.buf, this.view, this.used);
      if (end !== this.used + size) throw new Error(`trace encoder: size ${size} ≠ ${end - this.used}`);
      this.used = end;
      this.summary.add(sample, this.header, this.encoder.active);
      this.chunkCount++;
      this.count++;
      if (this.chunkCount >= this.chunkSamples || this.used - CHUNK_HEADER >= this.chunkBytes)
        await this.flush();
    } catch (e) {
      await this.abort();
      throw fileSystemError(e, this.path) ?? e;
    } finally {
      this.busy = false;
    }
  }

  /** Writes the last chunk and the footer, fsyncs, renames into place; returns the summary. */
  async close(): Promise<TraceSummary> {
    this.ready('close');
    this.busy = true;
    try {
      if (this.chunkCount > 0) await this.flush();
      const summary = this.summary.result();
      const json = new TextEncoder().encode(JSON.stringify(summary));
      const foot = new Uint8Array(FOOTER_FIXED + json.length + 4 + TRAILER);
      const v = dataView(foot);
      foot.set(FOOTER_MAGIC_BYTES, 0);
      v.setUint32(4, this.count, true);
      v.setUint32(8, json.length, true);
      foot.set(json, FOOTER_FIXED);
      v.setUint32(FOOTER_FIXED + json.length, crc32(json), true);
      v.setBigUint64(FOOTER_FIXED + json.length + 4, BigInt(this.pos), true);
      await writeAll(this.fh, foot, foot.length, this.pos);
      this.pos += foot.length;
      await this.fh.sync();
      await this.fh.close();
      this.state = 'closed';
      await rename(this.tmp, this.path);
      releaseTemp(this.tmp);
      this.buf = new Uint8Array(0);
      return summary;
    } catch (e) {
      await this.abort();
      throw fileSystemError(e, this.path) ?? e;
    } finally {
      this.busy = false;
    }
  }

  /** Discards the trace: closes and removes the temporary file. No-op once closed or aborted. */
  async abort(): Promise<void> {
    if (this.state === 'aborted') return;
    const wasOpen = this.state === 'open';
    this.state = 'aborted';
    this.buf = new Uint8Array(0);
    if (wasOpen) await this.fh.close().catch(() => undefined);
    await rm(this.tmp, { force: true });
    releaseTemp(this.tmp);
  }

  private ready(op: string): void {
    if (this.state !== 'open') throw new Error(`TraceWriter.${op}: the writer is ${this.state}`);
    if (this.busy) throw new Error(`TraceWriter.${op}: await the previous write first`);
  }

  private reserve(size: number): void {
    const need = this.used + size;
    if (need <= this.buf.length) return;
    const cap = Math.max(need, Math.min(this.buf.length * 2, this.chunkBytes + CHUNK_HEADER));
    const nb = new Uint8Array(cap);
    nb.set(this.buf.subarray(0, this.used));
    this.buf = nb;
    this.view = dataView(nb);
  }

  private async flush(): Promise<void> {
    const payload = this.used - CHUNK_HEADER;
    this.buf.set(CHUNK_MAGIC_BYTES, 0);
    this.view.setUint32(4, this.chunkCount, true);
    this.view.setUint32(8, payload, true);
    this.view.setUint32(12, crc32(this.buf.subarray(CHUNK_HEADER, this.used)), true);
    await writeAll(this.fh, this.buf, this.used, this.pos);
    this.pos += this.used;
    this.used = CHUNK_HEADER;
    this.chunkCount = 0;
  }
}

// ───────────────────────────── reader ─────────────────────────────

/** Decodes one chunk's samples from its payload, with bounds checks that name the chunk. */
class SampleDecoder {
  private off = 0;
  private buf: Uint8Array = new Uint8Array(0);
  private view: DataView = dataView(this.buf);
  private end = 0;
  private where = '';
  private pos = new Uint32Array(0);

  constructor(
    private readonly layers: LayerCodec[],
    private readonly classes: number,
    private readonly file: string,
    /** The file's format version (repeat frames exist from version 2). */
    readonly version: number = TRACE_FORMAT_VERSION,
  ) {}

  /** The frame kinds valid at timestep t, for error messages. */
  kindsExpected(t: number): string {
    return this.version >= 2 && t > 0 ? '0, 1 or 2' : '0 or 1';
  }

  reset(buf: Uint8Array, len: number, chunk: number, pos: number): void {
    this.buf = buf;
    this.view = dataView(buf);
    this.off = 0;
    this.end = len;
    this.where = `trace chunk ${chunk} at byte offset ${pos}`;
  }

  get remaining(): number {
    return this.end - this.off;
  }

  /** Where decoding is, for error messages: sample index, layer, timestep (−1 when not inside). */
  private at = [-1, -1, -1];

  corrupt(what: string, expected?: string, found?: string): never {
    const [s, l, t] = this.at;
    const here =
      s < 0 ? '' : ` in sample ${s}` + (l < 0 ? '' : `, layer ${l}`) + (t < 0 ? '' : `, timestep ${t}`);
    throw located(`${this.where} is corrupt: ${what}${here}`, { file: this.file, expected, found });
  }

  private need(n: number): void {
    if (this.off + n > this.end)
      this.corrupt(
        'data runs past the end of the chunk payload',
        `${n} more bytes`,
        `${this.end - this.off}`,
      );
  }

  /** Reads k ascending indices below n into scratch space and returns it. */
  private indices(n: number, k: number, wide: boolean): Uint32Array {
    const w = wide ? 4 : 2;
    this.need(k * w);
    if (this.pos.length < k) this.pos = new Uint32Array(Math.max(k, 2 * this.pos.length));
    const pos = this.pos;
    const v = this.view;
    let o = this.off;
    let last = -1;
    for (let i = 0; i < k; i++, o += w) {
      const e = wide ? v.getUint32(o, true) : v.getUint16(o, true);
      if (e <= last) this.corrupt('frame indices out of order', `> ${last}`, `${e}`);
      last = e;
      pos[i] = e;
    }
    if (last >= n) this.corrupt('frame index out of range', `< ${n}`, `${last}`);
    this.off = o;
    return pos;
  }

  sample(): TraceSample {
    const v = this.view;
    this.at[0] = this.at[1] = this.at[2] = -1;
    this.need(SAMPLE_FIXED);
    const o = this.off;
    const index = v.getUint32(o, true);
    const label = v.getInt32(o + 4, true);
    const prediction = v.getInt32(o + 8, true);
    const exitTimestep = v.getUint16(o + 12, true);
    const nl = v.getUint16(o + 14, true);
    this.off += SAMPLE_FIXED;
    this.at[0] = index;
    if (nl !== this.layers.length) this.corrupt('wrong layer count', `${this.layers.length}`, `${nl}`);
    const nLogits = exitTimestep * this.classes;
    this.need(4 * nLogits);
    const logits = readFloats(this.buf, v, this.off, nLogits);
    this.off += 4 * nLogits;
    const inputs: Array<Array<Uint8Array | Float32Array>> = [];
    for (let l = 0; l < nl; l++) {
      const L = this.layers[l];
      this.at[1] = l;
      this.at[2] = -1;
      this.need(2);
      const T = v.getUint16(this.off, true);
      this.off += 2;
      if (T > L.T) this.corrupt('too many timesteps', `≤ ${L.T}`, `${T}`);
      const frames: Array<Uint8Array | Float32Array> = [];
      for (let t = 0; t < T; t++) {
        this.at[2] = t;
        this.need(1);
        const kind = this.buf[this.off++];
        if (kind === FRAME_REPEAT && this.version >= 2 && t > 0) {
          // The layer's previous frame again (the same object: frames are read-only).
          frames.push(frames[t - 1]);
          continue;
        }
        if (L.spikes) {
          const f = new Uint8Array(L.bytes);
          if (kind === FRAME_BITMAP) {
            this.need(L.bytes);
            f.set(this.buf.subarray(this.off, this.off + L.bytes));
            this.off += L.bytes;
            if (L.padMask !== 0 && (f[L.bytes - 1] & L.padMask) !== 0) this.corrupt('padding bits set');
          } else if (kind === FRAME_INDICES) {
            this.need(4);
            const k = v.getUint32(this.off, true);
            this.off += 4;
            const pos = this.indices(L.n, k, L.wide);
            for (let i = 0; i < k; i++) f[pos[i] >> 3] |= 1 << (pos[i] & 7);
          } else this.corrupt('unknown frame kind', this.kindsExpected(t), `${kind}`);
          frames.push(f);
        } else {
          if (kind === FRAME_DENSE) {
            this.need(4 * L.n);
            frames.push(readFloats(this.buf, v, this.off, L.n));
            this.off += 4 * L.n;
          } else if (kind === FRAME_SPARSE) {
            this.need(4);
            const k = v.getUint32(this.off, true);
            this.off += 4;
            const pos = this.indices(L.n, k, L.wide);
            this.need(4 * k);
            const f = new Float32Array(L.n);
            const u = new Int32Array(f.buffer);
            let vo = this.off;
            for (let i = 0; i < k; i++, vo += 4) u[pos[i]] = v.getInt32(vo, true);
            this.off = vo;
            frames.push(f);
          } else this.corrupt('unknown frame kind', this.kindsExpected(t), `${kind}`);
        }
      }
      inputs.push(frames);
    }
    this.at[0] = this.at[1] = this.at[2] = -1;
    return { index, label, prediction, exitTimestep, logits, inputs };
  }
}

/**
 * Reads a trace: `open` checks the header; iterate (`for await (const s of reader)`) to stream samples
 * chunk by chunk; `readSummary()` reads only the footer. Call close() when done.
 */
export class TraceReader implements AsyncIterable<TraceSample> {
  private constructor(
    readonly path: string,
    readonly header: TraceHeader,
    /** File size in bytes when opened. */
    readonly fileBytes: number,
    /** Byte offset of the first chunk. */
    readonly dataOffset: number,
    private readonly fh: FileHandle,
    /** The file's format version (the u32 after the magic). */
    readonly version: number = TRACE_FORMAT_VERSION,
  ) {}

  static async open(path: string): Promise<TraceReader> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw located('cannot open trace: no such file', { file: path });
      throw fileSystemError(e, path) ?? e;
    }
    try {
      const st = await fh.stat();
      if (st.isDirectory())
        throw located('cannot read trace: is a directory (expected a trace file)', { file: path });
      const size = st.size;
      const fixed = new Uint8Array(HEADER_FIXED);
      const got = await readAt(fh, fixed, HEADER_FIXED, 0);
      if (got < FILE_MAGIC_BYTES.length || !hasMagic(fixed, 0, FILE_MAGIC_BYTES))
        throw located('not an imcsim trace', {
          file: path,
          expected: `magic "${FILE_MAGIC}"`,
          found: JSON.stringify(new TextDecoder('latin1').decode(fixed.subarray(0, Math.min(got, 8)))),
        });
      if (got < HEADER_FIXED) throw located('trace is truncated inside its header', { file: path });
      const fv = dataView(fixed);
      const version = fv.getUint32(8, true);
      if (!READABLE_TRACE_VERSIONS.includes(version))
        throw located('unsupported trace format version', {
          file: path,
          expected: READABLE_TRACE_VERSIONS.join(' or '),
          found: String(version),
        });
      const len = fv.getUint32(12, true);
      if (HEADER_FIXED + len + 4 > size)
        throw located('trace is truncated inside its header', {
          file: path,
          expected: `${HEADER_FIXED + len + 4} header bytes`,
          found: `${size} bytes in the file`,
        });
      const rest = new Uint8Array(len + 4);
      await readAt(fh, rest, len + 4, HEADER_FIXED);
      const json = rest.subarray(0, len);
      const stored = dataView(rest).getUint32(len, true);
      const actual = crc32(json);
      if (stored !== actual)
        throw located('trace header is corrupt (CRC mismatch)', {
          file: path,
          path: `header at byte offset ${HEADER_FIXED}`,
          expected: `CRC ${hex(stored)}`,
          found: hex(actual),
        });
      let parsed: unknown;
      try {
        parsed = JSON.parse(new TextDecoder().decode(json));
      } catch (e) {
        throw located(`trace header is not valid JSON: ${(e as Error).message}`, { file: path });
      }
      const header = checkTraceHeader(parsed, path);
      return new TraceReader(path, header, size, HEADER_FIXED + len + 4, fh, version);
    } catch (e) {
      await fh.close().catch(() => undefined);
      throw e;
    }
  }

  async close(): Promise<void> {
    await this.fh.close();
  }

  [Symbol.asyncIterator](): AsyncIterator<TraceSample> {
    return this.samples();
  }

  /**
   * Every sample in order, one chunk in memory at a time. A trace without a valid footer yields every
   * complete chunk and then throws the truncation error.
   */
  async *samples(): AsyncGenerator<TraceSample> {
    const file = this.path;
    const size = this.fileBytes;
    const decoder = new SampleDecoder(codecsOf(this.header), this.header.classes, file, this.version);
    const head = new Uint8Array(CHUNK_HEADER);
    const hv = dataView(head);
    let payload = new Uint8Array(0);
    let pos = this.dataOffset;
    let chunk = 0;
    let total = 0;
    this.chunksRead = 0;
    for (;;) {
      const got = await readAt(this.fh, head, CHUNK_HEADER, pos);
      if (got >= 4 && hasMagic(head, 0, FOOTER_MAGIC_BYTES)) {
        const footer = await this.readFooter(pos);
        if (footer.total !== total)
          throw located('trace footer does not match the chunks', {
            file,
            path: `footer at byte offset ${pos}`,
            expected: `${total} samples (as read)`,
            found: String(footer.total),
          });
        return;
      }
      if (got === 0)
        throw located(`trace is truncated: no footer after ${chunk} chunks (${total} samples)`, {
          file,
          path: `byte offset ${pos}`,
          expected: `a chunk or the footer`,
          found: 'end of file',
        });
      if (got < CHUNK_HEADER)
        throw located(`trace is truncated: chunk ${chunk} at byte offset ${pos} is cut short in its header`, {
          file,
          expected: `${CHUNK_HEADER} bytes`,
          found: `${got}`,
        });
      if (!hasMagic(head, 0, CHUNK_MAGIC_BYTES))
        throw located(`trace chunk ${chunk} at byte offset ${pos} is corrupt: bad chunk magic`, {
          file,
          expected: `"${CHUNK_MAGIC}" or "${FOOTER_MAGIC}"`,
          found: JSON.stringify(new TextDecoder('latin1').decode(head.subarray(0, 4))),
        });
      const count = hv.getUint32(4, true);
      const len = hv.getUint32(8, true);
      const stored = hv.getUint32(12, true);
      const start = pos + CHUNK_HEADER;
      if (start + len > size)
        throw located(`trace is truncated: chunk ${chunk} at byte offset ${pos} is shorter than declared`, {
          file,
          expected: `${len} payload bytes`,
          found: `${size - start}`,
        });
      if (payload.length < len)
        payload = new Uint8Array(Math.max(len, payload.length + (payload.length >> 3)));
      const read = await readAt(this.fh, payload, len, start);
      if (read < len)
        throw located(`trace is truncated: chunk ${chunk} at byte offset ${pos} is shorter than declared`, {
          file,
          expected: `${len} payload bytes`,
          found: `${read}`,
        });
      const actual = crc32(payload.subarray(0, len));
      if (actual !== stored)
        throw located(`trace chunk ${chunk} at byte offset ${pos} is corrupt (CRC mismatch)`, {
          file,
          expected: `CRC ${hex(stored)}`,
          found: hex(actual),
        });
      if (count === 0)
        throw located(`trace chunk ${chunk} at byte offset ${pos} is corrupt: it holds no sample`, {
          file,
          expected: 'at least 1 sample per chunk',
          found: '0',
        });
      decoder.reset(payload, len, chunk, pos);
      for (let i = 0; i < count; i++) {
        const s = decoder.sample();
        this.checkSample(s, total, chunk, pos);
        yield s;
        total++;
      }
      if (decoder.remaining !== 0)
        decoder.corrupt(
          `${decoder.remaining} bytes left after ${count} samples`,
          '0',
          `${decoder.remaining}`,
        );
      pos = start + len;
      chunk++;
      this.chunksRead = chunk;
    }
  }

  /**
   * A CRC-valid chunk can still be inconsistent (chunks swapped, a sample copied or moved, a forged
   * label): every sample's index must be its position in the trace, labels and predictions within the
   * class count, the exit within the output layer's timesteps.
   */
  private checkSample(s: TraceSample, position: number, chunk: number, pos: number): void {
    const where = `trace chunk ${chunk} at byte offset ${pos} is inconsistent: sample ${position}`;
    const bad = (what: string, path: string, expected: string, found: number): never => {
      throw located(`${where} ${what}`, {
        file: this.path,
        path: `samples[${position}].${path}`,
        expected,
        found: String(found),
      });
    };
    if (s.index !== position)
      bad(
        'has the wrong index (chunks out of order, or a sample dropped, duplicated or moved)',
        'index',
        `${position} (its position in the trace)`,
        s.index,
      );
    const k = this.header.classes;
    if (s.label < -1 || s.label >= k)
      bad('has a label outside the class count', 'label', `-1..${k - 1}`, s.label);
    if (s.prediction < -1 || s.prediction >= k)
      bad('has a prediction outside the class count', 'prediction', `-1..${k - 1}`, s.prediction);
    const maxExit = this.header.layers[this.header.layers.length - 1].timesteps;
    if (s.exitTimestep < 1 || s.exitTimestep > maxExit)
      bad(
        'has an exit timestep out of range',
        'exitTimestep',
        `1..${maxExit} (output layer timesteps)`,
        s.exitTimestep,
      );
  }

  /**
   * Reads every chunk (CRC, chunk framing, sample order and indices, labels) and checks the footer
   * against what was read: sample count, and the summary recomputed from the samples (accuracy, average
   * exit, exit histogram, spike rates), so a forged footer is caught. Returns the verified summary.
   */
  async verify(): Promise<{ summary: TraceSummary; chunks: number }> {
    const acc = new SummaryAccumulator(this.header);
    for await (const s of this.samples()) acc.add(s, this.header);
    const stored = await this.readSummary();
    const mine = acc.result();
    for (const key of ['samples', 'accuracy', 'avg_timesteps', 'exit_histogram', 'spike_rate'] as const) {
      const a = JSON.stringify(mine[key]);
      const b = JSON.stringify(stored[key]);
      if (a !== b)
        throw located('trace footer does not match the samples (forged or stale summary)', {
          file: this.path,
          path: `footer.${key}`,
          expected: `${a.length > 60 ? a.slice(0, 57) + '...' : a} (recomputed from the samples)`,
          found: b === undefined ? 'nothing' : b.length > 60 ? b.slice(0, 57) + '...' : b,
        });
    }
    return { summary: stored, chunks: this.chunksRead };
  }

  /** Chunks read whole by the last samples() pass. */
  chunksRead = 0;

  /** The summary from the footer, located through the trailer at the very end of the file. */
  async readSummary(): Promise<TraceSummary> {
    return (await this.readFooter()).summary;
  }

  private async readFooter(at?: number): Promise<{ total: number; summary: TraceSummary }> {
    const file = this.path;
    const size = this.fileBytes;
    const missing = (why: string): never => {
      throw located(`trace is truncated: ${why} (was the writer closed?)`, {
        file,
        expected: 'a footer at the end of the file',
      });
    };
    let pos = at;
    if (pos === undefined) {
      if (size < this.dataOffset + FOOTER_FIXED + 4 + TRAILER) missing('no footer');
      const tr = new Uint8Array(TRAILER);
      await readAt(this.fh, tr, TRAILER, size - TRAILER);
      const off = Number(dataView(tr).getBigUint64(0, true));
      if (off < this.dataOffset || off > size - TRAILER - FOOTER_FIXED - 4) missing('no valid footer');
      pos = off;
    }
    const fixed = new Uint8Array(FOOTER_FIXED);
    const got = await readAt(this.fh, fixed, FOOTER_FIXED, pos);
    if (got < FOOTER_FIXED) missing(`footer at byte offset ${pos} is cut short`);
    if (!hasMagic(fixed, 0, FOOTER_MAGIC_BYTES)) missing('no valid footer');
    const fv = dataView(fixed);
    const total = fv.getUint32(4, true);
    const len = fv.getUint32(8, true);
    const end = pos + FOOTER_FIXED + len + 4 + TRAILER;
    if (end > size) missing(`footer at byte offset ${pos} is cut short`);
    const rest = new Uint8Array(len + 4 + TRAILER);
    await readAt(this.fh, rest, rest.length, pos + FOOTER_FIXED);
    const rv = dataView(rest);
    const json = rest.subarray(0, len);
    const stored = rv.getUint32(len, true);
    const actual = crc32(json);
    if (stored !== actual)
      throw located('trace footer is corrupt (CRC mismatch)', {
        file,
        path: `footer at byte offset ${pos}`,
        expected: `CRC ${hex(stored)}`,
        found: hex(actual),
      });
    const trailer = Number(rv.getBigUint64(len + 4, true));
    if (trailer !== pos || end !== size)
      throw located('trace footer is corrupt: the trailer does not point at it', {
        file,
        path: `footer at byte offset ${pos}`,
        expected: `trailer ${pos} at the end of a ${end}-byte file`,
        found: `trailer ${trailer} in a ${size}-byte file`,
      });
    let summary: TraceSummary;
    try {
      summary = JSON.parse(new TextDecoder().decode(json)) as TraceSummary;
    } catch (e) {
      throw located(`trace footer is not valid JSON: ${(e as Error).message}`, { file });
    }
    if (!isObject(summary) || summary.samples !== total)
      throw located('trace footer is corrupt: summary and sample count disagree', {
        file,
        path: `footer at byte offset ${pos}`,
        expected: `${total} samples`,
        found: show(isObject(summary) ? summary.samples : summary),
      });
    return { total, summary };
  }
}
