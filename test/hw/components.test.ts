import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseArch } from '../../src/config/load.js';
import { ADC_FAMILIES, ArchSchema } from '../../src/config/schema.js';
import { ACTIONS, COMPONENTS } from '../../src/hw/actions.js';
import { adcEnergyLatency, isaacAdcEnergyPj } from '../../src/hw/components/sar-adc.js';
import { buildComponentModels, classFieldOf, COMPONENT_CLASSES } from '../../src/hw/components/registry.js';
import { nominalSupplyV, scaleFactors } from '../../src/hw/tech.js';

/** Class names the schema allows for a component (its `class` enum). */
function allowedClasses(component: string): string[] {
  const field = classFieldOf(component as never).split('.');
  let s: any = ArchSchema;
  const unwrap = (x: any) => {
    while (x?._zod?.def?.innerType) x = x._zod.def.innerType;
    return x;
  };
  for (const k of field) s = unwrap(unwrap(s)._zod.def.shape[k]);
  return s._zod.def.entries ? Object.keys(s._zod.def.entries) : [];
}

describe('component registry', () => {
  it('has a model for every class the schema accepts (no silent zero)', () => {
    for (const c of COMPONENTS) {
      const names = allowedClasses(c);
      expect(names.length, c).toBeGreaterThan(0);
      for (const n of names) {
        const cls = COMPONENT_CLASSES.get(n);
        expect(cls, `${c}: ${n}`).toBeDefined();
        expect(cls!.components).toContain(c);
      }
    }
  });
  it('every class cites a source', () => {
    for (const cls of COMPONENT_CLASSES.values()) expect(cls.source.length).toBeGreaterThan(10);
  });
  it('every preset resolves every component, with finite non-negative costs', () => {
    for (const f of ['default', 'isaac-32nm', 'spikesim-65nm']) {
      const models = buildComponentModels(parseArch(readFileSync(`arch-configs/${f}.yaml`, 'utf8'), f));
      for (const c of COMPONENTS) {
        const m = models[c];
        expect(m.source.length).toBeGreaterThan(0);
        for (const [a, cost] of Object.entries(m.actions)) {
          expect(Number.isFinite(cost!.energy_j) && cost!.energy_j >= 0, `${f} ${c}.${a}`).toBe(true);
          expect(Number.isFinite(cost!.latency_s) && cost!.latency_s >= 0).toBe(true);
          expect(ACTIONS.some(([x, y]) => x === c && y === a)).toBe(true);
        }
        expect(m.area_m2).toBeGreaterThanOrEqual(0);
        expect(m.leakage_w).toBeGreaterThanOrEqual(0);
      }
    }
  });
});

describe('crossbar read', () => {
  it('a 0 J action always says why (no silent zero), and the crossbar read states its word-line charge', () => {
    for (const f of ['default', 'isaac-32nm', 'spikesim-65nm']) {
      const models = buildComponentModels(parseArch(readFileSync(`arch-configs/${f}.yaml`, 'utf8'), f));
      for (const c of COMPONENTS)
        for (const [a, cost] of Object.entries(models[c].actions))
          if (cost!.energy_j === 0) expect(cost!.note, `${f} ${c}.${a}`).toBeTruthy();
    }
    // default.yaml: 64 columns, 4F² cells (2F = 64 nm pitch at 32 nm), V_read 0.1 V, 0.2 fF/µm:
    // 64 × 64e-9 m × 0.2e-9 F/m × 0.01 V² = 8.19e-18 J per active row; row driver 3.9 µW × 10 ns = 39 fJ.
    const m = buildComponentModels(parseArch(readFileSync('arch-configs/default.yaml', 'utf8'), 'default'));
    expect(m.crossbar.actions.read!.note).toContain('8.19 aJ');
    expect(m.crossbar.actions.read!.note).toContain('3.90e+4 aJ');
  });
});

describe('ADC models', () => {
  it('reproduce the ISAAC table at its points', () => {
    expect(isaacAdcEnergyPj(4)).toBeCloseTo(0.79, 12);
    expect(isaacAdcEnergyPj(5)).toBeCloseTo(0.99, 12);
    expect(isaacAdcEnergyPj(6)).toBeCloseTo(1.2, 12);
    expect(isaacAdcEnergyPj(8)).toBeCloseTo(1.67, 12);
  });
  it('NeuroSim SAR: 204 fJ at 4 b, 503 fJ at 8 b, (b+1) ns', () => {
    expect(adcEnergyLatency('neurosim-sar', 4).energyPj).toBeCloseTo(0.204, 12);
    expect(adcEnergyLatency('neurosim-sar', 8).energyPj).toBeCloseTo(0.503, 12);
    expect(adcEnergyLatency('neurosim-sar', 6).latencyS).toBeCloseTo(7e-9, 18);
  });
  it('SpikeSim: 2.03084 pJ at 4 b', () => {
    expect(adcEnergyLatency('spikesim', 4).energyPj).toBe(2.03084);
  });
  it('more bits never cost less, in every family (and doubling bits never lowers energy)', () => {
    for (const fam of ADC_FAMILIES) {
      let prev = 0;
      for (let b = 1; b <= 16; b++) {
        const e = adcEnergyLatency(fam, b).energyPj;
        expect(e, `${fam} ${b}`).toBeGreaterThan(prev);
        prev = e;
        if (b <= 8) expect(adcEnergyLatency(fam, 2 * b).energyPj).toBeGreaterThanOrEqual(e);
      }
    }
  });
});

describe('technology scaling', () => {
  it('is the identity at a model reference node and supply', () => {
    expect(scaleFactors(65, { techNodeNm: 65, supplyV: nominalSupplyV(65) })).toEqual({
      energy: 1,
      area: 1,
      delay: 1,
    });
  });
  it('follows C·V² and node² from 65 nm to 32 nm', () => {
    const f = scaleFactors(65, { techNodeNm: 32, supplyV: 0.9 });
    expect(f.energy).toBeCloseTo((32 / 65) * (0.9 / 1.1) ** 2, 12);
    expect(f.area).toBeCloseTo((32 / 65) ** 2, 12);
  });
  it('interpolates the nominal supply between table nodes', () => {
    expect(nominalSupplyV(55)).toBeGreaterThan(nominalSupplyV(45));
    expect(nominalSupplyV(55)).toBeLessThan(nominalSupplyV(65));
  });
});
