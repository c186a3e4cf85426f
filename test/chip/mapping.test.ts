import { describe, expect, it } from 'vitest';
import { loadArch, parseOverride } from '../../src/config/load.js';
import { hops, mapNetwork } from '../../src/chip/mapping.js';
import { loadNetwork } from '../../src/network/load.js';

const mnist = loadNetwork('models/mnist-convnet');

describe('mapping the MNIST convnet on default.yaml (hand-computed)', () => {
  const m = mapNetwork(loadArch('arch-configs/default.yaml'), mnist.shapes);
  const row = (name: string) => m.layers.find((l) => l.layer.name === name)!;
  it('bit-slices 4-bit weights over 2-bit cells, differential: 4 columns per weight, 16 per crossbar', () => {
    expect(row('conv1').columnsPerWeight).toBe(4);
    expect(row('conv1').neuronsPerCrossbar).toBe(16);
  });
  it('conv1: 9×16 matrix in one crossbar, multi-bit input', () => {
    const l = row('conv1');
    expect([l.layer.rows, l.layer.cols, l.rowSplits, l.colSplits, l.crossbars, l.pes]).toEqual([
      9, 16, 1, 1, 1, 1,
    ]);
    expect(l.layer.binaryInput).toBe(false);
  });
  it('conv2: 144×32 → 3 row pieces (64, 64, 16) × 2 column pieces', () => {
    const l = row('conv2');
    expect([l.rowSplits, l.rowsFull, l.rowsLast, l.colSplits, l.crossbars]).toEqual([3, 64, 16, 2, 6]);
    expect(l.layer.binaryInput).toBe(false); // sums after average pooling
  });
  it('fc1: 1568×128 → 25 × 8 crossbars in 25 PEs on 7 tiles', () => {
    const l = row('fc1');
    expect([l.rowSplits, l.rowsLast, l.colSplits, l.crossbars, l.pes, l.tiles.length]).toEqual([
      25, 32, 8, 200, 25, 7,
    ]);
  });
  it('fc2 reads binary spikes; 10 neurons use 40 columns', () => {
    const l = row('fc2');
    expect(l.layer.binaryInput).toBe(true);
    expect([l.crossbars, l.colsUsedLast]).toEqual([2, 40]);
  });
  it('places 10 tiles on a 4×3 mesh, consecutive tiles adjacent', () => {
    expect([m.totalTiles, m.meshColumns, m.meshRows]).toEqual([10, 4, 3]);
    for (let t = 0; t + 1 < m.totalTiles; t++) expect(hops(m, t, t + 1)).toBe(1);
  });
  it('is deterministic', () => {
    const again = mapNetwork(loadArch('arch-configs/default.yaml'), mnist.shapes);
    expect(JSON.stringify(again)).toBe(JSON.stringify(m));
  });
});

describe('mapping options', () => {
  it('offset weights need no differential pair', () => {
    const m = mapNetwork(
      loadArch('arch-configs/default.yaml', [parseOverride('crossbar.signed_weights=offset')]),
      mnist.shapes,
    );
    expect(m.layers[0].columnsPerWeight).toBe(2);
  });
  it('packed tiles share tiles between layers', () => {
    const a = mapNetwork(loadArch('arch-configs/default.yaml'), mnist.shapes);
    const b = mapNetwork(
      loadArch('arch-configs/default.yaml', [parseOverride('mapping.tile_packing=packed')]),
      mnist.shapes,
    );
    expect(b.totalTiles).toBeLessThan(a.totalTiles);
    expect(b.totalTiles).toBe(Math.ceil(b.totalPes / 4));
  });
  it('a mesh too small for the tiles is an input error naming the field', () => {
    expect(() =>
      mapNetwork(
        loadArch('arch-configs/default.yaml', [
          parseOverride('noc.mesh_columns=2'),
          parseOverride('noc.mesh_rows=2'),
        ]),
        mnist.shapes,
      ),
    ).toThrow(/noc\.mesh_columns.*at least 10 tiles/);
  });
  it('a weight wider than a crossbar row is an input error', () => {
    expect(() =>
      mapNetwork(
        loadArch('arch-configs/default.yaml', [
          // 16 one-bit slices, differential: 32 columns per weight on an 8-column crossbar (8 is the schema's minimum)
          parseOverride('crossbar.columns=8'),
          parseOverride('crossbar.weight_bits=16'),
          parseOverride('crossbar.cell_bits=1'),
          parseOverride('adc.columns_per_adc=1'),
        ]),
        mnist.shapes,
      ),
    ).toThrow(/crossbar\.columns: a weight does not fit in one crossbar row \(expected at least 32 columns/);
  });
});
