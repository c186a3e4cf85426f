/**
 * 2-D torus: the mesh plus wrap-around links joining the ends of every row and every column of at least
 * three routers (on a ring of two, the wrap link would join the same two neighbours again, so there is
 * none). Dimension-order routing, x first, then y; along each ring the shorter way round; on a tie (the
 * destination exactly half-way round) the way that does not cross the wrap link — the mesh's way.
 *
 * Layout and link length (an assumption): a folded torus, so every link, wrap-around or not, spans two
 * tile pitches (2 × noc.link_length_m) — the standard layout that avoids one long wrap wire per ring
 * (Dally & Towles, Principles and Practices of Interconnection Networks, 2004, ch. 5 "Torus networks").
 * Link energy and area are priced at that length; the link latency stays `link_latency_cycles`.
 * Deadlock avoidance on the rings (dateline virtual channels) is assumed and not modelled.
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

/** Hops from a to b on a ring of n routers (the shorter way round when the ring has wrap links). */
function ring(a: number, b: number, n: number): number {
  const d = Math.abs(a - b);
  return n >= 3 ? Math.min(d, n - d) : d;
}

/** Direction of the first hop along one ring: +1 (east/south) or −1 (west/north). */
function ringDir(a: number, b: number, n: number): number {
  const forward = b > a ? b - a : b - a + n; // hops going the + way
  const backward = n - forward;
  if (n < 3 || forward === backward) return b > a ? 1 : -1; // no wrap links, or a tie: never wrap
  return forward < backward ? 1 : -1;
}

function torusProfile(
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  n: number,
  columns: number,
  rows: number,
): HopProfile {
  // Per-axis histograms of the sources: hop sums are separable (x hops + y hops).
  const cx = new Float64Array(columns);
  const cy = new Float64Array(rows);
  for (let i = 0; i < n; i++) {
    cx[xs[i]]++;
    cy[ys[i]]++;
  }
  const sx = Float64Array.from({ length: columns }, (_, x) => {
    let s = 0;
    for (let c = 0; c < columns; c++) s += cx[c] * ring(c, x, columns);
    return s;
  });
  const sy = Float64Array.from({ length: rows }, (_, y) => {
    let s = 0;
    for (let r = 0; r < rows; r++) s += cy[r] * ring(r, y, rows);
    return s;
  });
  const srcX = Int32Array.from({ length: n }, (_, i) => xs[i]);
  const srcY = Int32Array.from({ length: n }, (_, i) => ys[i]);
  return {
    sum: (x, y) => sx[x] + sy[y],
    max(x: number, y: number): number {
      let m = 0;
      for (let i = 0; i < n; i++) m = Math.max(m, ring(srcX[i], x, columns) + ring(srcY[i], y, rows));
      return m;
    },
  };
}

export const torus: Topology = {
  name: 'torus',
  routing: 'torus XY (the shorter way round each ring; ties: no wrap)',
  linkPitches: 2,
  source:
    'folded torus: every link two tile pitches (Dally & Towles 2004, Principles and Practices of Interconnection Networks, ch. 5) [our assumption]',
  place: boustrophedon,
  create(columns: number, rows: number): Noc {
    return {
      topology: torus,
      columns,
      rows,
      hops: (ax, ay, bx, by) => ring(ax, bx, columns) + ring(ay, by, rows),
      nextDir(x: number, y: number, dx: number, dy: number): number {
        if (x !== dx) return ringDir(x, dx, columns) > 0 ? EAST : WEST;
        return ringDir(y, dy, rows) > 0 ? SOUTH : NORTH;
      },
      hasLink(link: number): boolean {
        const node = Math.floor(link / 4);
        const dir = link % 4;
        const x = node % columns;
        const y = Math.floor(node / columns);
        if (dir === EAST) return x + 1 < columns || columns >= 3;
        if (dir === WEST) return x > 0 || columns >= 3;
        if (dir === SOUTH) return y + 1 < rows || rows >= 3;
        return y > 0 || rows >= 3;
      },
      profile: (xs, ys, n) => torusProfile(xs, ys, n, columns, rows),
    };
  },
};
