/**
 * Generic YAML loader: parses YAML text with resource limits, validates it against a zod schema and reports
 * every problem as an {@link InputError} located at `file:line:column` with a dotted path, what was expected
 * and what was found.
 *
 * Nothing in here throws anything but InputError / InputErrors for bad input text (the schema itself is
 * trusted code: a refinement that throws still propagates its own error).
 */
import {
  Composer,
  Lexer,
  LineCounter,
  Parser,
  YAMLParseError,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
} from 'yaml';
import type { Document, Node as YamlNode } from 'yaml';
import type { z } from 'zod';
import { InputError, InputErrors, formatLocated } from './errors.js';

export interface LoadLimits {
  /** Largest accepted text, in UTF-8 bytes. */
  maxBytes: number;
  /** Passed to yaml's `toJS({ maxAliasCount })`: caps alias expansion ("billion laughs"). */
  maxAliasCount: number;
  /** Deepest accepted nesting of mappings/sequences (also after alias expansion). */
  maxDepth: number;
}

export const DEFAULT_LIMITS: LoadLimits = Object.freeze({
  maxBytes: 1024 * 1024,
  maxAliasCount: 100,
  maxDepth: 64,
});

/**
 * yaml's composer recurses once per nesting level, and V8 aborts the whole process (uncatchably) when it
 * has to compile a regular expression close to the stack limit (seen at ~3000 levels). The CST parser is
 * iterative, so its stack is watched while parsing and anything deeper than this is refused before it is
 * composed, whatever maxDepth says.
 */
const PARSER_NESTING_CAP = 500;

type PathSegment = string | number;

// ---------------------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------------------

/** Parse YAML text and validate it against a zod schema. Returns the parsed (defaults applied) value deep-frozen. */
export function loadYaml<S extends z.ZodType>(
  text: string,
  file: string,
  schema: S,
  limits?: Partial<LoadLimits>,
): z.output<S> {
  const parsed = parseInternal(text, file, resolveLimits(limits));
  return validateInternal(parsed.value, schema, {
    file,
    doc: parsed.doc,
    lineCounter: parsed.lineCounter,
    strict: false,
  });
}

/**
 * Same for a plain JS object that did not come from a file (e.g. after --set overrides); errors carry the
 * path but no line. Optionally pass the original YAML text+file so paths that still exist are located in it.
 */
export function validatePlain<S extends z.ZodType>(
  value: unknown,
  schema: S,
  origin?: { text: string; file: string },
): z.output<S> {
  const depthProblem = jsDepthProblem(value, DEFAULT_LIMITS.maxDepth);
  if (depthProblem) throw new InputError(formatLocated(depthProblem, {}));
  let locator: Locator | undefined;
  if (origin) {
    try {
      if (Buffer.byteLength(origin.text, 'utf8') <= DEFAULT_LIMITS.maxBytes) {
        const lineCounter = new LineCounter();
        const doc = composeGuarded(origin.text, lineCounter, parserGuard(DEFAULT_LIMITS.maxDepth));
        locator = { file: origin.file, doc, lineCounter, strict: true };
      }
    } catch {
      locator = undefined; // the origin is only used to locate errors; never fail because of it
    }
  }
  return validateInternal(value, schema, locator);
}

/** Parse YAML to a plain JS object (limits enforced, syntax errors located) without schema validation. */
export function parseYamlPlain(text: string, file: string, limits?: Partial<LoadLimits>): unknown {
  return parseInternal(text, file, resolveLimits(limits)).value;
}

/** Object.freeze, recursively (arrays, plain objects, Map/Set contents). Typed arrays are left as they are. */
export function deepFreeze<T>(v: T): T {
  const seen = new WeakSet<object>();
  const stack: unknown[] = [v];
  while (stack.length > 0) {
    const cur = stack.pop();
    if (typeof cur !== 'object' || cur === null || seen.has(cur)) continue;
    seen.add(cur);
    if (ArrayBuffer.isView(cur)) continue; // freezing a non-empty typed array throws
    if (cur instanceof Map) {
      for (const [k, val] of cur) stack.push(k, val);
    } else if (cur instanceof Set) {
      for (const val of cur) stack.push(val);
    }
    for (const key of Reflect.ownKeys(cur)) {
      const desc = Object.getOwnPropertyDescriptor(cur, key);
      if (desc && 'value' in desc) stack.push(desc.value);
    }
    Object.freeze(cur);
  }
  return v;
}

/**
 * Levenshtein-based suggestion: best candidate within distance max(2, len/3), or undefined. Case is ignored,
 * ties go to the earlier candidate, and a candidate differing in every character is never suggested.
 */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const maxDist = Math.max(2, Math.floor(word.length / 3));
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestDist = Infinity;
  for (const cand of candidates) {
    if (typeof cand !== 'string') continue;
    const c = cand.toLowerCase();
    if (Math.abs(c.length - w.length) > Math.min(maxDist, bestDist)) continue;
    const d = levenshtein(w, c, Math.min(maxDist, bestDist));
    if (d < bestDist) {
      bestDist = d;
      best = cand;
    }
  }
  // replacing every character of a word is no suggestion ("c" for "a")
  if (best === undefined || bestDist > maxDist || bestDist >= Math.max(w.length, best.length))
    return undefined;
  return best;
}

// ---------------------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------------------

interface Parsed {
  value: unknown;
  doc: Document.Parsed;
  lineCounter: LineCounter;
}

function resolveLimits(limits: Partial<LoadLimits> | undefined): LoadLimits {
  const out: LoadLimits = { ...DEFAULT_LIMITS };
  if (limits) {
    for (const k of ['maxBytes', 'maxAliasCount', 'maxDepth'] as const) {
      const v = limits[k];
      if (typeof v === 'number' && !Number.isNaN(v)) out[k] = v;
    }
  }
  return out;
}

/** Stack depth of yaml's CST parser above which the text is refused (document + collections + a scalar). */
function parserGuard(maxDepth: number): number {
  return Math.min(PARSER_NESTING_CAP, Math.max(0, maxDepth) + 4);
}

class NestingTooDeep {
  constructor(readonly offset: number) {}
}

/**
 * What yaml's `parseDocument(text, { lineCounter })` does (Lexer -> Parser -> Composer), except that the
 * parser's stack is watched so that deeply nested text never reaches the recursive composer (throws
 * NestingTooDeep instead).
 */
function composeGuarded(text: string, lineCounter: LineCounter, guard: number): Document.Parsed {
  const lexer = new Lexer();
  const parser = new Parser(lineCounter.addNewLine);
  if (lineCounter.lineStarts.length === 0) lineCounter.addNewLine(0); // Parser.parse() would do this
  function* tokens() {
    for (const lexeme of lexer.lex(text)) {
      yield* parser.next(lexeme);
      if (parser.stack.length > guard) throw new NestingTooDeep(parser.offset);
    }
    yield* parser.end();
  }
  // uniqueKeys is checked afterwards in linear time (yaml's own check is quadratic in the number of keys)
  const composer = new Composer({ uniqueKeys: false, logLevel: 'error' });
  let doc: Document.Parsed | undefined;
  // yaml creates one Error object per syntax error; capturing a stack trace for each makes text full of
  // errors (1 MiB of "]") take many seconds
  const savedStackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    for (const d of composer.compose(tokens(), true, text.length)) {
      if (!doc) {
        doc = d;
      } else {
        const range = d.range ?? [0, 0];
        doc.errors.push(
          new YAMLParseError([range[0], range[1]], 'MULTIPLE_DOCS', 'Source contains multiple documents'),
        );
        break;
      }
    }
  } finally {
    Error.stackTraceLimit = savedStackTraceLimit;
  }
  if (!doc) throw new Error('yaml composer produced no document');
  return doc;
}

function parseInternal(text: string, file: string, limits: LoadLimits): Parsed {
  if (typeof text !== 'string') {
    throw new InputError(formatLocated('expected YAML text', { file }), { file });
  }
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > limits.maxBytes) {
    const msg = `file is too large: ${bytes} bytes, the limit is ${limits.maxBytes} bytes`;
    throw new InputError(formatLocated(msg, { file }), {
      file,
      expected: `at most ${limits.maxBytes} bytes`,
    });
  }

  const tooDeep = `nesting is deeper than the limit of ${limits.maxDepth} levels`;
  const lineCounter = new LineCounter();
  let doc: Document.Parsed;
  try {
    doc = composeGuarded(text, lineCounter, parserGuard(limits.maxDepth));
  } catch (e) {
    if (e instanceof NestingTooDeep) {
      const where = { file, ...position(lineCounter, e.offset) };
      throw new InputError(formatLocated(tooDeep, where), where);
    }
    throw new InputError(formatLocated(`cannot parse YAML: ${errorMessage(e)}`, { file }), { file });
  }

  const scan = scanAst(doc.contents, limits.maxDepth);
  const raw: RawProblem[] = [...doc.errors];
  for (const key of scan.duplicates) {
    const start = nodeRangeStart(key) ?? 0;
    raw.push({ pos: [start, start + 1], code: 'DUPLICATE_KEY', message: 'Map keys must be unique' });
  }
  // only the first few get a message (rendering a source line is O(line length) each)
  const firstOffset = (e: RawProblem) => (Array.isArray(e.pos) && e.pos[0] >= 0 ? e.pos[0] : Infinity);
  raw.sort((a, b) => firstOffset(a) - firstOffset(b));
  const problems = raw.slice(0, MAX_REPORTED).map((e) => syntaxError(e, file, text, lineCounter));
  if (problems.length > 0) throwAll(problems, raw.length - problems.length);
  if (scan.deep) {
    const where = { file, ...position(lineCounter, nodeRangeStart(scan.deep)) };
    throw new InputError(formatLocated(tooDeep, where), where);
  }

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: limits.maxAliasCount });
  } catch (e) {
    const msg = errorMessage(e);
    if (/alias count/i.test(msg)) {
      const m =
        `too many alias expansions (limit maxAliasCount = ${limits.maxAliasCount}); ` +
        'refusing input that looks like an alias bomb';
      throw new InputError(formatLocated(m, { file }), { file });
    }
    throw new InputError(formatLocated(`cannot convert YAML: ${msg}`, { file }), { file });
  }

  const depthProblem = jsDepthProblem(value, limits.maxDepth);
  if (depthProblem) throw new InputError(formatLocated(depthProblem, { file }), { file });

  return { value, doc, lineCounter };
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A yaml parse error, or one of ours in the same shape. */
interface RawProblem {
  pos: [number, number];
  code: string;
  message: string;
}

function syntaxError(e: RawProblem, file: string, text: string, lc: LineCounter): InputError {
  let base = (typeof e.message === 'string' ? e.message : String(e.message)).trim() || 'YAML syntax error';
  if (e.code === 'DUPLICATE_KEY') base = `duplicate key (${base.charAt(0).toLowerCase()}${base.slice(1)})`;
  const start = Array.isArray(e.pos) && e.pos[0] >= 0 ? Math.min(e.pos[0], text.length) : undefined;
  const where = { file, ...position(lc, start) };
  let message = formatLocated(base, where);
  if (start !== undefined && where.line !== undefined)
    message += '\n' + sourceContext(text, lc, where.line, start);
  return new InputError(message, where);
}

/** The offending source line (trimmed to 80 columns around the error) and a caret under the column. */
function sourceContext(text: string, lc: LineCounter, line: number, offset: number): string {
  const lineStart = lc.lineStarts[line - 1] ?? 0;
  let lineEnd = text.indexOf('\n', lineStart);
  if (lineEnd < 0) lineEnd = text.length;
  let src = text.slice(lineStart, lineEnd).replace(/\r$/, '');
  let col = offset - lineStart;
  if (col > 60) {
    src = '…' + src.slice(col - 40);
    col = 41;
  }
  if (src.length > 80) src = src.slice(0, 79) + '…';
  src = src.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '?');
  const pointer = src.slice(0, col).replace(/[^\t]/g, ' ') + '^';
  let out = `    ${src}\n    ${pointer}`;
  if (line > 1 && /^[ \t]*$/.test(src.slice(0, col))) {
    // pointing at the start of a line: the problem is usually at the end of the previous one
    const prevStart = lc.lineStarts[line - 2] ?? 0;
    let prev = text.slice(prevStart, Math.max(prevStart, lineStart - 1)).replace(/\r$/, '');
    if (prev.length > 80) prev = prev.slice(0, 79) + '…';
    out = `    ${prev.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '?')}\n${out}`;
  }
  return out;
}

/** At most this many problems are reported at once. */
const MAX_REPORTED = 50;

/**
 * Throws the single error, or all of them as InputErrors: sorted by line then column, duplicates dropped, at
 * most MAX_REPORTED followed by a "... and N more problems" line (`hidden` counts problems never rendered).
 */
function throwAll(errors: InputError[], hidden = 0): never {
  const sorted = errors
    .map((e, i) => ({ e, i }))
    .sort(
      (a, b) =>
        (a.e.line ?? Infinity) - (b.e.line ?? Infinity) ||
        (a.e.column ?? Infinity) - (b.e.column ?? Infinity) ||
        a.i - b.i,
    )
    .map((x) => x.e);
  let unique: InputError[] = [];
  const seen = new Set<string>();
  for (const e of sorted) {
    if (seen.has(e.message)) continue;
    seen.add(e.message);
    unique.push(e);
  }
  if (unique.length === 1 && hidden <= 0) throw unique[0];
  const more = Math.max(0, unique.length - MAX_REPORTED) + Math.max(0, hidden);
  if (more > 0) {
    const file = unique[0]?.file;
    const msg = `... and ${more} more problem${more === 1 ? '' : 's'} not shown`;
    unique = [...unique.slice(0, MAX_REPORTED), new InputError(formatLocated(msg, { file }), { file })];
  }
  throw new InputErrors(unique);
}

function position(lc: LineCounter, offset: number | undefined): { line?: number; column?: number } {
  if (offset === undefined || offset < 0) return {};
  const { line, col } = lc.linePos(offset);
  return { line, column: col };
}

/**
 * One iterative pass over the composed document: the first collection nested deeper than maxDepth (aliases
 * are not followed) and every repeated scalar key of a mapping (yaml's `uniqueKeys` rule).
 */
function scanAst(root: unknown, maxDepth: number): { deep?: YamlNode; duplicates: YamlNode[] } {
  const duplicates: YamlNode[] = [];
  const stack: Array<[unknown, number]> = [[root, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (isMap(node) || isSeq(node)) {
      if (depth + 1 > maxDepth) return { deep: node, duplicates };
      const keys = isMap(node) ? new Set<unknown>() : undefined;
      for (const item of node.items as unknown[]) {
        if (keys && isPair(item) && isScalar(item.key)) {
          if (keys.has(item.key.value)) duplicates.push(item.key);
          else keys.add(item.key.value);
        }
        stack.push([item, depth + 1]);
      }
    } else if (isPair(node)) {
      stack.push([node.key, depth], [node.value, depth]);
    }
  }
  return { duplicates };
}

/** Depth check of a JS value (after alias expansion, which may also create cycles). */
function jsDepthProblem(root: unknown, maxDepth: number): string | undefined {
  const bestDepth = new Map<object, number>();
  const stack: Array<[unknown, number]> = [[root, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null || ArrayBuffer.isView(v)) continue;
    const d = depth + 1;
    if (d > maxDepth) {
      return `nesting is deeper than the limit of ${maxDepth} levels (after expanding aliases; recursive alias?)`;
    }
    const prev = bestDepth.get(v);
    if (prev !== undefined && prev >= d) continue;
    bestDepth.set(v, d);
    if (v instanceof Map) for (const [k, x] of v) stack.push([k, d], [x, d]);
    else if (v instanceof Set) for (const x of v) stack.push([x, d]);
    else for (const x of Object.values(v)) stack.push([x, d]);
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Locating paths in the YAML document
// ---------------------------------------------------------------------------------------------------------

interface Locator {
  file: string;
  doc: Document.Parsed | Document;
  lineCounter: LineCounter;
  /** Only report a position when the whole path exists in the document (validatePlain's origin). */
  strict: boolean;
}

interface Step {
  node: unknown;
  keyNode?: unknown;
}

function nodeRangeStart(n: unknown): number | undefined {
  if (n && typeof n === 'object' && 'range' in n) {
    const r = (n as { range?: unknown }).range;
    if (Array.isArray(r) && typeof r[0] === 'number') return r[0];
  }
  return undefined;
}

/** Per-mapping index from JS key (as toJS spells it) to its pair; the last duplicate wins, as in toJS. */
const keyIndexCache = new WeakMap<object, Map<string, Step>>();
const aliasCache = new WeakMap<object, unknown>();

function lookupKey(map: object & { items: unknown[] }, seg: PathSegment): Step | undefined {
  let index = keyIndexCache.get(map);
  if (!index) {
    index = new Map();
    for (const pair of map.items) {
      if (!isPair(pair) || !isScalar(pair.key)) continue;
      const v = pair.key.value;
      const step = { node: pair.value, keyNode: pair.key };
      for (const name of v === null || v === undefined ? ['', 'null'] : [String(v)]) index.set(name, step);
    }
    keyIndexCache.set(map, index);
  }
  return index.get(String(seg));
}

/** Walks the YAML node tree along `path`; returns one step per consumed segment (plus the root). */
function walkDoc(doc: Document.Parsed | Document, path: readonly PathSegment[]): Step[] {
  const steps: Step[] = [{ node: doc.contents }];
  let node: unknown = doc.contents;
  for (const seg of path) {
    for (let i = 0; i < 32 && isAlias(node); i++) node = resolveAlias(doc, node);
    let next: Step | undefined;
    if (isMap(node)) {
      next = lookupKey(node, seg);
    } else if (isSeq(node)) {
      const idx = typeof seg === 'number' ? seg : /^\d+$/.test(seg) ? Number(seg) : -1;
      if (idx >= 0 && idx < node.items.length) next = { node: node.items[idx] };
    }
    if (!next) break;
    steps.push(next);
    node = next.node;
  }
  return steps;
}

function resolveAlias(doc: Document.Parsed | Document, node: unknown): unknown {
  if (!isAlias(node)) return node;
  if (aliasCache.has(node)) return aliasCache.get(node);
  let target: unknown;
  try {
    target = node.resolve(doc as Document);
  } catch {
    target = undefined;
  }
  aliasCache.set(node, target);
  return target;
}

type LocateMode = 'value' | 'key' | 'parent';

function locate(
  loc: Locator | undefined,
  path: readonly PathSegment[],
  mode: LocateMode,
): { file?: string; line?: number; column?: number } {
  if (!loc) return {};
  const target = mode === 'parent' ? path.slice(0, -1) : path;
  const steps = walkDoc(loc.doc, target);
  const complete = steps.length === target.length + 1;
  if (loc.strict && !complete) return {};
  let offset: number | undefined;
  for (let i = steps.length - 1; i >= 0 && offset === undefined; i--) {
    const s = steps[i];
    const isLast = i === steps.length - 1 && complete;
    const emptyValue = s.node === null || (isScalar(s.node) && s.node.source === '');
    if ((isLast && mode === 'key') || emptyValue) offset = nodeRangeStart(s.keyNode);
    if (offset === undefined) offset = nodeRangeStart(s.node) ?? nodeRangeStart(s.keyNode);
  }
  const pos = position(loc.lineCounter, offset);
  if (pos.line === undefined) {
    if (loc.strict) return {};
    return { file: loc.file, line: 1, column: 1 };
  }
  return { file: loc.file, ...pos };
}

// ---------------------------------------------------------------------------------------------------------
// Introspecting zod schemas (zod 4 internals: `schema._zod.def`)
// ---------------------------------------------------------------------------------------------------------

type ZDef = { type: string } & Record<string, unknown>;

function defOf(s: unknown): ZDef | undefined {
  if (typeof s !== 'object' || s === null) return undefined;
  const internals = (s as { _zod?: { def?: unknown } })._zod;
  const def = internals?.def;
  if (typeof def === 'object' && def !== null && typeof (def as { type?: unknown }).type === 'string') {
    return def as ZDef;
  }
  return undefined;
}

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'catch', 'readonly', 'nonoptional']);

function unwrap(s: unknown): unknown {
  let cur = s;
  for (let i = 0; i < 32; i++) {
    const d = defOf(cur);
    if (!d) return cur;
    if (WRAPPERS.has(d.type) || d.type === 'promise') cur = d.innerType;
    else if (d.type === 'pipe') cur = d.in;
    else if (d.type === 'lazy' && typeof d.getter === 'function') {
      try {
        cur = (d.getter as () => unknown)();
      } catch {
        return undefined;
      }
    } else return cur;
  }
  return cur;
}

function ownChild(v: unknown, seg: PathSegment): unknown {
  if (Array.isArray(v)) return typeof seg === 'number' ? v[seg] : undefined;
  if (v instanceof Map) return v.get(seg);
  if (typeof v === 'object' && v !== null && Object.prototype.hasOwnProperty.call(v, String(seg))) {
    return (v as Record<string, unknown>)[String(seg)];
  }
  return undefined;
}

function hasOwnChild(v: unknown, seg: PathSegment): boolean {
  if (Array.isArray(v)) return typeof seg === 'number' && seg >= 0 && seg < v.length;
  if (v instanceof Map) return v.has(seg);
  return typeof v === 'object' && v !== null && Object.prototype.hasOwnProperty.call(v, String(seg));
}

function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let v = data;
  for (const seg of path) v = ownChild(v, seg);
  return v;
}

/** Unwraps and flattens unions (filtered by discriminator when possible) and intersections. */
function expand(schemas: readonly unknown[], value: unknown, depth = 0): unknown[] {
  const out: unknown[] = [];
  for (const raw of schemas) {
    const s = unwrap(raw);
    const d = defOf(s);
    if (!d) continue;
    if (depth < 8 && d.type === 'union' && Array.isArray(d.options)) {
      let options = d.options as unknown[];
      const disc = d.discriminator;
      if (typeof disc === 'string' && hasOwnChild(value, disc)) {
        const dv = ownChild(value, disc);
        const matching = options.filter((o) => {
          const od = defOf(unwrap(o));
          const shape = od?.type === 'object' ? (od.shape as Record<string, unknown>) : undefined;
          const allowed = shape ? allowedValues(shape[disc]) : undefined;
          return allowed?.includes(dv) ?? false;
        });
        if (matching.length > 0) options = matching;
      }
      out.push(...expand(options, value, depth + 1));
    } else if (depth < 8 && d.type === 'intersection') {
      out.push(...expand([d.left, d.right], value, depth + 1));
    } else {
      out.push(s);
    }
  }
  return out;
}

/** The (unwrapped) schemas that may apply to the value at `path`. */
function schemasAt(root: unknown, path: readonly PathSegment[], data: unknown): unknown[] {
  let current = expand([root], data);
  let value = data;
  for (const seg of path) {
    const next: unknown[] = [];
    for (const s of current) {
      const d = defOf(s);
      if (!d) continue;
      switch (d.type) {
        case 'object': {
          const shape = d.shape as Record<string, unknown>;
          if (typeof seg === 'string' && Object.prototype.hasOwnProperty.call(shape, seg))
            next.push(shape[seg]);
          else if (d.catchall && defOf(d.catchall)?.type !== 'never') next.push(d.catchall);
          break;
        }
        case 'record':
        case 'map':
          next.push(d.valueType);
          break;
        case 'set':
          next.push(d.valueType);
          break;
        case 'array':
          if (typeof seg === 'number') next.push(d.element);
          break;
        case 'tuple': {
          const items = d.items as unknown[];
          if (typeof seg === 'number') next.push(seg < items.length ? items[seg] : d.rest);
          break;
        }
        default:
          break;
      }
    }
    value = ownChild(value, seg);
    current = expand(
      next.filter((x) => x !== undefined && x !== null),
      value,
    );
  }
  return current;
}

/** Known keys of the object schema(s) at `path`, in declaration order. */
function shapeKeysAt(root: unknown, path: readonly PathSegment[], data: unknown): string[] {
  const keys: string[] = [];
  for (const s of schemasAt(root, path, data)) {
    const d = defOf(s);
    if (d?.type !== 'object') continue;
    for (const k of Object.keys(d.shape as Record<string, unknown>)) if (!keys.includes(k)) keys.push(k);
  }
  return keys;
}

/** The literal values an enum / literal (or a union of those) accepts, or undefined. */
function allowedValues(s: unknown, depth = 0): unknown[] | undefined {
  const u = unwrap(s);
  const d = defOf(u);
  if (!d || depth > 8) return undefined;
  if (d.type === 'enum' && typeof d.entries === 'object' && d.entries !== null) {
    return [...new Set(Object.values(d.entries as Record<string, unknown>))];
  }
  if (d.type === 'literal' && Array.isArray(d.values)) return d.values as unknown[];
  if (d.type === 'union' && Array.isArray(d.options)) {
    const all: unknown[] = [];
    for (const o of d.options as unknown[]) {
      const v = allowedValues(o, depth + 1);
      if (!v) return undefined;
      for (const x of v) if (!all.includes(x)) all.push(x);
    }
    return all;
  }
  return undefined;
}

interface CheckDef {
  check?: string;
  value?: unknown;
  inclusive?: boolean;
  format?: string;
}

function checksOf(d: ZDef): CheckDef[] {
  const checks = Array.isArray(d.checks) ? (d.checks as unknown[]) : [];
  const out: CheckDef[] = [];
  for (const c of checks) {
    const cd = (c as { _zod?: { def?: unknown } } | null)?._zod?.def;
    if (typeof cd === 'object' && cd !== null) out.push(cd as CheckDef);
  }
  return out;
}

const INT_FORMATS = new Set(['safeint', 'int32', 'uint32', 'int64', 'uint64']);

function describeNumber(d: ZDef): string {
  const checks = checksOf(d);
  const isInt =
    (typeof d.format === 'string' && INT_FORMATS.has(d.format)) ||
    checks.some(
      (c) => c.check === 'number_format' && typeof c.format === 'string' && INT_FORMATS.has(c.format),
    );
  let lo: { v: number; incl: boolean } | undefined;
  let hi: { v: number; incl: boolean } | undefined;
  let multipleOf: unknown;
  for (const c of checks) {
    if (c.check === 'greater_than' && typeof c.value === 'number') {
      if (!lo || c.value > lo.v || (c.value === lo.v && !c.inclusive))
        lo = { v: c.value, incl: !!c.inclusive };
    } else if (c.check === 'less_than' && typeof c.value === 'number') {
      if (!hi || c.value < hi.v || (c.value === hi.v && !c.inclusive))
        hi = { v: c.value, incl: !!c.inclusive };
    } else if (c.check === 'multiple_of') {
      multipleOf = c.value;
    }
  }
  const parts: string[] = [];
  if (lo) parts.push(`${lo.incl ? '>=' : '>'} ${lo.v}`);
  if (hi) parts.push(`${hi.incl ? '<=' : '<'} ${hi.v}`);
  let out = isInt ? 'integer' : 'number';
  if (parts.length) out += ' ' + parts.join(' and ');
  if (multipleOf !== undefined) out += `${parts.length ? ',' : ''} multiple of ${String(multipleOf)}`;
  return out;
}

function renderLiteral(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return `${v}`;
  return String(v);
}

function oneOf(values: readonly unknown[]): string {
  return values.length === 1 ? renderLiteral(values[0]) : `one of ${values.map(renderLiteral).join(', ')}`;
}

/** A short human description of what a schema accepts (`integer >= 1`, `one of "a", "b"`, `mapping`). */
function describe(s: unknown, depth = 0): string | undefined {
  const d = defOf(s);
  if (!d || depth > 8) return undefined;
  switch (d.type) {
    case 'optional':
    case 'default':
    case 'prefault':
    case 'catch':
    case 'readonly':
    case 'nonoptional':
    case 'promise':
      return describe(d.innerType, depth + 1);
    case 'nullable': {
      const inner = describe(d.innerType, depth + 1);
      return inner ? `${inner} or null` : undefined;
    }
    case 'pipe':
      return describe(d.in, depth + 1);
    case 'lazy':
      return describe(unwrap(s), depth + 1);
    case 'number':
      return describeNumber(d);
    case 'bigint':
      return 'integer';
    case 'string':
    case 'boolean':
    case 'null':
    case 'date':
    case 'symbol':
      return d.type;
    case 'undefined':
    case 'void':
      return 'nothing';
    case 'nan':
      return 'NaN';
    case 'literal':
    case 'enum': {
      const vals = allowedValues(s);
      return vals ? oneOf(vals) : undefined;
    }
    case 'object':
    case 'record':
    case 'map':
      return 'mapping';
    case 'array':
    case 'tuple':
    case 'set':
      return 'list';
    case 'union': {
      const vals = allowedValues(s);
      if (vals) return oneOf(vals);
      const parts: string[] = [];
      for (const o of (d.options as unknown[]) ?? []) {
        const p = describe(o, depth + 1);
        if (p && !parts.includes(p)) parts.push(p);
      }
      return parts.length ? parts.join(' or ') : undefined;
    }
    case 'intersection':
      return describe(d.left, depth + 1);
    case 'any':
    case 'unknown':
      return 'any value';
    default:
      return undefined;
  }
}

function describeAt(root: unknown, path: readonly PathSegment[], data: unknown): string | undefined {
  const found = schemasAt(root, path, data);
  const parts: string[] = [];
  for (const s of found) {
    const p = describe(s);
    if (p && !parts.includes(p)) parts.push(p);
  }
  return parts.length ? parts.join(' or ') : undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------------------

/** `adc.bits`, `layers[3].kernel`, `weird["a.b"]`. */
function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(seg)) out += (out ? '.' : '') + seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

function truncate(s: string, max = 40): string {
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Short rendering of a value found in the input: `"8x" (string)`, `-3`, `missing`, `list of 2 items`. */
function renderFound(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (typeof v === 'string') return `${JSON.stringify(truncate(v))} (string)`;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'bigint') return `${v}`;
  if (Array.isArray(v)) return `list of ${plural(v.length, 'item')}`;
  if (ArrayBuffer.isView(v)) return `binary data (${plural(v.byteLength, 'byte')})`;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? 'invalid date' : v.toISOString();
  if (v instanceof Map) return `mapping with ${plural(v.size, 'entry')}`.replace('entrys', 'entries');
  if (v instanceof Set) return `set of ${plural(v.size, 'item')}`;
  if (typeof v === 'object') {
    const keys = Object.keys(v);
    if (keys.length === 0) return 'empty mapping';
    const shown = keys.slice(0, 4).map((k) => truncate(k, 20));
    return `mapping with keys ${shown.join(', ')}${keys.length > 4 ? ', …' : ''}`;
  }
  return typeof v;
}

function withArticle(expected: string): string {
  if (/^(one of|null|nothing|any |NaN)/.test(expected) || /^["'\d-]/.test(expected)) return expected;
  return /^[aeiou]/i.test(expected) ? `an ${expected}` : `a ${expected}`;
}

const ZOD_TYPE_NAMES: Record<string, string> = {
  object: 'mapping',
  record: 'mapping',
  map: 'mapping',
  array: 'list',
  tuple: 'list',
  set: 'list',
  int: 'integer',
  bigint: 'integer',
  undefined: 'nothing',
  void: 'nothing',
  never: 'nothing',
};

// ---------------------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------------------

interface IssueLike {
  code?: string;
  path?: readonly PropertyKey[];
  message?: string;
  [k: string]: unknown;
}

interface Ctx {
  schema: unknown;
  data: unknown;
  loc: Locator | undefined;
  out: InputError[];
  /** Problems found after MAX_RENDERED were rendered; only counted. */
  skipped: number;
}

/** Rendering locates each problem in the document; a huge number of them is only counted. */
const MAX_RENDERED = 4 * MAX_REPORTED;

function validateInternal<S extends z.ZodType>(
  value: unknown,
  schema: S,
  loc: Locator | undefined,
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return deepFreeze(result.data);
  const ctx: Ctx = { schema, data: value, loc, out: [], skipped: 0 };
  collectIssues(result.error.issues as unknown as IssueLike[], [], ctx, 0);
  if (ctx.out.length === 0) {
    ctx.out.push(new InputError(formatLocated('invalid input', { file: loc?.file }), { file: loc?.file }));
  }
  throwAll(ctx.out, ctx.skipped);
}

function toPath(p: readonly PropertyKey[] | undefined): PathSegment[] {
  return (p ?? []).map((s) => (typeof s === 'number' ? s : String(s)));
}

function emit(
  ctx: Ctx,
  message: string,
  path: readonly PathSegment[],
  mode: LocateMode,
  expected?: string,
  found?: string,
): void {
  if (ctx.out.length >= MAX_RENDERED) {
    ctx.skipped++;
    return;
  }
  const where = { ...locate(ctx.loc, path, mode), path: formatPath(path) || undefined, expected, found };
  ctx.out.push(new InputError(formatLocated(message, where), where));
}

function suggestion(word: unknown, candidates: readonly unknown[]): string {
  if (typeof word !== 'string' || word.length > 200) return '';
  const strings = candidates.filter((c): c is string => typeof c === 'string' && c !== word);
  const s = didYouMean(word, strings);
  return s === undefined ? '' : `; did you mean ${JSON.stringify(s)}?`;
}

function isRootMismatch(issue: IssueLike): boolean {
  return (issue.path?.length ?? 0) === 0 && (issue.code === 'invalid_type' || issue.code === 'invalid_value');
}

function issueWeight(issues: readonly IssueLike[]): number {
  let w = 0;
  for (const i of issues) w += i.code === 'unrecognized_keys' && Array.isArray(i.keys) ? i.keys.length : 1;
  return w;
}

function collectIssues(
  issues: readonly IssueLike[],
  base: readonly PathSegment[],
  ctx: Ctx,
  depth: number,
): void {
  for (const issue of issues) {
    if (ctx.out.length >= MAX_RENDERED) {
      ctx.skipped += issue.code === 'unrecognized_keys' && Array.isArray(issue.keys) ? issue.keys.length : 1;
      continue;
    }
    const path = [...base, ...toPath(issue.path)];
    if (
      issue.code === 'invalid_union' &&
      Array.isArray(issue.errors) &&
      issue.errors.length > 0 &&
      depth < 16
    ) {
      const branches = (issue.errors as unknown[]).filter((b): b is IssueLike[] => Array.isArray(b));
      const structural = branches.filter((b) => b.length > 0 && !b.some(isRootMismatch));
      if (structural.length > 0) {
        let best = structural[0];
        for (const b of structural) if (issueWeight(b) < issueWeight(best)) best = b;
        collectIssues(best, path, ctx, depth + 1);
        continue;
      }
    }
    oneIssue(issue, path, ctx);
  }
}

function oneIssue(issue: IssueLike, path: PathSegment[], ctx: Ctx): void {
  const value = valueAt(ctx.data, path);
  const parent = valueAt(ctx.data, path.slice(0, -1));
  const present = path.length === 0 ? ctx.data !== undefined : hasOwnChild(parent, path[path.length - 1]);
  const found = renderFound(value);
  const schemaDesc = () => describeAt(ctx.schema, path, ctx.data);

  const enumLike = (values: readonly unknown[]) => {
    if (!present) {
      emit(ctx, missingMessage(path), path, 'parent', oneOf(values), 'missing');
      return;
    }
    const msg = values.length === 1 ? `must be ${renderLiteral(values[0])}` : 'invalid value';
    emit(ctx, msg + suggestion(value, values), path, 'value', oneOf(values), found);
  };

  switch (issue.code) {
    case 'invalid_type': {
      const expected =
        schemaDesc() ?? ZOD_TYPE_NAMES[String(issue.expected)] ?? String(issue.expected ?? 'valid value');
      if (!present && path.length > 0) {
        emit(ctx, missingMessage(path), path, 'parent', expected, 'missing');
      } else if (path.length === 0 && (value === null || value === undefined)) {
        emit(ctx, 'document is empty', path, 'value', expected, found);
      } else {
        emit(ctx, `must be ${withArticle(expected)}`, path, 'value', expected, found);
      }
      return;
    }
    case 'invalid_value': {
      const values = Array.isArray(issue.values) ? (issue.values as unknown[]) : [];
      enumLike(values);
      return;
    }
    case 'invalid_union': {
      if (Array.isArray(issue.options) && issue.options.length > 0) {
        enumLike(issue.options as unknown[]); // discriminated union with an unknown discriminator
        return;
      }
      const unionSchemaValues = unionValuesAt(ctx.schema, path, ctx.data);
      if (unionSchemaValues) {
        enumLike(unionSchemaValues);
        return;
      }
      const expected = schemaDesc() ?? unionExpected(issue);
      if (!present && path.length > 0) {
        emit(ctx, missingMessage(path), path, 'parent', expected, 'missing');
      } else {
        emit(
          ctx,
          expected ? `must be ${withArticle(expected)}` : 'invalid value',
          path,
          'value',
          expected,
          found,
        );
      }
      return;
    }
    case 'unrecognized_keys': {
      const keys = Array.isArray(issue.keys) ? issue.keys.map(String) : [];
      const known = shapeKeysAt(ctx.schema, path, ctx.data);
      const notPresent = known.filter((k) => !hasOwnChild(value, k));
      const shown = known.length > 30 ? [...known.slice(0, 30), '...'] : known;
      const expected = known.length ? `one of: ${shown.join(', ')}` : undefined;
      for (const key of keys) {
        const keyPath = [...path, key];
        const hint = suggestion(key, notPresent.length ? notPresent : known);
        emit(ctx, `unknown key${hint}`, keyPath, 'key', expected);
      }
      return;
    }
    case 'too_small':
    case 'too_big': {
      const expected = sizeExpected(issue, schemaDesc);
      emit(ctx, `must be ${withArticle(expected)}`, path, 'value', expected, found);
      return;
    }
    case 'not_multiple_of': {
      const expected = `multiple of ${String(issue.divisor)}`;
      emit(ctx, `must be a ${expected}`, path, 'value', expected, found);
      return;
    }
    case 'invalid_format': {
      const expected = formatExpected(issue);
      emit(ctx, `must be ${withArticle(expected)}`, path, 'value', expected, found);
      return;
    }
    case 'invalid_key': {
      const key = path[path.length - 1];
      const inner = Array.isArray(issue.issues) ? (issue.issues as IssueLike[])[0] : undefined;
      const expected = inner ? innerExpected(inner) : undefined;
      emit(
        ctx,
        `invalid key ${JSON.stringify(String(key))}`,
        path,
        'key',
        expected ? `key: ${expected}` : undefined,
      );
      return;
    }
    case 'invalid_element': {
      emit(ctx, issue.message || 'invalid element', path, 'value', undefined, found);
      return;
    }
    default: {
      // custom refinements and anything else: trust the schema author's message
      const params = issue.params as { expected?: unknown } | undefined;
      const expected = typeof params?.expected === 'string' ? params.expected : undefined;
      if (!present && path.length > 0) {
        emit(ctx, issue.message || missingMessage(path), path, 'parent', expected, 'missing');
      } else {
        emit(ctx, issue.message || 'invalid value', path, 'value', expected, found);
      }
    }
  }
}

function missingMessage(path: readonly PathSegment[]): string {
  const last = path[path.length - 1];
  return typeof last === 'number' ? 'missing required item' : 'missing required key';
}

function unionValuesAt(root: unknown, path: readonly PathSegment[], data: unknown): unknown[] | undefined {
  const candidates = schemasAt(root, path, data);
  const all: unknown[] = [];
  for (const s of candidates) {
    const vals = allowedValues(s);
    if (!vals) return undefined;
    for (const v of vals) if (!all.includes(v)) all.push(v);
  }
  return all.length ? all : undefined;
}

function unionExpected(issue: IssueLike): string | undefined {
  const parts: string[] = [];
  for (const branch of (issue.errors as unknown[]) ?? []) {
    if (!Array.isArray(branch)) continue;
    for (const i of branch as IssueLike[]) {
      if ((i.path?.length ?? 0) !== 0) continue;
      const p = innerExpected(i);
      if (p && !parts.includes(p)) parts.push(p);
    }
  }
  return parts.length ? parts.join(' or ') : undefined;
}

function innerExpected(i: IssueLike): string | undefined {
  switch (i.code) {
    case 'invalid_type':
      return ZOD_TYPE_NAMES[String(i.expected)] ?? String(i.expected);
    case 'invalid_value':
      return Array.isArray(i.values) ? oneOf(i.values as unknown[]) : undefined;
    case 'invalid_format':
      return formatExpected(i);
    case 'too_small':
    case 'too_big':
      return sizeExpected(i, () => undefined);
    default:
      return undefined;
  }
}

function formatExpected(issue: IssueLike): string {
  switch (issue.format) {
    case 'regex':
      return `string matching ${String(issue.pattern)}`;
    case 'starts_with':
      return `string starting with ${JSON.stringify(String(issue.prefix))}`;
    case 'ends_with':
      return `string ending with ${JSON.stringify(String(issue.suffix))}`;
    case 'includes':
      return `string containing ${JSON.stringify(String(issue.includes))}`;
    default:
      return `valid ${String(issue.format ?? 'format')}`;
  }
}

function sizeExpected(issue: IssueLike, schemaDesc: () => string | undefined): string {
  const small = issue.code === 'too_small';
  const limit = small ? issue.minimum : issue.maximum;
  const n = typeof limit === 'bigint' ? `${limit}` : String(limit);
  const inclusive = issue.inclusive !== false;
  const origin = String(issue.origin ?? '');
  if (origin === 'number' || origin === 'int' || origin === 'bigint') {
    const fromSchema = schemaDesc();
    if (fromSchema && /^(integer|number)/.test(fromSchema)) return fromSchema;
    const op = small ? (inclusive ? '>=' : '>') : inclusive ? '<=' : '<';
    return `${origin === 'number' ? 'number' : 'integer'} ${op} ${n}`;
  }
  const bound = issue.exact ? 'exactly' : small ? 'at least' : 'at most';
  const count = Number(limit);
  if (origin === 'string') return `string of ${bound} ${plural(count, 'character')}`;
  if (origin === 'array' || origin === 'set') return `list of ${bound} ${plural(count, 'item')}`;
  if (origin === 'date') return `date ${small ? 'on or after' : 'on or before'} ${n}`;
  return `${origin || 'value'} of ${bound} ${n}`;
}

/** Edit distance; returns a value > `cutoff` as soon as the distance is known to exceed it. */
function levenshtein(a: string, b: string, cutoff: number): number {
  if (a === b) return 0;
  let prev = new Array<number>(b.length + 1);
  let cur = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    let rowMin = cur[0];
    for (let j = 1; j <= b.length; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (cur[j] < rowMin) rowMin = cur[j];
    }
    if (rowMin > cutoff) return rowMin;
    [prev, cur] = [cur, prev];
  }
  return prev[b.length];
}
