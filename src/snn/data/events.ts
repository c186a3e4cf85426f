/**
 * Event-camera datasets (`events:FILE`): an .npz holding, for N samples, the events (x, y, t, p) of each,
 * binned into T frames of shape [P, H, W] (docs/DATASETS.md, "Event streams"). Two layouts are read:
 *
 *   tonic     `events_0`, `events_1`, … — one structured array per sample with fields x, y, t, p, the
 *             arrays tonic's datasets yield (np.savez(f, events_0=ev0, …, labels=…, sensor_size=…))
 *   flat      `x`, `y`, `t`, `p` — every sample's events back to back — and `offsets` (N + 1 ascending
 *             indices: sample i owns events offsets[i] … offsets[i+1]−1)
 *
 * plus `labels` (N integers) and `sensor_size` (W, H, P — tonic's order).
 *
 * Binning rule (deterministic: the same file gives the same frames on every run, so no seed enters):
 *   by time   t0, t1 = the sample's first and last event time; event → frame ⌊(t − t0)·T / (t1 − t0 + 1)⌋,
 *             i.e. T equal spans of the sample's duration (integer ticks: the +1 keeps t1 in frame T−1);
 *             real-valued times: ⌊(t − t0)·T / (t1 − t0)⌋, t1 clamped into frame T−1; one shared time: frame 0
 *   by count  events in time order (ties keep file order); the k-th of n → frame ⌊k·T / n⌋ (T equal
 *             shares of the events)
 *   channel   P = 1: every event in channel 0; P = 2: p > 0 → channel 1 (ON), else channel 0 (OFF)
 *             (tonic's 0/1 and the −1/+1 convention alike); P > 2: p must be an integer 0 … P−1
 *   value     binary: 1 where the pixel had at least one event in the frame; count: the number of events
 * x, y outside the sensor, or a non-finite time, is an error naming the sample and event.
 */
import { located } from '../../util/errors.js';
import { NpzFile } from '../../util/npy.js';
import { classesOf, labelsOf, type RawSet } from './external.js';

export interface EventBinning {
  /** 'time' (default): equal spans of each sample's duration; 'count': equal shares of its events. */
  by?: 'time' | 'count';
  /** 'binary' (default): 0/1 spikes; 'count': events per pixel and frame. */
  values?: 'binary' | 'count';
}

interface SampleEvents {
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  t: ArrayLike<number>;
  p: ArrayLike<number>;
  from: number;
  to: number;
}

/** Bins one sample's events into out (T × P·H·W, zeroed by the caller). */
export function binEvents(
  ev: SampleEvents,
  sensor: { W: number; H: number; P: number },
  T: number,
  opts: EventBinning,
  out: Float32Array,
  where: (k: number) => string,
): void {
  const { W, H, P } = sensor;
  const frame = P * H * W;
  const n = ev.to - ev.from;
  if (n === 0) return;
  const by = opts.by ?? 'time';
  const binary = (opts.values ?? 'binary') === 'binary';
  let order: Int32Array | null = null;
  let t0 = Infinity;
  let t1 = -Infinity;
  let integral = true;
  for (let k = ev.from; k < ev.to; k++) {
    const t = ev.t[k];
    if (!Number.isFinite(t)) throw located(`event time is not finite`, { path: where(k), found: String(t) });
    if (t < t0) t0 = t;
    if (t > t1) t1 = t;
    if (!Number.isInteger(t)) integral = false;
  }
  if (by === 'count') {
    order = new Int32Array(n);
    for (let k = 0; k < n; k++) order[k] = ev.from + k;
    const tt = ev.t;
    order.sort((a, b) => tt[a] - tt[b] || a - b);
  }
  // Integer ticks (tonic's µs): T spans of t1 − t0 + 1 ticks; real-valued times: of t1 − t0, the last
  // event clamped into frame T − 1; a sample whose events share one time puts them all in frame 0.
  const span = integral ? t1 - t0 + 1 : t1 - t0;
  for (let j = 0; j < n; j++) {
    const k = order ? order[j] : ev.from + j;
    const x = ev.x[k];
    const y = ev.y[k];
    const p = ev.p[k];
    if (!Number.isInteger(x) || x < 0 || x >= W || !Number.isInteger(y) || y < 0 || y >= H)
      throw located('event outside the sensor', {
        path: where(k),
        expected: `0 ≤ x < ${W}, 0 ≤ y < ${H} (sensor_size)`,
        found: `x ${x}, y ${y}`,
      });
    let c: number;
    if (P === 1) c = 0;
    else if (P === 2) c = p > 0 ? 1 : 0;
    else {
      if (!Number.isInteger(p) || p < 0 || p >= P)
        throw located('event polarity outside the sensor channels', {
          path: where(k),
          expected: `0..${P - 1}`,
          found: String(p),
        });
      c = p;
    }
    const f =
      by === 'count'
        ? Math.floor((j * T) / n)
        : span > 0
          ? Math.min(T - 1, Math.floor(((ev.t[k] - t0) * T) / span))
          : 0;
    const at = f * frame + (c * H + y) * W + x;
    out[at] = binary ? 1 : out[at] + 1;
  }
}

/** Reads an events .npz and bins every sample into T frames. */
export function loadEvents(file: string, opts: EventBinning, T: number): RawSet {
  const z = new NpzFile(file);
  const ss = z.get('sensor_size');
  if (ss.data.length !== 3 || ![...ss.data].every((v) => Number.isInteger(v) && v >= 1))
    throw located('sensor_size must be three positive integers (W, H, P), as tonic orders them', {
      file,
      path: 'sensor_size',
      found: `[${[...ss.data].join(', ')}]`,
    });
  const [W, H, P] = [...ss.data];
  const labelsArr = z.get('labels');
  const N = labelsArr.shape[0] ?? 0;
  const labels = labelsOf(labelsArr, N, file);
  const frame = P * H * W;
  const images = new Float32Array(N * T * frame);
  const binning = { by: opts.by ?? 'time', values: opts.values ?? 'binary' } as const;
  let layout: string;
  let total = 0;
  if (z.has('offsets')) {
    layout = 'flat x, y, t, p + offsets';
    const [x, y, t, p] = (['x', 'y', 't', 'p'] as const).map((k) => z.get(k).data);
    const off = z.get('offsets').data;
    const E = x.length;
    if (y.length !== E || t.length !== E || p.length !== E)
      throw located('x, y, t and p must have one value per event', {
        file,
        expected: `${E} values each`,
        found: `x ${x.length}, y ${y.length}, t ${t.length}, p ${p.length}`,
      });
    if (off.length !== N + 1 || off[0] !== 0 || off[N] !== E)
      throw located('offsets must be N + 1 ascending indices from 0 to the event count', {
        file,
        path: 'offsets',
        expected: `${N + 1} values, 0 … ${E}`,
        found: `${off.length} values, ${off[0]} … ${off[off.length - 1]}`,
      });
    for (let i = 0; i < N; i++) {
      if (off[i + 1] < off[i])
        throw located('offsets must ascend', {
          file,
          path: `offsets[${i + 1}]`,
          found: `${off[i + 1]} < ${off[i]}`,
        });
      binEvents(
        { x, y, t, p, from: off[i], to: off[i + 1] },
        { W, H, P },
        T,
        binning,
        images.subarray(i * T * frame, (i + 1) * T * frame),
        (k) => `${file}: sample ${i}, event ${k}`,
      );
    }
    total = E;
  } else {
    layout = 'tonic structured events_<i>';
    for (let i = 0; i < N; i++) {
      const r = z.records(`events_${i}`);
      const get = (k: string) => {
        const v = r.fields.get(k);
        if (!v)
          throw located(`events_${i} has no field ${k}`, {
            file,
            path: `events_${i}`,
            expected: 'fields x, y, t, p',
            found: [...r.fields.keys()].join(', '),
          });
        return v;
      };
      binEvents(
        { x: get('x'), y: get('y'), t: get('t'), p: get('p'), from: 0, to: r.count },
        { W, H, P },
        T,
        binning,
        images.subarray(i * T * frame, (i + 1) * T * frame),
        (k) => `${file}: events_${i}[${k}]`,
      );
      total += r.count;
    }
  }
  const classes = classesOf(labels);
  return {
    images,
    labels,
    count: N,
    shape: [P, H, W],
    frames: T,
    classes,
    classNames: Array.from({ length: classes }, (_, k) => String(k)),
    binary: binning.values === 'binary',
    source: `events ${layout}, ${N} samples, ${total} events, sensor ${W}×${H}×${P}; binned into T=${T} frames by ${binning.by}, ${binning.values} values`,
  };
}
