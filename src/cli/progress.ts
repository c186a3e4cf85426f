/**
 * Progress bars for long CLI steps (cli-progress). Drawn on stderr so stdout stays clean for `--json`
 * and pipes; silent when stderr is not a terminal (CI, tests, redirected output) or when IMCSIM_QUIET
 * is set.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  /** `done` of `total` units finished; `total` 0 means unknown (the bar shows a count only). */
  update(done: number, total: number): void;
  stop(): void;
}

const SILENT: Progress = { update: () => {}, stop: () => {} };

export function progressEnabled(): boolean {
  return Boolean(process.stderr.isTTY) && !process.env.IMCSIM_QUIET;
}

/** A bar labelled `label` ("trace static", "simulate"…), started lazily on the first update. */
export function progressBar(label: string, unit = 'samples'): Progress {
  if (!progressEnabled()) return SILENT;
  let bar: cliProgress.SingleBar | null = null;
  let knownTotal = 0;
  return {
    update(done, total) {
      if (!bar) {
        knownTotal = total;
        bar = new cliProgress.SingleBar(
          {
            format:
              total > 0
                ? `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | eta {eta_formatted}`
                : `${label} | {value} ${unit}`,
            hideCursor: true,
            stream: process.stderr,
            clearOnComplete: true,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total > 0 ? total : 1, 0);
      }
      if (total > 0 && total !== knownTotal) {
        knownTotal = total;
        bar.setTotal(total);
      }
      bar.update(done);
    },
    stop() {
      bar?.stop();
      bar = null;
    },
  };
}
