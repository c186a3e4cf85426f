/**
 * The import graph between src/ folders, and the check that it follows the data flow.
 *
 * `LAYERS` is the one declaration of the layer order (docs/ARCHITECTURE.md, "Layers", draws the same
 * picture). A folder may import only folders of strictly lower layers: folders that share a layer never
 * import each other (the closed-form model, the replay and the reports; the studies and the demo).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';
import ts from 'typescript';

/** Lowest first. `index.ts` stands for the files directly in src/ (the library entry point). */
export const LAYERS: readonly (readonly string[])[] = [
  ['util'],
  ['config'],
  ['network', 'hw'],
  ['chip'],
  ['sim', 'trace'],
  ['snn'],
  ['pricing'],
  ['analytic', 'replay', 'report'],
  ['sweep'],
  ['studies', 'demo'],
  ['cli'],
  ['index.ts'],
];

/** One import between two files, with the src/ folders they belong to. */
export interface ImportEdge {
  /** Importing file, relative to the repository (posix separators). */
  file: string;
  /** The specifier as written. */
  specifier: string;
  from: string;
  to: string;
}

/** Top-level src/ folder of a path relative to src/ (`index.ts` for files directly in src/). */
export function folderOf(relToSrc: string): string {
  const parts = relToSrc.split('/');
  return parts.length > 1 ? parts[0] : 'index.ts';
}

function listTs(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listTs(p));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out.sort();
}

/**
 * Every relative import of every src/**\/*.ts file, read with the TypeScript compiler's pre-processor:
 * `import … from`, `import type`, `export … from`, side-effect imports and `import()`.
 * Edges inside one folder are kept too (from === to); the check ignores them.
 */
export function readImportGraph(root: string): { files: string[]; edges: ImportEdge[] } {
  const src = join(root, 'src');
  const files = listTs(src);
  const edges: ImportEdge[] = [];
  for (const f of files) {
    const info = ts.preProcessFile(readFileSync(f, 'utf8'), true, true);
    const rel = relative(src, f).split(sep).join('/');
    for (const imp of info.importedFiles) {
      const spec = imp.fileName;
      if (!spec.startsWith('.')) continue;
      const target = posix.normalize(posix.join(posix.dirname(rel), spec));
      edges.push({
        file: `src/${rel}`,
        specifier: spec,
        from: folderOf(rel),
        to: target.startsWith('../') ? '(outside src)' : folderOf(target),
      });
    }
  }
  return { files: files.map((f) => relative(root, f).split(sep).join('/')), edges };
}

/**
 * Problems with a graph against a layer order: folders the order does not declare, imports from a
 * folder to one of the same or a higher layer, and cycles between folders (each printed once with the
 * imports that close it). An empty list means the graph follows the order.
 */
export function checkImportGraph(
  edges: readonly ImportEdge[],
  layers: readonly (readonly string[])[],
): string[] {
  const rank = new Map<string, number>();
  layers.forEach((names, i) => names.forEach((n) => rank.set(n, i)));
  const problems: string[] = [];
  const undeclared = new Set<string>();
  const between = edges.filter((e) => e.from !== e.to);
  for (const e of between) {
    for (const f of [e.from, e.to])
      if (!rank.has(f) && !undeclared.has(f)) {
        undeclared.add(f);
        problems.push(`folder ${f} is not in the declared layer order (first seen in ${e.file})`);
      }
    const a = rank.get(e.from);
    const b = rank.get(e.to);
    if (a === undefined || b === undefined) continue;
    if (b > a)
      problems.push(
        `${e.file}: import '${e.specifier}' runs against the flow (${e.from} → ${e.to}, a higher layer)`,
      );
    else if (b === a)
      problems.push(`${e.file}: import '${e.specifier}' joins folders of one layer (${e.from} → ${e.to})`);
  }
  for (const cycle of folderCycles(between)) {
    const closing = between.filter((e) => cycle.includes(e.from) && cycle.includes(e.to));
    problems.push(
      `cycle between folders ${cycle.join(' ↔ ')}: ${closing.map((e) => `${e.file} imports '${e.specifier}'`).join('; ')}`,
    );
  }
  return problems;
}

/** Strongly connected components of more than one folder (Tarjan), each sorted, in sorted order. */
export function folderCycles(edges: readonly ImportEdge[]): string[][] {
  const adj = new Map<string, Set<string>>();
  for (const e of edges) {
    if (e.from === e.to) continue;
    if (!adj.has(e.from)) adj.set(e.from, new Set());
    if (!adj.has(e.to)) adj.set(e.to, new Set());
    adj.get(e.from)!.add(e.to);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of [...adj.get(v)!].sort()) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of [...adj.keys()].sort()) if (!index.has(v)) visit(v);
  return out.sort((a, b) => a.join().localeCompare(b.join()));
}

/** The repository root, from this file (test/architecture/ → ../..). */
export const REPO_ROOT = join(dirname(new URL(import.meta.url).pathname), '..', '..');
