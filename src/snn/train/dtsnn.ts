/**
 * DT-SNN accuracy vs average timesteps (docs/SOURCES.md §1): one static run of T_max timesteps per sample
 * gives every o_t; from the accumulated outputs A_t = Σ_{i≤t} o_i we read, offline and exactly as the
 * Engine's entropy policy decides,
 *   entropy exit  at the first t with 1 − H(softmax(A_t)) > θ (else T), for every θ of the sweep;
 *   static        the same model truncated at t = 1 … T;
 *   oracle        the earliest t at which argmax A_t is correct (T when it never is).
 * Average timesteps = Σ_t t·n_t / N.
 */
import type { Dataset } from '../data/dataset.js';
import { argmax } from '../engine.js';
import { prepareEngine, type ChipRunOptions } from '../run.js';
import { normalizedEntropy } from '../policies/entropy.js';
import type { SnnModel } from '../model.js';

export interface CurvePoint {
  curve: 'entropy' | 'static' | 'oracle';
  /** θ for the entropy exit. */
  theta: number | null;
  /** t for the static curve. */
  timesteps: number | null;
  accuracy: number;
  avg_timesteps: number;
}

export interface DtsnnCurveResult {
  samples: number;
  timesteps: number;
  points: CurvePoint[];
  /** Entropy point with the fewest average timesteps whose accuracy is within `tolerance` of static T. */
  iso: { tolerance: number; static_accuracy: number; point: CurvePoint | null };
}

export const DEFAULT_THETAS = [
  0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.92, 0.94, 0.96, 0.97, 0.98, 0.99, 0.995, 0.999,
];

export function dtsnnCurve(
  model: SnnModel,
  ds: Dataset,
  opts: {
    thetas: number[];
    timesteps?: number;
    samples?: number;
    tolerance?: number;
    /** Hardware-aware: the logits (and so every exit decision) are the chip's. */
    chip?: ChipRunOptions;
    onSample?: (done: number, total: number) => void;
  },
): DtsnnCurveResult {
  const T = opts.timesteps ?? model.spec.timesteps;
  const K = model.spec.classes;
  const eng = prepareEngine(model, { policy: { name: 'static', timesteps: T }, chip: opts.chip }).engine;
  const n = Math.min(ds.count, opts.samples ?? ds.count);
  const size = ds.images.length / ds.count;
  const thetas = [...opts.thetas];
  const eCorrect = new Array<number>(thetas.length).fill(0);
  const eSteps = new Array<number>(thetas.length).fill(0);
  const sCorrect = new Array<number>(T).fill(0);
  let oCorrect = 0;
  let oSteps = 0;
  const acc = new Float64Array(K);
  const preds = new Int32Array(T);
  const conf = new Float64Array(T);
  for (let i = 0; i < n; i++) {
    const r = eng.run(ds.images.subarray(i * size, (i + 1) * size), i, {
      policy: { name: 'static', timesteps: T },
    });
    const y = ds.labels[i];
    acc.fill(0);
    let firstCorrect = -1;
    for (let t = 0; t < T; t++) {
      for (let k = 0; k < K; k++) acc[k] += r.logits[t * K + k];
      preds[t] = argmax(acc);
      conf[t] = 1 - normalizedEntropy(acc);
      if (preds[t] === y) {
        sCorrect[t]++;
        if (firstCorrect < 0) firstCorrect = t;
      }
    }
    if (firstCorrect >= 0) {
      oCorrect++;
      oSteps += firstCorrect + 1;
    } else oSteps += T;
    thetas.forEach((th, j) => {
      let t = 0;
      while (t < T - 1 && !(conf[t] > th)) t++;
      eSteps[j] += t + 1;
      if (preds[t] === y) eCorrect[j]++;
    });
    opts.onSample?.(i + 1, n);
  }
  const points: CurvePoint[] = [];
  thetas.forEach((th, j) =>
    points.push({
      curve: 'entropy',
      theta: th,
      timesteps: null,
      accuracy: eCorrect[j] / n,
      avg_timesteps: eSteps[j] / n,
    }),
  );
  for (let t = 0; t < T; t++)
    points.push({
      curve: 'static',
      theta: null,
      timesteps: t + 1,
      accuracy: sCorrect[t] / n,
      avg_timesteps: t + 1,
    });
  points.push({
    curve: 'oracle',
    theta: null,
    timesteps: null,
    accuracy: oCorrect / n,
    avg_timesteps: oSteps / n,
  });
  const tolerance = opts.tolerance ?? 0.002;
  const staticAcc = sCorrect[T - 1] / n;
  let best: CurvePoint | null = null;
  for (const p of points)
    if (
      p.curve === 'entropy' &&
      p.accuracy >= staticAcc - tolerance - 1e-12 &&
      (!best || p.avg_timesteps < best.avg_timesteps)
    )
      best = p;
  return { samples: n, timesteps: T, points, iso: { tolerance, static_accuracy: staticAcc, point: best } };
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** A self-contained SVG chart: accuracy vs average timesteps for the three curves. */
export function dtsnnCurveSvg(r: DtsnnCurveResult, title: string): string {
  const W = 640;
  const H = 420;
  const m = { l: 64, r: 150, t: 40, b: 52 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const accs = r.points.map((p) => p.accuracy);
  let lo = Math.min(...accs);
  let hi = Math.max(...accs);
  const pad = Math.max(0.005, (hi - lo) * 0.08);
  lo = Math.max(0, lo - pad);
  hi = Math.min(1, hi + pad);
  const x = (t: number) => m.l + ((t - 1) / Math.max(1e-9, r.timesteps - 1 || 1)) * pw;
  const y = (a: number) => m.t + (1 - (a - lo) / Math.max(1e-9, hi - lo)) * ph;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`);
  // Axes and grid.
  out.push(`<line x1="${m.l}" y1="${m.t + ph}" x2="${m.l + pw}" y2="${m.t + ph}" stroke="black"/>`);
  out.push(`<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${m.t + ph}" stroke="black"/>`);
  for (let t = 1; t <= r.timesteps; t++) {
    out.push(`<line x1="${x(t)}" y1="${m.t + ph}" x2="${x(t)}" y2="${m.t + ph + 5}" stroke="black"/>`);
    out.push(`<text x="${x(t)}" y="${m.t + ph + 18}" text-anchor="middle">${t}</text>`);
  }
  for (let i = 0; i <= 5; i++) {
    const a = lo + ((hi - lo) * i) / 5;
    out.push(`<line x1="${m.l}" y1="${y(a)}" x2="${m.l + pw}" y2="${y(a)}" stroke="#ddd"/>`);
    out.push(`<text x="${m.l - 6}" y="${y(a) + 4}" text-anchor="end">${(a * 100).toFixed(1)}</text>`);
  }
  out.push(`<text x="${m.l + pw / 2}" y="${H - 12}" text-anchor="middle">average timesteps</text>`);
  out.push(
    `<text transform="translate(16 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">accuracy (%)</text>`,
  );
  const series = (curve: CurvePoint['curve'], color: string, dash: string) => {
    const pts = r.points.filter((p) => p.curve === curve).sort((a, b) => a.avg_timesteps - b.avg_timesteps);
    if (pts.length > 1)
      out.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''} points="${pts
          .map((p) => `${x(p.avg_timesteps).toFixed(1)},${y(p.accuracy).toFixed(1)}`)
          .join(' ')}"/>`,
      );
    for (const p of pts)
      out.push(
        `<circle cx="${x(p.avg_timesteps).toFixed(1)}" cy="${y(p.accuracy).toFixed(1)}" r="3.5" fill="${color}"><title>${esc(
          `${curve}${p.theta !== null ? ` θ=${p.theta}` : ''}${p.timesteps !== null ? ` t=${p.timesteps}` : ''}: ${(p.accuracy * 100).toFixed(2)} % at ${p.avg_timesteps.toFixed(3)}`,
        )}</title></circle>`,
      );
  };
  series('static', '#555', '5 4');
  series('entropy', '#1f77b4', '');
  series('oracle', '#d62728', '');
  const legend: Array<[string, string]> = [
    ['entropy exit (θ sweep)', '#1f77b4'],
    ['static t = 1 … T', '#555'],
    ['oracle', '#d62728'],
  ];
  legend.forEach(([label, color], i) => {
    const ly = m.t + 10 + i * 20;
    out.push(`<circle cx="${m.l + pw + 16}" cy="${ly}" r="4" fill="${color}"/>`);
    out.push(`<text x="${m.l + pw + 26}" y="${ly + 4}">${esc(label)}</text>`);
  });
  if (r.iso.point) {
    const p = r.iso.point;
    out.push(
      `<circle cx="${x(p.avg_timesteps).toFixed(1)}" cy="${y(p.accuracy).toFixed(1)}" r="7" fill="none" stroke="#1f77b4" stroke-width="1.5"/>`,
    );
    out.push(
      `<text x="${m.l + pw + 10}" y="${m.t + 90}">${esc(`θ=${p.theta}: ${p.avg_timesteps.toFixed(2)} steps`)}</text>`,
    );
    out.push(
      `<text x="${m.l + pw + 10}" y="${m.t + 106}">${esc(`(static T=${r.timesteps} ±${(r.iso.tolerance * 100).toFixed(1)} pt)`)}</text>`,
    );
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}
