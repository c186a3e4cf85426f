/**
 * The exit policy decides the exit hardware (src/snn/policies/): a confidence trace is priced with a
 * max-softmax unit in the exit slot, an entropy trace with the entropy unit, a static trace with no
 * evaluation at all. Expected figures come from the units' cost formulas written out here.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadArch } from '../../src/config/load.js';
import { loadNetwork } from '../../src/network/load.js';
import { simulateTrace, type SimulationResult } from '../../src/replay/simulate.js';
import { generateSyntheticTrace } from '../../src/trace/synthetic.js';
import type { PolicyName } from '../../src/trace/types.js';

const dir = mkdtempSync(join(tmpdir(), 'imcsim-exit-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const results: Partial<Record<PolicyName, SimulationResult>> = {};
const spec = loadArch('arch-configs/default.yaml');

beforeAll(async () => {
  const net = loadNetwork('models/mnist-convnet-t4');
  for (const name of ['static', 'entropy', 'confidence'] as const) {
    const out = join(dir, `${name}.trace`);
    await generateSyntheticTrace({
      network: net.spec,
      shapes: net.shapes,
      rates: 0.1,
      samples: 6,
      seed: 3,
      timesteps: 4,
      out,
      ...(name === 'static'
        ? {}
        : { policy: { name, timesteps: 4, theta: 0.9 }, exitDistribution: [0.4, 0.3, 0.2, 0.1] }),
    });
    results[name] = await simulateTrace(spec, out);
  }
}, 60_000);

/** pJ per class step and per decision at the 45 nm reference, for a `bits`-wide unit. */
function unitPj(kind: 'entropy' | 'max-softmax', bits: number): { step: number; decide: number } {
  const add = 0.1 * (bits / 32); // Horowitz ISSCC 2014, 32-b add 0.1 pJ
  const mult = 3.1 * (bits / 32) ** 2; // 32-b mult 3.1 pJ
  const lut = 0.2 * bits; // SRAM 0.2 pJ/bit
  const cmp = 0.029 * (bits / 32); // Aladdin comparator
  return kind === 'entropy'
    ? { step: 3 * add + mult + 2 * lut, decide: lut + 2 * mult + cmp }
    : { step: 2 * add + cmp + lut, decide: mult + cmp };
}

describe('exit hardware follows the exit policy', () => {
  const classOf = (r: SimulationResult) =>
    r.assumptions.components.find((c) => c.component === 'entropy_unit')!.class;

  it('confidence is priced as a max-softmax unit, entropy as the entropy unit', () => {
    expect(classOf(results.confidence!)).toBe('max_softmax_unit');
    expect(classOf(results.entropy!)).toBe('entropy_unit');
    expect(classOf(results.static!)).toBe('entropy_unit');
  });

  it('same decisions, energy in the ratio of the two units’ per-decision costs', () => {
    const e = results.entropy!;
    const c = results.confidence!;
    const K = 10;
    expect(e.exit_unit.evaluations).toBeGreaterThan(0);
    expect(c.exit_unit.evaluations).toBe(e.exit_unit.evaluations);
    expect(results.static!.exit_unit.evaluations).toBe(0);
    const bits = spec.entropy_unit.bits;
    const pe = unitPj('entropy', bits);
    const pm = unitPj('max-softmax', bits);
    const ratio = (K * pm.step + pm.decide) / (K * pe.step + pe.decide);
    const dyn = (r: SimulationResult) => r.components.entropy_unit.dynamic_energy_j;
    expect(dyn(c) / dyn(e)).toBeCloseTo(ratio, 9);
    expect(ratio).toBeLessThan(0.5);
  });

  it('a decision takes K class steps plus 2 cycles (max-softmax) instead of 4 (entropy)', () => {
    const K = 10;
    const lanes = spec.entropy_unit.lanes;
    const per = (decide: number) => Math.ceil(K / lanes) + decide;
    const cyc = (r: SimulationResult) =>
      (r.exit_unit.latency_s * spec.chip.clock_hz) / r.exit_unit.evaluations;
    expect(cyc(results.entropy!)).toBeCloseTo(per(4), 6);
    expect(cyc(results.confidence!)).toBeCloseTo(per(2), 6);
  });
});
