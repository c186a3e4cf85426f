/**
 * The Debian packages the tests (and some features and benchmarks) use, and how to tell whether each is
 * installed. One home: scripts/test-setup.mjs (the first step of `npm test`) installs the missing ones,
 * and the benchmarks skip, with the reason, what needs a missing one.
 *
 * Hooks for test/scripts/test-setup.test.ts, which tries the missing-package paths on a machine that has
 * the packages: IMCSIM_SETUP_ROOT prefixes every absolute path checked (default /); PATH is searched
 * for redis-server and apt-get as usual; IMCSIM_SETUP_UID stands for the process's user id.
 * IMCSIM_CHROMIUM (also read by the browser test) names another Chromium binary.
 */
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
const FASHION_MNIST_FILES = [
  'train-images-idx3-ubyte',
  'train-labels-idx1-ubyte',
  't10k-images-idx3-ubyte',
  't10k-labels-idx1-ubyte',
];

/** Where to look: the (possibly fake) root, the PATH, the user id, an explicit Chromium binary. */
export function setupEnv(env = process.env) {
  return {
    root: env.IMCSIM_SETUP_ROOT || '/',
    path: env.PATH ?? '',
    uid: env.IMCSIM_SETUP_UID !== undefined ? Number(env.IMCSIM_SETUP_UID) : (process.getuid?.() ?? -1),
    chromium: env.IMCSIM_CHROMIUM || null,
  };
}

function isExecutableFile(p) {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Full path of an executable `name` on `path`, or null. */
export function onPath(name, path) {
  for (const d of path.split(delimiter)) if (d && isExecutableFile(join(d, name))) return join(d, name);
  return null;
}

export const PACKAGES = [
  {
    name: 'dataset-fashion-mnist',
    provides: `the Fashion-MNIST IDX files in ${FASHION_MNIST_DIR} (dataset tests, training, evaluation)`,
    installed: (e) =>
      FASHION_MNIST_FILES.every((f) =>
        [`${f}.gz`, f].some((n) => existsSync(join(e.root, FASHION_MNIST_DIR, n))),
      ),
  },
  {
    name: 'redis-server',
    provides: 'a Redis server for the distributed-sweep tests (they start and stop their own instance)',
    installed: (e) =>
      isExecutableFile(join(e.root, '/usr/bin/redis-server')) || onPath('redis-server', e.path) !== null,
  },
  {
    name: 'chromium',
    provides: 'the headless browser of the HTML-report check (driven by playwright-core)',
    installed: (e) => isExecutableFile(e.chromium ?? join(e.root, '/usr/bin/chromium')),
  },
];

/** The packages whose files are not there. */
export function missingPackages(e = setupEnv()) {
  return PACKAGES.filter((p) => !p.installed(e));
}

export function isInstalled(name, e = setupEnv()) {
  const p = PACKAGES.find((x) => x.name === name);
  if (!p) throw new Error(`unknown system package ${name}`);
  return p.installed(e);
}
