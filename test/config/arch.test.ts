import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InputError, InputErrors } from '../../src/config/errors.js';
import { applyOverrides, loadArch, parseArch, parseOverride } from '../../src/config/load.js';
import { ArchSchema } from '../../src/config/schema.js';

const presets = readdirSync('arch-configs').filter((f) => f.endsWith('.yaml'));

function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error('expected an InputError');
}

describe('presets', () => {
  it('ships default, isaac-32nm and spikesim-65nm', () => {
    expect(presets).toEqual(
      expect.arrayContaining(['default.yaml', 'isaac-32nm.yaml', 'spikesim-65nm.yaml']),
    );
  });
  it.each(presets)('%s validates', (f) => {
    const spec = loadArch(`arch-configs/${f}`);
    expect(Object.isFrozen(spec)).toBe(true);
    expect(Object.isFrozen(spec.adc)).toBe(true);
  });
  it('default.yaml is a DT-SNN-class design: 64×64 crossbars, 4-bit weights', () => {
    const s = loadArch('arch-configs/default.yaml');
    expect([s.crossbar.rows, s.crossbar.columns, s.crossbar.weight_bits]).toEqual([64, 64, 4]);
  });
  it('an empty file resolves to the schema defaults (defaults live in one place)', () => {
    expect(parseArch('{}', 'empty.yaml')).toEqual(ArchSchema.parse({}));
  });
});

describe('config errors', () => {
  it('names file, line, column, path, expected and found for a bad value', () => {
    const e = inputError(() => parseArch('adc:\n  bits: 0\n', 'a.yaml'));
    expect(e.message).toMatch(/^a\.yaml:2:9: adc\.bits: /);
    expect(e.path).toBe('adc.bits');
    expect(e.found).toBe('0');
    expect(e.expected).toMatch(/>= ?1|≥ ?1/);
  });
  it('suggests the key meant for an unknown key, at the key', () => {
    const e = inputError(() => parseArch('chip:\n  clock_hz: 1.0e9\nadc:\n  colums_per_adc: 8\n', 'b.yaml'));
    expect(e.message).toMatch(
      /^b\.yaml:4:3: adc\.colums_per_adc: unknown key; did you mean "columns_per_adc"\?/,
    );
  });
  it('suggests the section meant for an unknown section', () => {
    const e = inputError(() => parseArch('crosbar:\n  rows: 64\n', 'c.yaml'));
    expect(e.message).toContain('did you mean "crossbar"');
    expect(e.line).toBe(1);
  });
  it('names the choices of an enum and suggests the closest', () => {
    const e = inputError(() => parseArch('adc:\n  family: isac\n', 'd.yaml'));
    expect(e.message).toContain('"isaac"');
    expect(e.message).toContain('neurosim-sar');
  });
  it('reports every bad field at once', () => {
    const e = inputError(() => parseArch('adc:\n  bits: -1\n  columns_per_adc: 0\n', 'e.yaml'));
    expect(e).toBeInstanceOf(InputErrors);
    expect((e as InputErrors).errors.map((x) => x.line)).toEqual([2, 3]);
  });
  it('checks fields against each other', () => {
    const e = inputError(() => parseArch('crossbar:\n  rows: 32\n  rows_parallel: 64\n', 'f.yaml'));
    expect(e.path).toBe('crossbar.rows_parallel');
    expect(e.message).toContain('f.yaml');
  });
  it('requires SpikeSim mapping under SpikeSim accounting', () => {
    const e = inputError(() => parseArch('accounting: spikesim\n', 'g.yaml'));
    expect(e.message).toContain('mapping.scheme');
  });
  it('refuses YAML alias bombs', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 9; i++)
      bomb.push(
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9)
          .fill('*' + String.fromCharCode(97 + i))
          .join(', ')}]`,
      );
    const t0 = Date.now();
    expect(() => parseArch(bomb.join('\n'), 'bomb.yaml')).toThrow(InputError);
    expect(Date.now() - t0).toBeLessThan(2000);
  });
  it('refuses huge documents', () => {
    const big = 'chip:\n  name: ' + 'x'.repeat(2 * 1024 * 1024) + '\n';
    expect(() => parseArch(big, 'big.yaml')).toThrow(/big\.yaml/);
  });
  it('reports a missing file as an input error', () => {
    expect(() => loadArch('arch-configs/nope.yaml')).toThrow(/nope\.yaml: file not found/);
  });
});

describe('overrides (--set)', () => {
  it('reads values as YAML scalars', () => {
    expect(parseOverride('adc.bits=6')).toEqual({ path: 'adc.bits', value: 6 });
    expect(parseOverride('crossbar.zero_skipping=false')).toEqual({
      path: 'crossbar.zero_skipping',
      value: false,
    });
    expect(parseOverride('adc.family=neurosim-sar')).toEqual({ path: 'adc.family', value: 'neurosim-sar' });
  });
  it('applies with immer without touching the input', () => {
    const base = Object.freeze({ adc: Object.freeze({ bits: 4 }) });
    const out = applyOverrides(base, [
      { path: 'adc.bits', value: 6 },
      { path: 'noc.flit_bits', value: 128 },
    ]);
    expect(out).toEqual({ adc: { bits: 6 }, noc: { flit_bits: 128 } });
    expect(base.adc.bits).toBe(4);
  });
  it('validates again after overriding', () => {
    const spec = loadArch('arch-configs/default.yaml', [parseOverride('adc.bits=6')]);
    expect(spec.adc.bits).toBe(6);
    expect(() => loadArch('arch-configs/default.yaml', [parseOverride('adc.bits=fast')])).toThrow(
      /adc\.bits/,
    );
    expect(() => loadArch('arch-configs/default.yaml', [parseOverride('adc.bitz=6')])).toThrow(
      /did you mean "bits"/,
    );
  });
  it('rejects malformed overrides', () => {
    expect(() => parseOverride('adc.bits')).toThrow(InputError);
    expect(() => parseOverride('adc..bits=3')).toThrow(InputError);
  });
});

describe('physical ranges and cross-field checks (issue 18 item 4)', () => {
  // Each absurd value of the hostile-input campaign is refused at its key, with the range it must be in.
  it.each([
    ['adc:\n  bits: 64\n', 'adc.bits', 'integer >= 1 and <= 16'],
    ['chip:\n  tech_node_nm: 1.0e30\n', 'chip.tech_node_nm', 'number >= 3 and <= 180'],
    ['chip:\n  clock_hz: 1.0e-300\n', 'chip.clock_hz', 'number >= 1000000 and <= 10000000000'],
    ['crossbar:\n  rows: 1000000000\n  rows_parallel: 8\n', 'crossbar.rows', 'integer >= 8 and <= 4096'],
    ['crossbar:\n  columns: 1000000000\n', 'crossbar.columns', 'integer >= 8 and <= 4096'],
  ])('%j is refused at %s', (text, path, expected) => {
    const e = inputError(() => parseArch(text, 'r.yaml'));
    expect(e.path).toBe(path);
    expect(e.expected).toBe(expected);
    expect(e.message).toMatch(/^r\.yaml:2:\d+: /);
  });
  it('a cell cannot hold more bits than a weight', () => {
    const e = inputError(() => parseArch('crossbar:\n  cell_bits: 8\n  weight_bits: 4\n', 'c.yaml'));
    expect(e.path).toBe('crossbar.cell_bits');
    expect(e.message).toBe(
      'c.yaml: crossbar.cell_bits: a cell cannot store more bits than a weight has (expected at most 4 (crossbar.weight_bits), found 8)',
    );
  });
  it('the shift-and-add accumulator holds an ADC result; a buffer port fits its buffer', () => {
    expect(inputError(() => parseArch('adc:\n  bits: 12\nshift_add:\n  bits: 8\n', 'a.yaml')).path).toBe(
      'adc.bits',
    );
    expect(
      inputError(() => parseArch('tile_buffer:\n  capacity_bits: 32\n  width_bits: 64\n', 'b.yaml')).path,
    ).toBe('tile_buffer.width_bits');
  });
  it('every range is stated with its reason in the schema metadata (docs/CONFIG.md shows it)', () => {
    const json = ArchSchema.toJSONSchema() as { properties: Record<string, { properties?: object }> };
    let n = 0;
    for (const sec of Object.values(json.properties))
      for (const f of Object.values(sec.properties ?? {}) as Array<Record<string, unknown>>)
        if (f.type === 'number' || f.type === 'integer') {
          n++;
          expect(f.maximum, JSON.stringify(f)).toBeLessThan(Number.MAX_SAFE_INTEGER);
          expect(String(f.range ?? '').length, JSON.stringify(f)).toBeGreaterThan(5);
        }
    expect(n).toBeGreaterThan(40);
  });
});

describe('hostile --set paths and values (issue 18 items 7, 8)', () => {
  const polluted = () => (({}) as Record<string, unknown>).polluted;
  it.each([
    '__proto__.polluted=1',
    'adc.__proto__.polluted=1',
    'constructor.prototype.polluted=1',
    'adc.constructor.prototype.polluted=1',
    'adc.prototype=1',
    'layers[0].__proto__.polluted=1',
  ])('%s is refused by name and pollutes nothing', (text) => {
    const seg = /(__proto__|constructor|prototype)/.exec(text)![1];
    const e = inputError(() => loadArch('arch-configs/default.yaml', [parseOverride(text)]));
    expect(e).not.toBeInstanceOf(InputErrors);
    expect(e.message).toContain(`"${seg}" is not allowed`);
    expect(polluted()).toBeUndefined();
  });
  it('an override built without parseOverride is checked too', () => {
    for (const path of ['__proto__.polluted', 'adc.constructor.prototype.polluted']) {
      expect(() => applyOverrides({}, [{ path, value: 1 }])).toThrow(/is not allowed/);
      expect(polluted()).toBeUndefined();
    }
  });
  it('a YAML tag in a --set value is an input error, not a warning', () => {
    for (const v of ['!!binary x', '!foo 6', '[!!int 3]', '!!str 5']) {
      const e = inputError(() => parseOverride(`adc.bits=${v}`));
      expect(e.message).toContain('YAML tags are not accepted');
    }
  });
  it('a bad --set value is not located in the file it did not come from', () => {
    const e = inputError(() => loadArch('arch-configs/default.yaml', [parseOverride('adc.bits=99')]));
    expect(e.message).toBe(
      'adc.bits: must be an integer >= 1 and <= 16 (expected integer >= 1 and <= 16, found 99)',
    );
  });
  it('an empty file is an error that names the file', () => {
    for (const text of ['', '# only a comment\n', '---\n']) {
      const e = inputError(() => parseArch(text, 'empty.yaml'));
      expect(e.message).toMatch(/^empty\.yaml(:\d+:\d+)?: document is empty/);
      expect(e.file).toBe('empty.yaml');
    }
  });
});
