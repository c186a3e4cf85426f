import { describe, expect, it } from 'vitest';
import { COMPONENT_CLASSES } from '../../src/hw/components/registry.js';
import {
  exitPolicy,
  POLICY_NAMES,
  policyTheta,
  withPolicyDefaults,
} from '../../src/snn/policies/registry.js';
import { THETA } from '../../src/snn/policies/theta.js';

describe('exit policy modules', () => {
  it('each policy names a registered exit-unit class exactly when it takes an exit decision', () => {
    expect(POLICY_NAMES).toEqual(['static', 'entropy', 'confidence', 'layerwise']);
    for (const name of POLICY_NAMES) {
      const p = exitPolicy(name);
      expect(p.name).toBe(name);
      expect(p.exits === null, name).toBe(p.exitUnitClass === null);
      if (p.exitUnitClass)
        expect(COMPONENT_CLASSES.get(p.exitUnitClass)?.components).toContain('entropy_unit');
    }
    expect(exitPolicy('confidence').exitUnitClass).toBe('max_softmax_unit');
    expect(exitPolicy('entropy').exitUnitClass).toBe('entropy_unit');
  });

  it('entropy rule, hand-worked: K = 2, softmax (0.9, 0.1) gives 1 − H/ln 2 = 0.531004', () => {
    const acc = [Math.log(9), 0];
    const h = -(0.9 * Math.log(0.9) + 0.1 * Math.log(0.1)) / Math.log(2);
    expect(1 - h).toBeCloseTo(0.531004, 6);
    expect(exitPolicy('entropy').exits!(acc, 0.53)).toBe(true);
    expect(exitPolicy('entropy').exits!(acc, 0.532)).toBe(false);
  });

  it('confidence rule, hand-worked: softmax (0.9, 0.1) has max 0.9', () => {
    const acc = [Math.log(9), 0];
    expect(exitPolicy('confidence').exits!(acc, 0.899)).toBe(true);
    expect(exitPolicy('confidence').exits!(acc, 0.901)).toBe(false);
  });

  it('θ defaults to the one declared value, only for the policies that take θ', () => {
    expect(THETA.default).toBe(0.9);
    expect(policyTheta({ name: 'entropy', timesteps: 4 })).toBe(0.9);
    expect(policyTheta({ name: 'confidence', timesteps: 4, theta: 0.5 })).toBe(0.5);
    expect(withPolicyDefaults({ name: 'confidence', timesteps: 4 })).toEqual({
      name: 'confidence',
      timesteps: 4,
      theta: 0.9,
    });
    expect(withPolicyDefaults({ name: 'static', timesteps: 4 })).toEqual({ name: 'static', timesteps: 4 });
  });
});
