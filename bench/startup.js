// Command start-up, interleaved: `node bench/startup.js [<baseline checkout>]` times each command of
// COMMANDS in this checkout (and, when given, in a baseline checkout built with its own dist/), rounds
// alternating A, B, A, B … so both see the same machine load; reports the median wall time of each and
// the ratio, and records them in bench/results/startup.json. The dataset cache (binary-cache.ts) is warm
// for "cache on" rows (the first, untimed run fills it) and disabled (IMCSIM_CACHE_DIR=off) otherwise.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine } from './machine.js';

const here = dirname(fileURLToPath(import.meta.url));
const self = resolve(here, '..');
const base = process.argv[2] ? resolve(process.argv[2]) : undefined;
const ROUNDS = Number(process.env.ROUNDS ?? 7);
const COMMANDS = [
  { name: 'imcsim --version (module loading only)', args: ['--version'] },
  {
    name: 'imcsim eval mnist-convnet-t4 on 8 MNIST test samples',
    args: ['eval', '--model', 'models/mnist-convnet-t4', '--dataset', 'mnist', '--samples', '8', '--json'],
  },
  {
    name: 'imcsim eval fmnist-convnet-t4 on 8 Fashion-MNIST test samples',
    args: [
      'eval',
      '--model',
      'models/fmnist-convnet-t4',
      '--dataset',
      'fashion-mnist',
      '--samples',
      '8',
      '--json',
    ],
  },
];

function time(dir, args, env) {
  const t = process.hrtime.bigint();
  execFileSync(process.execPath, [join(dir, 'bin', 'imcsim.js'), ...args], {
    cwd: dir,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return Number(process.hrtime.bigint() - t) / 1e6;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const results = [];
for (const c of COMMANDS) {
  const variants = [
    { label: 'this checkout, cache on', dir: self, env: {} },
    { label: 'this checkout, cache off', dir: self, env: { IMCSIM_CACHE_DIR: 'off' } },
  ];
  if (base) variants.push({ label: 'baseline', dir: base, env: {} });
  for (const v of variants) time(v.dir, c.args, v.env); // warm-up (fills the dataset cache, OS file cache)
  const ms = variants.map(() => []);
  for (let r = 0; r < ROUNDS; r++) variants.forEach((v, i) => ms[i].push(time(v.dir, c.args, v.env)));
  const row = { command: c.name, rounds: ROUNDS };
  variants.forEach((v, i) => (row[`${v.label} median ms`] = +median(ms[i]).toFixed(0)));
  if (base) row['baseline / this (cache on)'] = +(median(ms[2]) / median(ms[0])).toFixed(2);
  results.push(row);
  console.log(JSON.stringify(row));
}
const out = {
  benchmark: 'startup',
  date: new Date().toISOString().slice(0, 10),
  machine: machine(),
  results,
};
writeFileSync(join(here, 'results', 'startup.json'), JSON.stringify(out, null, 2) + '\n');
