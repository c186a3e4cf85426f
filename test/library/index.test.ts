import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('the library entry point', () => {
  it('package.json main/exports resolve to the built index, which exposes the typed API', async () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { main: string };
    const lib = (await import(join(root, pkg.main))) as Record<string, unknown>;
    for (const name of [
      'loadArch',
      'estimate',
      'simulateTrace',
      'traceModel',
      'evaluateModel',
      'loadModel',
      'loadDataset',
      'trainCommand',
      'writeRunFolder',
      'renderSvg',
      'InputError',
    ])
      expect(typeof lib[name], name).toBe('function');
  });
});
