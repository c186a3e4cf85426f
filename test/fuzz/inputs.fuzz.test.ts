/**
 * Fuzzing the remaining loaders (issue 18): spike-rate files, sweep specs and NIR files (HDF5 byte flips
 * and truncation of a real export). Property: a clear InputError (one line, no stack) or a correct
 * result, within a time bound; never another exception. For NIR, the CLI must also print exactly one
 * `imcsim: error:` line: nothing from the HDF5 library may reach stderr. Bounded by numRuns and
 * fast-check's interruptAfterTimeLimit, like loaders.fuzz.test.ts.
 */
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/util/errors.js';
import { loadYaml } from '../../src/util/yaml-loader.js';
import { loadNetwork } from '../../src/network/load.js';
import { resolveRates, SpikeRatesSchema } from '../../src/network/rates.js';
import { MAX_POINTS, parseSweepSpec, SWEEP_MODES } from '../../src/sweep/spec.js';
import { planSweep } from '../../src/sweep/plan.js';
import { importNir } from '../../src/snn/io/nir.js';

const dir = mkdtempSync(join(tmpdir(), 'imcsim-fuzz2-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// Seeded: a fixed set of cases every run (HDF5 can hang on some corruptions: docs/ARCHITECTURE.md).
const LIMIT = { interruptAfterTimeLimit: 4_000, markInterruptAsFailure: false, seed: 7 };

function clearError(e: unknown): void {
  expect(e).toBeInstanceOf(InputError);
  const m = (e as Error).message;
  expect(m.length).toBeGreaterThan(0);
  expect(m).not.toMatch(/\n\s+at /);
  expect(m).not.toMatch(/HDF5-DIAG/);
}

/** Inserts `ins` at `pos` and deletes `del` characters there. */
const edit = (text: string, pos: number, ins: string, del: number) => {
  const p = pos % text.length;
  return text.slice(0, p) + ins + text.slice(p + del);
};
/** YAML-ish fragments that reach deeper than random characters alone. */
const fragment = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom(
    ': ',
    '\n  ',
    '- ',
    '[',
    ']',
    '{',
    '}',
    ',',
    '-1',
    '1e9',
    '.nan',
    '2',
    '0.5',
    'null',
    '"',
    '#',
  ),
);

describe('spike-rate file fuzzing', () => {
  const net = loadNetwork('models/mnist-convnet');
  const T = 4;
  const text = readFileSync('test/fixtures/mnist-rates.yaml', 'utf8');
  const check = (src: string) => {
    const t0 = performance.now();
    try {
      const spec = loadYaml(src, 'rates.yaml', SpikeRatesSchema);
      const r = resolveRates(spec, net.shapes.mapped, () => T, 'rates.yaml');
      // A correct result: one row of T rates per mapped layer, each a fraction.
      expect(r).toHaveLength(net.shapes.mapped.length);
      for (const row of r) {
        expect(row).toHaveLength(T);
        for (const v of row) expect(v >= 0 && v <= 1).toBe(true);
      }
    } catch (e) {
      clearError(e);
    }
    expect(performance.now() - t0).toBeLessThan(2_000);
  };
  it('random edits of a valid rates file: an InputError or T fractions per layer', () => {
    fc.assert(
      fc.property(fc.nat(), fragment, fc.nat({ max: 8 }), (pos, ins, del) =>
        check(edit(text, pos, ins, del)),
      ),
      { numRuns: 300, ...LIMIT },
    );
  });
  it('random documents (any JSON under default / layers): an InputError or T fractions per layer', () => {
    const value = fc.oneof(
      fc.double(),
      fc.array(fc.double({ min: -0.5, max: 1.5 }), { maxLength: 6 }),
      fc.string({ maxLength: 4 }),
      fc.constant(null),
    );
    const names = fc.constantFrom('conv1', 'conv2', 'fc1', 'fc2', 'x', '__proto__', 'constructor');
    fc.assert(
      fc.property(
        fc.record(
          { default: value, layers: fc.dictionary(names, value, { maxKeys: 4 }) },
          { requiredKeys: [] },
        ),
        (doc) => check(JSON.stringify(doc)),
      ),
      { numRuns: 300, ...LIMIT },
    );
  });
});

describe('sweep spec fuzzing', () => {
  // Written in the fixture folder so its relative paths (arch, network) resolve as in sweeps/.
  const file = join(process.cwd(), 'sweeps', 'fuzz.yaml');
  const text = readFileSync('sweeps/adc-bits-analytic.yaml', 'utf8');
  it('random edits of a valid spec: an InputError or a plan whose points match its axes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), fragment, fc.nat({ max: 8 }), async (pos, ins, del) => {
        const t0 = performance.now();
        try {
          const spec = parseSweepSpec(edit(text, pos, ins, del), file);
          expect(SWEEP_MODES).toContain(spec.mode);
          const plan = await planSweep(spec);
          // Independent count: the product of the axis sizes, within the documented limit.
          const n = plan.axes.reduce((a, x) => a * x.values.length, 1);
          expect(plan.points).toHaveLength(n);
          expect(n).toBeLessThanOrEqual(MAX_POINTS);
        } catch (e) {
          clearError(e);
        }
        expect(performance.now() - t0).toBeLessThan(3_000);
      }),
      { numRuns: 150, ...LIMIT },
    );
  });
});

describe('NIR fuzzing', () => {
  const good = readFileSync('test/fixtures/nir/lif_norse.nir');
  let seq = 0;
  async function verdict(bytes: Uint8Array): Promise<'ok' | 'refused'> {
    const f = join(dir, `n${seq++}.nir`);
    writeFileSync(f, bytes);
    const t0 = performance.now();
    try {
      const m = await importNir(f);
      // importNir checked the tensors against the topology; what it accepted must be finite numbers.
      expect(m.shapes.mapped.length).toBeGreaterThan(0);
      for (const t of m.tensors.values()) expect(t.data.every(Number.isFinite)).toBe(true);
      return 'ok';
    } catch (e) {
      clearError(e);
      return 'refused';
    } finally {
      // Known limit (left open): a flip in a variable-length string's heap length makes HDF5 allocate up
      // to wasm's memory limit (~1 GB, 6-25 s on a loaded machine) before aborting, which is then
      // refused cleanly; the bound is wide enough for that case, still catching a hang.
      expect(performance.now() - t0).toBeLessThan(40_000);
      rmSync(f, { force: true });
    }
  }
  it('byte flips anywhere: an InputError or a model whose tensors match its topology', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
        async (flips) => {
          const b = Buffer.from(good);
          for (const [pos, x] of flips) b[pos % b.length] ^= x;
          await verdict(b);
        },
      ),
      { numRuns: 40, ...LIMIT },
    );
  });
  it('truncation at any length is refused', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), async (n) => {
        expect(await verdict(good.subarray(0, n % good.length))).toBe('refused');
      }),
      { numRuns: 30, ...LIMIT },
    );
  });
  it('CLI: a corrupt HDF5 file gives exactly one imcsim error line, exit 2, and no output folder', () => {
    const bin = join(process.cwd(), 'bin', 'imcsim.js');
    const truncated = good.subarray(0, Math.floor(good.length * 0.6));
    const badSuperblock = Buffer.from(good);
    badSuperblock[8] = 0xee; // superblock version: no HDF5 reader accepts it
    for (const [name, bytes] of [
      ['truncated.nir', truncated],
      ['superblock.nir', badSuperblock],
    ] as const) {
      const f = join(dir, name);
      writeFileSync(f, bytes);
      const out = join(dir, `${name}.model`);
      const r = spawnSync(process.execPath, [bin, 'import', f, '--out', out], { encoding: 'utf8' });
      expect(r.stderr).toMatch(/^imcsim: error: [^\n]*corrupt or unreadable NIR file \(HDF5\)[^\n]*\n$/);
      expect(r.status).toBe(2);
      expect(existsSync(out)).toBe(false);
    }
  }, 30_000);
});
