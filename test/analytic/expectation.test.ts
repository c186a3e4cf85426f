import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { estimate } from '../../src/analytic/estimate.js';
import {
  bitProbabilities,
  expectedGroups,
  expectedMax,
  stageGroupsCdf,
} from '../../src/analytic/expectation.js';
import { loadArch, parseOverride } from '../../src/config/load.js';
import { loadNetwork, parseNetwork } from '../../src/network/load.js';
import { simulateTrace } from '../../src/replay/simulate.js';
import { generateSyntheticTrace } from '../../src/trace/synthetic.js';

/**
 * The closed form with a plain rate file is the expectation for independent inputs at those rates
 * (issue 13 §2): hand-worked cases of the formulas, padding never counted as activity, and the replay
 * of synthetic traces drawn at those rates (the independent reference) within 2 %.
 */
const arch = (sets: string[] = []) => loadArch('arch-configs/default.yaml', sets.map(parseOverride));

describe('expectation formulas, worked by hand', () => {
  it('E[⌈X / rp⌉] for X ~ Binomial(n, p)', () => {
    // X ~ B(3, ½): P = 1/8, 3/8, 3/8, 1/8 for 0..3; ⌈X/2⌉ = 0, 1, 1, 2 → 3/8 + 3/8 + 2/8 = 1.
    expect(expectedGroups(3, 0.5, 2)).toBeCloseTo(1, 12);
    // One group reads a whole piece: a read iff any row is active, 1 − (1 − p)^n.
    expect(expectedGroups(9, 0.1, 16)).toBeCloseTo(1 - 0.9 ** 9, 12);
    // X ~ B(4, 0.3), rp = 1: E[X] = 1.2.
    expect(expectedGroups(4, 0.3, 1)).toBeCloseTo(1.2, 12);
    expect(expectedGroups(0, 0.3, 1)).toBe(0);
  });

  it('bit-plane probabilities of uniform values quantised per frame', () => {
    // 2 bits: levels 0..3, v uniform in (0, 1], q = round(3v): P(q=1) = P(q=2) = 1/3, P(q=3) = 1/6.
    // bit 0 set for q ∈ {1, 3}: 1/3 + 1/6 = ½; bit 1 for q ∈ {2, 3}: ½.
    const p = bitProbabilities(2);
    expect(p[0]).toBeCloseTo(0.5, 12);
    expect(p[1]).toBeCloseTo(0.5, 12);
    // 1 bit: q = round(v) = 1 for v ≥ ½.
    expect(bitProbabilities(1)[0]).toBeCloseTo(0.5, 12);
  });

  it('E[max] over independent pieces, and the planes of one element are shared', () => {
    // Two pieces, each S ∈ {0, 1} with P = ½: E[max] = 1 − ¼.
    const half = Float64Array.of(0.5, 1);
    expect(expectedMax([half, half])).toBeCloseTo(0.75, 12);
    // One row, 2 bit-planes, rows_parallel 1, non-zero with r = 0.6 (1-bit levels would be ½ each):
    // m ~ B(1, 0.6·(1 − 0.5/3)) = B(1, 0.5); given m = 1 the planes are set with ½/(5/6) = 0.6 each,
    // independently: S = 0 w.p. 0.5 + 0.5·0.16, 1 w.p. 0.5·0.48, 2 w.p. 0.5·0.36.
    const cdf = stageGroupsCdf(1, 0.6, false, 2, 1);
    expect(cdf[0]).toBeCloseTo(0.58, 12);
    expect(cdf[1]).toBeCloseTo(0.82, 12);
    expect(cdf[2]).toBeCloseTo(1, 12);
  });

  it('counts of a small network: padded rows are never active, each row piece by its own rows', () => {
    // conv 3×3, padding 1, on a 1×2×2 input: every window holds the 4 pixels and 5 padded rows; linear 10 → 3.
    const net = parseNetwork(
      [
        'name: hand',
        'input: { shape: [1, 2, 2], encoding: rate }',
        'classes: 3',
        'timesteps: 1',
        'layers:',
        '  - { name: c, type: conv2d, out_channels: 4, kernel: 3, padding: 1 }',
        '  - { name: f, type: flatten }',
        '  - { name: l, type: linear, out_features: 10 }',
        '  - { name: o, type: linear, out_features: 3, spiking: false }',
      ].join('\n'),
      'hand.yaml',
    );
    const r = 0.3;
    const spec = arch(['crossbar.rows=8', 'crossbar.rows_parallel=8', 'crossbar.columns=256']);
    const e = estimate(spec, net.spec, { rates: { default: r, layers: {} } }, net.shapes);
    const xbar = e.components.crossbar.actions;
    const drives = e.components.row_driver.actions;
    // c: 9 rows (row = 3·ky + kx) → pieces of rows 0–7 and row 8. The 4 real pixels sit at rows
    // 4, 5, 7, 8 at position (0, 0) (3 in the first piece, 1 in the second), at 3, 4, 6, 7 / 1, 2, 4, 5 /
    // 0, 1, 3, 4 at the other three (4 in the first piece, none in the second: no read there).
    const cReads = 1 - (1 - r) ** 3 + r + 3 * (1 - (1 - r) ** 4);
    const cActive = 4 * 4 * r;
    // l: 16 rows (4 channels × 2 × 2) → two pieces of 8; o: 10 rows → 8 and 2.
    const lReads = 2 * (1 - (1 - r) ** 8);
    const oReads = 1 - (1 - r) ** 8 + (1 - (1 - r) ** 2);
    // One column piece per layer.
    expect(e.mapping.crossbars).toBe(2 + 2 + 2);
    expect(xbar.read.count).toBeCloseTo(cReads + lReads + oReads, 9);
    expect(drives.drive.count).toBeCloseTo(cActive + 16 * r + 10 * r, 9);
  });
});

describe('rates → the replay of a synthetic trace drawn at those rates, within 2 %', () => {
  const dir = mkdtempSync(join(tmpdir(), 'imcsim-exp-'));
  for (const [name, rate, T, samples] of [
    ['mnist-convnet-t4', 0.2, 4, 16],
    ['mnist-convnet-t4', 0.05, 4, 16],
    ['vgg9-cifar10', 0.1, 2, 6],
  ] as const)
    for (const schedule of ['layer-sequential', 'timestep-pipelined'])
      it(`${name} at rate ${rate}, T=${T}, ${schedule}`, async () => {
        const net = loadNetwork(`models/${name}`);
        const out = join(dir, `${name}-${rate}.trace`);
        await generateSyntheticTrace({
          network: net.spec,
          shapes: net.shapes,
          rates: rate,
          samples,
          seed: 11,
          timesteps: T,
          out,
        });
        const spec = arch([`schedule.policy=${schedule}`]);
        const e = estimate(
          spec,
          net.spec,
          { timesteps: T, rates: { default: rate, layers: {} } },
          net.shapes,
        );
        const r = await simulateTrace(spec, out, { contentionFree: true, overlap: false });
        expect(Math.abs(e.energy_j / r.energy_per_sample_j - 1)).toBeLessThan(0.02);
        expect(Math.abs(e.latency_s / r.latency_per_sample_s - 1)).toBeLessThan(0.02);
      }, 60_000);
});
