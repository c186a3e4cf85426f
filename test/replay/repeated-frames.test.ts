import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildWorkload } from '../../src/chip/workload.js';
import { loadArch, parseOverride } from '../../src/config/load.js';
import { ACTIONS, NUM_ACTIONS } from '../../src/hw/actions.js';
import { parseNetwork } from '../../src/network/load.js';
import { inferShapes } from '../../src/network/shapes.js';
import { Replay } from '../../src/replay/replay.js';
import { TraceReader } from '../../src/trace/format.js';
import { generateSyntheticTrace } from '../../src/trace/synthetic.js';
import type { TraceHeader, TraceSample } from '../../src/trace/types.js';
import { naiveReplay } from '../oracles/cycle-stepped.js';

/**
 * The replay keeps a layer's extracted crossbar work when its next frame holds the same values (the
 * direct-encoded image repeated every timestep, as engine traces record it). Checked against the naive
 * cycle-stepped oracle (test/oracles/cycle-stepped.ts, which imports nothing of src/replay/) on traces
 * whose frames repeat — as copies, as the very same object, and alternating with a different frame —
 * so a stale reuse would show as wrong counts or cycles.
 */
const dir = mkdtempSync(join(tmpdir(), 'imcsim-repeat-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const net = parseNetwork(
  [
    'name: small',
    'input: { shape: [2, 6, 6], encoding: direct }',
    'classes: 5',
    'timesteps: 4',
    'layers:',
    '  - { name: c1, type: conv2d, out_channels: 6, kernel: 3, padding: 1 }',
    '  - { name: p1, type: avgpool2d, kernel: 2 }',
    '  - { name: f, type: flatten }',
    '  - { name: fc1, type: linear, out_features: 12 }',
    '  - { name: fc2, type: linear, out_features: 5, spiking: false }',
  ].join('\n'),
  'small.yaml',
);
const arch = (sets: string[]) =>
  loadArch(
    'arch-configs/default.yaml',
    [
      'crossbar.rows=16',
      'crossbar.rows_parallel=8',
      'crossbar.columns=16',
      'pe.crossbars_per_pe=1',
      'tile.pes_per_tile=1',
      ...sets,
    ].map(parseOverride),
  );

async function trace(): Promise<{ header: TraceHeader; samples: TraceSample[] }> {
  const out = join(dir, 'small.trace');
  await generateSyntheticTrace({ network: net.spec, shapes: net.shapes, rates: 0.3, samples: 4, seed: 5, timesteps: 4, out });
  const reader = await TraceReader.open(out);
  const samples: TraceSample[] = [];
  for await (const s of reader) samples.push(s);
  await reader.close();
  return { header: reader.header, samples };
}

/** Frames of every layer rewritten: `pattern[t]` = index of the recorded frame used at timestep t. */
function repeat(samples: TraceSample[], pattern: number[], copies: boolean): TraceSample[] {
  return samples.map((s) => ({
    ...s,
    inputs: s.inputs.map((frames) => pattern.map((k) => (copies ? frames[k].slice() : frames[k]))),
  }));
}

describe('replay: repeated frames reuse their extracted work, equal to the oracle', () => {
  const cases: [string, number[], boolean][] = [
    ['one frame repeated (copies)', [0, 0, 0, 0], true],
    ['one frame repeated (same object)', [0, 0, 0, 0], false],
    ['alternating frames', [0, 1, 0, 1], true],
    ['repeat, change, repeat', [2, 2, 3, 3], true],
  ];
  for (const [name, pattern, copies] of cases)
    for (const sets of [[], ['schedule.policy=timestep-pipelined'], ['crossbar.rows_parallel=16']])
      it(`${name}; ${sets.join(' ') || 'default schedule'}`, async () => {
        const t = await trace();
        const samples = repeat(t.samples, pattern, copies);
        const spec = arch(sets);
        const w = buildWorkload(spec, t.header.network, { timesteps: 4 }, inferShapes(t.header.network));
        const replay = new Replay(w, t.header, { contentionFree: true });
        const cycles = samples.map((s) => (replay.replaySample(s), replay.lastLatencyCycles));
        const oracle = naiveReplay(w, t.header, samples, true);
        expect(cycles).toEqual(oracle.cycles);
        for (let i = 0; i < oracle.perStep.length; i++)
          expect(replay.counts.data[i], ACTIONS[i % NUM_ACTIONS].join('.')).toBeCloseTo(oracle.perStep[i], 6);
      });
});
