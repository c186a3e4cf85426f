/** Content hashes: canonical JSON (sorted keys, no whitespace) and SHA-256, shortened for ids. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export { canonicalJson, sha256Hex, ID_HEX_DIGITS, contentId } from '../util/hash.js';

/** SHA-256 of a file, streamed (traces can be large). */
export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}
