/** Files appear whole or not at all: write to a temporary name beside the target, then rename. */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileSystemError } from './fs-errors.js';

/**
 * File-system failures come out as imcsim errors naming `path` (util/fs-errors.ts): a directory in the
 * way is an InputError, a read-only or full disk an OperationalError. The temporary file is removed.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw fileSystemError(e, path) ?? e;
  }
}
