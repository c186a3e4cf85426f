/**
 * `trace info`: what a trace holds. By default every chunk is read and checked (CRC, order, sample indices,
 * labels) and the footer is checked against the samples; `quick` reads the header and footer only.
 */
import { pct, table } from '../util/format.js';
import { TraceReader } from './format.js';
import type { TraceHeader, TraceLayer, TracePolicy, TraceSummary } from './types.js';

export interface TraceInfo {
  file: string;
  file_bytes: number;
  format_version: number;
  engine_version: string;
  created: TraceHeader['created'];
  synthetic: boolean;
  model: string;
  dataset: string | null;
  split: string | null;
  encoding: TraceHeader['encoding'];
  seed: number;
  classes: number;
  policy: TracePolicy;
  layers: TraceLayer[];
  notes: Record<string, unknown> | undefined;
  summary: TraceSummary;
  /** What was checked: every chunk (with the count read), or the header and footer only. */
  verified: { chunks: 'all'; count: number } | { chunks: 'none' };
}

export interface TraceInfoOptions {
  /** Header and footer only: no chunk is read, so corruption inside the chunks goes unnoticed. */
  quick?: boolean;
}

export async function traceInfo(path: string, opts: TraceInfoOptions = {}): Promise<TraceInfo> {
  const reader = await TraceReader.open(path);
  try {
    const h = reader.header;
    let summary: TraceSummary;
    let verified: TraceInfo['verified'];
    if (opts.quick) {
      summary = await reader.readSummary();
      verified = { chunks: 'none' };
    } else {
      const v = await reader.verify();
      summary = v.summary;
      verified = { chunks: 'all', count: v.chunks };
    }
    return {
      file: path,
      file_bytes: reader.fileBytes,
      format_version: h.format_version,
      engine_version: h.engine_version,
      created: h.created,
      synthetic: h.synthetic,
      model: h.model,
      dataset: h.dataset,
      split: h.split,
      encoding: h.encoding,
      seed: h.seed,
      classes: h.classes,
      policy: h.policy,
      layers: h.layers,
      notes: h.notes,
      summary,
      verified,
    };
  } finally {
    await reader.close();
  }
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${units[u]}`;
}

function policyText(p: TracePolicy): string {
  const parts = [p.name, `T=${p.timesteps}`];
  if (p.theta !== undefined) parts.push(`θ=${p.theta}`);
  if (p.layer_timesteps) parts.push(`layer T=[${p.layer_timesteps.join(', ')}]`);
  if (p.alignment) parts.push(`alignment ${p.alignment}`);
  return parts.join(', ');
}

export function formatTraceInfo(info: TraceInfo): string {
  const s = info.summary;
  const lines: string[] = [];
  const field = (k: string, v: string) => lines.push(`${k.padEnd(15)} ${v}`);
  field('Trace', `${info.file} (${bytes(info.file_bytes)}, format v${info.format_version})`);
  field(
    'Model',
    `${info.model}` +
      (info.dataset ? `, dataset ${info.dataset}${info.split ? ` (${info.split})` : ''}` : '') +
      `, ${info.classes} classes`,
  );
  field(
    'Origin',
    info.synthetic
      ? `synthetic (imcsim ${info.engine_version}, seed ${info.seed})`
      : `${info.created} (imcsim ${info.engine_version}, seed ${info.seed})`,
  );
  field('Encoding', info.encoding);
  field('Policy', policyText(info.policy));
  field(
    'Verified',
    info.verified.chunks === 'all'
      ? `all ${info.verified.count} chunks (CRC, order, sample indices, labels) and the footer against them`
      : 'no (--quick: header and footer only; chunks not read)',
  );
  field('Samples', String(s.samples));
  field('Accuracy', s.accuracy === null ? 'n/a (no labels)' : pct(s.accuracy));
  field('Avg timesteps', s.samples > 0 ? s.avg_timesteps.toFixed(3) : 'n/a');
  if (s.samples > 0 && s.exit_histogram.length > 0)
    field('Exits', s.exit_histogram.map((n, t) => `t=${t + 1}: ${n} (${pct(n / s.samples)})`).join(', '));
  const T = Math.max(0, ...s.spike_rate.map((r) => r.length));
  const headers = ['layer', 'input', 'elements', ...Array.from({ length: T }, (_, t) => `t=${t + 1}`)];
  const rows = info.layers.map((l, i) => {
    const r = s.spike_rate[i] ?? [];
    return [
      l.name,
      l.input_kind,
      l.input_elements,
      ...Array.from({ length: T }, (_, t) => (t < r.length ? r[t].toFixed(4) : '-')),
    ];
  });
  lines.push('', 'Input spike rate (fraction of non-zero input elements) per layer and timestep', '');
  lines.push(table(headers, rows));
  return lines.join('\n');
}
