#!/usr/bin/env node
// Thin launcher: the CLI lives in the compiled library (dist/), built by `npm ci` through `prepare`.
import { installBrokenPipeHandling } from '../dist/cli/common.js';
import { main } from '../dist/cli/main.js';
import { installSignalCleanup } from '../dist/util/temp-files.js';

// Ctrl-C / SIGTERM: temporary files (<out>.tmp-<pid>) are removed before exiting (130 / 143).
installSignalCleanup((s) => process.stderr.write(s + '\n'));
// `imcsim … | head`: the reader closing early ends the run quietly (exit 0), not with an EPIPE trace.
installBrokenPipeHandling();
main(process.argv).then(
  (code) => {
    process.exitCode = code;
    // After a failure (e.g. a Redis server lost mid-sweep) client reconnection timers may linger: exit
    // anyway once they had a few seconds to close. unref(): never keeps a finished process alive.
    if (code !== 0) setTimeout(() => process.exit(code), 5000).unref();
  },
  (err) => {
    process.stderr.write(`imcsim: internal error: ${err && err.stack ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  },
);
