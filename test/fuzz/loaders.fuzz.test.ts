/**
 * Fuzzing the loaders (issue 18): traces (truncation, byte flips, chunk reorder, forged footers),
 * safetensors (byte flips, truncation, forged headers) and topology YAML. Property: a clear InputError
 * (one line, no stack) or a correct result, within a time bound; never anything else. Bounded by numRuns
 * and fast-check's interruptAfterTimeLimit so the file stays within seconds on a loaded machine.
 */
import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/util/errors.js';
import { loadNetwork, parseNetwork } from '../../src/network/load.js';
import { readSafetensors, writeSafetensors } from '../../src/snn/io/safetensors.js';
import { TraceReader } from '../../src/trace/format.js';
import { generateSyntheticTrace } from '../../src/trace/synthetic.js';
import { footerSummary, layout, refooter, reorderChunks } from '../helpers/trace-bytes.js';

const dir = mkdtempSync(join(tmpdir(), 'imcsim-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const LIMIT = { interruptAfterTimeLimit: 8_000, markInterruptAsFailure: false };
let good: Buffer;
let goodSamples = 0;

beforeAll(async () => {
  const net = loadNetwork('models/mnist-convnet');
  const p = join(dir, 'good.trace');
  await generateSyntheticTrace({
    network: net.spec,
    shapes: net.shapes,
    rates: 0.1,
    samples: 5,
    seed: 9,
    timesteps: 2,
    out: p,
    writer: { chunkSamples: 2 },
  });
  good = readFileSync(p);
  goodSamples = 5;
});

function clearError(e: unknown): void {
  expect(e).toBeInstanceOf(InputError);
  const m = (e as Error).message;
  expect(m.length).toBeGreaterThan(0);
  expect(m).not.toMatch(/\n\s+at /);
}

let seq = 0;
/** Verifies the trace fully; returns 'ok' or 'refused' (an InputError), anything else fails. */
async function verdict(bytes: Uint8Array): Promise<'ok' | 'refused'> {
  const f = join(dir, `f${seq++}.trace`);
  writeFileSync(f, bytes);
  const t0 = performance.now();
  try {
    const r = await TraceReader.open(f);
    try {
      const v = await r.verify();
      expect(v.summary.samples).toBe(goodSamples);
      return 'ok';
    } finally {
      await r.close();
    }
  } catch (e) {
    clearError(e);
    return 'refused';
  } finally {
    expect(performance.now() - t0).toBeLessThan(5_000);
    rmSync(f, { force: true });
  }
}

describe('trace fuzzing', () => {
  it('byte flips anywhere: refused or (flip in ignored padding) identical verified summary', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.integer({ min: 1, max: 255 }), async (pos, x) => {
        const b = Buffer.from(good);
        b[pos % b.length] ^= x;
        await verdict(b);
      }),
      { numRuns: 60, ...LIMIT },
    );
  });
  it('truncation at any length is refused', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), async (n) => {
        expect(await verdict(good.subarray(0, n % good.length))).toBe('refused');
      }),
      { numRuns: 40, ...LIMIT },
    );
  });
  it('any chunk order other than the original is refused', async () => {
    const k = layout(good).chunks.length;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat({ max: k - 1 }), { minLength: 1, maxLength: k + 1 }),
        async (order) => {
          const same = order.length === k && order.every((c, i) => c === i);
          expect(await verdict(reorderChunks(good, order))).toBe(same ? 'ok' : 'refused');
        },
      ),
      { numRuns: 30, ...LIMIT },
    );
  });
  it('forged footers (valid CRC and trailer) are refused unless they equal the real summary', async () => {
    const real = footerSummary(good);
    await fc.assert(
      fc.asyncProperty(
        fc.record({ samples: fc.nat({ max: 9 }), avg_timesteps: fc.double({ noNaN: true, min: 0, max: 3 }) }),
        async (forge) => {
          const s = { ...real, ...forge };
          const v = await verdict(refooter(Buffer.from(good), layout(good).footerAt, s, forge.samples));
          expect(v).toBe(JSON.stringify(s) === JSON.stringify(real) ? 'ok' : 'refused');
        },
      ),
      { numRuns: 30, ...LIMIT },
    );
  });
});

describe('safetensors fuzzing', () => {
  const base = writeSafetensors(
    new Map([
      ['a.weight', { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }],
      ['b.bias', { shape: [2], data: Float32Array.from([0.5, -1]) }],
    ]),
  );
  it('byte flips and truncations: an InputError or finite tensors covering the data exactly', () => {
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 1, max: 255 }), fc.nat(), (pos, x, cut) => {
        const b = Uint8Array.from(base);
        b[pos % b.length] ^= x;
        const bytes = cut % 4 === 0 ? b.subarray(0, cut % b.length) : b;
        try {
          const r = readSafetensors(bytes, 'w.safetensors');
          for (const t of r.tensors.values()) {
            expect(t.data.length).toBe(t.shape.reduce((p, q) => p * q, 1));
            expect(t.data.every(Number.isFinite)).toBe(true);
          }
        } catch (e) {
          clearError(e);
        }
      }),
      { numRuns: 300, ...LIMIT },
    );
  });
  it('forged headers (random offsets, shapes, dtypes)', () => {
    const entry = fc.record({
      dtype: fc.constantFrom('F32', 'F16', 'I8', 'F64', 'X'),
      shape: fc.array(fc.integer({ min: -2, max: 5 }), { maxLength: 3 }),
      data_offsets: fc.tuple(fc.integer({ min: -8, max: 40 }), fc.integer({ min: -8, max: 40 })),
    });
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ minLength: 1, maxLength: 3 }), entry, { maxKeys: 3 }),
        fc.nat({ max: 40 }),
        (h, n) => {
          const hb = new TextEncoder().encode(JSON.stringify(h));
          const buf = new Uint8Array(8 + hb.length + n);
          new DataView(buf.buffer).setBigUint64(0, BigInt(hb.length), true);
          buf.set(hb, 8);
          try {
            const r = readSafetensors(buf, 'w.safetensors');
            const bytes = [...r.tensors.values()].reduce((a, t) => a + t.data.length, 0);
            expect(bytes).toBeLessThanOrEqual(n);
          } catch (e) {
            clearError(e);
          }
        },
      ),
      { numRuns: 300, ...LIMIT },
    );
  });
});

describe('topology YAML fuzzing', () => {
  it('random edits of a valid topology: an InputError or a network whose shapes are consistent', () => {
    const text = readFileSync('models/mnist-convnet/network.yaml', 'utf8');
    fc.assert(
      fc.property(fc.nat(), fc.string({ maxLength: 12 }), fc.nat({ max: 8 }), (pos, ins, del) => {
        const p = pos % text.length;
        const edited = text.slice(0, p) + ins + text.slice(p + del);
        const t0 = performance.now();
        try {
          const n = parseNetwork(edited, 'network.yaml');
          expect(n.shapes.mapped.length).toBeGreaterThan(0);
        } catch (e) {
          clearError(e);
        }
        expect(performance.now() - t0).toBeLessThan(2_000);
      }),
      { numRuns: 200, ...LIMIT },
    );
  });
});
