/**
 * SpikeSim parity at every size: imcsim's SpikeSim accounting against SpikeSim's own formulas
 * (docs/SOURCES.md §5; public SpikeSim repository, ela_spikesim.py), written out again here from the
 * formulas and run on SpikeSim-style layer lists, over crossbar sizes, PEs per tile, clocks, T and networks.
 */
import { describe, expect, it } from 'vitest';
import { estimate } from '../../src/analytic/estimate.js';
import { InputError } from '../../src/config/errors.js';
import { loadArch } from '../../src/config/load.js';
import { parseNetwork } from '../../src/network/load.js';

/** A SpikeSim layer list: in/out channels and in/out dims of each conv layer (k×k kernel for all). */
interface LayerList {
  name: string;
  k: number;
  inCh: number[];
  outCh: number[];
  inDim: number[];
  outDim: number[];
  /** Per layer: 'pool' (conv stride 1 then 2×2 average pooling), 'stride' (conv stride 2) or 'same'. */
  how: ('pool' | 'stride' | 'same')[];
}

// ---- SpikeSim's model, from docs/SOURCES.md §5 (energies pJ, latency ns, area µm²) ----
const XBAR_E = 1.76423;
const ADC_E = 2.03084;
const MUX_E = 0.094245;
const SUB_E = 1.15e-6;
const TEMP_E = 0.2;
const TILE_E = 397;
const HTREE_E = 19.64 * 8;
const MEM_E = 4.64;
const NEURON_E = 1.274 * 4;

function oracleEnergyPj(n: LayerList, x: number, T: number): number {
  const peE = n.k * n.k * XBAR_E + (x / 8) * (ADC_E + MUX_E);
  const cycE = HTREE_E + MEM_E + NEURON_E + (x / 8) * peE + (x / 8) * 16 * SUB_E + (x / 8) * TEMP_E + TILE_E;
  let e = 0;
  for (let i = 0; i < n.outCh.length; i++) {
    const peCycles = Math.ceil(n.outCh[i] / x) * Math.ceil(n.inCh[i] / x) * n.outDim[i] * n.outDim[i];
    e += peCycles * cycE * T;
  }
  return e;
}

function oracleLatencyNs(n: LayerList, T: number, clockMHz: number): number {
  const peCycleNs = 26 * (1000 / clockMHz);
  const last = n.outCh.length - 1;
  let steps = n.outDim[last] * n.outDim[last] * n.outCh[last] * T;
  for (let j = 0; j < last; j++) steps += Math.floor(0.75 * n.outDim[j] * n.outDim[j] * n.outCh[j]) * T;
  return steps * peCycleNs;
}

function oracleArea(
  n: LayerList,
  x: number,
  pesPerTile: number,
): { pes: number; tiles: number; um2: number } {
  let pes = 0;
  for (let i = 0; i < n.outCh.length; i++) pes += Math.ceil(n.inCh[i] / x) * Math.ceil(n.outCh[i] / x);
  const tiles = pes % pesPerTile !== 0 ? Math.floor(pes / pesPerTile) + 1 : pes / pesPerTile;
  const peAr = n.k * n.k * 26.2144 + (x / 8) * (693.633 + 45.9);
  const tileAr = (x / 8) * 13411.41498 + 484.643999 + 0.7391 * 64 * 128 + pesPerTile * peAr + 216830 * 2;
  let mem = 0;
  for (let i = 0; i < n.inCh.length; i++) mem += n.inCh[i] * n.inDim[i] * n.inDim[i] * 0.7391 * 22;
  let neuron = 0;
  for (let i = 0; i < Math.min(5, n.outCh.length); i++)
    neuron += n.outCh[i] * n.outDim[i] * n.outDim[i] * 0.7391 * 22;
  return { pes, tiles, um2: tileAr * tiles + mem + neuron };
}

// ---- Layer lists (SpikeSim's VGG-9 and small custom ones) and their network YAML ----
const VGG9: LayerList = {
  name: 'vgg9',
  k: 3,
  inCh: [3, 64, 64, 128, 128, 256, 256],
  outCh: [64, 64, 128, 128, 256, 256, 256],
  inDim: [32, 32, 16, 16, 8, 8, 8],
  outDim: [32, 16, 16, 8, 8, 8, 4],
  how: ['same', 'pool', 'same', 'pool', 'same', 'same', 'pool'],
};
const LISTS: LayerList[] = [
  VGG9,
  { name: 'one-layer', k: 3, inCh: [1], outCh: [8], inDim: [12], outDim: [12], how: ['same'] },
  {
    name: 'odd-widths',
    k: 3,
    inCh: [3, 20, 40],
    outCh: [20, 40, 300],
    inDim: [16, 8, 8],
    outDim: [8, 8, 4],
    how: ['pool', 'same', 'stride'],
  },
  {
    name: 'wide-deep',
    k: 3,
    inCh: [3, 32, 96, 96, 192, 192],
    outCh: [32, 96, 96, 192, 192, 512],
    inDim: [24, 24, 12, 12, 6, 6],
    outDim: [24, 12, 12, 6, 6, 3],
    how: ['same', 'pool', 'same', 'pool', 'same', 'pool'],
  },
  {
    name: 'pointwise',
    k: 1,
    inCh: [16, 64, 128],
    outCh: [64, 128, 130],
    inDim: [10, 10, 5],
    outDim: [10, 5, 5],
    how: ['same', 'pool', 'same'],
  },
];

function networkYaml(n: LayerList): string {
  const pad = (n.k - 1) / 2;
  const lines = [
    `name: ${n.name}`,
    `input: { shape: [${n.inCh[0]}, ${n.inDim[0]}, ${n.inDim[0]}], encoding: direct }`,
    'classes: 10',
    'timesteps: 4',
    'neuron: { model: lif, convention: dtsnn, leak: 0.5, threshold: 1.0, reset: hard }',
    'layers:',
  ];
  n.outCh.forEach((c, i) => {
    const stride = n.how[i] === 'stride' ? 2 : 1;
    lines.push(
      `  - { name: c${i}, type: conv2d, out_channels: ${c}, kernel: ${n.k}, padding: ${pad}, stride: ${stride} }`,
    );
    if (n.how[i] === 'pool') lines.push(`  - { name: p${i}, type: avgpool2d, kernel: 2 }`);
  });
  lines.push(
    '  - { name: flat, type: flatten }',
    '  - { name: fc, type: linear, out_features: 10, spiking: false }',
  );
  return lines.join('\n') + '\n';
}

const SIZES = [16, 32, 64, 128, 256];
const PES_PER_TILE = [1, 2, 3, 4, 8, 16];
const CLOCKS_HZ = [100e6, 250e6, 1e9];
const TS = [1, 2, 3, 4, 5, 6, 7, 8];
const rel = (got: number, want: number) => Math.abs(got - want) / Math.abs(want);

describe('SpikeSim accounting equals SpikeSim formulas (§5) over a grid', () => {
  it('layer lists are consistent with their networks (the oracle reads the lists, imcsim the YAML)', () => {
    for (const n of LISTS) {
      const net = parseNetwork(networkYaml(n), `${n.name}.yaml`);
      const convs = net.shapes.mapped.filter((l) => l.kind === 'conv2d');
      expect(convs.map((l) => [l.inChannels, l.outChannels, l.inDim, l.pooledOutDim])).toEqual(
        n.outCh.map((c, i) => [n.inCh[i], c, n.inDim[i], n.outDim[i]]),
      );
    }
  });

  it('energy, latency, area, PEs and tiles at every crossbar size, PEs per tile, clock and T', () => {
    let worst = { energy: 0, latency: 0, area: 0 };
    let points = 0;
    for (const n of LISTS) {
      const net = parseNetwork(networkYaml(n), `${n.name}.yaml`);
      for (const x of SIZES)
        for (const ppt of PES_PER_TILE)
          for (const clk of CLOCKS_HZ) {
            const arch = loadArch('arch-configs/spikesim-65nm.yaml', [
              { path: 'crossbar.rows', value: x },
              { path: 'crossbar.columns', value: x },
              { path: 'tile.pes_per_tile', value: ppt },
              { path: 'chip.clock_hz', value: clk },
              { path: 'pe.crossbars_per_pe', value: n.k * n.k },
            ]);
            for (const T of TS) {
              const r = estimate(arch, net.spec, { timesteps: T }, net.shapes);
              const a = oracleArea(n, x, ppt);
              expect(r.mapping.pes).toBe(a.pes);
              expect(r.mapping.tiles).toBe(a.tiles);
              const e = rel(r.energy_j * 1e12, oracleEnergyPj(n, x, T));
              const l = rel(r.latency_s * 1e9, oracleLatencyNs(n, T, clk / 1e6));
              const ar = rel(r.area_m2 * 1e12, a.um2);
              worst = {
                energy: Math.max(worst.energy, e),
                latency: Math.max(worst.latency, l),
                area: Math.max(worst.area, ar),
              };
              points++;
            }
          }
    }
    console.log(
      `SpikeSim grid: ${points} points, max relative error energy ${worst.energy.toExponential(2)}, latency ${worst.latency.toExponential(2)}, area ${worst.area.toExponential(2)}`,
    );
    expect(points).toBe(LISTS.length * SIZES.length * PES_PER_TILE.length * CLOCKS_HZ.length * TS.length);
    expect(worst.energy).toBeLessThan(1e-9);
    expect(worst.latency).toBeLessThan(1e-9);
    expect(worst.area).toBeLessThan(1e-9);
  });

  it('the oracle reproduces SpikeSim’s published VGG-9 figures (T=5, x=64, 8 PEs per tile, 250 MHz)', () => {
    expect(rel(oracleEnergyPj(VGG9, 64, 5), 15906934.03)).toBeLessThan(1e-9);
    expect(oracleLatencyNs(VGG9, 5, 250)).toBeCloseTo(62832640, 3);
    const a = oracleArea(VGG9, 64, 8);
    expect([a.pes, a.tiles]).toEqual([48, 6]);
    expect(rel(a.um2, 8425528.76)).toBeLessThan(1e-9);
  });

  it('conversions grow with (x/8)²: 4× at 128 and ¼ at 32 per PE cycle, against 64', () => {
    const net = parseNetwork(networkYaml(VGG9), 'vgg9.yaml');
    const conv = (x: number) => {
      const arch = loadArch('arch-configs/spikesim-65nm.yaml', [
        { path: 'crossbar.rows', value: x },
        { path: 'crossbar.columns', value: x },
      ]);
      const r = estimate(arch, net.spec, { timesteps: 1 }, net.shapes);
      return r.components.adc.actions.convert.count;
    };
    // PE cycles of the first layer alone: ceil(64/x)·ceil(3/x)·32²; all of VGG-9 at x = 64: 3840.
    const peCycles = (x: number) =>
      VGG9.outCh.reduce(
        (s, c, i) => s + Math.ceil(c / x) * Math.ceil(VGG9.inCh[i] / x) * VGG9.outDim[i] ** 2,
        0,
      );
    for (const x of [32, 64, 128]) expect(conv(x)).toBe(peCycles(x) * (x / 8) ** 2);
  });

  it('fixes 8 columns per ADC and ignores rows_parallel under SpikeSim accounting', () => {
    let e: unknown;
    try {
      loadArch('arch-configs/spikesim-65nm.yaml', [{ path: 'adc.columns_per_adc', value: 16 }]);
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).message).toContain('adc.columns_per_adc');
    // 32-row crossbars with the default rows_parallel (64): SpikeSim reads all rows at once, no error.
    const a = loadArch('arch-configs/spikesim-65nm.yaml', [
      { path: 'crossbar.rows', value: 32 },
      { path: 'crossbar.columns', value: 32 },
    ]);
    expect(a.crossbar.rows_parallel).toBeGreaterThan(a.crossbar.rows);
  });
});
