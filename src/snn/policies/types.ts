/**
 * What an exit policy module declares (one file per policy in this folder, registered in registry.ts):
 * its parameters with their defaults (declared once), its decision rule (run by the engine on the
 * accumulated output A_t = Σ_{τ≤t} o_τ after each timestep) and the exit hardware it needs (the
 * component class the replay and pricing put in the chip's exit-unit slot).
 */
import type { PolicyName, TracePolicy } from '../../trace/types.js';

export interface PolicyParam<V> {
  default: V;
  description: string;
}

export interface ExitPolicyModule {
  readonly name: PolicyName;
  /** One line for help texts and docs. */
  readonly summary: string;
  /** Parameters (TracePolicy fields) with defaults; absent fields are not used by the policy. */
  readonly params: {
    readonly theta?: PolicyParam<number>;
    readonly alignment?: PolicyParam<NonNullable<TracePolicy['alignment']>>;
  };
  /** Exit after this timestep? (A_t, θ); null when the policy always runs its whole schedule. */
  readonly exits: ((acc: ArrayLike<number>, theta: number) => boolean) | null;
  /**
   * Component class that evaluates the decision on the chip (it models the `entropy_unit` exit slot,
   * src/hw/components/), or null when no decision is taken.
   */
  readonly exitUnitClass: string | null;
}
