import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { estimate } from '../../src/analytic/estimate.js';
import { loadArch, parseArch, parseOverride } from '../../src/config/load.js';
import { loadNetwork, parseNetwork } from '../../src/network/load.js';
import { simulateTrace } from '../../src/replay/simulate.js';
import { writeRunFolder } from '../../src/report/run-folder.js';
import { loadDataset } from '../../src/snn/data/dataset.js';
import { initModel, type SnnModel } from '../../src/snn/model.js';
import { traceModel } from '../../src/snn/run.js';
import { TraceWriter, packBits } from '../../src/trace/format.js';
import { generateSyntheticTrace } from '../../src/trace/synthetic.js';
import type { TraceHeader } from '../../src/trace/types.js';

const dir = mkdtempSync(join(tmpdir(), 'imcsim-replay-'));
const mnist = loadNetwork('models/mnist-convnet');
let model: SnnModel;
const ds = loadDataset('mnist', 'test', { limit: 12 });

beforeAll(async () => {
  model = initModel(mnist.spec, 11);
  // Scaled-up random weights so that spikes reach every layer.
  for (const [k, t] of model.tensors)
    if (k.endsWith('.weight')) for (let i = 0; i < t.data.length; i++) t.data[i] *= 4;
  await traceModel(model, ds, {
    policy: { name: 'static', timesteps: 4 },
    modelName: 'm',
    out: join(dir, 'static.trace'),
  });
  await traceModel(model, ds, {
    policy: { name: 'entropy', timesteps: 4, theta: 0.05 },
    modelName: 'm',
    out: join(dir, 'entropy.trace'),
  });
  await traceModel(model, ds, {
    policy: { name: 'static', timesteps: 1 },
    modelName: 'm',
    out: join(dir, 't1.trace'),
  });
});

const arch = () => loadArch('arch-configs/default.yaml');

describe('replay invariants', () => {
  it('NoC contention never makes it faster, and never changes the counts (energy is timing-independent)', async () => {
    const free = await simulateTrace(arch(), join(dir, 'static.trace'), { contentionFree: true });
    const real = await simulateTrace(arch(), join(dir, 'static.trace'));
    expect(real.latency_s).toBeGreaterThanOrEqual(free.latency_s);
    expect(real.dynamic_energy_j).toBe(free.dynamic_energy_j);
    real.sample_rows.forEach((s, i) =>
      expect(s.latency_s).toBeGreaterThanOrEqual(free.sample_rows[i].latency_s),
    );
  });

  it('smaller router buffers never make a congested network faster (back-pressure holds upstream links)', async () => {
    const congested = (buf: number) =>
      loadArch('arch-configs/default.yaml', [
        parseOverride('noc.flit_bits=8'),
        parseOverride(`noc.buffer_flits=${buf}`),
      ]);
    const vgg = loadNetwork('models/vgg9-cifar10');
    const file = join(dir, 'vgg9.trace');
    await generateSyntheticTrace({
      network: vgg.spec,
      shapes: vgg.shapes,
      rates: 0.2,
      samples: 1,
      seed: 3,
      timesteps: 2,
      out: file,
    });
    const small = await simulateTrace(congested(1), file);
    const large = await simulateTrace(congested(1024), file);
    expect(small.noc.backpressure_cycles).toBeGreaterThan(0);
    expect(large.noc.backpressure_cycles).toBe(0);
    expect(small.latency_s).toBeGreaterThanOrEqual(large.latency_s);
    expect(small.dynamic_energy_j).toBe(large.dynamic_energy_j);
  });

  it('every packet sent is received', async () => {
    for (const policy of ['layer-sequential', 'timestep-pipelined']) {
      const r = await simulateTrace(
        loadArch('arch-configs/default.yaml', [parseOverride(`schedule.policy=${policy}`)]),
        join(dir, 'entropy.trace'),
      );
      expect(r.noc.sent).toBeGreaterThan(0);
      expect(r.noc.packets).toBe(r.noc.sent);
    }
  });

  it('static T = 1 keeps no membrane potential between timesteps', async () => {
    const r = await simulateTrace(arch(), join(dir, 't1.trace'));
    expect(r.components.membrane_buffer.actions.read.count).toBe(0);
    expect(r.components.membrane_buffer.actions.write.count).toBe(0);
    const r4 = await simulateTrace(arch(), join(dir, 'static.trace'));
    expect(r4.components.membrane_buffer.actions.read.count).toBeGreaterThan(0);
  });

  it('an entropy exit at t never costs more than static T, per sample', async () => {
    const s = await simulateTrace(arch(), join(dir, 'static.trace'));
    const e = await simulateTrace(arch(), join(dir, 'entropy.trace'));
    expect(e.avg_timesteps).toBeLessThan(4);
    e.sample_rows.forEach((row, i) => {
      expect(row.dynamic_energy_j).toBeLessThanOrEqual(
        s.sample_rows[i].dynamic_energy_j + e.exit_unit.energy_j / e.samples + 1e-15,
      );
      if (row.exitTimestep < 4) expect(row.latency_s).toBeLessThan(s.sample_rows[i].latency_s);
    });
  });

  it('timestep pipelining counts the work wasted after exits', async () => {
    const piped = loadArch('arch-configs/default.yaml', [
      parseOverride('schedule.policy=timestep-pipelined'),
    ]);
    const seq = await simulateTrace(arch(), join(dir, 'entropy.trace'));
    const pipe = await simulateTrace(piped, join(dir, 'entropy.trace'));
    expect(seq.wasted_j).toBe(0);
    expect(pipe.wasted_j).toBeGreaterThan(0);
    // Without exits, overlapping timesteps is never slower than running them one after another.
    const seqStatic = await simulateTrace(arch(), join(dir, 'static.trace'));
    const pipeStatic = await simulateTrace(piped, join(dir, 'static.trace'));
    expect(pipeStatic.wasted_j).toBe(0);
    expect(pipeStatic.latency_s).toBeLessThanOrEqual(seqStatic.latency_s);
  });

  it('reports the time the exit unit spends: evaluations × (K class steps through its lanes + the decision)', async () => {
    // The entropy unit's component model: a class step takes cycle / lanes, a decision 4 cycles; K = 10.
    const e = await simulateTrace(arch(), join(dir, 'entropy.trace'));
    expect(e.exit_unit.evaluations).toBeGreaterThan(0);
    expect(e.exit_unit.latency_s).toBe((e.exit_unit.evaluations * (10 + 4)) / 1e9);
    // Four lanes: the ten class steps take ⌈10/4⌉ = 3 cycles, not 10 (no rounding per step).
    const wide = await simulateTrace(
      loadArch('arch-configs/default.yaml', [parseOverride('entropy_unit.lanes=4')]),
      join(dir, 'entropy.trace'),
    );
    expect(wide.exit_unit.evaluations).toBe(e.exit_unit.evaluations);
    expect(wide.exit_unit.latency_s).toBe((e.exit_unit.evaluations * (3 + 4)) / 1e9);
    expect(wide.latency_s).toBeLessThan(e.latency_s);
    // Static: the unit never runs.
    const s = await simulateTrace(arch(), join(dir, 'static.trace'));
    expect(s.exit_unit.evaluations).toBe(0);
    expect(s.exit_unit.latency_s).toBe(0);
  });

  it('an exit unit the static policy never uses is power-gated: idle, no energy (replay and closed form)', async () => {
    const s = await simulateTrace(arch(), join(dir, 'static.trace'));
    expect(s.exit_unit.power_gated).toBe(true);
    expect(s.exit_unit.energy_j).toBe(0);
    expect(s.components.entropy_unit.leakage_w).toBe(0);
    expect(s.components.entropy_unit.leakage_note).toContain('power-gated');
    // Per sample: leakage is latency × the static power of every other component (none from the exit unit).
    let otherW = 0;
    for (const [c, x] of Object.entries(s.components)) if (c !== 'entropy_unit') otherW += x.leakage_w;
    expect(otherW).toBeGreaterThan(0);
    for (const row of s.sample_rows)
      expect(row.energy_j - row.dynamic_energy_j).toBeCloseTo(otherW * row.latency_s, 20);
    // The entropy policy uses it: it acts and leaks for the whole run (one unit × its leakage power × time).
    const e = await simulateTrace(arch(), join(dir, 'entropy.trace'));
    expect(e.exit_unit.power_gated).toBe(false);
    const euLeakW = e.components.entropy_unit.leakage_w;
    expect(euLeakW).toBeGreaterThan(0);
    expect(e.components.entropy_unit.leakage_energy_j).toBeCloseTo(euLeakW * e.latency_s, 20);
    expect(e.components.entropy_unit.dynamic_energy_j).toBeGreaterThan(0);
    // The closed form agrees on both policies.
    const es = estimate(arch(), mnist.spec, { timesteps: 4, policy: 'static' }, mnist.shapes);
    expect(es.components.entropy_unit.power_gated).toBe(true);
    expect(es.components.entropy_unit.energy_j).toBe(0);
    const ee = estimate(arch(), mnist.spec, { timesteps: 4, policy: 'entropy' }, mnist.shapes);
    expect(ee.components.entropy_unit.power_gated).toBe(false);
    expect(ee.components.entropy_unit.leakage_energy_j).toBeCloseTo(euLeakW * ee.latency_s, 20);
  });

  it('is deterministic: same trace and chip, identical results', async () => {
    const a = await simulateTrace(arch(), join(dir, 'entropy.trace'));
    const b = await simulateTrace(arch(), join(dir, 'entropy.trace'));
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
  });
});

describe('replay against the analytic estimate', () => {
  it('with every input active, a fully-connected network on one tile per layer costs exactly what the estimate says', async () => {
    const net = parseNetwork(
      'name: fc\ninput: { shape: [96] }\nclasses: 8\ntimesteps: 3\nlayers:\n  - { name: fc1, type: linear, out_features: 16 }\n  - { name: fc2, type: linear, out_features: 8, spiking: false }\n',
      'fc.yaml',
    );
    const spec = parseArch('crossbar:\n  rows: 128\n  columns: 128\n  input_bits: 1\n', 'a.yaml');
    const header: TraceHeader = {
      format: 'imcsim-trace',
      format_version: 1,
      engine_version: 'test',
      created: 'synthetic',
      synthetic: true,
      model: 'fc',
      dataset: null,
      split: null,
      network: net.spec,
      policy: { name: 'static', timesteps: 3 },
      encoding: 'rate',
      seed: 0,
      classes: 8,
      layers: [
        { name: 'fc1', input_elements: 96, input_kind: 'spikes', timesteps: 3 },
        { name: 'fc2', input_elements: 16, input_kind: 'spikes', timesteps: 3 },
      ],
    };
    const file = join(dir, 'ones.trace');
    const wr = await TraceWriter.open(file, header);
    const ones = (n: number) => packBits(new Uint8Array(n).fill(1));
    for (let i = 0; i < 3; i++)
      await wr.write({
        index: i,
        label: -1,
        prediction: -1,
        exitTimestep: 3,
        logits: new Float32Array(24),
        inputs: [
          [ones(96), ones(96), ones(96)],
          [ones(16), ones(16), ones(16)],
        ],
      });
    await wr.close();
    const sim = await simulateTrace(spec, file);
    const est = estimate(spec, net.spec, { timesteps: 3 }, net.shapes);
    for (const c of Object.keys(est.components) as Array<keyof typeof est.components>)
      for (const [a, x] of Object.entries(est.components[c].actions))
        expect(sim.components[c].actions[a].count / 3, `${c}.${a}`).toBe(x.count);
    expect(sim.dynamic_energy_j / 3).toBeCloseTo(est.dynamic_energy_j, 18);
    for (const c of ['crossbar', 'adc', 'lif_unit', 'membrane_buffer', 'router', 'link'] as const)
      expect(sim.components[c].dynamic_energy_j / 3, c).toBeCloseTo(est.components[c].dynamic_energy_j, 18);
  });
});

describe('run folder', () => {
  it('writes the five files with units in every column, numbers equal to summary.json', async () => {
    const r = await simulateTrace(arch(), join(dir, 'entropy.trace'));
    const out = join(dir, 'run');
    await writeRunFolder(out, r);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    // Files hold 12 significant digits (docs/RUN_FOLDER.md, rounding).
    expect(summary.energy_j).toBe(Number(r.energy_j.toPrecision(12)));
    const layers = readFileSync(join(out, 'layers.csv'), 'utf8').trim().split('\n');
    expect(layers[0]).toContain('energy_j');
    expect(layers[0]).toContain('busy_s');
    const samples = readFileSync(join(out, 'samples.csv'), 'utf8').trim().split('\n');
    expect(samples).toHaveLength(1 + r.samples);
    expect(samples[0]).toBe(
      'sample,label,prediction,exit_timestep,start_s,latency_s,dynamic_energy_j,energy_j',
    );
    const sumLayers = layers.slice(1).reduce((s, l) => s + Number(l.split(',')[6]), 0);
    expect(sumLayers + r.exit.energy_j).toBeLessThanOrEqual(r.energy_j * (1 + 1e-9));
  });
});
