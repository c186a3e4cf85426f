import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { estimate } from '../../src/analytic/estimate.js';
import { loadArch, parseOverride, type Override } from '../../src/config/load.js';
import { COMPONENTS } from '../../src/hw/actions.js';
import { loadNetwork, parseNetwork } from '../../src/network/load.js';

const mnist = loadNetwork('models/mnist-convnet');
const vgg9 = loadNetwork('models/vgg9-cifar10');

/** Random but valid hardware variations of default.yaml. */
const archOverrides = fc.record({
  rows: fc.constantFrom(32, 64, 128, 256),
  cols: fc.constantFrom(32, 64, 128),
  cellBits: fc.integer({ min: 1, max: 4 }),
  weightBits: fc.integer({ min: 4, max: 8 }),
  signed: fc.constantFrom('differential', 'offset', 'unsigned'),
  adcBits: fc.integer({ min: 1, max: 10 }),
  cpa: fc.constantFrom(1, 2, 4, 8, 16, 32),
  family: fc.constantFrom('isaac', 'neurosim-sar', 'spikesim'),
  zeroSkip: fc.boolean(),
  schedule: fc.constantFrom('layer-sequential', 'timestep-pipelined'),
  packing: fc.constantFrom('per-layer', 'packed'),
  gating: fc.constantFrom('none', 'per-layer'),
  encoding: fc.constantFrom('address-event', 'bitmap'),
  membraneBits: fc.constantFrom(1024, 65536, 262144),
});

function archOf(o: any, extra: Override[] = []) {
  const sets: Override[] = [
    ['crossbar.rows', o.rows],
    ['crossbar.columns', o.cols],
    ['crossbar.rows_parallel', Math.min(o.rows, 64)],
    ['crossbar.cell_bits', o.cellBits],
    ['crossbar.weight_bits', o.weightBits],
    ['crossbar.signed_weights', o.signed],
    ['crossbar.zero_skipping', o.zeroSkip],
    ['adc.bits', o.adcBits],
    ['adc.columns_per_adc', o.cpa],
    ['adc.family', o.family],
    ['schedule.policy', o.schedule],
    ['mapping.tile_packing', o.packing],
    ['leakage.power_gating', o.gating],
    ['noc.spike_encoding', o.encoding],
    ['membrane_buffer.capacity_bits', o.membraneBits],
  ].map(([path, value]) => ({ path: path as string, value }));
  return loadArch('arch-configs/default.yaml', [...sets, ...extra]);
}

const rates = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 4, maxLength: 4 });
const runs = { numRuns: 60, seed: 20261122 };

describe('analytic estimate: invariants', () => {
  it('every energy, latency and area is finite and ≥ 0; parts add up to the totals', () => {
    fc.assert(
      fc.property(archOverrides, fc.integer({ min: 1, max: 6 }), (o, T) => {
        const r = estimate(archOf(o), mnist.spec, { timesteps: T }, mnist.shapes);
        const all = [
          r.energy_j,
          r.latency_s,
          r.area_m2,
          r.edp_js,
          ...r.layers.flatMap((l) => [l.energy_j, l.latency_s, l.area_m2]),
        ];
        for (const c of COMPONENTS)
          all.push(
            r.components[c].energy_j,
            r.components[c].area_m2,
            ...Object.values(r.components[c].actions).map((a) => a.count),
          );
        for (const v of all) expect(Number.isFinite(v) && v >= 0).toBe(true);
        const byComp = COMPONENTS.reduce((s, c) => s + r.components[c].energy_j, 0);
        expect(byComp).toBeCloseTo(r.energy_j, 18);
        const byStep = r.timesteps.reduce((s, t) => s + t.energy_j, 0);
        expect(Math.abs(byStep - r.energy_j) / r.energy_j).toBeLessThan(1e-9);
        expect(r.energy_j).toBeGreaterThan(0);
      }),
      runs,
    );
  });

  it('more timesteps are never cheaper or faster under the static policy', () => {
    fc.assert(
      fc.property(archOverrides, fc.integer({ min: 1, max: 7 }), (o, T) => {
        const spec = archOf(o);
        const a = estimate(spec, mnist.spec, { timesteps: T }, mnist.shapes);
        const b = estimate(spec, mnist.spec, { timesteps: T + 1 }, mnist.shapes);
        expect(b.energy_j).toBeGreaterThanOrEqual(a.energy_j);
        expect(b.latency_s).toBeGreaterThanOrEqual(a.latency_s);
      }),
      runs,
    );
  });

  it('doubling ADC bits never lowers ADC energy', () => {
    fc.assert(
      fc.property(
        archOverrides.filter((o) => o.adcBits <= 8),
        (o) => {
          const a = estimate(archOf(o), mnist.spec, {}, mnist.shapes);
          const b = estimate(
            archOf(o, [{ path: 'adc.bits', value: 2 * o.adcBits }]),
            mnist.spec,
            {},
            mnist.shapes,
          );
          expect(b.components.adc.dynamic_energy_j).toBeGreaterThanOrEqual(a.components.adc.dynamic_energy_j);
          expect(b.components.adc.energy_j).toBeGreaterThanOrEqual(a.components.adc.energy_j);
        },
      ),
      runs,
    );
  });

  it('fewer spikes never cost more dynamic energy or time (zero-skipping on)', () => {
    fc.assert(
      fc.property(archOverrides, rates, fc.double({ min: 0, max: 1, noNaN: true }), (o, r, f) => {
        const spec = archOf({ ...o, zeroSkip: true });
        const hi = { layers: Object.fromEntries(mnist.shapes.mapped.map((l) => [l.name, r])) };
        const lo = {
          layers: Object.fromEntries(mnist.shapes.mapped.map((l) => [l.name, r.map((x) => x * f)])),
        };
        const a = estimate(spec, mnist.spec, { rates: hi }, mnist.shapes);
        const b = estimate(spec, mnist.spec, { rates: lo }, mnist.shapes);
        expect(b.dynamic_energy_j).toBeLessThanOrEqual(a.dynamic_energy_j * (1 + 1e-12));
        expect(b.latency_s).toBeLessThanOrEqual(a.latency_s * (1 + 1e-12));
      }),
      runs,
    );
  });

  it('T = 1 keeps no membrane potential between timesteps', () => {
    const r = estimate(loadArch('arch-configs/default.yaml'), vgg9.spec, { timesteps: 1 }, vgg9.shapes);
    expect(r.components.membrane_buffer.actions.read.count).toBe(0);
    expect(r.components.membrane_buffer.actions.write.count).toBe(0);
    const r4 = estimate(loadArch('arch-configs/default.yaml'), vgg9.spec, { timesteps: 4 }, vgg9.shapes);
    expect(r4.components.membrane_buffer.actions.read.count).toBeGreaterThan(0);
  });

  it('the entropy exit adds exactly the entropy unit and the logits traffic', () => {
    const spec = loadArch('arch-configs/default.yaml');
    const s = estimate(spec, mnist.spec, { timesteps: 4 }, mnist.shapes);
    const e = estimate(spec, mnist.spec, { timesteps: 4, policy: 'entropy' }, mnist.shapes);
    expect(e.components.entropy_unit.actions.class_step.count).toBe(4 * 10);
    expect(e.components.entropy_unit.actions.decide.count).toBe(4);
    expect(e.layers.map((l) => l.dynamic_energy_j)).toEqual(s.layers.map((l) => l.dynamic_energy_j));
    expect(e.exit.energy_j).toBeGreaterThan(s.exit.energy_j);
  });

  it('zero input activity still pays for delivery and neurons, never for crossbar reads', () => {
    const spec = loadArch('arch-configs/default.yaml');
    const r = estimate(spec, mnist.spec, { rates: { default: 0, layers: {} } }, mnist.shapes);
    expect(r.components.crossbar.actions.cell_read.count).toBe(0);
    expect(r.components.adc.actions.convert.count).toBe(0);
    expect(r.components.lif_unit.actions.update.count).toBeGreaterThan(0);
  });

  it('is deterministic: same inputs, byte-identical JSON', () => {
    const spec = loadArch('arch-configs/isaac-32nm.yaml');
    const a = JSON.stringify(estimate(spec, vgg9.spec, { timesteps: 3 }, vgg9.shapes));
    const b = JSON.stringify(estimate(spec, vgg9.spec, { timesteps: 3 }, vgg9.shapes));
    expect(a).toBe(b);
  });

  it('the spike-rates file must name real layers and cover every timestep', () => {
    const spec = loadArch('arch-configs/default.yaml');
    expect(() => estimate(spec, mnist.spec, { rates: { layers: { convv1: 0.5 } } }, mnist.shapes)).toThrow(
      /did|one of conv1/,
    );
    expect(() =>
      estimate(spec, mnist.spec, { timesteps: 4, rates: { layers: { conv1: [0.5, 0.5] } } }, mnist.shapes),
    ).toThrow(/4 values/);
  });
});

describe('per-layer timesteps (LD-SNN)', () => {
  const text = (t: string) =>
    `name: ld\ninput: { shape: [1, 28, 28] }\nclasses: 10\ntimesteps: 4\nlayers:\n  - { name: conv1, type: conv2d, out_channels: 8, kernel: 3, padding: 1${t} }\n  - { type: flatten }\n  - { name: fc, type: linear, out_features: 10, spiking: false }\n`;
  it('a layer running fewer timesteps costs less than uniform T, and only that layer changes', () => {
    const spec = loadArch('arch-configs/default.yaml');
    const uniform = parseNetwork(text(''), 'u.yaml');
    const ld = parseNetwork(text(', timesteps: 2'), 'ld.yaml');
    const a = estimate(spec, uniform.spec, {}, uniform.shapes);
    const b = estimate(spec, ld.spec, {}, ld.shapes);
    expect(b.layer_timesteps).toEqual([2, 4]);
    expect(b.layers[0].dynamic_energy_j).toBeLessThan(a.layers[0].dynamic_energy_j);
    expect(b.layers[1].dynamic_energy_j).toBeCloseTo(a.layers[1].dynamic_energy_j, 20);
    expect(b.energy_j).toBeLessThan(a.energy_j);
  });
});
