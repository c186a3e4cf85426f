// The first step of `npm test` (the README's test command): the Debian packages the tests use
// (scripts/system-packages.mjs) must be installed before the suite starts. When they are, this returns at
// once and calls nothing. When some are missing and we are root on a Debian-like system, it runs
// `apt-get update` once and `apt-get install` once for exactly those packages. When it cannot install
// (not root, or no apt-get), it stops here with one message naming the command to run, exit code 1,
// instead of letting the suite fail tests deep in the run.
import { spawnSync } from 'node:child_process';
import { missingPackages, onPath, setupEnv } from './system-packages.mjs';

const env = setupEnv();
const missing = missingPackages(env);
if (missing.length === 0) process.exit(0);

const names = missing.map((p) => p.name);
const list = missing.map((p) => `  ${p.name}: ${p.provides}`).join('\n');
const command = `sudo apt-get update && sudo apt-get install -y ${names.join(' ')}`;

function stop(reason, detail = '') {
  process.stderr.write(`imcsim test setup: ${reason}\n${list}\n${detail}`);
  process.exit(1);
}

const apt = onPath('apt-get', env.path);
if (!apt)
  stop(
    'the tests need these Debian packages, and this machine has no apt-get to install them:',
    'Install their equivalents (a redis-server on PATH; Chromium at /usr/bin/chromium or named by IMCSIM_CHROMIUM;\n' +
      `the four Fashion-MNIST IDX files in /usr/share/datasets/fashion-mnist), then run npm test again.\n`,
  );
if (env.uid !== 0)
  stop(
    'the tests need these Debian packages, which are not installed (installing needs root):',
    `Run this once, then npm test again:\n  ${command}\n`,
  );

process.stdout.write(`imcsim test setup: installing ${names.join(', ')} (apt-get update, apt-get install)\n`);
const aptEnv = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
for (const args of [
  ['update', '-qq'],
  ['install', '-y', '-qq', ...names],
]) {
  const r = spawnSync(apt, args, { env: aptEnv, encoding: 'utf8' });
  if (r.status !== 0) {
    const log = `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`
      .trim()
      .split('\n')
      .slice(-15)
      .join('\n');
    stop(
      `apt-get ${args[0]} failed (exit ${r.status ?? r.signal}); the missing packages are:`,
      `Its last lines:\n${log}\nFix that, or install them yourself, then run npm test again:\n  ${command}\n`,
    );
  }
}
const still = missingPackages(env);
if (still.length > 0)
  stop(
    `apt-get install ran, but ${still.map((p) => p.name).join(', ')} still ${still.length > 1 ? 'are' : 'is'} not found; the packages:`,
    `Check them with: dpkg -L ${still.map((p) => p.name).join(' ')}\n`,
  );
process.stdout.write(`imcsim test setup: installed ${names.join(', ')}\n`);
