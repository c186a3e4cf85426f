import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as lib from '../../src/index.js';
import {
  REGENERATE_COMMAND,
  REPLAY_ARCHS,
  replayGoldenFiles,
  writeGoldenTrace,
} from '../../scripts/goldens.mjs';

/**
 * Golden per-layer results of the replay for two reference configurations, on a fixed trace (the recipe
 * in scripts/goldens.mjs). The test never writes a golden file: a missing one fails with the command that
 * regenerates them on purpose (`npm run goldens`, after a modelling change explained in the commit).
 */
const dir = mkdtempSync(join(tmpdir(), 'imcsim-golden-'));
const trace = join(dir, 'golden.trace');

/** Why `got` does not match the golden file at `path`, or null when it does. Reads only. */
function goldenMismatch(path: string, got: string): string | null {
  if (!existsSync(path))
    return `${path} is missing; tests never write golden files: run \`${REGENERATE_COMMAND}\` to regenerate them on purpose`;
  if (readFileSync(path, 'utf8') !== got)
    return `${path} differs from this run; if the modelling change is intended, run \`${REGENERATE_COMMAND}\` and say why in the commit`;
  return null;
}

beforeAll(async () => {
  await writeGoldenTrace(lib, trace);
});

describe.each(REPLAY_ARCHS)('replay golden files: %s', (name) => {
  it('layers.csv and timesteps.csv match test/golden', async () => {
    const files = await replayGoldenFiles(lib, trace, name, join(dir, name));
    expect(Object.keys(files)).toEqual([
      `test/golden/replay-${name}-layers.csv`,
      `test/golden/replay-${name}-timesteps.csv`,
    ]);
    for (const [golden, got] of Object.entries(files)) {
      const why = goldenMismatch(golden, got);
      if (why && !existsSync(golden)) expect.fail(why);
      if (why) expect(got, why).toBe(readFileSync(golden, 'utf8'));
      expect(why).toBeNull();
    }
  });
});

describe('a missing golden file', () => {
  it('fails with the regenerate command and is not created', () => {
    const missing = join(dir, 'no-such-golden.csv');
    const why = goldenMismatch(missing, 'a,b\n1,2\n');
    expect(why).toContain('is missing');
    expect(why).toContain('`npm run goldens`');
    expect(existsSync(missing)).toBe(false);
  });
});
