import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { planSweep, pointId } from '../../src/sweep/plan.js';
import { loadSweepSpec, parseSweepSpec } from '../../src/sweep/spec.js';
import { ARCH, MNIST_MODEL, MNIST_NET, ROOT, analyticSpec, tempDir, writeSpec } from './helpers.js';

const ID = /^[0-9a-f]{12}$/;

describe('sweep points', () => {
  it('are the cartesian product, last axis fastest, algorithm axes innermost; columns follow', async () => {
    const dir = tempDir('points');
    const plan = await planSweep(
      loadSweepSpec(
        writeSpec(dir, {
          mode: 'analytic',
          arch: ARCH,
          workload: { network: MNIST_NET },
          axes: { 'adc.bits': [4, 6], 'noc.flit_bits': [32, 64, 128] },
          algorithm: { policy: ['static', 'entropy'], timesteps: [2, 4] },
        }),
      ),
    );
    expect(plan.points).toHaveLength(2 * 3 * 4);
    expect(plan.columns).toEqual([
      'id',
      'adc.bits',
      'noc.flit_bits',
      'policy',
      'theta',
      'timesteps',
      'energy_per_sample_j',
      'latency_per_sample_s',
      'edp_per_sample_js',
      'area_m2',
    ]);
    expect(plan.points.slice(0, 5).map((p) => p.values)).toEqual([
      { 'adc.bits': 4, 'noc.flit_bits': 32, policy: 'static', theta: null, timesteps: 2 },
      { 'adc.bits': 4, 'noc.flit_bits': 32, policy: 'static', theta: null, timesteps: 4 },
      { 'adc.bits': 4, 'noc.flit_bits': 32, policy: 'entropy', theta: null, timesteps: 2 },
      { 'adc.bits': 4, 'noc.flit_bits': 32, policy: 'entropy', theta: null, timesteps: 4 },
      { 'adc.bits': 4, 'noc.flit_bits': 64, policy: 'static', theta: null, timesteps: 2 },
    ]);
    expect(plan.points.map((p) => p.index)).toEqual(plan.points.map((_, i) => i));
    const p5 = plan.points[5];
    expect(p5.task.arch.adc.bits).toBe(4);
    expect(p5.task.arch.noc.flit_bits).toBe(64);
    expect(p5.task.artifact).toBeNull(); // analytic over a topology needs no trace
  });

  it('θ applies to the entropy policy only; every algorithm point of a model shares one trace per (policy, θ, T)', async () => {
    const dir = tempDir('alg');
    const plan = await planSweep(
      loadSweepSpec(
        writeSpec(dir, {
          mode: 'cycle',
          arch: ARCH,
          workload: { model: MNIST_MODEL, dataset: 'mnist', samples: 2 },
          axes: { 'adc.bits': [4, 6] },
          algorithm: { policy: ['static', 'entropy'], theta: [0.5, 0.9], timesteps: [4] },
        }),
      ),
    );
    expect(plan.points.map((p) => [p.values.policy, p.values.theta])).toEqual([
      ['static', null],
      ['entropy', 0.5],
      ['entropy', 0.9],
      ['static', null],
      ['entropy', 0.5],
      ['entropy', 0.9],
    ]);
    expect(plan.artifacts).toHaveLength(3);
    expect(plan.points[0].task.artifact!.key).toBe(plan.points[3].task.artifact!.key);
    expect(plan.points[1].task.artifact!.key).not.toBe(plan.points[2].task.artifact!.key);
    expect(plan.metrics).toContain('accuracy');
  });

  it('ids depend on the configuration, not on how the base file is written', async () => {
    const dir = tempDir('ids');
    // The same config, rewritten: comments dropped, sections in reverse order, a default written out.
    const doc = parse(readFileSync(ARCH, 'utf8')) as Record<string, Record<string, unknown>>;
    const reordered = Object.fromEntries(Object.entries(doc).reverse());
    reordered.tile_bus = { ...(reordered.tile_bus ?? {}) };
    const arch2 = writeSpec(dir, stringify(reordered), 'same.yaml');
    expect(readFileSync(arch2, 'utf8')).not.toBe(readFileSync(ARCH, 'utf8'));
    const a = await planSweep(loadSweepSpec(writeSpec(dir, analyticSpec(), 'a.yaml')));
    const b = await planSweep(loadSweepSpec(writeSpec(dir, analyticSpec({ arch: arch2 }), 'b.yaml')));
    expect(b.points.map((p) => p.id)).toEqual(a.points.map((p) => p.id));
    // ...and change with anything the result depends on.
    const c = await planSweep(
      loadSweepSpec(writeSpec(dir, analyticSpec({ workload: { network: MNIST_NET, rate: 0.3 } }), 'c.yaml')),
    );
    const d = await planSweep(
      loadSweepSpec(writeSpec(dir, analyticSpec({ set: { 'chip.clock_hz': 5e8 } }), 'd.yaml')),
    );
    const ids = new Set(a.points.map((p) => p.id));
    for (const p of [...c.points, ...d.points]) expect(ids.has(p.id)).toBe(false);
    const p0 = a.points[0];
    expect(pointId('analytic', p0.task.arch, p0.task.workload, p0.task.algorithm)).toBe(p0.id);
    expect(pointId('analytic', p0.task.arch, p0.task.workload, p0.task.algorithm, '9.9.9')).not.toBe(p0.id);
    expect(pointId('cycle', p0.task.arch, p0.task.workload, p0.task.algorithm)).not.toBe(p0.id);
  });

  it('property: ids are unique within a sweep, stable across planning, and independent of axis order', async () => {
    const pool = {
      'adc.bits': fc.integer({ min: 1, max: 10 }),
      'noc.flit_bits': fc.integer({ min: 8, max: 256 }),
      'crossbar.rows': fc.integer({ min: 64, max: 512 }),
      'tile.pes_per_tile': fc.integer({ min: 1, max: 16 }),
      'lif_unit.units_per_tile': fc.integer({ min: 1, max: 256 }),
      'chip.clock_hz': fc.double({ min: 1e8, max: 3e9, noNaN: true }),
      'schedule.policy': fc.constantFrom('layer-sequential', 'timestep-pipelined'),
    } as const;
    type Key = keyof typeof pool;
    const axesArb = fc
      .uniqueArray(fc.constantFrom(...(Object.keys(pool) as Key[])), { minLength: 1, maxLength: 3 })
      .chain((keys) =>
        fc.tuple(
          ...keys.map((k) =>
            fc
              .uniqueArray(pool[k] as fc.Arbitrary<number | string>, {
                minLength: 1,
                maxLength: 3,
                selector: (v) => JSON.stringify(v),
              })
              .map((values) => [k, values] as const),
          ),
        ),
      );
    const dir = tempDir('prop');
    let n = 0;
    await fc.assert(
      fc.asyncProperty(axesArb, fc.constantFrom(['static'], ['static', 'entropy']), async (axes, policy) => {
        const text = (list: ReadonlyArray<readonly [string, ReadonlyArray<unknown>]>) =>
          JSON.stringify({
            mode: 'analytic',
            arch: ARCH,
            workload: { network: MNIST_NET, rate: 0.1 },
            axes: Object.fromEntries(list),
            algorithm: { policy },
          });
        const file = join(dir, `p${n++}.yaml`);
        const a = await planSweep(parseSweepSpec(text(axes), file));
        const again = await planSweep(parseSweepSpec(text(axes), file));
        const reversed = await planSweep(parseSweepSpec(text([...axes].reverse()), file));
        const ids = a.points.map((p) => p.id);
        const expected = axes.reduce((k, [, v]) => k * v.length, 1) * policy.length;
        expect(ids).toHaveLength(expected);
        for (const id of ids) expect(id).toMatch(ID);
        expect(new Set(ids).size).toBe(ids.length);
        expect(again.points.map((p) => p.id)).toEqual(ids);
        expect(new Set(reversed.points.map((p) => p.id))).toEqual(new Set(ids));
      }),
      { numRuns: 25, seed: 7 },
    );
  });
});

describe('the example specs in sweeps/', () => {
  it('all plan without errors', async () => {
    const dir = join(ROOT, 'sweeps');
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const f of files) {
      const plan = await planSweep(loadSweepSpec(join(dir, f)));
      expect(plan.points.length, f).toBeGreaterThan(1);
    }
  });
});
