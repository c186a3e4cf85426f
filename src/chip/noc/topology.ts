/**
 * The network-on-chip behind one interface. A `Topology` (registered by name in `registry.ts`, chosen by
 * `noc.topology`) places the tiles on a grid of routers and, bound to a grid of `columns × rows` nodes,
 * routes packets: hops between two nodes, the direction of the next hop, which directed links exist, and
 * the hop sums and maxima the closed-form model needs. The mapping's placement, the closed-form model,
 * the critical path, the replay, the chip's area and the report's link heat map all go through it.
 *
 * Nodes are numbered `y * columns + x`; a directed link is `node * 4 + dir` with `dir` one of EAST (x+1),
 * WEST (x−1), SOUTH (y+1), NORTH (y−1); a hop in a direction moves to the neighbour that way, wrapping
 * around the grid's edge (only topologies with wrap-around links ever route a packet across it).
 */
export const EAST = 0;
export const WEST = 1;
export const SOUTH = 2;
export const NORTH = 3;

/** Hop counts from a fixed set of source nodes, asked destination by destination. */
export interface HopProfile {
  /** Sum over the sources of the hops to (x, y). */
  sum(x: number, y: number): number;
  /** Largest number of hops from a source to (x, y). */
  max(x: number, y: number): number;
}

/** A topology bound to a grid. Methods on the replay's hot path take and return plain integers. */
export interface Noc {
  readonly topology: Topology;
  readonly columns: number;
  readonly rows: number;
  /** Hops of the route from (ax, ay) to (bx, by); 0 on one node. */
  hops(ax: number, ay: number, bx: number, by: number): number;
  /** Direction of the first hop of the route from (x, y) to (dx, dy) (the nodes differ). */
  nextDir(x: number, y: number, dx: number, dy: number): number;
  /** Does directed link `node * 4 + dir` exist? */
  hasLink(link: number): boolean;
  /** Hop sums and maxima from the sources at (xs[i], ys[i]), i < n. */
  profile(xs: ArrayLike<number>, ys: ArrayLike<number>, n: number): HopProfile;
}

export interface Topology {
  /** The value of `noc.topology`. */
  readonly name: string;
  /** Routing rule, as written in reports (summary.json `assumptions.noc.routing`). */
  readonly routing: string;
  /** Length of every link in tile pitches (`noc.link_length_m`): link energy and area scale with it. */
  readonly linkPitches: number;
  /** Where the layout and its link length come from. */
  readonly source: string;
  /** x, y of tile i at [2i], [2i+1] for `tiles` tiles on a `columns`-wide grid. */
  place(tiles: number, columns: number): Int32Array;
  /** The topology on a grid of `columns × rows` routers. */
  create(columns: number, rows: number): Noc;
}

/** Boustrophedon order: row by row, every other row reversed, so consecutive tiles are neighbours. */
export function boustrophedon(tiles: number, columns: number): Int32Array {
  const xy = new Int32Array(2 * tiles);
  for (let i = 0; i < tiles; i++) {
    const y = Math.floor(i / columns);
    const xi = i % columns;
    xy[2 * i] = y % 2 === 0 ? xi : columns - 1 - xi;
    xy[2 * i + 1] = y;
  }
  return xy;
}

/** Node one hop from `node` in direction `dir` on a `columns × rows` grid (wrapping around the edge). */
export function neighbour(node: number, dir: number, columns: number, rows: number): number {
  const x = node % columns;
  const y = (node - x) / columns;
  if (dir === EAST) return y * columns + (x + 1 === columns ? 0 : x + 1);
  if (dir === WEST) return y * columns + (x === 0 ? columns - 1 : x - 1);
  if (dir === SOUTH) return (y + 1 === rows ? 0 : y + 1) * columns + x;
  return (y === 0 ? rows - 1 : y - 1) * columns + x;
}

/** Every directed link of a bound topology, in link-index order. */
export function linksOf(noc: Noc): number[] {
  const out: number[] = [];
  for (let i = 0; i < 4 * noc.columns * noc.rows; i++) if (noc.hasLink(i)) out.push(i);
  return out;
}

/**
 * The nodes a packet visits from (x, y) to (dx, dy), following `nextDir` (both ends included), and the
 * links it takes. For tests and reports; the replay steps hop by hop itself.
 */
export function routeOf(
  noc: Noc,
  x: number,
  y: number,
  dx: number,
  dy: number,
): { nodes: number[]; links: number[] } {
  const C = noc.columns;
  let node = y * C + x;
  const dest = dy * C + dx;
  const nodes = [node];
  const links: number[] = [];
  for (let guard = 0; node !== dest; guard++) {
    if (guard > 4 * C * noc.rows) throw new Error(`routeOf: no route from ${x},${y} to ${dx},${dy}`);
    const dir = noc.nextDir(node % C, Math.floor(node / C), dx, dy);
    links.push(node * 4 + dir);
    node = neighbour(node, dir, C, noc.rows);
    nodes.push(node);
  }
  return { nodes, links };
}
