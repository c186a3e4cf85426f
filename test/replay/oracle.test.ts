import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildWorkload } from '../../src/chip/workload.js';
import { loadArch, parseOverride } from '../../src/config/load.js';
import type { ArchSpec } from '../../src/config/schema.js';
import { ACTIONS, NUM_ACTIONS } from '../../src/hw/actions.js';
import { parseNetwork } from '../../src/network/load.js';
import { inferShapes } from '../../src/network/shapes.js';
import { Replay } from '../../src/replay/replay.js';
import { TraceReader } from '../../src/trace/format.js';
import { generateSyntheticTrace } from '../../src/trace/synthetic.js';
import type { TraceHeader, TraceSample } from '../../src/trace/types.js';
import { naiveReplay } from '../oracles/cycle-stepped.js';

/**
 * The event-driven replay against the naive cycle-stepped oracle (test/oracles/cycle-stepped.ts, which
 * imports nothing of src/replay/): equal action counts (per layer and timestep, and the wasted work after
 * an exit) and equal cycles per sample, on small chips and traces, with and without link contention.
 */
const dir = mkdtempSync(join(tmpdir(), 'imcsim-oracle-'));

async function readTrace(file: string): Promise<{ header: TraceHeader; samples: TraceSample[] }> {
  const reader = await TraceReader.open(file);
  const samples: TraceSample[] = [];
  for await (const s of reader) samples.push(s);
  await reader.close();
  return { header: reader.header, samples };
}

function check(
  spec: ArchSpec,
  trace: { header: TraceHeader; samples: TraceSample[] },
  contentionFree: boolean,
) {
  const header = trace.header;
  const w = buildWorkload(
    spec,
    header.network,
    {
      timesteps: Math.max(...header.layers.map((l) => l.timesteps)),
      policy: header.policy.name === 'static' ? 'static' : 'entropy',
    },
    inferShapes(header.network),
  );
  const replay = new Replay(w, header, { contentionFree });
  const starts: number[] = [];
  const cycles = trace.samples.map((s) => {
    starts.push(Math.round(replay.replaySample(s).start_s * spec.chip.clock_hz));
    return replay.lastLatencyCycles;
  });
  const oracle = naiveReplay(w, header, trace.samples, contentionFree);
  expect(cycles).toEqual(oracle.cycles);
  // Entry of each sample: streaming (pipelined) on the run's clock; drained samples each at their own 0.
  if (replay.overlap) expect(starts).toEqual(oracle.starts);
  const result = { cycles, oracle: oracle.cycles, starts, overlap: replay.overlap };
  const name = (a: number) => ACTIONS[a].join('.');
  const got: Record<string, number> = {};
  const want: Record<string, number> = {};
  const gotWasted: Record<string, number> = {};
  const wantWasted: Record<string, number> = {};
  for (let a = 0; a < NUM_ACTIONS; a++) {
    if (replay.counts.total(a) || oracle.counts[a]) {
      got[name(a)] = replay.counts.total(a);
      want[name(a)] = oracle.counts[a];
    }
    if (replay.wasted.total(a) || oracle.wasted[a]) {
      gotWasted[name(a)] = replay.wasted.total(a);
      wantWasted[name(a)] = oracle.wasted[a];
    }
  }
  for (const k of Object.keys(want)) expect(got[k], k).toBeCloseTo(want[k], 6);
  for (const k of Object.keys(wantWasted)) expect(gotWasted[k], `wasted ${k}`).toBeCloseTo(wantWasted[k], 6);
  // Per layer and timestep too.
  const T = replay.counts.timesteps;
  for (let i = 0; i < oracle.perStep.length; i++)
    expect(
      replay.counts.data[i],
      `row ${Math.floor(i / NUM_ACTIONS / T)} ${name(i % NUM_ACTIONS)}`,
    ).toBeCloseTo(oracle.perStep[i], 6);
  return result;
}

const arch = (sets: string[]) => loadArch('arch-configs/default.yaml', sets.map(parseOverride));

describe('replay = naive cycle-stepped oracle', () => {
  const net = parseNetwork(
    [
      'name: small',
      'input: { shape: [2, 6, 6], encoding: direct }',
      'classes: 5',
      'timesteps: 3',
      'layers:',
      '  - { name: c1, type: conv2d, out_channels: 6, kernel: 3, padding: 1 }',
      '  - { name: c2, type: conv2d, out_channels: 8, kernel: 3, padding: 1, stride: 2 }',
      '  - { name: p1, type: avgpool2d, kernel: 2 }',
      '  - { name: f, type: flatten }',
      '  - { name: fc1, type: linear, out_features: 12 }',
      '  - { name: fc2, type: linear, out_features: 5, spiking: false }',
    ].join('\n'),
    'small.yaml',
  );
  const small = [
    'crossbar.rows=16',
    'crossbar.rows_parallel=8',
    'crossbar.columns=16',
    'pe.crossbars_per_pe=1',
    'tile.pes_per_tile=1',
  ];

  for (const policy of ['static', 'entropy'] as const)
    for (const schedule of ['layer-sequential', 'timestep-pipelined'])
      for (const contentionFree of [true, false])
        for (const reuse of [true, false])
          it(`hand-sized chip: ${policy}, ${schedule}, ${contentionFree ? 'contention-free' : 'contended 8-bit flits'}, reuse_static_input=${reuse}`, async () => {
            const out = join(dir, `small-${policy}-${schedule}-${contentionFree}-${reuse}.trace`);
            await generateSyntheticTrace({
              network: net.spec,
              shapes: net.shapes,
              rates: 0.3,
              samples: 3,
              seed: 3,
              timesteps: 3,
              out,
              ...(policy === 'entropy'
                ? { policy: { name: 'entropy', timesteps: 3, theta: 0.5 }, exitDistribution: [0.3, 0.3, 0.4] }
                : {}),
            });
            const sets = [...small, `schedule.policy=${schedule}`, `schedule.reuse_static_input=${reuse}`];
            if (!contentionFree) sets.push('noc.flit_bits=8', 'noc.buffer_flits=1');
            const trace = await readTrace(out);
            const r = check(arch(sets), trace, contentionFree);
            // Pipelined, samples really stream: one enters before the one ahead of it ended.
            if (schedule === 'timestep-pipelined') {
              expect(r.overlap).toBe(true);
              expect(r.starts.some((s0, i) => i > 0 && s0 < r.starts[i - 1] + r.cycles[i - 1])).toBe(true);
            } else expect(r.overlap).toBe(false);
            // Contention is real on the 8-bit-flit chip: some sample waits for links.
            if (!contentionFree) {
              const free = check(arch(sets), trace, true);
              expect(r.cycles.some((c, i) => c > free.cycles[i])).toBe(true);
            }
          });
});

describe('property: replay = oracle over chip shapes, schedules, densities, with and without contention', () => {
  const caseArb = fc.record({
    channels: fc.integer({ min: 1, max: 3 }),
    size: fc.integer({ min: 3, max: 6 }),
    conv: fc.boolean(),
    out: fc.integer({ min: 2, max: 12 }),
    kernel: fc.integer({ min: 1, max: 3 }),
    stride: fc.integer({ min: 1, max: 2 }),
    pool: fc.boolean(),
    hidden: fc.integer({ min: 2, max: 20 }),
    classes: fc.integer({ min: 2, max: 6 }),
    timesteps: fc.integer({ min: 1, max: 3 }),
    rate: fc.double({ min: 0, max: 0.8, noNaN: true }),
    entropy: fc.boolean(),
    seed: fc.integer({ min: 0, max: 1000 }),
    rows: fc.constantFrom(8, 16),
    columns: fc.constantFrom(8, 16),
    rowsParallelDiv: fc.constantFrom(1, 2, 4),
    columnsPerAdc: fc.constantFrom(1, 4, 8),
    zeroSkipping: fc.boolean(),
    inputBits: fc.integer({ min: 1, max: 8 }),
    crossbarsPerPe: fc.integer({ min: 1, max: 3 }),
    pesPerTile: fc.integer({ min: 1, max: 2 }),
    pipelined: fc.boolean(),
    contentionFree: fc.boolean(),
    reuse: fc.boolean(),
    flitBits: fc.constantFrom(8, 16, 64),
    bufferFlits: fc.integer({ min: 1, max: 4 }),
    bitmap: fc.boolean(),
    lifUnits: fc.constantFrom(1, 4, 64),
    membraneBits: fc.constantFrom(256, 262144),
  });
  it('equal counts and cycles', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const lines = [
          'name: prop',
          `input: { shape: [${c.channels}, ${c.size}, ${c.size}], encoding: direct }`,
          `classes: ${c.classes}`,
          `timesteps: ${c.timesteps}`,
          'layers:',
        ];
        const pad = c.kernel >> 1;
        if (c.conv) {
          lines.push(
            `  - { name: c0, type: conv2d, out_channels: ${c.out}, kernel: ${c.kernel}, stride: ${c.stride}, padding: ${pad} }`,
          );
          const h = Math.floor((c.size + 2 * pad - c.kernel) / c.stride) + 1;
          if (c.pool && h >= 2) lines.push('  - { name: p0, type: avgpool2d, kernel: 2 }');
        }
        lines.push('  - { name: f, type: flatten }');
        lines.push(`  - { name: l1, type: linear, out_features: ${c.hidden} }`);
        lines.push(`  - { name: out, type: linear, out_features: ${c.classes}, spiking: false }`);
        const net = parseNetwork(lines.join('\n'), 'prop.yaml');
        const spec = arch([
          `crossbar.rows=${c.rows}`,
          `crossbar.columns=${c.columns}`,
          `crossbar.rows_parallel=${c.rows / c.rowsParallelDiv}`,
          `crossbar.zero_skipping=${c.zeroSkipping}`,
          `crossbar.input_bits=${c.inputBits}`,
          `adc.columns_per_adc=${c.columnsPerAdc}`,
          `pe.crossbars_per_pe=${c.crossbarsPerPe}`,
          `tile.pes_per_tile=${c.pesPerTile}`,
          `schedule.policy=${c.pipelined ? 'timestep-pipelined' : 'layer-sequential'}`,
          `noc.flit_bits=${c.flitBits}`,
          `noc.buffer_flits=${c.bufferFlits}`,
          `noc.spike_encoding=${c.bitmap ? 'bitmap' : 'address-event'}`,
          `lif_unit.units_per_tile=${c.lifUnits}`,
          `membrane_buffer.capacity_bits=${c.membraneBits}`,
          `schedule.reuse_static_input=${c.reuse}`,
        ]);
        const out = join(dir, `prop-${n++}.trace`);
        const T = c.timesteps;
        await generateSyntheticTrace({
          network: net.spec,
          shapes: net.shapes,
          rates: c.rate,
          samples: 2,
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
        check(spec, await readTrace(out), c.contentionFree);
      }),
      { numRuns: 30, seed: 20261206 },
    );
  }, 240_000);
});
