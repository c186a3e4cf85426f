// Benchmarks (npm run bench): runs every bench/*.bench.js (or those named on the command line) with the
// `benchmark` package and records the figures in bench/results/<name>.json. Targets are checked here and
// reported, never asserted in timed tests.
import Benchmark from 'benchmark';
import { spawnSync } from 'node:child_process';
import { readdirSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { machine } from './machine.js';
import { isInstalled } from '../scripts/system-packages.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.js'))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort();

mkdirSync(join(here, 'results'), { recursive: true });
const host = machine();

for (const f of files) {
  const mod = await import(pathToFileURL(join(here, f)).href);
  const name = basename(f, '.bench.js');
  const results = [];
  for (const b of mod.benchmarks) {
    // A benchmark that needs a Debian package (b.needs) is skipped, with the reason, when it is missing.
    if (b.needs && !isInstalled(b.needs)) {
      const reason = `the Debian package ${b.needs} is not installed (sudo apt-get install ${b.needs})`;
      console.log(`${name}: ${b.name}: skipped — ${reason}`);
      results.push({ name: b.name, unit: b.unit ?? 'ops/s', skipped: reason });
      continue;
    }
    await b.setup?.();
    const bench = new Benchmark(b.name, b.fn, { minSamples: 20, maxTime: b.maxTime ?? 5 });
    bench.run();
    const hz = bench.hz * (b.opsPerCall ?? 1);
    const r = {
      name: b.name,
      unit: b.unit ?? 'ops/s',
      value: +hz.toPrecision(4),
      rme_percent: +bench.stats.rme.toFixed(2),
      samples: bench.stats.sample.length,
      target: b.target ?? null,
      met: b.target ? hz >= b.target : null,
    };
    results.push(r);
    console.log(
      `${name}: ${r.name}: ${r.value.toLocaleString('en')} ${r.unit} ±${r.rme_percent}%` +
        (r.target ? ` (target ≥ ${r.target.toLocaleString('en')}: ${r.met ? 'met' : 'NOT met'})` : ''),
    );
  }
  const out = { benchmark: name, date: new Date().toISOString().slice(0, 10), machine: host, results };
  writeFileSync(join(here, 'results', `${name}.json`), JSON.stringify(out, null, 2) + '\n');
}

// Standalone benchmarks (their own worker threads and processes): bench/sweep.js → results/sweep.json.
if (only.length === 0 || only.some((o) => 'sweep'.startsWith(o))) await import('./sweep.js');
if (only.length === 0 || only.some((o) => 'demo'.startsWith(o))) await import('./demo.js');
// Command start-up (bench/startup.js; give it a baseline checkout by hand to compare) and training with 1
// and 2 workers (bench/train-workers.js), each in its own process.
for (const [name, file] of [
  ['startup', 'startup.js'],
  ['train-workers', 'train-workers.js'],
])
  if (only.length === 0 || only.some((o) => name.startsWith(o)))
    spawnSync(process.execPath, [join(here, file)], { stdio: 'inherit' });
// imcsim's engine beside the plain-PyTorch peer: bench/engine-vs-torch.js → results/engine-vs-torch.json.
if (only.length === 0 || only.some((o) => 'engine-vs-torch'.startsWith(o)))
  (await import('./engine-vs-torch.js')).run();
