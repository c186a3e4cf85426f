/** Shared pieces of the command-line layer: error style, exit codes, output. */
import { InputError, InputErrors, located, OperationalError } from '../util/errors.js';
import { fileSystemError } from '../util/fs-errors.js';
import { isAbsolute, relative, resolve } from 'node:path';
import { PACKAGE_ROOT } from '../util/package-root.js';
import { removeTemps } from '../util/temp-files.js';
import { DEFAULT_ARCH_PATH, DEFAULT_ARCH_PRESET, resolvePreset } from '../util/presets.js';
import type { Command } from 'commander';
import { basename } from 'node:path';
import { loadArch, parseOverride } from '../config/load.js';
import { loadDataset, type DatasetRef, type LoadDatasetOptions } from '../snn/data/dataset.js';
import type { ChipRunOptions } from '../snn/run.js';

export { OperationalError };

export const EXIT_OK = 0;
export const EXIT_INTERNAL = 1;
export const EXIT_INPUT = 2;

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

export const processIo: Io = {
  out: (s) => process.stdout.write(s.endsWith('\n') ? s : s + '\n'),
  err: (s) => process.stderr.write(s.endsWith('\n') ? s : s + '\n'),
};

/**
 * One consistent style for every error: `imcsim: error: <file:line:col: path: message (expected, found)>`
 * and exit code 2 for bad input; `imcsim: error:` and exit code 1 for an operational failure;
 * `imcsim: internal error:` and exit code 1 for anything else.
 */
export function reportError(e: unknown, io: Io): number {
  // A file-system failure that reached here unclassified (EACCES, ENOSPC, EISDIR…): still the user's
  // or the environment's, never a bug.
  e = fileSystemError(e) ?? e;
  if (e instanceof InputError) {
    const all = e instanceof InputErrors ? e.errors : [e];
    for (const x of all) io.err(`imcsim: error: ${x.message}`);
    return EXIT_INPUT;
  }
  if (e instanceof OperationalError) {
    for (const l of e.lines) io.err(`imcsim: error: ${l}`);
    return EXIT_INTERNAL;
  }
  const err = e as Error;
  io.err(`imcsim: internal error: ${err?.stack ?? String(e)}`);
  io.err('This is a bug in imcsim; please report it with the command you ran.');
  return EXIT_INTERNAL;
}

export function parsePositiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1)
      throw located(`${name} must be a positive integer`, {
        path: name,
        expected: 'integer ≥ 1',
        found: JSON.stringify(v),
      });
    return n;
  };
}

/**
 * A numeric flag: finite, an integer if asked, at least `min` (above it when `exclusive`). The message
 * says which: "a positive number", "a number ≥ 0", "an integer ≥ 0".
 */
export function parseNumber(flag: string, o: { min: number; exclusive?: boolean; integer?: boolean }) {
  const what = o.integer
    ? `an integer ${o.exclusive ? '>' : '≥'} ${o.min}`
    : o.exclusive && o.min === 0
      ? 'a positive number'
      : `a number ${o.exclusive ? '>' : '≥'} ${o.min}`;
  return (v: string): number => {
    const n = Number(v);
    const ok =
      v.trim() !== '' &&
      (o.integer ? Number.isInteger(n) : Number.isFinite(n)) &&
      (o.exclusive ? n > o.min : n >= o.min);
    if (!ok) throw located(`${flag} must be ${what}`, { path: flag, found: JSON.stringify(v) });
    return n;
  };
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** A commander parser accepting one of `choices` (bad input: exit code 2, with the choices listed). */
export function oneOf<T extends string>(flag: string, choices: readonly T[]) {
  return (v: string): T => {
    if (!(choices as readonly string[]).includes(v))
      throw located(`unknown value for ${flag}`, {
        path: flag,
        expected: `one of ${choices.join(', ')}`,
        found: JSON.stringify(v),
      });
    return v as T;
  };
}

/** A seed: an integer in [0, 2^32). */
export function parseSeed(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff)
    throw located('--seed must be an integer in [0, 2^32)', { path: '--seed', found: JSON.stringify(v) });
  return n;
}

/** A commander parser for --arch / --network / --model: a path, or the name of a bundled preset. */
export function preset(flag: '--arch' | '--network' | '--model') {
  return (v: string): string => resolvePreset(v, flag);
}

/** --arch when given, else the bundled default chip, said once on stderr. */
export function archOrDefault(arch: string | undefined, io: Io): string {
  if (arch !== undefined) return arch;
  io.err(`imcsim: note: using the bundled default chip (${DEFAULT_ARCH_PRESET})`);
  return DEFAULT_ARCH_PATH;
}

const REQUIRED = new WeakSet<object>();
/** Marks a command-line option as required (checked for all at once, shown in help and docs/CLI.md). */
export function markRequired(o: object): void {
  REQUIRED.add(o);
}
export function isRequiredOption(o: object): boolean {
  return REQUIRED.has(o);
}

/** The --arch / --set options of hardware-aware inference (eval, trace, dtsnn-curve, ldsnn-search). */
export function addChipOptions(cmd: Command): Command {
  return cmd
    .option(
      '--arch <file|preset>',
      'run on this chip’s arithmetic (quantised weights, grouped reads through the ADC, fixed-point potentials, device: keys); default: the float engine',
      preset('--arch'),
    )
    .option('--set <path=value>', 'with --arch: override an arch key (repeatable)', collect, []);
}

/**
 * Hardware-aware inference options from --arch / --set: the chip, its name (the file name without
 * extension: a preset's name, never a path) and the training split of the dataset for calibration
 * (loaded with the run's own options: directory, normalisation, event binning).
 */
export function chipRunOptions(
  o: { arch?: string; set?: string[] },
  dataset: DatasetRef,
  loadOpts: LoadDatasetOptions,
): ChipRunOptions | undefined {
  if (o.arch === undefined) {
    if (o.set && o.set.length > 0)
      throw located('--set needs --arch (the chip whose arithmetic it changes)', { path: '--set' });
    return undefined;
  }
  const spec = loadArch(o.arch, (o.set ?? []).map(parseOverride));
  const name = basename(o.arch).replace(/\.ya?ml$/i, '');
  // The first adc.calibration_samples images of the training split, loaded as the run loads its split.
  const calibration = loadDataset(dataset, 'train', { ...loadOpts, limit: spec.adc.calibration_samples });
  return { spec, name, calibration };
}

/**
 * A path as the terminal shows it: relative to the working directory when it lies inside it, as
 * `<imcsim>/…` when it is a bundled file of the installed package, else as given. Keeps absolute
 * install or home paths out of what the tool prints.
 */
export function shownPath(p: string): string {
  const abs = resolve(p);
  const rel = relative(process.cwd(), abs);
  if (rel === '') return '.';
  if (!rel.startsWith('..') && !isAbsolute(rel)) return rel;
  const fromPackage = relative(PACKAGE_ROOT, abs);
  if (!fromPackage.startsWith('..') && !isAbsolute(fromPackage)) return `<imcsim>/${fromPackage}`;
  return p;
}

/**
 * The reader of stdout went away (`imcsim presets | head`): stop quietly, as Unix tools do, after
 * removing temporary files; never an EPIPE stack trace.
 */
export function installBrokenPipeHandling(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') {
      removeTemps();
      process.exit(0);
    }
    throw e;
  });
}
