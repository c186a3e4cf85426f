import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildWorkload } from '../../src/chip/workload.js';
import { InputError } from '../../src/util/errors.js';
import { loadArch, parseOverride } from '../../src/config/load.js';
import type { ArchSpec } from '../../src/config/schema.js';
import { A } from '../../src/hw/actions.js';
import { parseNetwork } from '../../src/network/load.js';
import { inferShapes } from '../../src/network/shapes.js';
import { ActionCounts } from '../../src/hw/counts.js';
import { CriticalPath } from '../../src/replay/critical-path.js';
import { Replay } from '../../src/replay/replay.js';
import { simulateTrace } from '../../src/replay/simulate.js';
import { alignedSources, StepGraph, type Alignment } from '../../src/replay/steps.js';
import { countCrossbarWork, framePlanes, layerGeometry, rowGroups } from '../../src/replay/work.js';
import { referenceActiveRows } from '../oracles/active-rows.js';
import { loadDataset } from '../../src/snn/data/dataset.js';
import { alignFrames } from '../../src/snn/engine.js';
import { loadModel } from '../../src/snn/model.js';
import { traceModel } from '../../src/snn/run.js';
import { TraceReader, TraceWriter } from '../../src/trace/format.js';
import { generateSyntheticTrace } from '../../src/trace/synthetic.js';
import type { TraceHeader, TraceSample } from '../../src/trace/types.js';
import { runCli } from '../helpers/cli.js';

/**
 * Per-layer timesteps (LD-SNN, the engine's `layerwise` policy): real traces of the trained MNIST model
 * (models/mnist-convnet-t4) under repeat, rate and pad alignment, replayed under both schedules — the
 * critical path equals the contention-free replay, contention never helps, uniform 4,4,4,4 is the static
 * T=4 replay exactly, every recorded frame's crossbar work is counted, T_l = 1 layers keep no potential,
 * fewer timesteps never cost more work; and traces that cannot be replayed are located input errors.
 */
const dir = mkdtempSync(join(tmpdir(), 'imcsim-layerwise-'));
const SAMPLES = 5;
const SCHEDULES = ['layer-sequential', 'timestep-pipelined'] as const;
const VECTORS: Array<[string, Alignment]> = [
  ['4,3,4,4', 'repeat'],
  ['2,2,4,4', 'repeat'],
  ['1,1,3,4', 'repeat'],
  ['4,4,4,1', 'repeat'],
  ['1,1,1,1', 'repeat'],
  ['4,4,4,4', 'repeat'],
  ['3,1,4,2', 'repeat'],
  ['4,3,4,4', 'rate'],
  ['1,1,3,4', 'rate'],
  ['4,4,4,1', 'rate'],
  ['4,3,4,4', 'pad'],
  ['1,1,3,4', 'pad'],
  ['4,4,4,1', 'pad'],
  ['4,2,3,1', 'pad'],
];

interface Trace {
  file: string;
  header: TraceHeader;
  samples: TraceSample[];
}
const traces = new Map<string, Trace>();
const key = (v: string, a: string) => `${v}-${a}`;

async function readTrace(file: string): Promise<Trace> {
  const reader = await TraceReader.open(file);
  const samples: TraceSample[] = [];
  for await (const s of reader) samples.push(s);
  await reader.close();
  return { file, header: reader.header, samples };
}

const arch = (sets: string[] = []) => loadArch('arch-configs/default.yaml', sets.map(parseOverride));

function workload(spec: ArchSpec, header: TraceHeader) {
  return buildWorkload(
    spec,
    header.network,
    { timesteps: Math.max(...header.layers.map((l) => l.timesteps)) },
    inferShapes(header.network),
  );
}

beforeAll(async () => {
  const model = loadModel('models/mnist-convnet-t4');
  const ds = loadDataset('mnist', 'test', { limit: SAMPLES });
  const file = join(dir, 'static.trace');
  await traceModel(model, ds, { policy: { name: 'static', timesteps: 4 }, modelName: 't4', out: file });
  traces.set('static', await readTrace(file));
  for (const [v, alignment] of VECTORS) {
    const lt = v.split(',').map(Number);
    const out = join(dir, `${key(v, alignment)}.trace`);
    await traceModel(model, ds, {
      policy: { name: 'layerwise', timesteps: Math.max(...lt), layer_timesteps: lt, alignment },
      modelName: 't4',
      out,
    });
    traces.set(key(v, alignment), await readTrace(out));
  }
}, 120_000);

describe('alignment: the replay reads the engine’s frame alignment', () => {
  it('alignedSources names exactly the frames alignFrames combines into each input frame', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 7 }),
        fc.constantFrom<Alignment>('repeat', 'rate', 'pad'),
        (tIn, tOut, alignment) => {
          // Frame i is one-hot at element i: an aligned frame's non-zero elements are its sources.
          const frames = Array.from({ length: tIn }, (_, i) => {
            const f = new Float32Array(tIn);
            f[i] = 1;
            return f;
          });
          alignFrames(frames, tOut, alignment).forEach((f, t) => {
            const [lo, hi] = alignedSources(tIn, tOut, alignment, t);
            const got = Array.from(f.keys()).filter((i) => f[i] !== 0);
            const want = hi < 0 ? [] : Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
            expect(got).toEqual(want);
          });
        },
      ),
      { numRuns: 300, seed: 5 },
    );
  });
});

describe('step graph: the schedules generalised to per-layer timesteps', () => {
  const graphOf = (lt: number[], alignment: Alignment = 'repeat') => {
    const base = traces.get('static')!.header;
    const header: TraceHeader = {
      ...base,
      policy: { name: 'layerwise', timesteps: Math.max(...lt), layer_timesteps: lt, alignment },
      layers: base.layers.map((l, i) => ({ ...l, timesteps: lt[i] })),
    };
    return new StepGraph(workload(arch(), header), header);
  };
  const show = (g: StepGraph, order: Int32Array) =>
    Array.from(order, (item) => {
      const l = Math.floor(item / g.T2);
      const t = item - l * g.T2;
      return l === g.L ? `E${t}` : `${l}:${t}`;
    }).join(' ');

  it('layer-sequential: uniform T is timestep-major (the order the replay always used)', () => {
    const g = graphOf([2, 2, 2, 2]);
    expect(show(g, g.seqOrder)).toBe('0:0 1:0 2:0 3:0 E0 0:1 1:1 2:1 3:1 E1');
    expect(Array.from(g.seqExplicit).every((x) => x === 0)).toBe(true);
    // Pipelined: layer l at most one timestep ahead of layer l+1.
    for (let l = 0; l < 3; l++) expect([g.gate[l * g.T2], g.gate[l * g.T2 + 1]]).toEqual([-1, 0]);
  });

  it('layer-sequential: one output timestep is strict layer-major (LD-SNN, docs/SOURCES.md §1)', () => {
    for (const a of ['repeat', 'rate', 'pad'] as const) {
      const g = graphOf([4, 4, 4, 1], a);
      expect(show(g, g.seqOrder)).toBe('0:0 0:1 0:2 0:3 1:0 1:1 1:2 1:3 2:0 2:1 2:2 2:3 3:0 E0');
    }
  });

  it('layer-sequential: each output timestep runs the steps it needs first (demand order)', () => {
    const g = graphOf([4, 3, 4, 4]);
    // Layer 1 (3 steps) sums layer-0 frames {0}, {1}, {2, 3}; layer 2 (4 steps) repeats them 0, 0, 1, 2.
    expect(show(g, g.seqOrder)).toBe(
      '0:0 1:0 2:0 3:0 E0 2:1 3:1 E1 0:1 1:1 2:2 3:2 E2 0:2 0:3 1:2 2:3 3:3 E3',
    );
    // The held frame (2:1 repeats 1:0) needs no packet; 1:2 waits for the whole block 0:2 + 0:3.
    expect(g.sends[2 * g.T2 + 1]).toBe(0);
    expect(g.depHi[1 * g.T2 + 2]).toBe(3);
  });

  it('pipelined: a layer waits for the next to take the frame before, unless the next needs its frame too', () => {
    const rate = graphOf([4, 4, 4, 1], 'rate');
    // The output layer's one frame needs all of layer 2: layer 2 runs ahead freely.
    expect(Array.from({ length: 4 }, (_, t) => rate.gate[2 * rate.T2 + t])).toEqual([-1, -1, -1, -1]);
    const rep = graphOf([2, 4, 4, 4]);
    // Layer 1 repeats layer 0's frame 0 at its steps 0 and 1: layer 0 starts frame 1 once step 0 started.
    expect(rep.gate[1]).toBe(0);
  });
});

describe('layerwise traces of mnist-convnet-t4', () => {
  it('uniform 4,4,4,4 replays exactly like the static T=4 trace (counts, energy, latency), both schedules', async () => {
    for (const schedule of SCHEDULES)
      for (const contentionFree of [false, true]) {
        const spec = arch([`schedule.policy=${schedule}`]);
        const s = await simulateTrace(spec, traces.get('static')!.file, { contentionFree });
        const l = await simulateTrace(spec, traces.get(key('4,4,4,4', 'repeat'))!.file, { contentionFree });
        expect(l.latency_s).toBe(s.latency_s);
        expect(l.dynamic_energy_j).toBe(s.dynamic_energy_j);
        expect(l.energy_j).toBe(s.energy_j);
        for (const c of Object.keys(s.components) as Array<keyof typeof s.components>)
          for (const [a, x] of Object.entries(s.components[c].actions))
            expect(l.components[c].actions[a].count, `${c}.${a}`).toBe(x.count);
        expect(l.sample_rows.map((r) => r.latency_s)).toEqual(s.sample_rows.map((r) => r.latency_s));
        expect(l.noc.flits).toBe(s.noc.flits);
        expect(l.events).toBe(s.events);
      }
  });

  for (const schedule of SCHEDULES)
    for (const sets of [[], ['mapping.tile_packing=packed']])
      it(`critical path = contention-free replay; contention never faster (${schedule} ${sets.join(' ')})`, () => {
        const spec = arch([...sets, `schedule.policy=${schedule}`]);
        for (const [v, a] of VECTORS) {
          const tr = traces.get(key(v, a))!;
          const w = workload(spec, tr.header);
          const free = new Replay(w, tr.header, { contentionFree: true, overlap: false });
          const real = new Replay(w, tr.header, { overlap: false });
          const cp = new CriticalPath(w, tr.header);
          for (const s of tr.samples) {
            free.replaySample(s);
            real.replaySample(s);
            const c = cp.sampleCycles(s);
            expect(Number.isInteger(c)).toBe(true);
            expect(free.lastLatencyCycles, `${v} ${a} sample ${s.index}`).toBe(c);
            expect(real.lastLatencyCycles).toBeGreaterThanOrEqual(c);
          }
          expect(real.noc.packets).toBe(real.noc.sent);
          expect(real.wasted.data.every((x) => x === 0)).toBe(true);
        }
      });

  it('with 8-bit flits the NoC congests, and contention still only adds', () => {
    const spec = arch(['noc.flit_bits=8', 'noc.buffer_flits=1']);
    let slower = false;
    for (const [v, a] of VECTORS) {
      const tr = traces.get(key(v, a))!;
      const w = workload(spec, tr.header);
      const real = new Replay(w, tr.header);
      const cp = new CriticalPath(w, tr.header);
      for (const s of tr.samples) {
        real.replaySample(s);
        const c = cp.sampleCycles(s);
        expect(real.lastLatencyCycles).toBeGreaterThanOrEqual(c);
        if (real.lastLatencyCycles > c) slower = true;
      }
    }
    expect(slower).toBe(true);
  });

  it('every recorded frame is run once: crossbar work per layer and timestep = the gather reference; Σ N_l·T_l neuron updates', () => {
    for (const schedule of SCHEDULES) {
      const spec = arch([`schedule.policy=${schedule}`]);
      for (const [v, a] of VECTORS) {
        const tr = traces.get(key(v, a))!;
        const w = workload(spec, tr.header);
        const replay = new Replay(w, tr.header);
        for (const s of tr.samples) replay.replaySample(s);
        const T = replay.counts.timesteps;
        const want = new ActionCounts(replay.counts.rows, T);
        w.mapping.layers.forEach((lm, l) => {
          const binary = tr.header.layers[l].input_kind === 'spikes';
          const geo = layerGeometry(spec, lm, binary);
          const E = lm.layer.inputElements;
          const planes = Array.from({ length: geo.planes }, () => new Uint8Array(E));
          const active = new Int32Array(geo.positions * geo.pieces * geo.planes);
          for (const s of tr.samples) {
            expect(s.inputs[l].length).toBe(tr.header.layers[l].timesteps);
            s.inputs[l].forEach((frame, t) => {
              // The direct-encoded first layer runs its crossbars once (schedule.reuse_static_input).
              if (l === 0 && t > 0 && tr.header.layers[0].input_kind === 'values') return;
              const n = framePlanes(frame, E, binary, spec.crossbar.input_bits, planes);
              referenceActiveRows(geo, planes, n, active);
              let groups = 0;
              let rows = 0;
              for (let i = 0; i < geo.positions * geo.pieces * n; i++) {
                rows += active[i];
                groups += rowGroups(spec, active[i], geo.pieceRows[Math.floor(i / n) % geo.pieces]);
              }
              countCrossbarWork(geo, groups, rows, want, l, t);
            });
          }
          for (let t = 0; t < T; t++)
            for (const act of [A.XBAR_READ, A.XBAR_CELL_READ, A.ADC_CONVERT, A.ROW_DRIVE])
              expect(replay.counts.get(l, t, act), `${v} ${a} layer ${l} t ${t}`).toBe(want.get(l, t, act));
          if (lm.layer.spiking) {
            let updates = 0;
            for (let t = 0; t < T; t++) updates += replay.counts.get(l, t, A.LIF_UPDATE);
            expect(updates).toBe(lm.layer.neurons * tr.header.layers[l].timesteps * tr.samples.length);
          }
        });
      }
    }
  });

  it('a layer with T_l = 1 keeps no membrane potential; a layer with T_l ≥ 2 does', () => {
    const spec = arch();
    for (const v of ['1,1,3,4', '4,4,4,1', '3,1,4,2', '1,1,1,1']) {
      const tr = traces.get(key(v, 'repeat'))!;
      const lt = v.split(',').map(Number);
      const w = workload(spec, tr.header);
      const replay = new Replay(w, tr.header);
      for (const s of tr.samples) replay.replaySample(s);
      w.mapping.layers.forEach((lm, l) => {
        if (!lm.layer.spiking) return;
        let mem = 0;
        for (let t = 0; t < replay.counts.timesteps; t++)
          mem += replay.counts.get(l, t, A.MEMBRANE_READ) + replay.counts.get(l, t, A.MEMBRANE_WRITE);
        if (lt[l] === 1) expect(mem, `${v} layer ${l}`).toBe(0);
        else expect(mem, `${v} layer ${l}`).toBeGreaterThan(0);
      });
    }
  });

  it('fewer per-layer timesteps never cost more work than uniform T=4 on the same images', async () => {
    for (const schedule of SCHEDULES) {
      const spec = arch([`schedule.policy=${schedule}`]);
      const uniform = await simulateTrace(spec, traces.get('static')!.file);
      for (const [v, a] of VECTORS) {
        const r = await simulateTrace(spec, traces.get(key(v, a))!.file);
        expect(r.dynamic_energy_j, `${schedule} ${v} ${a}`).toBeLessThanOrEqual(uniform.dynamic_energy_j);
        // With leakage: one step at a time, fewer steps are never longer either.
        if (schedule === 'layer-sequential') {
          expect(r.energy_j, `${v} ${a}`).toBeLessThanOrEqual(uniform.energy_j);
          expect(r.latency_s, `${v} ${a}`).toBeLessThanOrEqual(uniform.latency_s);
        }
      }
    }
  });

  it('the reported failures run from the command line (4,3,4,4 and 2,2,4,4)', async () => {
    for (const v of ['4,3,4,4', '2,2,4,4']) {
      const r = await runCli(
        'simulate',
        '--arch',
        'arch-configs/default.yaml',
        '--trace',
        traces.get(key(v, 'repeat'))!.file,
      );
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(/average timesteps 4\.000/);
    }
  });
});

describe('property: random networks, chips, per-layer timesteps and alignments', () => {
  const caseArb = fc.record({
    channels: fc.integer({ min: 1, max: 3 }),
    size: fc.integer({ min: 4, max: 8 }),
    convs: fc.array(fc.integer({ min: 2, max: 20 }), { minLength: 0, maxLength: 2 }),
    linears: fc.array(fc.integer({ min: 2, max: 24 }), { minLength: 0, maxLength: 2 }),
    timesteps: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 5, maxLength: 5 }),
    alignment: fc.constantFrom<Alignment>('repeat', 'rate', 'pad'),
    rate: fc.double({ min: 0, max: 0.6, noNaN: true }),
    seed: fc.integer({ min: 0, max: 1000 }),
    rows: fc.constantFrom(8, 16, 32),
    columns: fc.constantFrom(8, 16, 32),
    columnsPerAdc: fc.constantFrom(1, 8),
    crossbarsPerPe: fc.integer({ min: 1, max: 3 }),
    packed: fc.boolean(),
    pipelined: fc.boolean(),
    flitBits: fc.constantFrom(8, 64),
    bufferFlits: fc.integer({ min: 1, max: 4 }),
    bitmap: fc.boolean(),
    membraneBits: fc.constantFrom(512, 262144),
  });

  it('contention-free replay = critical path exactly; with contention never faster; every frame counted', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const lines = [
          'name: prop',
          `input: { shape: [${c.channels}, ${c.size}, ${c.size}], encoding: direct }`,
          'classes: 4',
          'layers:',
          ...c.convs.map(
            (o, i) => `  - { name: c${i}, type: conv2d, out_channels: ${o}, kernel: 3, padding: 1 }`,
          ),
          '  - { name: p, type: avgpool2d, kernel: 2 }',
          '  - { name: f, type: flatten }',
          ...c.linears.map((o, i) => `  - { name: l${i}, type: linear, out_features: ${o} }`),
          '  - { name: out, type: linear, out_features: 4, spiking: false }',
        ];
        const net = parseNetwork(lines.join('\n'), 'prop.yaml');
        const spec = arch([
          `crossbar.rows=${c.rows}`,
          `crossbar.rows_parallel=${c.rows}`,
          `crossbar.columns=${c.columns}`,
          `adc.columns_per_adc=${c.columnsPerAdc}`,
          `pe.crossbars_per_pe=${c.crossbarsPerPe}`,
          'tile.pes_per_tile=1',
          `mapping.tile_packing=${c.packed ? 'packed' : 'per-layer'}`,
          `schedule.policy=${c.pipelined ? 'timestep-pipelined' : 'layer-sequential'}`,
          `noc.flit_bits=${c.flitBits}`,
          `noc.buffer_flits=${c.bufferFlits}`,
          `noc.spike_encoding=${c.bitmap ? 'bitmap' : 'address-event'}`,
          `membrane_buffer.capacity_bits=${c.membraneBits}`,
        ]);
        const L = net.shapes.mapped.length;
        const lt = c.timesteps.slice(0, L);
        // A synthetic trace at the longest T, cut to each layer's T_l (the timing reads only the frames).
        const synth = join(dir, `prop-${n}.trace`);
        await generateSyntheticTrace({
          network: net.spec,
          shapes: net.shapes,
          rates: c.rate,
          samples: 2,
          seed: c.seed,
          timesteps: Math.max(...lt),
          out: synth,
        });
        const base = await readTrace(synth);
        const header: TraceHeader = {
          ...base.header,
          policy: {
            name: 'layerwise',
            timesteps: Math.max(...lt),
            layer_timesteps: lt,
            alignment: c.alignment,
          },
          layers: base.header.layers.map((l, i) => ({ ...l, timesteps: lt[i] })),
        };
        const samples = base.samples.map((s) => ({
          ...s,
          exitTimestep: lt[L - 1],
          logits: s.logits.slice(0, lt[L - 1] * 4),
          inputs: s.inputs.map((f, l) => f.slice(0, lt[l])),
        }));
        const out = join(dir, `prop-lw-${n++}.trace`);
        const wr = await TraceWriter.open(out, header);
        for (const s of samples) await wr.write(s);
        await wr.close();
        const tr = await readTrace(out);
        const w = workload(spec, tr.header);
        const free = new Replay(w, tr.header, { contentionFree: true, overlap: false });
        const real = new Replay(w, tr.header, { overlap: false });
        const cp = new CriticalPath(w, tr.header);
        for (const s of tr.samples) {
          free.replaySample(s);
          real.replaySample(s);
          const cycles = cp.sampleCycles(s);
          expect(free.lastLatencyCycles).toBe(cycles);
          expect(real.lastLatencyCycles).toBeGreaterThanOrEqual(cycles);
        }
        expect(real.noc.packets).toBe(real.noc.sent);
        // Every layer ran each of its T_l steps (one input write per step and sample); the direct-encoded
        // first layer takes its input once and reuses its pre-activations (schedule.reuse_static_input).
        w.mapping.layers.forEach((lm, l) => {
          let reads = 0;
          for (let t = 0; t < real.counts.timesteps; t++) reads += real.counts.get(l, t, A.TILEBUF_WRITE);
          expect(reads).toBe(
            Math.ceil((lm.layer.inputElements * real.plans[l].elemBits) / spec.tile_buffer.width_bits) *
              (l === 0 ? 1 : lt[l]) *
              tr.samples.length,
          );
        });
        expect(real.counts.data).toEqual(free.counts.data);
      }),
      { numRuns: 40, seed: 20261123 },
    );
  }, 120_000);
});

describe('traces the replay cannot run are located input errors (exit code 2)', () => {
  /** Rewrites the 4,3,4,4 trace with a changed header and/or first sample. */
  async function variant(
    name: string,
    header: (h: TraceHeader) => TraceHeader,
    sample: (s: TraceSample) => TraceSample = (s) => s,
  ): Promise<string> {
    const tr = traces.get(key('4,3,4,4', 'repeat'))!;
    const file = join(dir, `bad-${name}.trace`);
    const wr = await TraceWriter.open(file, header(structuredClone(tr.header)));
    for (const s of tr.samples.slice(0, 2)) await wr.write(s.index === 0 ? sample(s) : s);
    await wr.close();
    return file;
  }
  const cases: Array<[string, () => Promise<string>, RegExp]> = [
    [
      'per-layer timesteps under a static policy',
      () => variant('static', (h) => ({ ...h, policy: { name: 'static', timesteps: 4 } })),
      /policy\.name: per-layer timesteps are replayed under the layerwise policy only/,
    ],
    [
      'policy timesteps that disagree with the layers',
      () =>
        variant('disagree', (h) => ({
          ...h,
          policy: { ...h.policy, layer_timesteps: [4, 4, 4, 4] },
        })),
      /policy\.layer_timesteps/,
    ],
    [
      'an unknown alignment',
      () =>
        variant('align', (h) => ({
          ...h,
          policy: { ...h.policy, alignment: 'zip' as unknown as Alignment },
        })),
      /policy\.alignment: unknown frame alignment/,
    ],
    [
      'a sample lacking a frame of a layer',
      () =>
        variant(
          'frames',
          (h) => h,
          (s) => ({ ...s, inputs: s.inputs.map((f, l) => (l === 1 ? f.slice(0, 2) : f)) }),
        ),
      /samples\[0\]\.inputs\[1\]: a layer of the sample lacks frames its exit needs/,
    ],
    [
      'a layerwise sample exiting early',
      () =>
        variant(
          'exit',
          (h) => h,
          (s) => ({ ...s, exitTimestep: 2, logits: s.logits.slice(0, 20) }),
        ),
      /samples\[0\]\.exitTimestep/,
    ],
  ];
  for (const [what, make, message] of cases)
    it(what, async () => {
      const file = await make();
      const err = await simulateTrace(arch(), file).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(InputError);
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).toContain(file);
      const cli = await runCli('simulate', '--arch', 'arch-configs/default.yaml', '--trace', file);
      expect(cli.code).toBe(2);
      expect(cli.err).toMatch(message);
      expect(cli.err).not.toMatch(/a bug|internal/);
    });
});
