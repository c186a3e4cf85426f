import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseArch } from '../../src/config/load.js';
import { ADC_FAMILIES, ArchSchema, COMPONENT_CLASS_NAMES } from '../../src/config/schema.js';
import { ACTIONS, COMPONENTS } from '../../src/hw/actions.js';
import { isaacAdcEnergyPj } from '../../src/hw/components/sar-adc.js';
import {
  ADC_CLASS_OF_FAMILY,
  buildComponentModels,
  classFieldOf,
  COMPONENT_CLASSES,
} from '../../src/hw/components/registry.js';
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
  const names: string[] = s._zod.def.entries ? Object.keys(s._zod.def.entries) : [];
  // The ADC's class is chosen by its family.
  return component === 'adc' ? names.map((f) => ADC_CLASS_OF_FAMILY[f as never]) : names;
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
  it('the class list is declared once: each model models exactly the components the list gives its name', () => {
    for (const [name, cls] of COMPONENT_CLASSES) {
      expect(cls.name).toBe(name);
      const listed = COMPONENTS.filter((c) => (COMPONENT_CLASS_NAMES[c] as readonly string[]).includes(name));
      expect([...cls.components].sort(), name).toEqual(listed.sort());
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

describe('ADC models: one class per family, timing that follows the SAR circuit', () => {
  /** The ADC model of a family at `bits`, at its own reference node (so no scaling is applied). */
  const adc = (family: string, bits: number, node: number) =>
    buildComponentModels(
      parseArch(
        `chip: {tech_node_nm: ${node}, supply_v: ${nominalSupplyV(node)}}\nadc: {family: ${family}, bits: ${bits}}\n`,
        'a.yaml',
      ),
    ).adc;
  const refNode: Record<string, number> = { isaac: 32, 'neurosim-sar': 65, spikesim: 65 };
  it('each family is its own registered class with its own reference node', () => {
    const names = new Set<string>();
    for (const fam of ADC_FAMILIES) {
      const m = adc(fam, 4, refNode[fam]);
      names.add(m.className);
      expect(m.refTechNodeNm, fam).toBe(refNode[fam]);
      expect(COMPONENT_CLASSES.get(m.className)!.refTechNodeNm).toBe(refNode[fam]);
    }
    expect(names.size).toBe(ADC_FAMILIES.length);
  });
  it('ISAAC: the hwcomponents table at its points; 8 b at 1.28 GS/s; (b+1) SAR cycles', () => {
    for (const [b, pj] of [
      [4, 0.79],
      [5, 0.99],
      [6, 1.2],
      [8, 1.67],
    ])
      expect(adc('isaac', b, 32).actions.convert!.energy_j).toBeCloseTo(pj * 1e-12, 24);
    const t = (b: number) => adc('isaac', b, 32).actions.convert!.latency_s;
    // 8 b: 1 / 1.28 GS/s = 781.25 ps = 9 cycles of 86.805… ps; 4 b: 5 cycles = 434.03 ps; 6 b: 607.64 ps.
    expect(t(8)).toBeCloseTo(781.25e-12, 20);
    expect(t(4)).toBeCloseTo((781.25e-12 * 5) / 9, 20);
    expect(t(6)).toBeCloseTo((781.25e-12 * 7) / 9, 20);
    expect(adc('isaac', 8, 32).area_m2).toBeCloseTo(0.0012e-6, 18);
    expect(isaacAdcEnergyPj(8)).toBeCloseTo(1.67, 12);
  });
  it('NeuroSim SAR: 204 fJ at 4 b, 503 fJ at 8 b, (b+1) ns; area linear in its transistor count', () => {
    expect(adc('neurosim-sar', 4, 65).actions.convert!.energy_j).toBeCloseTo(0.204e-12, 24);
    expect(adc('neurosim-sar', 8, 65).actions.convert!.energy_j).toBeCloseTo(0.503e-12, 24);
    expect(adc('neurosim-sar', 6, 65).actions.convert!.latency_s).toBeCloseTo(7e-9, 20);
    expect(adc('neurosim-sar', 4, 65).actions.convert!.latency_s).toBeCloseTo(5e-9, 20);
    // (269 + 109·3 + 209 + 73·3) / (269 + 109·7 + 209 + 73·7) = 1024 / 1752.
    expect(adc('neurosim-sar', 4, 65).area_m2 / adc('neurosim-sar', 8, 65).area_m2).toBeCloseTo(
      1024 / 1752,
      12,
    );
  });
  it('SpikeSim: 2.03084 pJ and 693.633 µm² at 4 b (65 nm)', () => {
    const m = adc('spikesim', 4, 65);
    expect(m.actions.convert!.energy_j).toBeCloseTo(2.03084e-12, 24);
    expect(m.area_m2).toBeCloseTo(693.633e-12, 20);
  });
  it('more bits never cost less energy or take less time, in every family', () => {
    for (const fam of ADC_FAMILIES) {
      let prevE = 0;
      let prevT = 0;
      for (let b = 1; b <= 16; b++) {
        const c = adc(fam, b, refNode[fam]).actions.convert!;
        expect(c.energy_j, `${fam} ${b}`).toBeGreaterThan(prevE);
        expect(c.latency_s, `${fam} ${b}`).toBeGreaterThan(prevT);
        prevE = c.energy_j;
        prevT = c.latency_s;
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
  it('scales Horowitz\'s 45 nm table from the 0.9 V it was published at, not the 1.0 V nominal', () => {
    // At 45 nm and 0.9 V an SRAM read is Horowitz's 0.2 pJ/bit exactly; at 32 nm, 0.9 V it is ×32/45.
    for (const [node, v, expected] of [
      [45, 0.9, 0.2],
      [32, 0.9, 0.2 * (32 / 45)],
      [45, 1.0, 0.2 * (1.0 / 0.9) ** 2],
    ] as const) {
      const models = buildComponentModels(
        parseArch(`chip: {tech_node_nm: ${node}, supply_v: ${v}}\nmembrane_buffer: {width_bits: 64}\n`, 'x'),
      );
      expect(models.membrane_buffer.actions.read!.energy_j / 64 / 1e-12, `${node} nm ${v} V`).toBeCloseTo(expected, 12);
    }
  });
  it('interpolates the nominal supply between table nodes', () => {
    expect(nominalSupplyV(55)).toBeGreaterThan(nominalSupplyV(45));
    expect(nominalSupplyV(55)).toBeLessThan(nominalSupplyV(65));
  });
});
