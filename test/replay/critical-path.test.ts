import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildWorkload } from '../../src/chip/workload.js';
import type { ArchSpec } from '../../src/config/schema.js';
import { loadArch, parseOverride } from '../../src/config/load.js';
import { loadNetwork, parseNetwork } from '../../src/network/load.js';
import { inferShapes } from '../../src/network/shapes.js';
import { CriticalPath } from '../../src/replay/critical-path.js';
import { Replay } from '../../src/replay/replay.js';
import { loadDataset } from '../../src/snn/data/dataset.js';
import { loadModel } from '../../src/snn/model.js';
import { traceModel } from '../../src/snn/run.js';
import { TraceReader } from '../../src/trace/format.js';
import { generateSyntheticTrace } from '../../src/trace/synthetic.js';
import type { TraceHeader, TraceSample } from '../../src/trace/types.js';
import { randomNetworkYaml } from '../helpers/random-network.js';

/**
 * The closed-form critical path (src/replay/critical-path.ts) against the discrete-event replay: equal,
 * in integer cycles, when contention is impossible; never above the replay with contention.
 */
const dir = mkdtempSync(join(tmpdir(), 'imcsim-cp-'));

async function readTrace(file: string): Promise<{ header: TraceHeader; samples: TraceSample[] }> {
  const reader = await TraceReader.open(file);
  const samples: TraceSample[] = [];
  for await (const s of reader) samples.push(s);
  await reader.close();
  return { header: reader.header, samples };
}

function workload(spec: ArchSpec, header: TraceHeader) {
  return buildWorkload(
    spec,
    header.network,
    {
      timesteps: Math.max(...header.layers.map((l) => l.timesteps)),
      policy: header.policy.name === 'static' ? 'static' : 'entropy',
    },
    inferShapes(header.network),
  );
}

/** Per sample: contention-free replay cycles, contended replay cycles, critical path cycles. */
function compare(spec: ArchSpec, trace: { header: TraceHeader; samples: TraceSample[] }) {
  const w = workload(spec, trace.header);
  // The critical path is a sample's on a drained chip: samples do not stream here.
  const free = new Replay(w, trace.header, { contentionFree: true, overlap: false });
  const real = new Replay(w, trace.header, { overlap: false });
  const cp = new CriticalPath(w, trace.header);
  return trace.samples.map((s) => {
    free.replaySample(s);
    real.replaySample(s);
    return { free: free.lastLatencyCycles, real: real.lastLatencyCycles, cp: cp.sampleCycles(s) };
  });
}

const arch = (file: string, sets: string[] = []) =>
  loadArch(`arch-configs/${file}.yaml`, sets.map(parseOverride));
const SCHEDULES = ['layer-sequential', 'timestep-pipelined'] as const;

describe('critical path = contention-free replay, on a trained MNIST model (mnist-convnet-t4)', () => {
  const traces: Record<string, { header: TraceHeader; samples: TraceSample[] }> = {};
  beforeAll(async () => {
    const model = loadModel('models/mnist-convnet-t4');
    const ds = loadDataset('mnist', 'test', { limit: 10 });
    for (const [name, policy] of [
      ['static', { name: 'static', timesteps: 4 }],
      ['entropy', { name: 'entropy', timesteps: 4, theta: 0.9 }],
    ] as const) {
      const out = join(dir, `t4-${name}.trace`);
      await traceModel(model, ds, { policy, modelName: 't4', out });
      traces[name] = await readTrace(out);
    }
    // The entropy trace must really exit at different timesteps for the test to mean something.
    expect(new Set(traces.entropy.samples.map((s) => s.exitTimestep)).size).toBeGreaterThan(1);
  }, 60_000);

  for (const policy of ['static', 'entropy'])
    for (const schedule of SCHEDULES)
      for (const [file, sets] of [
        ['default', []],
        ['isaac-32nm', []],
        ['default', ['mapping.tile_packing=packed']],
      ] as const)
        it(`${policy}, ${schedule}, ${file} ${sets.join(' ')}`, () => {
          const rows = compare(arch(file, [...sets, `schedule.policy=${schedule}`]), traces[policy]);
          for (const r of rows) {
            expect(Number.isInteger(r.cp)).toBe(true);
            expect(r.free).toBe(r.cp);
            expect(r.real).toBeGreaterThanOrEqual(r.cp);
          }
        });
});

describe('critical path on small synthetic networks', () => {
  const net = parseNetwork(
    [
      'name: small',
      'input: { shape: [2, 10, 10], encoding: direct }',
      'classes: 6',
      'timesteps: 4',
      'layers:',
      '  - { name: c1, type: conv2d, out_channels: 12, kernel: 3, padding: 1 }',
      '  - { name: c2, type: conv2d, out_channels: 16, kernel: 3, padding: 1, stride: 2 }',
      '  - { name: p1, type: avgpool2d, kernel: 2 }',
      '  - { name: f, type: flatten }',
      '  - { name: fc1, type: linear, out_features: 40 }',
      '  - { name: fc2, type: linear, out_features: 6, spiking: false }',
    ].join('\n'),
    'small.yaml',
  );
  // Small crossbars and tiles: many tiles per layer, partial sums between tiles, a busy NoC.
  const small = [
    'crossbar.rows=16',
    'crossbar.rows_parallel=16',
    'crossbar.columns=16',
    'pe.crossbars_per_pe=2',
    'tile.pes_per_tile=1',
  ];
  const traces: Record<string, { header: TraceHeader; samples: TraceSample[] }> = {};
  beforeAll(async () => {
    for (const policy of ['static', 'entropy'] as const) {
      const out = join(dir, `small-${policy}.trace`);
      await generateSyntheticTrace({
        network: net.spec,
        shapes: net.shapes,
        rates: 0.2,
        samples: 4,
        seed: 7,
        timesteps: 4,
        out,
        ...(policy === 'entropy'
          ? {
              policy: { name: 'entropy', timesteps: 4, theta: 0.5 },
              exitDistribution: [0.25, 0.25, 0.25, 0.25],
            }
          : {}),
      });
      traces[policy] = await readTrace(out);
    }
  });

  for (const policy of ['static', 'entropy'])
    for (const schedule of SCHEDULES)
      it(`${policy}, ${schedule}: equal without contention; with 8-bit flits contention only adds`, () => {
        const rows = compare(arch('default', [...small, `schedule.policy=${schedule}`]), traces[policy]);
        for (const r of rows) expect(r.free).toBe(r.cp);
        const congested = compare(
          arch('default', [...small, `schedule.policy=${schedule}`, 'noc.flit_bits=8', 'noc.buffer_flits=1']),
          traces[policy],
        );
        for (const r of congested) {
          expect(r.free).toBe(r.cp);
          expect(r.real).toBeGreaterThanOrEqual(r.cp);
        }
        // Contention is real here: some sample waits for links.
        expect(congested.some((r) => r.real > r.cp)).toBe(true);
      });

  it('fewer ADCs per crossbar (more conversion rounds) lengthen the critical path, in step with the replay', () => {
    const base = compare(arch('default', small), traces.static);
    const slowAdc = compare(arch('default', [...small, 'adc.columns_per_adc=16']), traces.static);
    base.forEach((r, i) => {
      expect(slowAdc[i].cp).toBeGreaterThan(r.cp);
      expect(slowAdc[i].free).toBe(slowAdc[i].cp);
    });
  });
});

describe('property: random small networks, chips and traces', () => {
  const layerArb = fc.record({
    conv: fc.boolean(),
    out: fc.integer({ min: 2, max: 24 }),
    kernel: fc.integer({ min: 1, max: 3 }),
    stride: fc.integer({ min: 1, max: 2 }),
    pool: fc.boolean(),
  });
  const caseArb = fc.record({
    channels: fc.integer({ min: 1, max: 4 }),
    size: fc.integer({ min: 4, max: 9 }),
    layers: fc.array(layerArb, { minLength: 1, maxLength: 3 }),
    classes: fc.integer({ min: 2, max: 10 }),
    timesteps: fc.integer({ min: 1, max: 4 }),
    rate: fc.double({ min: 0, max: 0.6, noNaN: true }),
    entropy: fc.boolean(),
    seed: fc.integer({ min: 0, max: 1000 }),
    rows: fc.constantFrom(8, 16, 32),
    columns: fc.constantFrom(8, 16, 32),
    rowsParallelDiv: fc.constantFrom(1, 2, 4),
    columnsPerAdc: fc.constantFrom(1, 4, 8),
    zeroSkipping: fc.boolean(),
    inputBits: fc.integer({ min: 1, max: 10 }),
    crossbarsPerPe: fc.integer({ min: 1, max: 4 }),
    pesPerTile: fc.integer({ min: 1, max: 2 }),
    packed: fc.boolean(),
    pipelined: fc.boolean(),
    flitBits: fc.constantFrom(8, 16, 64),
    bufferFlits: fc.integer({ min: 1, max: 4 }),
    bitmap: fc.boolean(),
    lifUnits: fc.constantFrom(1, 4, 64),
    membraneBits: fc.constantFrom(512, 262144),
    lanes: fc.integer({ min: 1, max: 4 }),
  });

  it('contention-free replay = critical path exactly; with contention the replay is never faster', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const net = parseNetwork(randomNetworkYaml(c), 'prop.yaml');
        const spec = arch('default', [
          `crossbar.rows=${c.rows}`,
          `crossbar.columns=${c.columns}`,
          `crossbar.rows_parallel=${c.rows / c.rowsParallelDiv}`,
          `crossbar.zero_skipping=${c.zeroSkipping}`,
          `crossbar.input_bits=${c.inputBits}`,
          `adc.columns_per_adc=${c.columnsPerAdc}`,
          `pe.crossbars_per_pe=${c.crossbarsPerPe}`,
          `tile.pes_per_tile=${c.pesPerTile}`,
          `mapping.tile_packing=${c.packed ? 'packed' : 'per-layer'}`,
          `schedule.policy=${c.pipelined ? 'timestep-pipelined' : 'layer-sequential'}`,
          `noc.flit_bits=${c.flitBits}`,
          `noc.buffer_flits=${c.bufferFlits}`,
          `noc.spike_encoding=${c.bitmap ? 'bitmap' : 'address-event'}`,
          `lif_unit.units_per_tile=${c.lifUnits}`,
          `membrane_buffer.capacity_bits=${c.membraneBits}`,
          `entropy_unit.lanes=${c.lanes}`,
        ]);
        const out = join(dir, `prop-${n++}.trace`);
        const T = c.timesteps;
        await generateSyntheticTrace({
          network: net.spec,
          shapes: net.shapes,
          rates: c.rate,
          samples: 3,
          seed: c.seed,
          timesteps: T,
          out,
          ...(c.entropy
            ? {
                policy: { name: 'entropy', timesteps: T, theta: 0.5 },
                exitDistribution: new Array<number>(T).fill(1 / T),
              }
            : {}),
        });
        for (const r of compare(spec, await readTrace(out))) {
          expect(r.free).toBe(r.cp);
          expect(r.real).toBeGreaterThanOrEqual(r.cp);
        }
      }),
      { numRuns: 40, seed: 20261122 },
    );
  }, 120_000);
});

describe('critical path on VGG-9 shapes (synthetic trace)', () => {
  it('equals the contention-free replay under both schedules', async () => {
    const vgg = loadNetwork('models/vgg9-cifar10');
    const out = join(dir, 'vgg9.trace');
    await generateSyntheticTrace({
      network: vgg.spec,
      shapes: vgg.shapes,
      rates: 0.1,
      samples: 1,
      seed: 5,
      timesteps: 2,
      out,
    });
    const trace = await readTrace(out);
    for (const schedule of SCHEDULES)
      for (const r of compare(arch('default', [`schedule.policy=${schedule}`]), trace)) {
        expect(r.free).toBe(r.cp);
        expect(r.real).toBeGreaterThanOrEqual(r.cp);
      }
  });
});
