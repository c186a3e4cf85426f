// npm run goldens: regenerates the golden files imcsim produces itself (scripts/goldens.mjs), on purpose.
// Run it only after a modelling change, read the diff (git diff test/golden), and say why in the commit.
// Uses the built library (npm run goldens builds first).
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as lib from '../dist/index.js';
import { REPLAY_ARCHS, replayGoldenFiles, writeGoldenTrace } from './goldens.mjs';

process.chdir(join(dirname(fileURLToPath(import.meta.url)), '..'));
const dir = mkdtempSync(join(tmpdir(), 'imcsim-goldens-'));
try {
  const trace = join(dir, 'golden.trace');
  await writeGoldenTrace(lib, trace);
  for (const arch of REPLAY_ARCHS) {
    const files = await replayGoldenFiles(lib, trace, arch, join(dir, arch));
    for (const [path, text] of Object.entries(files)) {
      const before = existsSync(path) ? readFileSync(path, 'utf8') : null;
      writeFileSync(`${path}.tmp`, text);
      renameSync(`${path}.tmp`, path);
      console.log(`${path}: ${before === null ? 'created' : before === text ? 'unchanged' : 'CHANGED'}`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
