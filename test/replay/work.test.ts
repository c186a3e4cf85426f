import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildWorkload } from '../../src/chip/workload.js';
import { loadArch, parseOverride } from '../../src/config/load.js';
import { parseNetwork } from '../../src/network/load.js';
import { packBits } from '../../src/trace/format.js';
import { FrameWork, framePlanes, layerGeometry, rowGroups } from '../../src/replay/work.js';
import { referenceActiveRows } from '../oracles/active-rows.js';

/**
 * The fast work extraction (scatter of the active inputs, SWAR over bit-planes) against the reference
 * (quantise into planes, gather over the im2col table): identical row groups per (position, row piece),
 * identical totals, identical active-element count, for random layers, chips and frames.
 */
describe('work extraction: scatter = gather reference', () => {
  const caseArb = fc.record({
    conv: fc.boolean(),
    channels: fc.integer({ min: 1, max: 6 }),
    size: fc.integer({ min: 1, max: 8 }),
    out: fc.integer({ min: 1, max: 20 }),
    kernel: fc.integer({ min: 1, max: 3 }),
    stride: fc.integer({ min: 1, max: 2 }),
    padding: fc.integer({ min: 0, max: 2 }),
    dilation: fc.integer({ min: 1, max: 2 }),
    grouped: fc.boolean(),
    // 300 and 512 rows: pieces over 255 rows take the per-plane path instead of SWAR byte lanes.
    rows: fc.constantFrom(4, 8, 16, 64, 300, 512),
    rowsParallelDiv: fc.constantFrom(1, 2, 4),
    zeroSkipping: fc.boolean(),
    binary: fc.boolean(),
    inputBits: fc.integer({ min: 1, max: 20 }),
    rate: fc.double({ min: 0, max: 1, noNaN: true }),
    negative: fc.boolean(),
    seed: fc.integer({ min: 1, max: 2 ** 30 }),
  });

  it('matches for random layers and frames', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const k = Math.min(c.kernel, c.size + 2 * c.padding);
        const span = c.dilation * (k - 1) + 1;
        const conv = c.conv && c.size + 2 * c.padding >= span;
        const groups = conv && c.grouped && c.channels % 2 === 0 && c.out % 2 === 0 ? 2 : 1;
        const layer = conv
          ? `{ name: l, type: conv2d, out_channels: ${c.out}, kernel: ${k}, stride: ${c.stride}, padding: ${c.padding}, dilation: ${c.dilation}, groups: ${groups} }`
          : `{ name: l, type: linear, out_features: ${c.out} }`;
        const net = parseNetwork(
          [
            'name: w',
            `input: { shape: [${c.channels}, ${c.size}, ${c.size}] }`,
            'classes: 2',
            'layers:',
            ...(conv ? [] : ['  - { name: f, type: flatten }']),
            `  - ${layer}`,
            ...(conv ? ['  - { name: f, type: flatten }'] : []),
            '  - { name: o, type: linear, out_features: 2, spiking: false }',
          ].join('\n'),
          'w.yaml',
        );
        const spec = loadArch(
          'arch-configs/default.yaml',
          [
            `crossbar.rows=${c.rows}`,
            `crossbar.rows_parallel=${Math.max(1, Math.floor(c.rows / c.rowsParallelDiv))}`,
            `crossbar.zero_skipping=${c.zeroSkipping}`,
            `crossbar.input_bits=${c.inputBits}`,
          ].map(parseOverride),
        );
        const w = buildWorkload(spec, net.spec, { timesteps: 1 }, net.shapes);
        const lm = w.mapping.layers[0];
        const geo = layerGeometry(spec, lm, c.binary);
        const E = lm.layer.inputElements;
        // A frame: spikes bit-packed, or values (some negative, some zero) at the given rate.
        let x = c.seed;
        const rnd = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32;
        const dense = new Float32Array(E);
        for (let i = 0; i < E; i++)
          if (rnd() < c.rate) dense[i] = c.binary ? 1 : (c.negative && rnd() < 0.5 ? -1 : 1) * (rnd() + 0.01);
        const frame = c.binary ? packBits(dense) : dense;

        const fw = new FrameWork();
        fw.extract(spec, geo, frame);
        // Reference.
        const planes = Array.from({ length: geo.planes }, () => new Uint8Array(E));
        const n = framePlanes(frame, E, c.binary, spec.crossbar.input_bits, planes);
        expect(fw.nPlanes).toBe(n);
        const active = new Int32Array(geo.positions * geo.pieces * n);
        referenceActiveRows(geo, planes, n, active);
        let rows = 0;
        let groupsTotal = 0;
        for (let s = 0; s < geo.positions * geo.pieces; s++) {
          let g = 0;
          for (let p = 0; p < n; p++) {
            rows += active[s * n + p];
            g += rowGroups(spec, active[s * n + p], geo.pieceRows[s % geo.pieces]);
          }
          expect(fw.groups[s]).toBe(g);
          groupsTotal += g;
        }
        expect(fw.activeRowsTotal).toBe(rows);
        expect(fw.groupsTotal).toBe(groupsTotal);
        let activeElems = 0;
        for (let i = 0; i < E; i++) {
          let any = 0;
          for (let p = 0; p < n; p++) any |= planes[p][i];
          activeElems += any;
        }
        expect(fw.activeElems).toBe(activeElems);
        // A second extraction with the same buffers gives the same (the accumulators are left zeroed).
        const again = Int32Array.from(fw.groups.subarray(0, geo.positions * geo.pieces));
        fw.extract(spec, geo, frame);
        expect(Array.from(fw.groups.subarray(0, again.length))).toEqual(Array.from(again));
      }),
      { numRuns: 300, seed: 5 },
    );
  });
});
