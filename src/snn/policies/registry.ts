/**
 * Exit policies by name. A new policy is one file in this folder plus its line below (and its name in
 * PolicyName, src/trace/types.ts, which the type here enforces).
 */
import type { PolicyName, TracePolicy } from '../../trace/types.js';
import { confidencePolicy } from './confidence.js';
import { entropyPolicy } from './entropy.js';
import { layerwisePolicy } from './layerwise.js';
import { staticPolicy } from './static.js';
import type { ExitPolicyModule } from './types.js';

export type { ExitPolicyModule, PolicyParam } from './types.js';

const POLICIES: { readonly [K in PolicyName]: ExitPolicyModule } = {
  static: staticPolicy,
  entropy: entropyPolicy,
  confidence: confidencePolicy,
  layerwise: layerwisePolicy,
};

export const POLICY_NAMES = Object.keys(POLICIES) as PolicyName[];

export function exitPolicy(name: PolicyName): ExitPolicyModule {
  return POLICIES[name];
}

/** The policy's θ: the given one, else its declared default (NaN for a policy without θ). */
export function policyTheta(p: TracePolicy): number {
  return p.theta ?? POLICIES[p.name].params.theta?.default ?? NaN;
}

/** The layerwise frame alignment: the given one, else the declared default. */
export function policyAlignment(p: TracePolicy): NonNullable<TracePolicy['alignment']> {
  return p.alignment ?? layerwisePolicy.params.alignment!.default;
}

/** Fills θ with the declared default where the policy takes one and it was not given. */
export function withPolicyDefaults(p: TracePolicy): TracePolicy {
  const theta = POLICIES[p.name].params.theta;
  return theta && p.theta === undefined ? { ...p, theta: theta.default } : p;
}
