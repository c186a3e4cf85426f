import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError, InputErrors } from '../../src/config/errors.js';
import { planSweep } from '../../src/sweep/plan.js';
import { expandValues, loadSweepSpec, parseSweepSpec } from '../../src/sweep/spec.js';
import { ARCH, MNIST_MODEL, MNIST_NET, analyticSpec, tempDir, writeSpec } from './helpers.js';

/** The messages of an InputError (one or several). */
async function errorsOf(f: () => unknown): Promise<string[]> {
  try {
    await f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e instanceof InputErrors ? e.errors.map((x) => x.message) : [(e as Error).message];
  }
  throw new Error('expected an InputError');
}

const yaml = (lines: string[]) => lines.join('\n') + '\n';
const base = ['mode: analytic', `arch: ${ARCH}`, 'workload:', `  network: ${MNIST_NET}`, '  rate: 0.1'];

describe('sweep spec parsing', () => {
  it('expands lists, {values} and inclusive {from, to, step} ranges (rounded, counting down too)', () => {
    expect(expandValues([1, 2])).toEqual([1, 2]);
    expect(expandValues({ values: ['a', 'b'] })).toEqual(['a', 'b']);
    expect(expandValues({ from: 0.1, to: 0.5, step: 0.1 })).toEqual([0.1, 0.2, 0.3, 0.4, 0.5]);
    expect(expandValues({ from: 64, to: 256, step: 64 })).toEqual([64, 128, 192, 256]);
    expect(expandValues({ from: 8, to: 2, step: -3 })).toEqual([8, 5, 2]);
    expect(expandValues({ from: 1, to: 2, step: -1 })).toEqual([]);
  });

  it('reads every key; relative paths are resolved against the spec folder', () => {
    const dir = tempDir('spec');
    const file = writeSpec(
      dir,
      yaml([
        'name: s1',
        'description: test',
        'mode: cycle',
        'arch: ../../arch.yaml',
        'set: { noc.flit_bits: 32 }',
        'workload: { model: models/m, dataset: mnist, samples: 4 }',
        'axes:',
        '  adc.bits: [4, 6]',
        '  crossbar.rows: { from: 64, to: 128, step: 64 }',
        'algorithm: { policy: [static, entropy], theta: { from: 0.5, to: 0.7, step: 0.1 }, timesteps: 4 }',
        'metrics: [energy_per_sample_j, accuracy]',
      ]),
      'sub/spec.yaml',
    );
    const s = loadSweepSpec(file);
    expect(s.name).toBe('s1');
    expect(s.arch).toBe(join(dir, '..', 'arch.yaml'));
    expect(s.workload).toEqual({
      kind: 'model',
      model: join(dir, 'sub', 'models', 'm'),
      dataset: 'mnist',
      split: 'test',
      samples: 4,
      seed: 0,
    });
    expect(s.set).toEqual({ 'noc.flit_bits': 32 });
    expect(s.axes).toEqual([
      { path: 'adc.bits', values: [4, 6] },
      { path: 'crossbar.rows', values: [64, 128] },
    ]);
    expect(s.algorithm).toEqual({ policy: ['static', 'entropy'], theta: [0.5, 0.6, 0.7], timesteps: [4] });
    expect(s.metrics).toEqual(['energy_per_sample_j', 'accuracy']);
  });

  it('locates schema problems at file:line:column with a did-you-mean', async () => {
    const [m] = await errorsOf(() => parseSweepSpec(yaml([...base, 'axis:', '  adc.bits: [4]']), 'x.yaml'));
    expect(m).toMatch(/^x\.yaml:6:1: axis: unknown key; did you mean "axes"\?/);
    const [step] = await errorsOf(() =>
      parseSweepSpec(yaml([...base, 'axes:', '  adc.bits: { from: 2, to: 4, step: 0 }']), 'x.yaml'),
    );
    expect(step).toMatch(/^x\.yaml:7:\d+: axes\["adc\.bits"\]\.step: step must not be 0/);
    const [mode] = await errorsOf(() => parseSweepSpec(yaml(['mode: cycles', ...base.slice(1)]), 'x.yaml'));
    expect(mode).toMatch(/^x\.yaml:1:7: mode: invalid value; did you mean "cycle"\?/);
    const [key] = await errorsOf(() =>
      parseSweepSpec(yaml([...base, 'axes:', '  "adc..bits": [4]']), 'x.yaml'),
    );
    expect(key).toMatch(/^x\.yaml:7:\d+: .*invalid key "adc\.\.bits"/);
  });

  it('refuses __proto__, constructor and prototype in axis and set paths by name, polluting nothing', async () => {
    const polluted = () => (({}) as Record<string, unknown>).polluted;
    for (const [section, path] of [
      ['axes', 'adc.__proto__.polluted'],
      ['axes', '__proto__'],
      ['axes', 'constructor.prototype.polluted'],
      ['set', 'adc.constructor.prototype.polluted'],
    ]) {
      const value = section === 'axes' ? '[1, 2]' : '1';
      const spec = yaml([...base, `${section}:`, `  "${path}": ${value}`]);
      const [m] = await errorsOf(() => parseSweepSpec(spec, 'x.yaml'));
      const seg = /(__proto__|constructor|prototype)/.exec(path)![1];
      expect(m).toMatch(new RegExp(`^x\\.yaml:7:\\d+: .*"${seg}" is not allowed`));
      expect(polluted()).toBeUndefined();
    }
  });

  it('refuses empty ranges, duplicate values and a path both set and swept, located', async () => {
    const [empty] = await errorsOf(() =>
      parseSweepSpec(yaml([...base, 'axes:', '  adc.bits: { from: 6, to: 4, step: 1 }']), 'x.yaml'),
    );
    expect(empty).toMatch(/^x\.yaml:7:13: axes\["adc\.bits"\]: range is empty/);
    const [dup] = await errorsOf(() =>
      parseSweepSpec(yaml([...base, 'axes:', '  adc.bits: [4, 5, 4]']), 'x.yaml'),
    );
    expect(dup).toMatch(/^x\.yaml:7:20: axes\["adc\.bits"\]\[2\]: duplicate axis value/);
    const [both] = await errorsOf(() =>
      parseSweepSpec(yaml([...base, 'set: { adc.bits: 4 }', 'axes:', '  adc.bits: [4, 5]']), 'x.yaml'),
    );
    expect(both).toMatch(/^x\.yaml:6:\d+: set\["adc\.bits"\]: this path is both swept and set/);
    const [theta] = await errorsOf(() =>
      parseSweepSpec(yaml([...base, 'algorithm:', '  theta: { from: 0.8, to: 1.2, step: 0.2 }']), 'x.yaml'),
    );
    expect(theta).toMatch(/algorithm\.theta\[2\]: θ must be in \[0, 1\]/);
  });
});

describe('sweep planning errors (up front, before anything runs)', () => {
  const plan = (text: string) => planSweep(parseSweepSpec(text, 'p.yaml'));

  it('an axis value the arch schema rejects is located at that value', async () => {
    const [m] = await errorsOf(() => plan(yaml([...base, 'axes:', '  adc.bits: [4, 0]'])));
    expect(m).toMatch(/^p\.yaml:7:17: axes\["adc\.bits"\]\[1\]: axis value 0 is not a valid adc\.bits/);
    const [unknown] = await errorsOf(() => plan(yaml([...base, 'axes:', '  adc.bitz: [4, 5]'])));
    expect(unknown).toMatch(/axes\["adc\.bitz"\]\[0\]: .*unknown key; did you mean "bits"\?/);
  });

  it('a combination failing the cross-field checks names the point and its axis values', async () => {
    const msgs = await errorsOf(() =>
      plan(yaml([...base, 'axes:', '  crossbar.columns: [32, 64]', '  adc.columns_per_adc: [16, 64]'])),
    );
    expect(msgs).toHaveLength(1);
    expect(msgs[0]).toMatch(
      /^p\.yaml:7:3: axes: invalid sweep point 1 \(crossbar\.columns=32, adc\.columns_per_adc=64\)/,
    );
    expect(msgs[0]).toMatch(/an ADC cannot serve more columns than a crossbar has/);
  });

  it('a bad `set` value is located in the spec', async () => {
    const [m] = await errorsOf(() => plan(yaml([...base, 'set: { noc.flit_bits: -1 }'])));
    expect(m).toMatch(/^p\.yaml:6:\d+: set\["noc\.flit_bits"\]: set value rejected/);
  });

  it('algorithm axes and metrics must fit the workload and the mode', async () => {
    const [theta] = await errorsOf(() => plan(yaml([...base, 'algorithm: { theta: [0.5] }'])));
    expect(theta).toMatch(/algorithm\.theta: θ sets when the model exits: it needs a model workload/);
    const [acc] = await errorsOf(() => plan(yaml([...base, 'metrics: [energy_per_sample_j, accuracy]'])));
    expect(acc).toMatch(/metrics\[1\]: accuracy needs labelled samples/);
    const [noc] = await errorsOf(() => plan(yaml([...base, 'metrics: [noc_max_link_utilisation]'])));
    expect(noc).toMatch(/metrics\[0\]: noc_max_link_utilisation is measured by the cycle-level replay only/);
    const [cyc] = await errorsOf(() =>
      plan(
        yaml([
          'mode: cycle',
          `arch: ${ARCH}`,
          'workload:',
          `  network: ${MNIST_NET}`,
          'algorithm: { policy: [entropy] }',
        ]),
      ),
    );
    expect(cyc).toMatch(/workload: cycle mode replays a synthetic trace of the network: give rate or rates/);
    const [ent] = await errorsOf(() =>
      plan(yaml(['mode: cycle', ...base.slice(1), 'algorithm: { policy: [static, entropy] }'])),
    );
    expect(ent).toMatch(/algorithm\.policy: a synthetic trace has no exit decision/);
    const [st] = await errorsOf(() =>
      plan(
        yaml([
          'mode: analytic',
          `arch: ${ARCH}`,
          `workload: { model: ${MNIST_MODEL}, dataset: mnist }`,
          'algorithm: { policy: static, theta: [0.5] }',
        ]),
      ),
    );
    expect(st).toMatch(/algorithm\.theta: θ is used by the entropy policy only/);
  });

  it('a missing arch file or model is an input error naming the file', async () => {
    const [arch] = await errorsOf(() =>
      plan(yaml(['mode: analytic', 'arch: /nonexistent/a.yaml', ...base.slice(2)])),
    );
    expect(arch).toMatch(/\/nonexistent\/a\.yaml: file not found/);
    const [model] = await errorsOf(() =>
      plan(yaml(['mode: analytic', `arch: ${ARCH}`, 'workload: { model: /nonexistent/m, dataset: mnist }'])),
    );
    expect(model).toMatch(/\/nonexistent\/m/);
  });

  it('the analytic spec helper plans (sanity of the fixture)', async () => {
    const dir = tempDir('fixture');
    const p = await planSweep(loadSweepSpec(writeSpec(dir, analyticSpec())));
    expect(p.points).toHaveLength(12);
  });
});
