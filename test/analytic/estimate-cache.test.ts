// The chip, routes, area and action tables are cached per (frozen hardware description, frozen network)
// and report rows are built lazily (analytic/imcsim-model.ts, chip/workload.ts, pricing/price.ts). The
// oracle here is the uncached path: a structuredClone of a loaded spec is not frozen, so every call
// builds everything afresh, exactly as before the caches existed.
import { describe, expect, it } from 'vitest';
import { estimate } from '../../src/analytic/estimate.js';
import { loadArch } from '../../src/config/load.js';
import { loadNetwork } from '../../src/network/load.js';
import { inferShapes } from '../../src/network/shapes.js';
import { defineLazy } from '../../src/pricing/price.js';

const archs = ['arch-configs/default.yaml', 'arch-configs/spikesim-65nm.yaml', 'arch-configs/isaac-32nm.yaml'];
const nets = ['models/vgg16-cifar10', 'models/mnist-convnet-t4'];
const optsList = [{ timesteps: 4 }, { timesteps: 2, policy: 'entropy' as const }, { rates: { default: 0.25, layers: {} } }];

describe('estimate: cached chip and routes, lazy reports', () => {
  for (const a of archs)
    for (const n of nets)
      it(`${a} × ${n}: cached calls equal the uncached path, call after call`, () => {
        const spec = loadArch(a);
        const net = loadNetwork(n);
        expect(Object.isFrozen(spec) && Object.isFrozen(net.spec) && Object.isFrozen(net.shapes)).toBe(true);
        const fresh = structuredClone(spec);
        const freshNet = structuredClone(net.spec);
        for (const opts of optsList) {
          const oracle = JSON.stringify(estimate(fresh, freshNet, opts, inferShapes(freshNet)));
          for (let i = 0; i < 3; i++) {
            expect(JSON.stringify(estimate(spec, net.spec, opts, net.shapes))).toBe(oracle);
            expect(JSON.stringify(estimate(spec, net.spec, opts))).toBe(oracle); // shapes inferred, cached
          }
        }
      });

  it('an unfrozen description changed between calls is re-mapped (nothing stale is served)', () => {
    const spec = structuredClone(loadArch('arch-configs/default.yaml'));
    const net = loadNetwork('models/vgg16-cifar10');
    const before = estimate(spec, net.spec, { timesteps: 4 }, net.shapes);
    spec.crossbar.rows_parallel = spec.crossbar.rows_parallel * 2;
    spec.noc.flit_bits = spec.noc.flit_bits * 2;
    const after = estimate(spec, net.spec, { timesteps: 4 }, net.shapes);
    expect(after.latency_s).not.toBe(before.latency_s);
    const fresh = estimate(structuredClone(spec), net.spec, { timesteps: 4 }, net.shapes);
    expect(JSON.stringify(after)).toBe(JSON.stringify(fresh));
  });

  it('report rows are built on first read, once, with the values JSON shows; they can be replaced', () => {
    const spec = loadArch('arch-configs/default.yaml');
    const net = loadNetwork('models/vgg16-cifar10');
    const r = estimate(spec, net.spec, { timesteps: 4 }, net.shapes);
    const keys = Object.keys(r);
    expect(keys.slice(-10)).toEqual([
      'energy_j',
      'dynamic_energy_j',
      'leakage_energy_j',
      'latency_s',
      'edp_js',
      'area_m2',
      'layers',
      'exit',
      'components',
      'timesteps',
    ]);
    const layers = r.layers;
    expect(r.layers).toBe(layers); // built once
    expect(layers).toHaveLength(net.shapes.mapped.length);
    // Independent sums: the per-layer, per-component and per-timestep rows add up to the totals.
    const sum = (xs: number[]) => xs.reduce((x, y) => x + y, 0);
    const rel = (x: number, y: number) => Math.abs(x - y) / Math.abs(y);
    // (Layers hold their dynamic energy and their tiles' leakage; chip-level leakage is in no layer.)
    expect(rel(sum(layers.map((l) => l.dynamic_energy_j)) + r.exit.energy_j, r.dynamic_energy_j)).toBeLessThan(
      1e-9,
    );
    expect(rel(sum(Object.values(r.components).map((c) => c.energy_j)), r.energy_j)).toBeLessThan(1e-9);
    expect(rel(sum(r.timesteps.map((t) => t.energy_j)), r.energy_j)).toBeLessThan(1e-9);
    r.timesteps = [];
    expect(r.timesteps).toEqual([]);
    expect(JSON.parse(JSON.stringify(r)).timesteps).toEqual([]);
  });

  it('defineLazy: enumerable in definition order, computed once, settable before and after a read', () => {
    let calls = 0;
    const o = { a: 1, b: 0, c: 3 };
    defineLazy(o, 'b', () => (calls++, 2));
    expect(calls).toBe(0);
    expect(JSON.stringify(o)).toBe('{"a":1,"b":2,"c":3}');
    expect(o.b).toBe(2);
    expect(calls).toBe(1);
    const copy = Object.defineProperties({}, Object.getOwnPropertyDescriptors(o));
    expect(copy).toEqual({ a: 1, b: 2, c: 3 });
    const p = { x: 0 };
    defineLazy(p, 'x', () => (calls++, 5));
    p.x = 7;
    expect(p.x).toBe(7);
    expect(calls).toBe(1);
  });
});
