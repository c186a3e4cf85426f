/**
 * The import graph between src/ folders follows the declared layer order (test/architecture/
 * import-graph.ts, `LAYERS`; docs/ARCHITECTURE.md "Layers") and has no cycle between folders.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  LAYERS,
  REPO_ROOT,
  checkImportGraph,
  folderCycles,
  readImportGraph,
  type ImportEdge,
} from './import-graph.js';

const edge = (from: string, to: string, file = `src/${from}/x.ts`): ImportEdge => ({
  file,
  specifier: `../${to}/y.js`,
  from,
  to,
});

describe('the import-graph checker (synthetic graphs)', () => {
  const layers = [['base'], ['mid1', 'mid2'], ['top']];

  it('accepts a graph whose imports all run down the layers', () => {
    const g = [
      edge('top', 'mid1'),
      edge('top', 'base'),
      edge('mid1', 'base'),
      edge('mid2', 'base'),
      edge('base', 'base'),
    ];
    expect(checkImportGraph(g, layers)).toEqual([]);
  });

  it('names the file and import of a back-edge', () => {
    const g = [edge('top', 'mid1'), edge('mid1', 'base'), edge('base', 'top', 'src/base/low.ts')];
    const p = checkImportGraph(g, layers);
    expect(p).toHaveLength(2); // the back-edge, and the cycle it closes
    expect(p[0]).toBe(
      "src/base/low.ts: import '../top/y.js' runs against the flow (base → top, a higher layer)",
    );
    expect(p[1]).toMatch(/^cycle between folders base ↔ mid1 ↔ top: /);
  });

  it('finds a cycle between two folders of one layer, and the imports that close it', () => {
    const g = [
      edge('mid1', 'mid2', 'src/mid1/a.ts'),
      edge('mid2', 'mid1', 'src/mid2/b.ts'),
      edge('mid1', 'base'),
    ];
    expect(folderCycles(g)).toEqual([['mid1', 'mid2']]);
    const p = checkImportGraph(g, layers);
    expect(p).toContain("src/mid1/a.ts: import '../mid2/y.js' joins folders of one layer (mid1 → mid2)");
    expect(p).toContain("src/mid2/b.ts: import '../mid1/y.js' joins folders of one layer (mid2 → mid1)");
    expect(p).toContain(
      "cycle between folders mid1 ↔ mid2: src/mid1/a.ts imports '../mid2/y.js'; src/mid2/b.ts imports '../mid1/y.js'",
    );
  });

  it('finds a three-folder cycle even when no layer order is involved', () => {
    expect(folderCycles([edge('a', 'b'), edge('b', 'c'), edge('c', 'a'), edge('c', 'd')])).toEqual([
      ['a', 'b', 'c'],
    ]);
  });

  it('refuses a folder the order does not declare', () => {
    expect(checkImportGraph([edge('top', 'elsewhere')], layers)).toEqual([
      'folder elsewhere is not in the declared layer order (first seen in src/top/x.ts)',
    ]);
  });
});

describe('src/ follows the layer order', () => {
  const { files, edges } = readImportGraph(REPO_ROOT);

  it('reads every src/ folder and a plausible number of imports (not a vacuous pass)', () => {
    const folders = readdirSync(join(REPO_ROOT, 'src'), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
    const seen = new Set(edges.flatMap((e) => [e.from, e.to]));
    for (const f of folders) expect(seen, `no import read from or to src/${f}`).toContain(f);
    expect(files.length).toBeGreaterThan(100);
    expect(edges.filter((e) => e.from !== e.to).length).toBeGreaterThan(200);
    // Every kind of import statement is read: type-only, re-exports and dynamic import().
    expect(edges.some((e) => e.file === 'src/index.ts' && e.to === 'chip')).toBe(true);
  });

  it('every folder is declared once in LAYERS', () => {
    const declared = LAYERS.flat();
    expect(new Set(declared).size).toBe(declared.length);
    const folders = readdirSync(join(REPO_ROOT, 'src'), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
    expect([...folders, 'index.ts'].sort()).toEqual([...declared].sort());
  });

  it('no import runs against the flow and no folders form a cycle', () => {
    const problems = checkImportGraph(edges, LAYERS);
    if (problems.length) console.error(problems.join('\n'));
    expect(problems).toEqual([]);
  });
});
