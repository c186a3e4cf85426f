import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest';
import { z } from 'zod';
import { InputError, InputErrors } from '../../src/util/errors.js';
import { parseArch, parseOverride } from '../../src/config/load.js';
import { ArchSchema } from '../../src/config/schema.js';
import { loadYaml, parseYamlPlain } from '../../src/util/yaml-loader.js';

const Schema = z.strictObject({
  name: z.string(),
  adc: z.strictObject({
    family: z.enum(['isaac', 'neurosim-sar', 'spikesim']),
    bits: z.number().int().min(1),
    columns_per_adc: z.number().int().min(1).default(8),
  }),
  mode: z.union([z.literal('fast'), z.literal('exact')]).default('exact'),
  layers: z
    .array(
      z.strictObject({ name: z.string(), kernel: z.number().int().min(1), stride: z.number().default(1) }),
    )
    .default([]),
  extra: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])).optional(),
});

const VALID = `# a small valid document
name: tiny
adc:
  family: isaac
  bits: 8
  columns_per_adc: 16
mode: fast
layers:
  - name: conv1
    kernel: 3
  - &l2
    name: "conv2"
    kernel: 5
    stride: 2
  - *l2
extra: {a: 1, b: "two", c: true}
`;

const RUNS = { numRuns: 300, seed: 42 };

/** Either a frozen value or an InputError with a usable message; anything else fails the property. */
function loadsOrInputError(text: string): void {
  let result: unknown;
  try {
    result = loadYaml(text, 'fuzz.yaml', Schema, { maxBytes: 64 * 1024 });
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    expect(e.message.length).toBeGreaterThan(0);
    if (e.line !== undefined) expect(e.line).toBeGreaterThanOrEqual(1);
    return;
  }
  expect(Object.isFrozen(result)).toBe(true);
}

function parsesOrInputError(text: string): void {
  try {
    parseYamlPlain(text, 'fuzz.yaml', { maxDepth: 8, maxAliasCount: 10 });
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
  }
}

/** Fragments that exercise YAML's structure far more often than uniformly random characters would. */
const yamlUnit = fc.constantFrom(
  '- ',
  ': ',
  '? ',
  '[',
  ']',
  '{',
  '}',
  ', ',
  '\n',
  '  ',
  '\t',
  '&a ',
  '*a',
  '&b ',
  '*b',
  '!!str ',
  '!!map ',
  '!x ',
  '"',
  "'",
  '# ',
  '|\n',
  '>-\n',
  '---\n',
  '...\n',
  '%YAML 1.2\n',
  '<<: ',
  'name',
  'adc',
  'family',
  'bits',
  'layers',
  'kernel',
  'isaac',
  '8',
  '-1',
  '0x1F',
  '.inf',
  '~',
  'true',
  '__proto__',
  '\\',
  '\u0000',
  '\uFEFF',
  'é',
);

describe('fuzz: arbitrary text never throws anything but InputError', () => {
  it('grapheme strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (s) => {
        loadsOrInputError(s);
        parsesOrInputError(s);
      }),
      RUNS,
    );
  });

  it('binary (any code point) strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
        loadsOrInputError(s);
        parsesOrInputError(s);
      }),
      RUNS,
    );
  });

  it('strings built from YAML fragments', () => {
    fc.assert(
      fc.property(fc.string({ unit: yamlUnit, maxLength: 80 }), (s) => {
        loadsOrInputError(s);
        parsesOrInputError(s);
      }),
      RUNS,
    );
  });
});

type Mutation =
  | { kind: 'delete'; at: number }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'swap'; a: number; b: number }
  | { kind: 'value'; line: number; value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.oneof(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }), yamlUnit),
  }),
  fc.record({ kind: fc.constant('swap' as const), a: fc.nat(), b: fc.nat() }),
  fc.record({ kind: fc.constant('value' as const), line: fc.nat(), value: fc.jsonValue({ maxDepth: 3 }) }),
);

function mutate(text: string, m: Mutation): string {
  switch (m.kind) {
    case 'delete': {
      if (text.length === 0) return text;
      const at = m.at % text.length;
      return text.slice(0, at) + text.slice(at + 1);
    }
    case 'insert': {
      const at = m.at % (text.length + 1);
      return text.slice(0, at) + m.text + text.slice(at);
    }
    case 'swap': {
      const lines = text.split('\n');
      const a = m.a % lines.length;
      const b = m.b % lines.length;
      [lines[a], lines[b]] = [lines[b], lines[a]];
      return lines.join('\n');
    }
    case 'value': {
      const lines = text.split('\n');
      const i = m.line % lines.length;
      const colon = lines[i].indexOf(': ');
      const json = JSON.stringify(m.value) ?? 'null';
      lines[i] =
        colon >= 0 ? lines[i].slice(0, colon + 2) + json : lines[i].replace(/(- )?\S.*$/, `$1${json}`);
      return lines.join('\n');
    }
  }
}

describe('fuzz: mutated valid documents', () => {
  it('the unmutated document is valid', () => {
    expect(loadYaml(VALID, 'fuzz.yaml', Schema).layers).toHaveLength(3);
  });

  it('load or fail with InputError, never anything else', () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (ms) => {
        const text = ms.reduce(mutate, VALID);
        loadsOrInputError(text);
      }),
      RUNS,
    );
  });

  it('a replaced value gives a valid result or located InputErrors', () => {
    fc.assert(
      fc.property(fc.nat(), fc.jsonValue({ maxDepth: 2 }), (line, value) => {
        const text = mutate(VALID, { kind: 'value', line, value });
        try {
          loadYaml(text, 'fuzz.yaml', Schema);
        } catch (e) {
          if (!(e instanceof InputError)) throw e;
          // the document is still well-formed YAML, so every problem is located in it
          expect(e.file).toBe('fuzz.yaml');
          expect(e.line).toBeGreaterThanOrEqual(1);
        }
      }),
      RUNS,
    );
  });
});

// ----- the hardware description loader (issue 18: fuzzing suite, hardware YAML and --set paths) -----------

const PRESET = readFileSync('arch-configs/default.yaml', 'utf8');
/** Bounded: each property stops after its time budget (fast-check counts what ran as passed). */
const ARCH_RUNS = { numRuns: 250, seed: 7, interruptAfterTimeLimit: 2000 };
const PER_CALL_MS = 2000;
const protoNames = Object.getOwnPropertyNames(Object.prototype).sort();

/** A valid ArchSpec (frozen, every number finite and within the schema), or an InputError in the error style. */
function archOrInputError(text: string, overrides: ReturnType<typeof parseOverride>[] = []): void {
  const t0 = performance.now();
  try {
    const spec = parseArch(text, 'fuzz.yaml', overrides);
    expect(Object.isFrozen(spec.crossbar)).toBe(true);
    expect(ArchSchema.parse(spec)).toEqual(spec);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    for (const x of e instanceof InputErrors ? e.errors : [e]) {
      expect(x.message.length).toBeGreaterThan(0);
      expect(x.message).not.toMatch(/\n\s+at |internal error/);
      // from the file alone, every problem names the file, and a located one its line and column
      if (overrides.length === 0) expect(x.message.startsWith('fuzz.yaml')).toBe(true);
      if (x.line !== undefined) expect(x.message).toMatch(/^fuzz\.yaml:\d+:\d+: /);
    }
  }
  expect(performance.now() - t0).toBeLessThan(PER_CALL_MS);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(protoNames);
}

/** Numbers at and around the physical ranges, and the absurd ones of the hostile-input campaign. */
const hostileNumber = fc.oneof(
  fc.constantFrom(0, -1, 1, 3, 8, 16, 17, 64, 4096, 4097, 1e30, 1e-300, 1e9, 2 ** 53, -0, 0.5),
  fc.double({ noNaN: false }),
  fc.integer(),
);
const archKey = fc.constantFrom(
  ...Object.entries(ArchSchema.shape).flatMap(([sec, s]) => {
    const inner = (s as unknown as { unwrap?: () => { shape?: object } }).unwrap?.();
    return inner?.shape ? Object.keys(inner.shape).map((k) => `${sec}.${k}`) : [sec];
  }),
);

describe('fuzz: hardware descriptions (arch YAML)', () => {
  let warn: MockInstance<typeof process.emitWarning>;
  beforeAll(() => {
    warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
  });
  afterAll(() => warn.mockRestore());

  it('the shipped preset mutated: a valid ArchSpec or a located InputError, in time', () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 5 }), (ms) =>
        archOrInputError(ms.reduce(mutate, PRESET)),
      ),
      ARCH_RUNS,
    );
  });

  it('a key set to a hostile number or value: a valid ArchSpec or an InputError naming the file', () => {
    fc.assert(
      fc.property(archKey, fc.oneof(hostileNumber, fc.jsonValue({ maxDepth: 2 })), (key, value) => {
        const [sec, k] = key.split('.');
        const text =
          k === undefined
            ? `${sec}: ${JSON.stringify(value) ?? 'null'}\n`
            : `${sec}:\n  ${k}: ${JSON.stringify(value) ?? 'null'}\n`;
        archOrInputError(text);
      }),
      ARCH_RUNS,
    );
  });

  it('--set with arbitrary paths and values: a valid ArchSpec or an InputError; nothing polluted, no warning', () => {
    const segment = fc.oneof(
      archKey.chain((k) => fc.constantFrom(...k.split('.'))),
      fc.constantFrom(
        '__proto__',
        'constructor',
        'prototype',
        'toString',
        'hasOwnProperty',
        'valueOf',
        'polluted',
      ),
      fc.constantFrom('[0]', '[1]', '', ' ', '..', '[', ']', '0'),
      fc.string({ maxLength: 6 }),
    );
    const value = fc.oneof(
      hostileNumber.map(String),
      fc.constantFrom(
        '!!binary x',
        '!foo 6',
        '[!!int 3]',
        '*a',
        '&a 6',
        '{a: 1}',
        '[1, 2]',
        '~',
        '"x',
        'true',
        '',
      ),
      fc.string({ maxLength: 12 }),
    );
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 4 }), value, (segs, v) => {
        let o;
        try {
          o = parseOverride(`${segs.join('.')}=${v}`);
        } catch (e) {
          if (!(e instanceof InputError)) throw e;
          expect(({} as Record<string, unknown>).polluted).toBeUndefined();
          return;
        }
        archOrInputError(PRESET, [o]);
      }),
      ARCH_RUNS,
    );
    expect(warn.mock.calls.map((c) => String(c[0]))).toEqual([]);
  });
});
