/**
 * The network-on-chip module (src/chip/noc): the torus routes around the edge (hand-worked routes on a
 * 4×4 grid), the hop profiles the closed-form model reads equal plain pairwise sums, and a mesh and a
 * torus of the same size give the same action counts where no route wraps and differ, as worked out by
 * hand, where one does — in the closed-form model and in the replay.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { estimate } from '../../src/analytic/estimate.js';
import { mapNetwork } from '../../src/chip/mapping.js';
import { mesh } from '../../src/chip/noc/mesh.js';
import { TOPOLOGIES } from '../../src/chip/noc/registry.js';
import { linksOf, routeOf } from '../../src/chip/noc/topology.js';
import { torus } from '../../src/chip/noc/torus.js';
import { InputError } from '../../src/util/errors.js';
import { loadArch, parseOverride } from '../../src/config/load.js';
import type { ArchSpec } from '../../src/config/schema.js';
import { parseNetwork } from '../../src/network/load.js';
import { simulateTrace } from '../../src/replay/simulate.js';
import { generateSyntheticTrace } from '../../src/trace/synthetic.js';

// Directed link index: node * 4 + dir, node = y * columns + x; dir 0 east, 1 west, 2 south, 3 north.
const link = (x: number, y: number, dir: number, columns = 4) => (y * columns + x) * 4 + dir;

describe('torus routing on a 4×4 grid (hand-worked)', () => {
  const t = torus.create(4, 4);
  const m = mesh.create(4, 4);

  it('goes round the edge when that is shorter', () => {
    // (0,0) → (3,0): the mesh goes east three hops; the torus takes the west wrap link, one hop.
    expect(routeOf(m, 0, 0, 3, 0)).toEqual({
      nodes: [0, 1, 2, 3],
      links: [link(0, 0, 0), link(1, 0, 0), link(2, 0, 0)],
    });
    expect(routeOf(t, 0, 0, 3, 0)).toEqual({ nodes: [0, 3], links: [link(0, 0, 1)] });
    expect(t.hops(0, 0, 3, 0)).toBe(1);
    // (0,0) → (3,3): x first (west wrap to (3,0)), then the north wrap to (3,3): 2 hops; the mesh needs 6.
    expect(routeOf(t, 0, 0, 3, 3)).toEqual({ nodes: [0, 3, 15], links: [link(0, 0, 1), link(3, 0, 3)] });
    expect(t.hops(0, 0, 3, 3)).toBe(2);
    expect(m.hops(0, 0, 3, 3)).toBe(6);
    // (1,3) → (1,0): south across the bottom edge.
    expect(routeOf(t, 1, 3, 1, 0)).toEqual({ nodes: [13, 1], links: [link(1, 3, 2)] });
    // (3,0) → (0,0) back: the east wrap link.
    expect(routeOf(t, 3, 0, 0, 0)).toEqual({ nodes: [3, 0], links: [link(3, 0, 0)] });
  });

  it('breaks a tie (half-way round) the mesh way, never over the wrap link', () => {
    expect(routeOf(t, 0, 0, 2, 0)).toEqual(routeOf(m, 0, 0, 2, 0));
    expect(routeOf(t, 3, 0, 1, 0)).toEqual({ nodes: [3, 2, 1], links: [link(3, 0, 1), link(2, 0, 1)] });
    expect(routeOf(t, 1, 3, 1, 1)).toEqual({ nodes: [13, 9, 5], links: [link(1, 3, 3), link(1, 2, 3)] });
  });

  it('has the wrap-around links, only on rings of three or more routers', () => {
    expect(linksOf(m)).toHaveLength(2 * (3 * 4 + 4 * 3)); // 48
    expect(linksOf(t)).toHaveLength(64); // every node, every direction
    expect(t.hasLink(link(3, 0, 0))).toBe(true);
    expect(m.hasLink(link(3, 0, 0))).toBe(false);
    // 2 columns × 4 rows: the x ring of two has no wrap link (east 4 + west 4), the y rings do (8 + 8).
    expect(linksOf(torus.create(2, 4))).toHaveLength(24);
    expect(linksOf(mesh.create(2, 4))).toHaveLength(2 * (1 * 4 + 2 * 3));
    expect(routeOf(torus.create(2, 4), 1, 0, 0, 0).links).toEqual([link(1, 0, 1, 2)]);
  });

  it('every route follows existing links and takes exactly hops() of them (both topologies, 5×3 and 4×4)', () => {
    for (const [C, R] of [
      [5, 3],
      [4, 4],
    ])
      for (const noc of [mesh.create(C, R), torus.create(C, R)])
        for (let a = 0; a < C * R; a++)
          for (let b = 0; b < C * R; b++) {
            const r = routeOf(noc, a % C, Math.floor(a / C), b % C, Math.floor(b / C));
            for (const l of r.links) expect(noc.hasLink(l)).toBe(true);
            expect(r.links.length).toBe(noc.hops(a % C, Math.floor(a / C), b % C, Math.floor(b / C)));
          }
  });

  it('is registered by name', () => {
    expect([...TOPOLOGIES.keys()]).toEqual(['mesh', 'torus']);
  });
});

describe('hop profiles (the closed-form model) equal plain pairwise sums', () => {
  // Independent oracle: Manhattan distance, and per axis the shorter way round a ring of ≥ 3.
  const ringDist = (a: number, b: number, n: number) =>
    n >= 3 ? Math.min(Math.abs(a - b), n - Math.abs(a - b)) : Math.abs(a - b);
  const oracle = {
    mesh: (ax: number, ay: number, bx: number, by: number) => Math.abs(ax - bx) + Math.abs(ay - by),
    torus: (ax: number, ay: number, bx: number, by: number, C: number, R: number) =>
      ringDist(ax, bx, C) + ringDist(ay, by, R),
  };
  it('for random grids and sources', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 7 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 12 }),
        (C, R, picks) => {
          const xs = picks.map((p) => p % C);
          const ys = picks.map((p) => Math.floor(p / C) % R);
          for (const topo of [mesh, torus]) {
            const noc = topo.create(C, R);
            const p = noc.profile(xs, ys, xs.length);
            for (let x = 0; x < C; x++)
              for (let y = 0; y < R; y++) {
                const d = xs.map((sx, i) => oracle[topo.name as 'mesh' | 'torus'](sx, ys[i], x, y, C, R));
                expect(p.sum(x, y)).toBe(d.reduce((a, b) => a + b, 0));
                expect(p.max(x, y)).toBe(Math.max(...d));
                for (let i = 0; i < xs.length; i++) expect(noc.hops(xs[i], ys[i], x, y)).toBe(d[i]);
              }
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('mesh and torus of the same size: same counts where no route wraps, hand-worked differences where one does', () => {
  // Four single-crossbar linear layers, one tile each (per-layer packing), placed left to right on row 0.
  const net = parseNetwork(
    `name: four-fc
input: { shape: [1, 4, 4] }
classes: 10
timesteps: 4
layers:
  - { type: flatten }
  - { name: fc1, type: linear, out_features: 16 }
  - { name: fc2, type: linear, out_features: 16 }
  - { name: fc3, type: linear, out_features: 16 }
  - { name: fc4, type: linear, out_features: 10, spiking: false }
`,
    'four-fc.yaml',
  );
  const chip = (topology: string, columns: number, rows: number): ArchSpec =>
    loadArch('arch-configs/default.yaml', [
      parseOverride(`noc.topology=${topology}`),
      parseOverride(`noc.mesh_columns=${columns}`),
      parseOverride(`noc.mesh_rows=${rows}`),
    ]);
  const dir = mkdtempSync(join(tmpdir(), 'imcsim-noc-'));
  const trace = join(dir, 'four-fc.trace');
  beforeAll(async () => {
    await generateSyntheticTrace({
      network: net.spec,
      shapes: net.shapes,
      rates: 0.5,
      samples: 3,
      seed: 5,
      timesteps: 4,
      out: trace,
    });
  });

  type Counts = Record<string, Record<string, number>>;
  /** Every action's count per component (energies aside: link energies differ by design). */
  const countsOf = (r: {
    components: Record<string, { actions: Record<string, { count: number }> }>;
  }): Counts =>
    Object.fromEntries(
      Object.entries(r.components).map(([c, x]) => [
        c,
        Object.fromEntries(Object.entries(x.actions).map(([a, v]) => [a, v.count])),
      ]),
    );
  const without = (c: Counts, drop: string[]) =>
    Object.fromEntries(Object.entries(c).filter(([k]) => !drop.includes(k)));

  it('an unknown topology is an input error naming the field, the choices and the value', () => {
    expect(() => mapNetwork(chip('tourus', 4, 1), net.shapes)).toThrow(InputError);
    expect(() => mapNetwork(chip('tourus', 4, 1), net.shapes)).toThrow(
      /noc\.topology.*one of "mesh", "torus".*"tourus"/s,
    );
  });

  it('the placement is the one the hand computation assumes', () => {
    const m = mapNetwork(chip('torus', 4, 1), net.shapes);
    expect(m.totalTiles).toBe(4);
    expect(Array.from(m.tileXY)).toEqual([0, 0, 1, 0, 2, 0, 3, 0]);
    expect(m.layers.map((l) => l.tiles)).toEqual([[0], [1], [2], [3]]);
    expect(m.ioXY).toEqual([0, 0]);
  });

  it('8×8 grid, tiles at x = 0..3 of row 0 and the I/O node at (0,0): no route wraps, every count is equal', async () => {
    const eMesh = estimate(chip('mesh', 8, 8), net.spec, {}, net.shapes);
    const eTorus = estimate(chip('torus', 8, 8), net.spec, {}, net.shapes);
    expect(countsOf(eTorus)).toEqual(countsOf(eMesh));
    expect(eTorus.latency_s).toBe(eMesh.latency_s);
    const sMesh = await simulateTrace(chip('mesh', 8, 8), trace);
    const sTorus = await simulateTrace(chip('torus', 8, 8), trace);
    expect(countsOf(sTorus)).toEqual(countsOf(sMesh));
    expect(sTorus.sample_rows.map((s) => s.latency_s)).toEqual(sMesh.sample_rows.map((s) => s.latency_s));
    expect(sTorus.noc.link_utilisation).toEqual(sMesh.noc.link_utilisation);
    // Priced differently: folded-torus links are two tile pitches long (twice the energy per traversal),
    // and the torus has 8·8·4 = 256 directed links against the mesh's 2·(7·8 + 8·7) = 224.
    const lm = eMesh.components.link;
    const lt = eTorus.components.link;
    expect(lt.actions.traverse.energy_per_action_j).toBeCloseTo(
      2 * lm.actions.traverse.energy_per_action_j,
      25,
    );
    expect(lm.area_units).toBe(224);
    expect(lt.area_units).toBe(256);
    expect(lt.area_m2).toBeCloseTo((256 / 224) * 2 * lm.area_m2, 20);
  });

  it('4×1 grid: the logits from tile 3 to the I/O node wrap (1 hop, not 3); only router and link counts differ', async () => {
    const spec = chip('mesh', 4, 1);
    // The logits packet: classes × psum_bits bits in flits of flit_bits; static policy: sent once.
    const flits = Math.ceil((10 * spec.noc.psum_bits) / spec.noc.flit_bits);
    expect(flits).toBe(3);
    const eMesh = estimate(spec, net.spec, {}, net.shapes);
    const eTorus = estimate(chip('torus', 4, 1), net.spec, {}, net.shapes);
    expect(without(countsOf(eTorus), ['router', 'link'])).toEqual(
      without(countsOf(eMesh), ['router', 'link']),
    );
    // links: flits × hops, 3·3 → 3·1; routers: flits × (hops + 1), 3·4 → 3·2.
    expect(eMesh.components.link.actions.traverse.count - eTorus.components.link.actions.traverse.count).toBe(
      flits * 2,
    );
    expect(
      eMesh.components.router.actions.traverse.count - eTorus.components.router.actions.traverse.count,
    ).toBe(flits * 2);

    // The replay: three samples of a static trace, each sends its logits once.
    const sMesh = await simulateTrace(spec, trace);
    const sTorus = await simulateTrace(chip('torus', 4, 1), trace);
    expect(without(countsOf(sTorus), ['router', 'link'])).toEqual(
      without(countsOf(sMesh), ['router', 'link']),
    );
    expect(sMesh.components.link.actions.traverse.count - sTorus.components.link.actions.traverse.count).toBe(
      3 * flits * 2,
    );
    expect(
      sMesh.components.router.actions.traverse.count - sTorus.components.router.actions.traverse.count,
    ).toBe(3 * flits * 2);
    // Which links carry them: the mesh goes west over (3,0)→(2,0)→(1,0)→(0,0); the torus takes the
    // east wrap link out of (3,0).
    const u = (r: typeof sMesh, x: number, dir: number) => r.noc.link_utilisation[link(x, 0, dir, 4)];
    for (const x of [3, 2, 1]) expect(u(sMesh, x, 1)).toBeGreaterThan(0);
    for (const x of [3, 2, 1]) expect(u(sTorus, x, 1)).toBe(0);
    expect(u(sMesh, 3, 0)).toBe(0);
    expect(u(sTorus, 3, 0)).toBeGreaterThan(0);
    // Fewer hops on the way back: never slower.
    for (let i = 0; i < 3; i++)
      expect(sTorus.sample_rows[i].latency_s).toBeLessThanOrEqual(sMesh.sample_rows[i].latency_s);
  });
});
