/**
 * YAML text → validated, deep-frozen value; every problem an {@link InputError} at `file:line:column` with
 * the dotted path, what was expected and what was found. Leans on its libraries: yaml's nodes, LineCounter
 * and error context (a zod issue's path is walked in the document to the node's range), zod's public issue
 * objects (what a path accepts is read from the schema's `z.toJSONSchema`) and fastest-levenshtein.
 */
import { distance } from 'fastest-levenshtein';
import { Lexer, LineCounter, Parser, isAlias, isMap, isPair, isScalar, isSeq, parseDocument } from 'yaml';
import type { Document, Node as YamlNode } from 'yaml';
import { z } from 'zod';
import { deepFreeze } from './freeze.js';
import { InputError, InputErrors, located, type Where } from './errors.js';

export { deepFreeze };
export interface LoadLimits {
  /** Largest accepted text (UTF-8 bytes); alias expansions (`toJS({ maxAliasCount })`); nesting depth. */
  maxBytes: number;
  maxAliasCount: number;
  maxDepth: number;
}
export const DEFAULT_LIMITS: LoadLimits = Object.freeze({
  maxBytes: 2 ** 20,
  maxAliasCount: 100,
  maxDepth: 64,
});
const MAX_REPORTED = 50;

type Seg = string | number;
type Issue = z.core.$ZodIssue;
type Json = { [k: string]: any }; // eslint-disable-line @typescript-eslint/no-explicit-any
/** Where to locate problems; `strict`: only paths in the document; never those `overridden` (by --set). */
type Loc = { file: string; doc: Document; lc: LineCounter; strict: boolean; overridden?: readonly string[] };

/** Parse YAML text and validate it against a zod schema; defaults applied, deep-frozen. */
export function loadYaml<S extends z.ZodType>(
  text: string,
  file: string,
  schema: S,
  limits?: Partial<LoadLimits>,
) {
  const { value, doc, lc } = parse(text, file, { ...DEFAULT_LIMITS, ...limits });
  return validate(value, schema, () => ({ file, doc, lc, strict: false }));
}

/** Parse YAML to a plain value (limits enforced, syntax errors located) without a schema. */
export function parseYamlPlain(text: string, file: string, limits?: Partial<LoadLimits>): unknown {
  return parse(text, file, { ...DEFAULT_LIMITS, ...limits }).value;
}

/** Validate a plain value (e.g. after --set); problems at paths still in `origin` are located there. */
export function validatePlain<S extends z.ZodType>(
  value: unknown,
  schema: S,
  origin?: { text: string; file: string; overridden?: readonly string[] },
) {
  const deep = tooDeep(value, DEFAULT_LIMITS.maxDepth);
  if (deep) throw located(deep);
  // the origin is parsed only to locate problems, so only when there are some; never fail because of it
  return validate(value, schema, () => {
    try {
      // strict unless the caller says which paths were overridden (the rest then all come from the text)
      return (
        origin && {
          ...origin,
          ...parse(origin.text, origin.file, DEFAULT_LIMITS),
          strict: !origin.overridden,
        }
      );
    } catch {
      return undefined;
    }
  });
}

/** Closest candidate (case ignored, ties to the first) within edit distance max(2, len/3), not a rewrite. */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  const [best, d] = candidates.reduce<[string?, number?]>((b, c) => {
    const dc = distance(w, c.toLowerCase());
    return dc < (b[1] ?? Infinity) ? [c, dc] : b;
  }, []);
  if (best === undefined || d! > Math.max(2, Math.floor(w.length / 3))) return undefined;
  return d! < Math.max(w.length, best.length) ? best : undefined;
}

// ----- parsing -------------------------------------------------------------------------------------------

const pos = (lc: LineCounter, offset: number | undefined) => {
  if (offset === undefined || offset < 0) return {};
  const { line, col } = lc.linePos(offset);
  return { line, column: col };
};
const start = (n: unknown): number | undefined => (n as YamlNode | null | undefined)?.range?.[0];

function parse(text: string, file: string, limits: LoadLimits) {
  if (typeof text !== 'string') throw located('expected YAML text', { file });
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > limits.maxBytes)
    throw located(`file is too large: ${bytes} bytes, the limit is ${limits.maxBytes} bytes`, { file });
  const deepMsg = `nesting is deeper than the limit of ${limits.maxDepth} levels`;
  // yaml's composer recurses per level (V8 aborts near the stack limit); its parser does not: watch it first
  const pre = new LineCounter();
  const parser = new Parser(pre.addNewLine);
  pre.addNewLine(0);
  for (const lexeme of new Lexer().lex(text)) {
    for (const _ of parser.next(lexeme));
    if (parser.stack.length > Math.min(500, limits.maxDepth + 4))
      throw located(deepMsg, { file, ...pos(pre, parser.offset) });
  }
  const lc = new LineCounter();
  const saved = Error.stackTraceLimit;
  Error.stackTraceLimit = 0; // yaml makes one Error per syntax error; 1 MiB of "]" took seconds with stacks
  let doc: Document.Parsed;
  try {
    // keys are checked for uniqueness below in linear time (yaml's own check is quadratic)
    doc = parseDocument(text, { lineCounter: lc, uniqueKeys: false, logLevel: 'silent' });
  } finally {
    Error.stackTraceLimit = saved;
  }
  const { deep, duplicates } = scan(doc.contents, limits.maxDepth);
  const problems = [
    ...doc.errors.map((e) => syntaxError(e.message, e.pos[0], file, lc)),
    ...duplicates.map((k) =>
      isScalar(k) && k.value === '__proto__'
        ? syntaxError('key "__proto__" is not allowed (it names the object prototype)', start(k), file, lc)
        : syntaxError('duplicate key (map keys must be unique)', start(k), file, lc),
    ),
  ];
  if (problems.length > 0) throwAll(problems.slice(0, 4 * MAX_REPORTED), problems.length - 4 * MAX_REPORTED);
  if (deep) throw located(deepMsg, { file, ...pos(lc, start(deep)) });
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: limits.maxAliasCount });
  } catch (e) {
    const m = e instanceof Error ? e.message : String(e);
    if (!/alias count/i.test(m)) throw located(`cannot convert YAML: ${m}`, { file });
    const bomb = `too many alias expansions (limit maxAliasCount = ${limits.maxAliasCount})`;
    throw located(`${bomb}; refusing input that looks like an alias bomb`, { file });
  }
  const deepJs = tooDeep(value, limits.maxDepth);
  if (deepJs) throw located(deepJs, { file });
  return { value, doc, lc };
}

/** yaml's message `… at line L, column C:\n\n<context>` as `file:L:C: …` and the context indented. */
function syntaxError(message: string, offset: number | undefined, file: string, lc: LineCounter) {
  const m = /^([\s\S]*?)(?: at line \d+, column \d+:\n\n([\s\S]*?)\n?)?$/.exec(message.trim())!;
  const where = { file, ...pos(lc, offset) };
  const context = (m[2] ?? '').replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '?').replace(/^/gm, '    ');
  return new InputError(
    located(m[1] || 'YAML syntax error', where).message + (m[2] ? '\n' + context : ''),
    where,
  );
}

/** One pass over the document: the first collection nested deeper than maxDepth, repeated keys, `__proto__`. */
function scan(root: unknown, maxDepth: number): { deep?: YamlNode; duplicates: YamlNode[] } {
  const duplicates: YamlNode[] = [];
  const stack: Array<[unknown, number]> = [[root, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (isPair(node)) stack.push([node.key, depth], [node.value, depth]);
    if (!isMap(node) && !isSeq(node)) continue;
    if (depth >= maxDepth) return { deep: node, duplicates };
    const keys = new Set<unknown>();
    for (const item of node.items as unknown[]) {
      if (isMap(node) && isPair(item) && isScalar(item.key)) {
        if (keys.has(item.key.value) || item.key.value === '__proto__') duplicates.push(item.key);
        keys.add(item.key.value);
      }
      stack.push([item, depth + 1]);
    }
  }
  return { duplicates };
}

/** Depth of a JS value after alias expansion (which may also create cycles). */
function tooDeep(root: unknown, maxDepth: number): string | undefined {
  const best = new Map<object, number>();
  const stack: Array<[unknown, number]> = [[root, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (typeof v !== 'object' || v === null || ArrayBuffer.isView(v) || (best.get(v) ?? 0) >= d) continue;
    if (d > maxDepth)
      return `nesting is deeper than the limit of ${maxDepth} levels (after expanding aliases; recursive alias?)`;
    best.set(v, d);
    for (const x of v instanceof Map ? [...v].flat() : Object.values(v)) stack.push([x, d + 1]);
  }
  return undefined;
}

// ----- validation: zod issues → located InputErrors --------------------------------------------------------

type Ctx = { json?: Json; data: unknown; loc?: Loc; out: InputError[]; skipped: number };

function validate<S extends z.ZodType>(value: unknown, schema: S, where: () => Loc | undefined): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return deepFreeze(r.data);
  const loc = where();
  const ctx: Ctx = { json: jsonSchemaOf(schema), data: value, loc, out: [], skipped: 0 };
  report(r.error.issues, [], ctx, 0);
  throwAll(ctx.out.length ? ctx.out : [located('invalid input', { file: loc?.file })], ctx.skipped);
}

function report(issues: readonly Issue[], base: Seg[], ctx: Ctx, depth: number): void {
  const weight = (b: Issue[]) =>
    b.reduce((n, i) => n + (i.code === 'unrecognized_keys' ? i.keys.length : 1), 0);
  for (const issue of issues) {
    const path = [...base, ...issue.path.map((s) => (typeof s === 'number' ? s : String(s)))];
    // a union: the branches whose type matched; report the one with the fewest problems
    const fits = issue.code === 'invalid_union' && depth < 16 ? issue.errors.filter((b) => b.length > 0) : [];
    const typed = fits.filter(
      (b) => !b.some((i) => i.path.length === 0 && /^invalid_(type|value)$/.test(i.code)),
    );
    const best = typed.reduce<Issue[] | undefined>(
      (a, b) => (a && weight(a) <= weight(b) ? a : b),
      undefined,
    );
    if (best) report(best, path, ctx, depth + 1);
    else one(issue, path, ctx);
  }
}

function one(issue: Issue, path: Seg[], ctx: Ctx): void {
  const value = valueAt(ctx.data, path);
  const present = path.length === 0 || hasOwn(valueAt(ctx.data, path.slice(0, -1)), path.at(-1)!);
  const schemas = schemasAt(ctx, path);
  const say = (message: string, expected = describe(schemas)) =>
    emit(ctx, message, path, 'value', expected, renderFound(value));
  const custom =
    'params' in issue && typeof issue.params?.expected === 'string' ? issue.params.expected : undefined;
  if (!present && issue.code !== 'unrecognized_keys') {
    const what = `missing required ${typeof path.at(-1) === 'number' ? 'item' : 'key'}`;
    return emit(
      ctx,
      issue.code === 'custom' ? issue.message : what,
      path,
      'parent',
      describe(schemas) ?? custom,
      'missing',
    );
  }
  switch (issue.code) {
    case 'invalid_type': {
      const expected = describe(schemas) ?? TYPE_NAMES[issue.expected] ?? issue.expected;
      return say(
        path.length === 0 && value == null ? 'document is empty' : `must be ${withArticle(expected)}`,
        expected,
      );
    }
    case 'invalid_value':
    case 'invalid_union': {
      const values =
        issue.code === 'invalid_value'
          ? issue.values
          : ('options' in issue && issue.options) || literalsOf(schemas);
      if (!values)
        return say(describe(schemas) ? `must be ${withArticle(describe(schemas)!)}` : 'invalid value');
      const hint = typeof value === 'string' && value.length <= 200 ? suggest(value, values) : '';
      return say(
        (values.length === 1 ? `must be ${literal(values[0])}` : 'invalid value') + hint,
        oneOf(values),
      );
    }
    case 'unrecognized_keys': {
      const known = [...new Set(schemas.flatMap((s) => Object.keys(s.properties ?? {})))];
      const absent = known.filter((k) => !hasOwn(value, k));
      const list = known.length > 30 ? [...known.slice(0, 30), '...'] : known;
      for (const key of issue.keys) {
        const hint = (absent.length ? suggest(key, absent) : '') || suggest(key, known);
        emit(
          ctx,
          `unknown key${hint}`,
          [...path, key],
          'key',
          known.length ? `one of: ${list.join(', ')}` : undefined,
        );
      }
      return;
    }
    case 'too_small':
    case 'too_big': {
      const expected = describe(schemas) ?? issue.message.replace(/^Too (small|big): expected /, '');
      return say(`must be ${withArticle(expected)}`, expected);
    }
    case 'invalid_key': {
      const inner = issue.issues[0]?.message;
      return emit(
        ctx,
        `invalid key ${JSON.stringify(String(path.at(-1)))}${inner ? `: ${inner}` : ''}`,
        path,
        'key',
      );
    }
    default: // custom refinements and the rest: the schema author's (or zod's) message
      return say(issue.message || 'invalid value', custom);
  }
}

function emit(ctx: Ctx, message: string, path: Seg[], mode: Mode, expected?: string, found?: string): void {
  if (ctx.out.length >= 4 * MAX_REPORTED) return void ctx.skipped++;
  const where = { ...locate(ctx.loc, path, mode), path: formatPath(path) || undefined, expected, found };
  ctx.out.push(located(message, where));
}

/** Throws the one error, or all: by position, duplicates dropped, at most MAX_REPORTED, the rest counted. */
function throwAll(errors: InputError[], hidden = 0): never {
  const at = (e: InputError) => (e.line ?? 1e8) * 1e7 + (e.column ?? 1e6); // unlocated last
  const sorted = errors.map((e, i) => ({ e, i })).sort((a, b) => at(a.e) - at(b.e) || a.i - b.i);
  const unique = [...new Map(sorted.map(({ e }) => [e.message, e])).values()];
  if (unique.length === 1 && hidden <= 0) throw unique[0];
  const more = Math.max(0, unique.length - MAX_REPORTED) + Math.max(0, hidden);
  const tail = `... and ${more} more problem${more === 1 ? '' : 's'} not shown`;
  throw new InputErrors([
    ...unique.slice(0, MAX_REPORTED),
    ...(more ? [located(tail, { file: unique[0].file })] : []),
  ]);
}

type Mode = 'value' | 'key' | 'parent';

/** Walks the document along `path` to a node's range ('parent': the mapping a missing key belongs in). */
function locate(loc: Loc | undefined, path: Seg[], mode: Mode): Where {
  const p = formatPath(path);
  if (!loc || loc.overridden?.some((o) => p === o || p.startsWith(o + '.') || p.startsWith(o + '[')))
    return {};
  const target = mode === 'parent' ? path.slice(0, -1) : path;
  const steps: Array<{ node: unknown; key?: unknown }> = [{ node: loc.doc.contents }];
  for (const seg of target) {
    let node = steps[steps.length - 1].node;
    for (let i = 0; i < 32 && isAlias(node); i++) node = aliased(node, loc.doc);
    const pair = isMap(node)
      ? node.items.filter((p) => isScalar(p.key) && String(p.key.value ?? '') === String(seg)).pop()
      : undefined;
    if (pair) steps.push({ node: pair.value, key: pair.key });
    else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length)
      steps.push({ node: node.items[seg] });
    else break;
  }
  const complete = steps.length === target.length + 1;
  for (let i = steps.length - 1; i >= 0 && (complete || !loc.strict); i--) {
    const { node, key } = steps[i];
    const atKey =
      (mode === 'key' && complete && i === steps.length - 1) ||
      node == null ||
      (isScalar(node) && node.source === '');
    const offset = (atKey ? start(key) : undefined) ?? start(node) ?? start(key);
    if (offset !== undefined) return { file: loc.file, ...pos(loc.lc, offset) };
  }
  if (!loc.strict || path.length === 0)
    return { file: loc.file, ...(loc.strict ? {} : { line: 1, column: 1 }) };
  return {};
}

function aliased(node: unknown, doc: Document): unknown {
  try {
    return isAlias(node) ? node.resolve(doc) : node;
  } catch {
    return undefined;
  }
}

// ----- what a path accepts, from the schema's JSON Schema ---------------------------------------------------

const jsonSchemas = new WeakMap<object, Json | undefined>();
function jsonSchemaOf(schema: z.ZodType): Json | undefined {
  if (!jsonSchemas.has(schema)) {
    try {
      jsonSchemas.set(schema, z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }));
    } catch {
      jsonSchemas.set(schema, undefined); // messages then say what the issue says
    }
  }
  return jsonSchemas.get(schema);
}

/** The JSON Schema nodes that may apply at `path`: refs resolved, unions flattened, by discriminator. */
function schemasAt(ctx: Ctx, path: Seg[]): Json[] {
  const root = ctx.json;
  const deref = (s: Json | undefined) =>
    s?.$ref === '#' ? root : typeof s?.$ref === 'string' ? root?.$defs?.[s.$ref.split('/').pop()!] : s;
  const expand = (list: Json[], value: unknown, depth: number): Json[] =>
    list.flatMap((raw) => {
      const s = deref(raw);
      const alts: Json[] | undefined = s?.anyOf ?? s?.oneOf ?? s?.allOf;
      if (!s || !alts || depth > 8) return s ? [s] : [];
      const tagged = alts.filter((b) =>
        Object.entries(deref(b)?.properties ?? {}).some(
          ([k, p]) => (p as Json)?.const === valueAt(value, [k]),
        ),
      );
      return expand(tagged.length && !s.allOf ? tagged : alts, value, depth + 1);
    });
  let list = expand(root ? [root] : [], ctx.data, 0);
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    const next = list.map((s) =>
      typeof seg === 'number'
        ? (s.prefixItems?.[seg] ?? s.items)
        : s.properties && Object.hasOwn(s.properties, seg)
          ? s.properties[seg]
          : s.additionalProperties,
    );
    list = expand(
      next.filter((s) => typeof s === 'object'),
      valueAt(ctx.data, path.slice(0, i + 1)),
      0,
    );
  }
  return list;
}

function literalsOf(list: Json[]): unknown[] | undefined {
  const all = list.map((s) =>
    s.const !== undefined ? [s.const] : (s.enum ?? literalsOf(s.anyOf ?? s.oneOf ?? [])),
  );
  return all.length && all.every(Boolean) ? [...new Set(all.flat())] : undefined;
}

const TYPE_NAMES: Record<string, string> = {
  object: 'mapping',
  array: 'list',
  int: 'integer',
  record: 'mapping',
};

/** `integer >= 1 and <= 16`, `one of "a", "b"`, `mapping`, `"auto" or integer >= 1`. */
function describe(list: Json[], depth = 0): string | undefined {
  const vals = literalsOf(list);
  if (vals) return oneOf(vals);
  const parts = list.map((s): string | undefined => {
    if (s.anyOf ?? s.oneOf) return depth < 8 ? describe(s.anyOf ?? s.oneOf, depth + 1) : undefined;
    const type = [s.type].flat()[0] as string | undefined;
    if (type !== 'number' && type !== 'integer') return type && (TYPE_NAMES[type] ?? type);
    const b: string[] = [];
    if (s.exclusiveMinimum !== undefined) b.push(`> ${s.exclusiveMinimum}`);
    else if (s.minimum > Number.MIN_SAFE_INTEGER) b.push(`>= ${s.minimum}`);
    if (s.exclusiveMaximum !== undefined) b.push(`< ${s.exclusiveMaximum}`);
    else if (s.maximum < Number.MAX_SAFE_INTEGER) b.push(`<= ${s.maximum}`);
    return b.length ? `${type} ${b.join(' and ')}` : type;
  });
  const unique = [...new Set(parts.filter(Boolean))];
  return unique.length ? unique.join(' or ') : undefined;
}

// ----- rendering -------------------------------------------------------------------------------------------

const hasOwn = (v: unknown, seg: Seg): boolean =>
  Array.isArray(v)
    ? typeof seg === 'number' && seg < v.length
    : typeof v === 'object' && !!v && Object.hasOwn(v, seg);
const valueAt = (data: unknown, path: Seg[]): unknown =>
  path.reduce((v, seg) => (hasOwn(v, seg) ? (v as Record<Seg, unknown>)[seg] : undefined), data);

/** `adc.bits`, `layers[3].kernel`, `weird["a.b"]`. */
const formatPath = (path: Seg[]) =>
  path.reduce<string>((out, s) => {
    if (typeof s === 'number') return `${out}[${s}]`;
    return /^[A-Za-z_$][\w$-]*$/.test(s) ? (out ? `${out}.${s}` : s) : `${out}[${JSON.stringify(s)}]`;
  }, '');

const cut = (s: string, max = 40) => (s.length > max ? s.slice(0, max - 1) + '…' : s);
const count = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** A value found in the input: `"8x" (string)`, `-3`, `missing`, `list of 2 items`. */
function renderFound(v: unknown): string {
  if (v === undefined) return 'missing';
  if (typeof v === 'string') return `${JSON.stringify(cut(v))} (string)`;
  if (v === null || typeof v !== 'object') return String(v);
  if (Array.isArray(v)) return `list of ${count(v.length, 'item')}`;
  if (ArrayBuffer.isView(v)) return `binary data (${count(v.byteLength, 'byte')})`;
  const keys = Object.keys(v).map((k) => cut(k, 20));
  if (keys.length === 0) return 'empty mapping';
  return `mapping with keys ${keys.slice(0, 4).join(', ')}${keys.length > 4 ? ', …' : ''}`;
}

function suggest(word: string, candidates: readonly unknown[]): string {
  const s = didYouMean(
    word,
    candidates.filter((c): c is string => typeof c === 'string' && c !== word),
  );
  return s === undefined ? '' : `; did you mean ${JSON.stringify(s)}?`;
}

const literal = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : String(v));
const oneOf = (vs: readonly unknown[]) =>
  vs.length === 1 ? literal(vs[0]) : `one of ${vs.map(literal).join(', ')}`;
const withArticle = (e: string) =>
  /^(one of|null|nothing|any |NaN)/.test(e) || /^["'\d-]/.test(e)
    ? e
    : `${/^[aeiou]/i.test(e) ? 'an' : 'a'} ${e}`;
