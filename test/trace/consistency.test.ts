/**
 * CRC-valid but inconsistent traces (issue 18, items 2 and 3): chunks swapped, a sample index rewritten,
 * a label outside the class count, a forged footer. Every file is made by moving or rewriting whole
 * chunks and recomputing the CRCs (test/helpers/trace-bytes.ts), so only the consistency checks can
 * catch them. `simulate`, `trace export` and `trace info` must refuse them with a located error, exit 2.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNetwork } from '../../src/network/load.js';
import { TraceReader } from '../../src/trace/format.js';
import { generateSyntheticTrace } from '../../src/trace/synthetic.js';
import { runCli } from '../helpers/cli.js';
import { fixChunkCrcs, footerSummary, layout, refooter, reorderChunks } from '../helpers/trace-bytes.js';

const dir = mkdtempSync(join(tmpdir(), 'imcsim-consist-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const net = loadNetwork('models/mnist-convnet');
let good: Buffer;
let seq = 0;
const put = (bytes: Uint8Array): string => {
  const f = join(dir, `t${seq++}.trace`);
  writeFileSync(f, bytes);
  return f;
};

beforeAll(async () => {
  const path = join(dir, 'good.trace');
  await generateSyntheticTrace({
    network: net.spec,
    shapes: net.shapes,
    rates: 0.1,
    samples: 6,
    seed: 3,
    timesteps: 2,
    out: path,
    writer: { chunkSamples: 2 },
  });
  good = readFileSync(path);
});

/** Every command that reads a whole trace refuses it: exit 2, one located line, nothing written. */
async function refusedEverywhere(file: string, pattern: RegExp): Promise<void> {
  const out = join(dir, `run${seq++}`);
  const sim = await runCli('simulate', '--arch', 'arch-configs/default.yaml', '--trace', file, '--out', out);
  expect(sim.err).toMatch(pattern);
  expect(sim.code).toBe(2);
  expect(existsSync(out)).toBe(false);
  const nd = join(dir, `x${seq++}.h5`);
  const exp = await runCli('trace', 'export', file, '--nirdata', nd);
  expect(exp.err).toMatch(pattern);
  expect(exp.code).toBe(2);
  expect(existsSync(nd)).toBe(false);
  const info = await runCli('trace', 'info', file);
  expect(info.err).toMatch(pattern);
  expect(info.code).toBe(2);
  for (const r of [sim, exp, info]) {
    expect(r.err).not.toMatch(/internal error|at .*\.js:\d+/);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  }
  expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
}

describe('CRC-valid but inconsistent traces are refused, located', () => {
  it('control: the good trace passes all three, and trace info says it verified every chunk', async () => {
    expect(layout(good).chunks.map((c) => c.samples)).toEqual([2, 2, 2]);
    const info = await runCli('trace', 'info', put(good));
    expect(info.code).toBe(0);
    expect(info.out).toMatch(/Verified\s+all 3 chunks/);
    const sim = await runCli('simulate', '--arch', 'arch-configs/default.yaml', '--trace', put(good));
    expect(sim.code).toBe(0);
  });

  it('chunks out of order: chunk 1 holds samples 4 and 5', async () => {
    const f = put(reorderChunks(good, [0, 2, 1]));
    await refusedEverywhere(
      f,
      /chunk 1 at byte offset \d+ is inconsistent: sample 2 has the wrong index.*expected 2.*found 4/,
    );
  });

  it('a dropped chunk (footer total fixed to match): sample 2 is missing', async () => {
    const L = layout(good);
    const dropped = reorderChunks(good, [0, 2]);
    const f = put(refooter(dropped, layout(dropped).footerAt, { ...footerSummary(good), samples: 4 }, 4));
    expect(L.chunks).toHaveLength(3);
    await refusedEverywhere(f, /chunk 1 .*sample 2 has the wrong index/);
  });

  it('a duplicated chunk', async () => {
    const f = put(reorderChunks(good, [0, 1, 1, 2]));
    await refusedEverywhere(f, /chunk 2 .*sample 4 has the wrong index.*found 2/);
  });

  it('a sample whose index does not match its position', async () => {
    const b = Buffer.from(good);
    const c = layout(b).chunks[1];
    b.writeUInt32LE(9, c.at + 16); // first sample of chunk 1: index 2 → 9
    await refusedEverywhere(put(fixChunkCrcs(b)), /chunk 1 .*sample 2 has the wrong index.*found 9/);
  });

  it('a label and a prediction outside the class count (10 classes)', async () => {
    const b = Buffer.from(good);
    const c = layout(b).chunks[2];
    b.writeInt32LE(10, c.at + 16 + 4);
    await refusedEverywhere(
      put(fixChunkCrcs(b)),
      /chunk 2 .*sample 4 has a label outside the class count.*expected -1\.\.9.*found 10/,
    );
    const p = Buffer.from(good);
    p.writeInt32LE(-2, layout(p).chunks[0].at + 16 + 8);
    await refusedEverywhere(put(fixChunkCrcs(p)), /chunk 0 .*sample 0 has a prediction outside/);
  });

  it('an empty chunk', async () => {
    const L = layout(good);
    const empty = Buffer.from([0x43, 0x48, 0x4e, 0x4b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const b = Buffer.concat([good.subarray(0, L.footerAt), empty]);
    const f = put(refooter(Buffer.concat([b, good.subarray(L.footerAt)]), L.footerAt + 16));
    await refusedEverywhere(f, /chunk 3 .*holds no sample/);
  });

  it('a forged footer (valid CRC, wrong summary) is caught by trace info, and --quick says it did not look', async () => {
    const forged = { ...footerSummary(good), exit_histogram: [0, 6], avg_timesteps: 1.5 };
    const f = put(refooter(Buffer.from(good), layout(good).footerAt, forged));
    const info = await runCli('trace', 'info', f);
    expect(info.code).toBe(2);
    expect(info.err).toMatch(
      /footer\.avg_timesteps: trace footer does not match the samples.*expected 2 \(recomputed/,
    );
    const quick = await runCli('trace', 'info', '--quick', f);
    expect(quick.code).toBe(0);
    expect(quick.out).toMatch(/Verified\s+no \(--quick: header and footer only; chunks not read\)/);
    const r = await TraceReader.open(f);
    await expect(r.verify()).rejects.toThrow(/forged or stale summary/);
    await r.close();
  });
});
