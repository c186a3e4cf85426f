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

/**
 * The time left, from the average rate since the start: `(total − done) × elapsed / done`. Before the
 * first unit is done (or with an unknown total) there is no rate: "estimating…". cli-progress's own
 * `eta_formatted` prints "NFs" for an infinite estimate (its 2-character padding cuts "INF"), so the
 * bars use this instead.
 */
export function etaText(done: number, total: number, elapsedS: number): string {
  if (!(total > 0) || !(done > 0) || !(elapsedS > 0)) return 'estimating…';
  if (done >= total) return '0s';
  const left = ((total - done) * elapsedS) / done;
  if (!Number.isFinite(left)) return 'estimating…';
  const s = Math.ceil(left);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 100 * 3600)
    return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return '> 100h';
}

export function progressEnabled(): boolean {
  return Boolean(process.stderr.isTTY) && !process.env.IMCSIM_QUIET;
}

/** A bar labelled `label` ("trace static", "simulate"…), started lazily on the first update. */
export function progressBar(label: string, unit = 'samples'): Progress {
  if (!progressEnabled()) return SILENT;
  let bar: cliProgress.SingleBar | null = null;
  let knownTotal = 0;
  let t0 = 0;
  return {
    update(done, total) {
      if (!bar) {
        knownTotal = total;
        bar = new cliProgress.SingleBar(
          {
            format:
              total > 0
                ? `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | eta {eta_text}`
                : `${label} | {value} ${unit}`,
            hideCursor: true,
            stream: process.stderr,
            clearOnComplete: true,
          },
          cliProgress.Presets.shades_classic,
        );
        t0 = performance.now();
        bar.start(total > 0 ? total : 1, 0, { eta_text: etaText(0, total, 0) });
      }
      if (total > 0 && total !== knownTotal) {
        knownTotal = total;
        bar.setTotal(total);
      }
      bar.update(done, { eta_text: etaText(done, knownTotal, (performance.now() - t0) / 1000) });
    },
    stop() {
      bar?.stop();
      bar = null;
    },
  };
}
