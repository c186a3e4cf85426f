/**
 * Huge or absurd topologies are refused quickly with a located error (issue 18, item 5 and the duplicate
 * layer names of item 8): sanity ranges in the schema, a memory estimate before any allocation, and a
 * limit overridable by --max-memory / IMCSIM_MAX_MEMORY.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseNetwork } from '../../src/network/load.js';
import { DEFAULT_MAX_MEMORY_BYTES, networkMemory, parseByteSize } from '../../src/network/memory.js';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'imcsim-limits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  delete process.env.IMCSIM_MAX_MEMORY;
});
let seq = 0;
function net(body: string): string {
  const f = join(dir, `n${seq++}.yaml`);
  writeFileSync(f, body);
  return f;
}
const ARCH = 'arch-configs/default.yaml';
const conv = (extra: string) => `name: t
input: {shape: [1, 28, 28]}
classes: 10
${extra}
layers:
  - {type: conv2d, out_channels: 4, kernel: 3}
  - {type: flatten}
  - {type: linear, out_features: 10}
`;

/** Runs the CLI; checks exit 2, one located line, no stack trace, and a bound on the time. */
async function refused(args: string[], pattern: RegExp, ms = 10_000): Promise<string> {
  const t0 = performance.now();
  const r = await runCli(...args);
  expect(performance.now() - t0).toBeLessThan(ms);
  expect(r.err).toMatch(pattern);
  expect(r.err).not.toMatch(/internal error|\n\s+at /);
  expect(r.code).toBe(2);
  return r.err;
}

describe('schema sanity ranges', () => {
  it('out_channels: 1e8, timesteps: 1e8, shape [1e6, 1e6, 1e6]: exit 2 at file:line:col', async () => {
    const a = net(conv('').replace('out_channels: 4', 'out_channels: 100000000'));
    await refused(
      ['estimate', '--arch', ARCH, '--network', a],
      /n\d+\.yaml:6:34: layers\[0\]\.out_channels: .*<= 1048576.*found 100000000/,
    );
    const b = net(conv('timesteps: 100000000'));
    await refused(
      ['trace', '--synthetic', '--network', b, '--rate', '0.1', '--out', join(dir, 'x.trace')],
      /:4:12: timesteps: .*<= 65535/,
    );
    const c = net(conv('').replace('[1, 28, 28]', '[1000000, 1000000, 1000000]'));
    await refused(['map', '--arch', ARCH, '--network', c], /input\.shape\[0\]: .*<= 65536.*found 1000000/);
    await refused(['init', '--network', c, '--out', join(dir, 'm')], /input\.shape\[0\]/);
  });
  it('per-layer timesteps beyond the trace format (65535) are refused', async () => {
    const f = net(conv('').replace('kernel: 3}', 'kernel: 3, timesteps: 70000}'));
    await refused(['map', '--arch', ARCH, '--network', f], /layers\[0\]\.timesteps/);
  });
});

describe('memory estimate before allocation', () => {
  it('matches the documented formula on a hand-sized network', () => {
    const { spec, shapes } = parseNetwork(
      `name: t\ninput: {shape: [1, 4, 4]}\nclasses: 10\nlayers:\n  - {type: conv2d, out_channels: 2, kernel: 3, padding: 1}\n  - {type: flatten}\n  - {type: linear, out_features: 10}\n`,
      't.yaml',
    );
    // activations (in + out) · 4 B · 3: conv 16 + 32, flatten 32 + 32, linear 32 + 10
    const act = (16 + 32 + 64 + 42) * 12;
    // weights · 4 B · 2: conv 2 · 9, linear 10 · 32; frames of one sample (T = 4): 16 · 4, 32 · 4 (· 4 B)
    const weights = (18 + 320) * 8;
    const frames = (16 + 32) * 4 * 4;
    const counts = 3 * 4 * 8 * 64;
    const total = networkMemory(spec, shapes, 4).reduce((a, n) => a + n.bytes, 0);
    expect(total).toBe(act + weights + frames + counts);
  });
  it('an input of [65536, 65536, 65536] (within the ranges) is refused in well under a second of work', async () => {
    const f = net(
      conv('')
        .replace('[1, 28, 28]', '[65536, 65536, 65536]')
        .replace('conv2d, out_channels: 4, kernel: 3', 'flatten'),
    );
    const err = await refused(
      ['estimate', '--arch', ARCH, '--network', f],
      /the network needs about \d+ PiB of memory, more than the limit of 4\.0 GiB/,
    );
    expect(err).toMatch(/--max-memory or IMCSIM_MAX_MEMORY/);
    expect(err).toMatch(/layers\[\d\]/);
  });
  it('a million output channels: refused for estimate, trace, init', async () => {
    const f = net(
      conv('').replace('out_channels: 4, kernel: 3', 'out_channels: 1048576, kernel: 3, padding: 1'),
    );
    await refused(
      ['estimate', '--arch', ARCH, '--network', f],
      /needs about \d+ GiB.*weights of layer linear2/,
    );
    await refused(
      ['trace', '--synthetic', '--network', f, '--rate', '0.1', '--out', join(dir, 'w.trace')],
      /needs about/,
    );
    await refused(['init', '--network', f, '--out', join(dir, 'w')], /needs about/);
  });
  it('--timesteps 1e8 on a small network: refused by the estimate, naming the trace frames', async () => {
    await refused(
      ['estimate', '--arch', ARCH, '--network', 'models/mnist-convnet', '--timesteps', '100000000'],
      /needs about .*TiB.*one trace sample's frames of layer conv2 \(3136 elements × 100000000 timesteps\)/,
    );
  });
  it('the limit is overridable: --max-memory (either side of the command) and IMCSIM_MAX_MEMORY', async () => {
    const ok = await runCli('map', '--arch', ARCH, '--network', 'models/mnist-convnet');
    expect(ok.code).toBe(0);
    await refused(
      ['--max-memory', '64KiB', 'map', '--arch', ARCH, '--network', 'models/mnist-convnet'],
      /limit of 64 KiB/,
    );
    await refused(
      ['map', '--arch', ARCH, '--network', 'models/mnist-convnet', '--max-memory', '64KiB'],
      /limit of 64 KiB/,
    );
    process.env.IMCSIM_MAX_MEMORY = '100kB';
    await refused(['map', '--arch', ARCH, '--network', 'models/mnist-convnet'], /limit of 98 KiB/);
    expect(
      (await runCli('--max-memory', '1GiB', 'map', '--arch', ARCH, '--network', 'models/mnist-convnet')).code,
    ).toBe(0);
    await refused(
      ['--max-memory', 'lots', 'map', '--arch', ARCH, '--network', 'models/mnist-convnet'],
      /--max-memory must be a size in bytes/,
    );
  });
  it('parseByteSize', () => {
    expect(parseByteSize('4GiB', 'x')).toBe(DEFAULT_MAX_MEMORY_BYTES);
    expect(parseByteSize('512 MiB', 'x')).toBe(512 * 1024 * 1024);
    expect(parseByteSize('2e9', 'x')).toBe(2e9);
    expect(parseByteSize('1.5k', 'x')).toBe(1500);
    expect(() => parseByteSize('-1', 'x')).toThrow(/size in bytes/);
    expect(() => parseByteSize('4 parsecs', 'x')).toThrow(/size in bytes/);
  });
});

describe('duplicate layer names', () => {
  it('two layers named alike are refused at the second name, with line and column', async () => {
    const f = net(
      conv('')
        .replace('{type: linear,', '{name: c, type: linear,')
        .replace('{type: conv2d,', '{name: c, type: conv2d,'),
    );
    await refused(
      ['map', '--arch', ARCH, '--network', f],
      /:8:12: layers\[2\]\.name: duplicate layer name "c" \(layers\[0\] has it\)/,
    );
  });
  it('an explicit name equal to an unnamed layer’s default name (<type><index>)', async () => {
    const f = net(conv('').replace('{type: linear,', '{name: conv2d0, type: linear,'));
    await refused(
      ['map', '--arch', ARCH, '--network', f],
      /layers\[2\]\.name: duplicate layer name "conv2d0".*unnamed layers are called/,
    );
  });
});
