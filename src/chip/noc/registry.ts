/**
 * Topologies by name (`noc.topology`). A new topology is one file implementing `Topology` and one line
 * here.
 */
import { located } from '../../util/errors.js';
import type { ArchSpec } from '../../config/schema.js';
import { mesh } from './mesh.js';
import type { Topology } from './topology.js';
import { torus } from './torus.js';

export const TOPOLOGIES: ReadonlyMap<string, Topology> = new Map([mesh, torus].map((t) => [t.name, t]));

/** The topology `noc.topology` names; an unknown name is an input error naming the field. */
export function topologyOf(spec: ArchSpec): Topology {
  const name = spec.noc.topology;
  const t = TOPOLOGIES.get(name);
  if (!t)
    throw located(`unknown network-on-chip topology`, {
      path: 'noc.topology',
      expected: `one of ${[...TOPOLOGIES.keys()].map((k) => JSON.stringify(k)).join(', ')}`,
      found: JSON.stringify(name),
    });
  return t;
}
