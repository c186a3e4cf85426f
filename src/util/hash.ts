/** Content hashes: canonical JSON (sorted keys, no whitespace) and SHA-256, shortened for ids. */
import { createHash } from 'node:crypto';

/**
 * JSON with object keys sorted at every level, so that two equal values give the same text whatever the
 * order their keys were written in. `undefined` members are dropped (as JSON.stringify does); non-finite
 * numbers are refused (they have no JSON form and would hash ambiguously).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`canonicalJson: non-finite number ${value}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return '[' + value.map((v) => canonicalJson(v ?? null)).join(',') + ']';
  if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort();
    return '{' + keys.map((k) => JSON.stringify(k) + ':' + canonicalJson(obj[k])).join(',') + '}';
  }
  throw new Error(`canonicalJson: cannot encode a ${typeof value}`);
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Hex digits kept in a point id: 48 bits, collisions negligible for any practical sweep. */
export const ID_HEX_DIGITS = 12;

/** Short content hash of a value: the first ID_HEX_DIGITS hex digits of sha256(canonical JSON). */
export function contentId(value: unknown): string {
  return sha256Hex(canonicalJson(value)).slice(0, ID_HEX_DIGITS);
}
