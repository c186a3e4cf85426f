// The demo's wall time, as a user sees it: `imcsim demo` in a fresh process (startup, MNIST loading,
// two engine traces of 200 test images, two cycle-level replays, both run folders with report.html and
// the comparison). Issue target: under 60 s on this machine. Standalone (a child process per run), run by
// bench/run.js; results in bench/results/demo.json.
import { machine } from './machine.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, '..', 'bin', 'imcsim.js');
const runs = 3;
const seconds = [];
const load = loadavg()[0];
const dir = mkdtempSync(join(tmpdir(), 'imcsim-demo-bench-'));
try {
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [bin, 'demo', '--out', join(dir, `run${i}`)], { encoding: 'utf8' });
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0) throw new Error(`imcsim demo failed: ${r.stderr}`);
    seconds.push(+s.toFixed(2));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const median = [...seconds].sort((a, b) => a - b)[Math.floor(runs / 2)];
const out = {
  benchmark: 'demo',
  date: new Date().toISOString().slice(0, 10),
  machine: machine(),
  load_average_1min_at_start: +load.toFixed(2),
  results: [
    {
      name: 'imcsim demo (200 MNIST test images, static T=4 and entropy exit, traced, simulated, reported), wall time',
      unit: 's',
      value: median,
      runs: seconds,
      target: 60,
      met: median <= 60,
    },
  ],
};
writeFileSync(join(here, 'results', 'demo.json'), JSON.stringify(out, null, 2) + '\n');
console.log(
  `demo: ${median} s median of ${seconds.join(', ')} s (target ≤ 60 s: ${median <= 60 ? 'met' : 'NOT met'}), load ${load.toFixed(2)}`,
);
