/**
 * File-system failures as imcsim errors. Misuse of a path (a directory where a file is expected or the
 * reverse, a missing file) is bad input: InputError, exit 2. A refusal of the environment (permissions,
 * read-only or full file system, too many open files) is an OperationalError, exit 1. Either way one line
 * naming the path the user gave (a `.tmp-<pid>` suffix is dropped), never a stack trace.
 */
import { accessSync, closeSync, constants, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { located, OperationalError, type InputError } from '../config/errors.js';

const ENVIRONMENT: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EIO: 'input/output error',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  EBUSY: 'the file is busy',
  ETXTBSY: 'the file is busy',
};
const MISUSE: Record<string, string> = {
  EISDIR: 'is a directory (expected a file)',
  ENOTDIR: 'a part of the path is a file, not a directory',
  EEXIST: 'already exists and is not a directory (expected a folder)',
  ENOTEMPTY: 'is a folder that is not empty',
  ENOENT: 'no such file or directory',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many levels of symbolic links',
};

const VERB: Record<string, string> = {
  open: 'open',
  read: 'read',
  write: 'write',
  mkdir: 'create the folder',
  rename: 'write',
  scandir: 'list',
  stat: 'read',
  lstat: 'read',
  unlink: 'remove',
  rmdir: 'remove',
  fsync: 'write',
  close: 'write',
  copyfile: 'copy',
};

/** The user's path for a temporary file name. */
const userPath = (p: string): string => p.replace(/\.tmp-\d+$/, '');

/**
 * The imcsim error for a Node file-system error (anything with an errno `code` and a `syscall`), or
 * undefined when e is not one. `path` names the file when the error does not carry one.
 */
export function fileSystemError(e: unknown, path?: string): InputError | OperationalError | undefined {
  if (!(e instanceof Error)) return undefined;
  const x = e as NodeJS.ErrnoException & { dest?: string };
  if (typeof x.code !== 'string' || typeof x.syscall !== 'string') return undefined;
  // rename(tmp, dest) fails on the destination (EISDIR, ENOTDIR, EEXIST): name that.
  const target = userPath(
    (x.syscall === 'rename' && x.code in MISUSE ? x.dest : undefined) ?? x.path ?? path ?? '(unknown path)',
  );
  const verb = VERB[x.syscall] ?? x.syscall;
  if (x.code in ENVIRONMENT)
    return new OperationalError([`${target}: cannot ${verb}: ${ENVIRONMENT[x.code]} (${x.code})`]);
  if (x.code in MISUSE) return located(`cannot ${verb}: ${MISUSE[x.code]} (${x.code})`, { file: target });
  return undefined;
}

/** Runs f; a file-system error it throws becomes the imcsim error (InputError / OperationalError). */
export function withFileErrors<T>(f: () => T, path?: string): T {
  try {
    return f();
  } catch (e) {
    throw fileSystemError(e, path) ?? e;
  }
}

/** As withFileErrors, for async work. */
export async function withFileErrorsAsync<T>(f: () => Promise<T>, path?: string): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw fileSystemError(e, path) ?? e;
  }
}

/** The nearest existing folder at or above `path` must be writable (checked before long work). */
function checkWritable(path: string, named: string): void {
  let p = resolve(path);
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  if (!statSync(p).isDirectory()) return; // a file in the way: mkdir reports ENOTDIR / EEXIST, located
  try {
    accessSync(p, constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EACCES';
    throw new OperationalError([
      `${named}: cannot write: ${ENVIRONMENT[code] ?? code} (${code}; the folder ${p} is not writable)`,
    ]);
  }
}

/**
 * Checked before a long run writes its result, so the user hears about it before the work, not after:
 * `path` must not be an existing directory (a file is expected), and its folder must be writable.
 */
export function checkOutputFile(path: string, flag = '--out'): void {
  if (existsSync(path) && statSync(path).isDirectory())
    throw located('is a directory; a file is expected here', { file: path, path: flag });
  checkWritable(dirname(resolve(path)), path);
}

/** The reverse: `path` must be a folder or not exist yet (nor be under a file), and be writable. */
export function checkOutputDir(path: string, flag = '--out'): void {
  if (existsSync(path) && !statSync(path).isDirectory())
    throw located('is a file; a folder is expected here', { file: path, path: flag });
  checkWritable(path, path);
}

/**
 * For writers that cannot report errno errors themselves (HDF5 through h5wasm prints its own diagnostics):
 * checks `path` is not a directory, creates its folder and the temporary file `tmp` with Node first, so a
 * bad path or a read-only folder fails here with the imcsim error.
 */
export function prepareOutputFile(path: string, tmp: string): void {
  checkOutputFile(path, path);
  withFileErrors(() => {
    mkdirSync(dirname(path), { recursive: true });
    closeSync(openSync(tmp, 'w'));
  }, path);
}
