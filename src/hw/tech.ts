/**
 * Technology scaling of component models between nodes.
 *
 * First-order CMOS scaling as in Stillmaker & Baas, "Scaling equations for the accurate prediction of
 * CMOS device performance from 180 nm to 7 nm", Integration 2017: dynamic energy ∝ C·V² with C ∝ feature
 * size, area ∝ feature size², gate delay ∝ feature size. The nominal supply of each reference node comes
 * from the same paper's table; the target supply is the chip's `supply_v`.
 */
import { located } from '../util/errors.js';

/** Nominal core supply (V) per node, Stillmaker & Baas 2017, Table 2 (general-purpose devices). */
const NOMINAL_SUPPLY_V: ReadonlyArray<readonly [number, number]> = [
  [180, 1.8],
  [130, 1.3],
  [90, 1.2],
  [65, 1.1],
  [45, 1.0],
  [40, 0.95],
  [32, 0.9],
  [22, 0.8],
  [14, 0.8],
  [10, 0.75],
  [7, 0.7],
];

/** Nominal supply at a node, interpolated linearly in node size between the table's entries. */
export function nominalSupplyV(nodeNm: number): number {
  if (!(nodeNm > 0)) throw located(`technology node must be positive`, { found: String(nodeNm) });
  const t = NOMINAL_SUPPLY_V;
  if (nodeNm >= t[0][0]) return t[0][1];
  if (nodeNm <= t[t.length - 1][0]) return t[t.length - 1][1];
  for (let i = 0; i < t.length - 1; i++) {
    const n0 = t[i][0];
    const v0 = t[i][1];
    const n1 = t[i + 1][0];
    const v1 = t[i + 1][1];
    if (nodeNm <= n0 && nodeNm >= n1) {
      if (nodeNm === n0) return v0;
      if (nodeNm === n1) return v1;
      return v1 + ((v0 - v1) * (nodeNm - n1)) / (n0 - n1);
    }
  }
  return t[t.length - 1][1];
}

export interface TechTarget {
  techNodeNm: number;
  supplyV: number;
}

export interface ScaleFactors {
  energy: number;
  area: number;
  delay: number;
}

/**
 * Factors that take a number published at `refNodeNm` to the target. The published supply is the node's
 * nominal one unless the source states its own (`refSupplyV`: Horowitz's 45 nm table is at 0.9 V, not
 * Stillmaker & Baas's 1.0 V nominal).
 */
export function scaleFactors(refNodeNm: number, target: TechTarget, refSupplyV?: number): ScaleFactors {
  const ratio = target.techNodeNm / refNodeNm;
  const vRef = refSupplyV ?? nominalSupplyV(refNodeNm);
  const vRatio = target.supplyV / vRef;
  return { energy: ratio * vRatio * vRatio, area: ratio * ratio, delay: ratio };
}
