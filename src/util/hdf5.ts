/**
 * h5wasm, made quiet and located: the library with its throwing error handler switched on, HDF5's
 * diagnostic stack reduced to its innermost message, and the HDF5 signature test run before HDF5 opens a
 * file. Shared by NIR graphs (snn/io/nir.ts) and NIRData spike recordings (trace/).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { InputError, located } from './errors.js';

export type H5Lib = typeof import('h5wasm/node').default;
let ready: Promise<H5Lib> | null = null;
/** The library once h5() has loaded it (instanceof checks run only after a read began). */
let loaded: H5Lib | undefined;
/**
 * The HDF5 library, ready. HDF5's default error handler prints a multi-line diagnostic stack to stderr
 * (through console.error); h5wasm's throwing handler puts that text in a JS Error instead, which
 * readGraph turns into our one-line InputError, so nothing from HDF5 reaches the terminal.
 */
export async function h5(): Promise<H5Lib> {
  // Loaded on first use: compiling the HDF5 WebAssembly module costs every other command's start-up.
  ready ??= import('h5wasm/node').then(async (mod) => {
    const m = await mod.default.ready;
    m.activate_throwing_error_handler();
    loaded = mod.default;
    return mod.default;
  });
  return ready;
}

/** The library h5() loaded; for instanceof checks inside a read that began with `await h5()`. */
export function h5Loaded(): H5Lib {
  if (!loaded) throw new Error('internal: h5Loaded() before h5()');
  return loaded;
}

/** The innermost HDF5 message (e.g. "bad symbol table node signature") of a diagnostic stack, or the text. */
export function hdf5Reason(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  const minor = [...text.matchAll(/minor: (.+)/g)].map((m) => m[1].trim());
  const lines = [...text.matchAll(/#\d+: .*? in (\w+)\(\): (.+)/g)].map((m) => m[2].trim());
  const last =
    lines.at(-1) ??
    text
      .split('\n')
      .find((l) => l.trim() !== '')
      ?.trim() ??
    'unknown error';
  return minor.length > 0 ? `${last} (${minor.at(-1)})` : last;
}

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** HDF5 files start with a signature at offset 0, 512, 1024, 2048, …; checked first so HDF5 prints nothing. */
export function looksLikeHdf5(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.alloc(8);
    for (let off = 0; off + 8 <= size; off = off === 0 ? 512 : off * 2) {
      readSync(fd, buf, 0, 8, off);
      if (HDF5_SIGNATURE.every((b, i) => buf[i] === b)) return true;
    }
    return false;
  } finally {
    closeSync(fd);
  }
}

/**
 * Runs a synchronous read with stderr held (a wasm abort prints "Aborted(…)" through the console.error
 * Emscripten bound at load time); an HDF5 failure becomes one InputError line naming the file.
 */
export function withQuietHdf5<T>(file: string, what: string, expected: string, read: () => T): T {
  const write = process.stderr.write;
  process.stderr.write = () => true;
  try {
    return read();
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw located(`corrupt or unreadable ${what} (HDF5)`, {
      file,
      expected,
      found: hdf5Reason(e),
    });
  } finally {
    process.stderr.write = write;
  }
}
