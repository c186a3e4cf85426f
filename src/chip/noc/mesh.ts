/**
 * 2-D mesh, XY routing (x first, then y): hops are the Manhattan distance; no link leaves the grid.
 * Links are one tile pitch long (`noc.link_length_m`).
 */
import {
  boustrophedon,
  EAST,
  NORTH,
  SOUTH,
  WEST,
  type HopProfile,
  type Noc,
  type Topology,
} from './topology.js';

/**
 * Hop sums from coordinate histograms and prefix sums (O(columns + rows) to build, O(1) per destination);
 * hop maxima from the extremes of x+y and x−y over the sources. Integer arithmetic, exact in doubles.
 */
function meshProfile(
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  n: number,
  columns: number,
  rows: number,
): HopProfile {
  const n1 = Math.max(columns, rows) + 1;
  // Histograms (count, coordinate sum) of the sources' x and y at offsets 0, n1, 2n1, 3n1; then prefix sums.
  const h = new Float64Array(4 * n1);
  let maxPS = -Infinity;
  let minPS = Infinity;
  let maxMS = -Infinity;
  let minMS = Infinity;
  for (let i = 0; i < n; i++) {
    const x = xs[i];
    const y = ys[i];
    h[x + 1] += 1;
    h[n1 + x + 1] += x;
    h[2 * n1 + y + 1] += 1;
    h[3 * n1 + y + 1] += y;
    if (x + y > maxPS) maxPS = x + y;
    if (x + y < minPS) minPS = x + y;
    if (x - y > maxMS) maxMS = x - y;
    if (x - y < minMS) minMS = x - y;
  }
  for (let i = 1; i < n1; i++) {
    h[i] += h[i - 1];
    h[n1 + i] += h[n1 + i - 1];
    h[2 * n1 + i] += h[2 * n1 + i - 1];
    h[3 * n1 + i] += h[3 * n1 + i - 1];
  }
  const cN = h[n1 - 1];
  const sxN = h[2 * n1 - 1];
  const syN = h[4 * n1 - 1];
  return {
    sum(x: number, y: number): number {
      const lcx = h[x + 1];
      const lsx = h[n1 + x + 1];
      const lcy = h[2 * n1 + y + 1];
      const lsy = h[3 * n1 + y + 1];
      return lcx * x - lsx + (sxN - lsx) - (cN - lcx) * x + (lcy * y - lsy + (syN - lsy) - (cN - lcy) * y);
    },
    max(x: number, y: number): number {
      return Math.max(maxPS - (x + y), x + y - minPS, maxMS - (x - y), x - y - minMS);
    },
  };
}

export const mesh: Topology = {
  name: 'mesh',
  routing: 'XY',
  linkPitches: 1,
  source: '2-D mesh, links between neighbouring tiles: one tile pitch (noc.link_length_m)',
  place: boustrophedon,
  create(columns: number, rows: number): Noc {
    return {
      topology: mesh,
      columns,
      rows,
      hops: (ax, ay, bx, by) => Math.abs(ax - bx) + Math.abs(ay - by),
      nextDir: (x, y, dx, dy) => (x !== dx ? (dx > x ? EAST : WEST) : dy > y ? SOUTH : NORTH),
      hasLink(link: number): boolean {
        const node = Math.floor(link / 4);
        const dir = link % 4;
        const x = node % columns;
        const y = Math.floor(node / columns);
        return dir === EAST ? x + 1 < columns : dir === WEST ? x > 0 : dir === SOUTH ? y + 1 < rows : y > 0;
      },
      profile: (xs, ys, n) => meshProfile(xs, ys, n, columns, rows),
    };
  },
};
