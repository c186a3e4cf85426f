/**
 * Errors caused by bad user input (a config file, a network file, a command-line value).
 * The CLI maps every InputError to exit code 2 and prints `message` as is; anything else is an
 * internal failure (exit code 1).
 */
/** Where an input problem is: file, 1-based line and column, dotted path, what was expected and found. */
export interface Where {
  file?: string;
  line?: number;
  column?: number;
  path?: string;
  expected?: string;
  found?: string;
}

export class InputError extends Error {
  /** Source file the problem is in, when there is one. */
  readonly file: string | undefined;
  /** 1-based line and column, when the problem can be located in the file. */
  readonly line: number | undefined;
  readonly column: number | undefined;
  /** Dotted path of the offending field (`adc.bits`, `layers[3].kernel`), when there is one. */
  readonly path: string | undefined;
  readonly expected: string | undefined;
  readonly found: string | undefined;

  constructor(message: string, where: Where = {}) {
    super(message);
    this.name = 'InputError';
    this.file = where.file;
    this.line = where.line;
    this.column = where.column;
    this.path = where.path;
    this.expected = where.expected;
    this.found = where.found;
  }
}

/** Several input problems found at once (a config with three bad fields reports all three). */
export class InputErrors extends InputError {
  readonly errors: InputError[];
  constructor(errors: InputError[]) {
    super(errors.map((e) => e.message).join('\n'), errors[0]);
    this.name = 'InputErrors';
    this.errors = errors;
  }
}

/** Formats `file:line:column: path: message (expected X, found Y)` the same way everywhere. */
export function formatLocated(message: string, where: Where): string {
  let loc = where.file ?? '';
  if (where.line !== undefined) loc += `${loc ? ':' : ''}${where.line}:${where.column ?? 1}`;
  const head = [loc, where.path].filter((s) => s && s.length > 0).join(': ');
  const tail: string[] = [];
  if (where.expected !== undefined) tail.push(`expected ${where.expected}`);
  if (where.found !== undefined) tail.push(`found ${where.found}`);
  return `${head ? head + ': ' : ''}${message}${tail.length ? ` (${tail.join(', ')})` : ''}`;
}

/**
 * The usual way to raise an input error: the message carries its location (`file:line:col: path: …
 * (expected X, found Y)`), and the fields stay available to programs.
 */
export function located(message: string, where: Where = {}): InputError {
  return new InputError(formatLocated(message, where), where);
}

/**
 * A failure of the environment, not of the input nor of imcsim: a read-only or full disk, a Redis server
 * that cannot be reached or was lost, sweep points that failed at run time. The CLI reports it in the
 * error style with exit code 1, without the "this is a bug" line.
 */
export class OperationalError extends Error {
  constructor(readonly lines: string[]) {
    super(lines.join('\n'));
    this.name = 'OperationalError';
  }
}
