import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InputError, InputErrors } from '../../src/util/errors.js';
import {
  DEFAULT_LIMITS,
  deepFreeze,
  didYouMean,
  loadYaml,
  parseYamlPlain,
  validatePlain,
} from '../../src/util/yaml-loader.js';

// A small stand-in for a real config schema: strict objects, defaults, an enum, bounded integers, a nested
// object and an array of objects.
const Arch = z.strictObject({
  name: z.string(),
  clock_ghz: z.number().default(1),
  adc: z.strictObject({
    family: z.enum(['isaac', 'neurosim-sar', 'spikesim']),
    bits: z.number().int().min(1),
    columns_per_adc: z.number().int().min(1).default(8),
  }),
  layers: z
    .array(
      z.strictObject({
        name: z.string(),
        kernel: z.number().int().min(1),
        stride: z.number().int().min(1).default(1),
      }),
    )
    .default([]),
});

const VALID = `name: tiny
adc:
  family: isaac
  bits: 8
layers:
  - name: conv1
    kernel: 3
  - name: conv2
    kernel: 5
    stride: 2
`;

/** Runs `fn`, expects an InputError and returns it. */
function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('expected an InputError, nothing was thrown');
}

/** The individual errors of an InputError / InputErrors. */
function all(e: InputError): InputError[] {
  return e instanceof InputErrors ? e.errors : [e];
}

function load(text: string) {
  return loadYaml(text, 'arch.yaml', Arch);
}

describe('loadYaml: valid input', () => {
  it('applies defaults and returns a deep-frozen value', () => {
    const arch = load(VALID);
    expect(arch).toEqual({
      name: 'tiny',
      clock_ghz: 1,
      adc: { family: 'isaac', bits: 8, columns_per_adc: 8 },
      layers: [
        { name: 'conv1', kernel: 3, stride: 1 },
        { name: 'conv2', kernel: 5, stride: 2 },
      ],
    });
    expect(Object.isFrozen(arch)).toBe(true);
    expect(Object.isFrozen(arch.adc)).toBe(true);
    expect(Object.isFrozen(arch.layers)).toBe(true);
    expect(Object.isFrozen(arch.layers[0])).toBe(true);
    expect(() => {
      (arch.adc as { bits: number }).bits = 4;
    }).toThrow(TypeError);
  });

  it('accepts a few anchors and aliases', () => {
    const arch = load(`name: tiny
adc: {family: spikesim, bits: 4}
layers:
  - &conv {name: conv, kernel: 3}
  - *conv
  - *conv
`);
    expect(arch.layers).toHaveLength(3);
    expect(arch.layers[2]).toEqual({ name: 'conv', kernel: 3, stride: 1 });
  });

  it('exposes sane default limits', () => {
    expect(DEFAULT_LIMITS).toEqual({ maxBytes: 1024 * 1024, maxAliasCount: 100, maxDepth: 64 });
  });
});

describe('loadYaml: syntax errors', () => {
  it('reports a YAML syntax error with file, line, column and the parser message', () => {
    const e = inputError(() => load('name: tiny\nadc: family: isaac\n'));
    expect(e).not.toBeInstanceOf(InputErrors);
    expect(e).toMatchObject({ file: 'arch.yaml', line: 2, column: 6 });
    expect(e.message.split('\n')).toEqual([
      'arch.yaml:2:6: Nested mappings are not allowed in compact mappings',
      '    adc: family: isaac',
      '         ^',
    ]);
  });

  it('reports an unclosed quote', () => {
    const e = inputError(() => load('name: tiny\nadc:\n  family: "isaac\n'));
    expect(e.file).toBe('arch.yaml');
    expect(e.line).toBeGreaterThanOrEqual(3);
    expect(e.message).toMatch(/^arch\.yaml:\d+:\d+: Missing closing "quote/);
  });

  it('reports an unclosed flow collection', () => {
    const e = inputError(() => load('name: tiny\nadc: {family: isaac, bits: 8\nlayers: []\n'));
    expect(e.file).toBe('arch.yaml');
    expect(e.line).toBeGreaterThanOrEqual(2);
    expect(e.message).toMatch(/^arch\.yaml:\d+:\d+: /);
  });

  it('refuses duplicate keys, located at the second one', () => {
    const e = inputError(() => load('name: a\nadc:\n  family: isaac\n  bits: 8\n  bits: 9\n'));
    expect(e.line).toBe(5);
    expect(e.column).toBe(3);
    expect(e.message).toMatch(/^arch\.yaml:5:3: duplicate key/);
  });
});

describe('loadYaml: schema errors', () => {
  it('formats an out-of-range integer exactly', () => {
    const e = inputError(() => load('name: tiny\nadc:\n  family: isaac\n  bits: 0\n'));
    expect(e).not.toBeInstanceOf(InputErrors);
    expect(e.message).toBe(
      'arch.yaml:4:9: adc.bits: must be an integer >= 1 (expected integer >= 1, found 0)',
    );
    expect(e).toMatchObject({
      file: 'arch.yaml',
      line: 4,
      column: 9,
      path: 'adc.bits',
      expected: 'integer >= 1',
    });
    expect(e.found).toBe('0');
  });

  it('reports a wrong type with position, path, expected and found', () => {
    const e = inputError(() => load('name: tiny\nclock_ghz: fast\nadc: {family: isaac, bits: 8}\n'));
    expect(e).toMatchObject({
      line: 2,
      column: 12,
      path: 'clock_ghz',
      expected: 'number',
      found: '"fast" (string)',
    });
    expect(e.message).toBe(
      'arch.yaml:2:12: clock_ghz: must be a number (expected number, found "fast" (string))',
    );
  });

  it('reports an unknown key at the key, with a did-you-mean and the known keys', () => {
    const e = inputError(() => load('name: tiny\nadc:\n  family: isaac\n  bitz: 8\n'));
    const errors = all(e);
    const unknown = errors.find((x) => x.path === 'adc.bitz');
    expect(unknown).toBeDefined();
    expect(unknown!.message).toBe(
      'arch.yaml:4:3: adc.bitz: unknown key; did you mean "bits"? (expected one of: family, bits, columns_per_adc)',
    );
    expect(unknown).toMatchObject({ line: 4, column: 3 });
    // the key it replaced is missing, reported at its parent mapping
    const missing = errors.find((x) => x.path === 'adc.bits');
    expect(missing).toMatchObject({ line: 3, column: 3, found: 'missing', expected: 'integer >= 1' });
  });

  it('reports an unknown top-level key without a far-fetched suggestion', () => {
    const e = inputError(() => load(VALID + 'colour: blue\n'));
    expect(e.path).toBe('colour');
    expect(e.line).toBe(11);
    expect(e.message).toContain('unknown key (expected one of: name, clock_ghz, adc, layers)');
  });

  it('reports a missing required key at its parent mapping', () => {
    const e = inputError(() => load('adc:\n  family: isaac\n  bits: 8\n'));
    expect(e).toMatchObject({ path: 'name', line: 1, column: 1, expected: 'string', found: 'missing' });
    expect(e.message).toBe('arch.yaml:1:1: name: missing required key (expected string, found missing)');
  });

  it('reports a bad enum value with a suggestion', () => {
    const e = inputError(() => load('name: tiny\nadc:\n  family: spiksim\n  bits: 8\n'));
    expect(e).toMatchObject({ path: 'adc.family', line: 3, column: 11 });
    expect(e.expected).toBe('one of "isaac", "neurosim-sar", "spikesim"');
    expect(e.found).toBe('"spiksim" (string)');
    expect(e.message).toContain('did you mean "spikesim"?');
  });

  it('locates an array element by index on the right line', () => {
    const text = VALID.replace('kernel: 5', 'kernel: -5');
    const e = inputError(() => load(text));
    expect(e).toMatchObject({ path: 'layers[1].kernel', line: 9, column: 13, found: '-5' });
    expect(e.message).toMatch(/^arch\.yaml:9:13: layers\[1\]\.kernel: /);
  });

  it('reports every issue, sorted by line then column', () => {
    const e = inputError(() =>
      load(
        'name: 3\nclock_ghz: "1"\nadc: {family: isac, bits: 2.5, colums_per_adc: 4}\nlayers: [{name: a, kernel: 0}]\n',
      ),
    );
    expect(e).toBeInstanceOf(InputErrors);
    const errors = all(e);
    expect(errors.map((x) => x.path)).toEqual([
      'name',
      'clock_ghz',
      'adc.family',
      'adc.bits',
      'adc.colums_per_adc',
      'layers[0].kernel',
    ]);
    const positions = errors.map((x) => [x.line!, x.column!]);
    const sorted = [...positions].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    expect(positions).toEqual(sorted);
    expect(errors.find((x) => x.path === 'adc.colums_per_adc')!.message).toContain(
      'did you mean "columns_per_adc"?',
    );
    expect(e.message.split('\n')).toHaveLength(6);
  });

  it('reports at most 50 problems and counts the rest', () => {
    const layers = Array.from({ length: 300 }, (_, i) => `  - {name: l${i}, kernel: 0}`).join('\n');
    const e = inputError(() => load(`name: tiny\nadc: {family: isaac, bits: 8}\nlayers:\n${layers}\n`));
    const errors = all(e);
    expect(errors).toHaveLength(51);
    expect(errors[0]).toMatchObject({ path: 'layers[0].kernel', line: 4 });
    expect(errors[50].message).toBe('arch.yaml: ... and 250 more problems not shown');
  });

  it('says so when the document is empty', () => {
    const e = inputError(() => load(''));
    expect(e.message).toContain('document is empty');
    expect(e.file).toBe('arch.yaml');
  });

  it('suggests keys of the matching discriminated-union branch', () => {
    const Shape = z.strictObject({
      unit: z.discriminatedUnion('kind', [
        z.strictObject({ kind: z.literal('adc'), bits: z.number() }),
        z.strictObject({ kind: z.literal('dac'), levels: z.number() }),
      ]),
    });
    const e = inputError(() => loadYaml('unit:\n  kind: dac\n  levles: 4\n', 'u.yaml', Shape));
    const unknown = all(e).find((x) => x.path === 'unit.levles')!;
    expect(unknown.message).toContain('did you mean "levels"?');
    expect(unknown.line).toBe(3);
    const bad = inputError(() => loadYaml('unit:\n  kind: adcc\n', 'u.yaml', Shape));
    expect(bad.path).toBe('unit.kind');
    expect(bad.message).toContain('did you mean "adc"?');
  });
});

describe('loadYaml: hostile input', () => {
  it('refuses a billion-laughs alias bomb quickly', () => {
    const lines = ['a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let i = 1; i < 10; i++) {
      const prev = String.fromCharCode(96 + i);
      const cur = String.fromCharCode(97 + i);
      lines.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(', ')}]`);
    }
    const start = Date.now();
    const e = inputError(() => load(lines.join('\n')));
    expect(Date.now() - start).toBeLessThan(1000);
    expect(e.message).toContain('maxAliasCount = 100');
    expect(() => parseYamlPlain(lines.join('\n'), 'bomb.yaml')).toThrow(InputError);
  });

  it('refuses a recursive alias', () => {
    const e = inputError(() => parseYamlPlain('a: &a [1, *a]\n', 'r.yaml'));
    expect(e.message).toContain('nesting is deeper than the limit');
  });

  it('refuses text larger than maxBytes', () => {
    const e = inputError(() => load('#'.repeat(DEFAULT_LIMITS.maxBytes + 1)));
    expect(e.message).toContain(`${DEFAULT_LIMITS.maxBytes + 1} bytes`);
    expect(e.message).toContain(`limit is ${DEFAULT_LIMITS.maxBytes} bytes`);
    const small = inputError(() => loadYaml(VALID, 'arch.yaml', Arch, { maxBytes: 10 }));
    expect(small.message).toContain('limit is 10 bytes');
  });

  it('refuses deep nesting (flow and block) before it reaches the parser recursion', () => {
    const flow = inputError(() => parseYamlPlain('['.repeat(200_000), 'deep.yaml'));
    expect(flow.message).toMatch(/^deep\.yaml:1:\d+: nesting is deeper than the limit of 64 levels$/);
    const seq = inputError(() => parseYamlPlain('- '.repeat(200_000) + 'x', 'deep.yaml'));
    expect(seq.message).toContain('nesting is deeper than the limit of 64 levels');
    const block = Array.from({ length: 70 }, (_, i) => ' '.repeat(i) + 'k:').join('\n');
    expect(() => parseYamlPlain(block, 'deep.yaml')).toThrow(/nesting is deeper than the limit of 64 levels/);
    expect(parseYamlPlain(block, 'deep.yaml', { maxDepth: 80 })).toBeTypeOf('object');
    expect(() => parseYamlPlain('a: {b: {c: {d: 1}}}', 'x.yaml', { maxDepth: 3 })).toThrow(
      /limit of 3 levels/,
    );
    expect(parseYamlPlain('a: {b: {c: 1}}', 'x.yaml', { maxDepth: 3 })).toEqual({ a: { b: { c: 1 } } });
  });

  it('refuses nesting created by aliases', () => {
    const text = ['a: &a [[[[1]]]]', 'b: &b [[[[*a]]]]', 'c: [[[[*b]]]]'].join('\n');
    expect(() => parseYamlPlain(text, 'x.yaml', { maxDepth: 10 })).toThrow(/after expanding aliases/);
    expect(parseYamlPlain(text, 'x.yaml', { maxDepth: 20 })).toBeTypeOf('object');
  });
});

describe('parseYamlPlain', () => {
  it('parses without validation', () => {
    expect(parseYamlPlain('a: 1\nb: [x, y]\n', 'p.yaml')).toEqual({ a: 1, b: ['x', 'y'] });
  });
  it('locates syntax errors', () => {
    const e = inputError(() => parseYamlPlain('a: 1\nb: ]\n', 'p.yaml'));
    expect(e).toMatchObject({ file: 'p.yaml', line: 2 });
  });
});

describe('validatePlain', () => {
  it('validates, applies defaults and freezes', () => {
    const v = validatePlain({ name: 'x', adc: { family: 'isaac', bits: 2 } }, Arch);
    expect(v.layers).toEqual([]);
    expect(Object.isFrozen(v.adc)).toBe(true);
  });

  it('reports paths without a location', () => {
    const e = inputError(() =>
      validatePlain(
        { name: 'x', adc: { family: 'isaac', bits: 0 }, layers: [{ name: 'l', kernel: 'big' }] },
        Arch,
      ),
    );
    const errors = all(e);
    expect(errors.map((x) => x.path).sort()).toEqual(['adc.bits', 'layers[0].kernel']);
    for (const x of errors) {
      expect(x.file).toBeUndefined();
      expect(x.line).toBeUndefined();
    }
    expect(errors.find((x) => x.path === 'adc.bits')!.message).toBe(
      'adc.bits: must be an integer >= 1 (expected integer >= 1, found 0)',
    );
  });

  it('locates paths that still exist in the original text', () => {
    const value = { name: 'tiny', adc: { family: 'isaac', bits: 0, extra: 1 } };
    const e = inputError(() => validatePlain(value, Arch, { text: VALID, file: 'arch.yaml' }));
    const bits = all(e).find((x) => x.path === 'adc.bits')!;
    expect(bits).toMatchObject({ file: 'arch.yaml', line: 4, column: 9, found: '0' });
    expect(bits.message).toMatch(/^arch\.yaml:4:9: adc\.bits: /);
    // an override that does not exist in the file has no position
    const extra = all(e).find((x) => x.path === 'adc.extra')!;
    expect(extra.line).toBeUndefined();
    expect(extra.message).toMatch(/^adc\.extra: unknown key/);
  });
});

describe('helpers', () => {
  it('didYouMean picks the closest candidate within max(2, len/3)', () => {
    expect(didYouMean('bitz', ['family', 'bits', 'columns_per_adc'])).toBe('bits');
    expect(didYouMean('colums_per_adc', ['bits', 'columns_per_adc'])).toBe('columns_per_adc');
    expect(didYouMean('BITS', ['bits'])).toBe('bits');
    expect(didYouMean('xyzzy', ['bits', 'family'])).toBeUndefined();
    expect(didYouMean('c', ['a', 'b'])).toBeUndefined();
    expect(didYouMean('anything', [])).toBeUndefined();
  });

  it('deepFreeze freezes nested objects and arrays, tolerates cycles and typed arrays', () => {
    const cyclic: { self?: unknown; list: number[][]; bytes: Uint8Array } = {
      list: [[1], [2]],
      bytes: new Uint8Array(3),
    };
    cyclic.self = cyclic;
    expect(deepFreeze(cyclic)).toBe(cyclic);
    expect(Object.isFrozen(cyclic)).toBe(true);
    expect(Object.isFrozen(cyclic.list[1])).toBe(true);
    expect(deepFreeze(3)).toBe(3);
    expect(deepFreeze(null)).toBeNull();
  });
});
