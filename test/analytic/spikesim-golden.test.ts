import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { estimate } from '../../src/analytic/estimate.js';
import { loadArch } from '../../src/config/load.js';
import { loadNetwork } from '../../src/network/load.js';

const golden = JSON.parse(readFileSync('test/golden/spikesim-vgg9.json', 'utf8'));

describe('spikesim-65nm reproduces SpikeSim on VGG9, T=5', () => {
  const arch = loadArch('arch-configs/spikesim-65nm.yaml');
  const net = loadNetwork('models/vgg9-cifar10');
  const r = estimate(arch, net.spec, { timesteps: 5 }, net.shapes);
  const within = (got: number, want: number) => Math.abs(got - want) / want;

  it('maps 48 PEs on 6 tiles', () => {
    expect(r.mapping.pes).toBe(golden.pes);
    expect(r.mapping.tiles).toBe(golden.tiles);
  });
  it('energy within 0.01 %', () => {
    expect(within(r.energy_j * 1e12, golden.energy_pj)).toBeLessThan(golden.tolerance_relative);
  });
  it('latency within 0.01 %', () => {
    expect(within(r.latency_s * 1e9, golden.latency_ns)).toBeLessThan(golden.tolerance_relative);
  });
  it('area within 0.01 %', () => {
    expect(within(r.area_m2 * 1e12, golden.area_um2)).toBeLessThan(golden.tolerance_relative);
  });
  it('lists the FC layers as excluded, not as silent zeros', () => {
    expect(r.excluded_layers.map((e) => e.layer)).toEqual(['fc1', 'fc2']);
    expect(r.adc_family).toBe('spikesim');
  });
  it('per-layer energy follows PEcycles × 828.486 pJ × T', () => {
    const peCycles = [1024, 256, 512, 256, 512, 1024, 256];
    const perCycle = 828.4861472;
    r.layers.slice(0, 7).forEach((l, i) => {
      expect(within(l.energy_j * 1e12, peCycles[i] * perCycle * 5)).toBeLessThan(1e-9);
    });
  });
});
