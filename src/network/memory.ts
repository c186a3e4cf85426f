/**
 * How much memory a network needs before anything is allocated, and a limit: a topology typo
 * (`out_channels: 1e8`, an input of [1e6, 1e6, 1e6]) is refused in milliseconds with the layer and field
 * named, instead of running until the machine kills it. The estimate is a bound of the big typed arrays
 * of the engine, the trace writer/reader and the replay (bytes = elements × 4 for float32 / f32 frames):
 *
 *   weights          Σ weighted layers: Cout · (Cin/groups) · kh · kw · 4 B (engine; and again in the trainer)
 *   activations      Σ layers: (input + output elements) · 4 B · 3 (membrane, spikes, input current)
 *   one trace sample Σ mapped layers: input elements · timesteps · 4 B (a sample holds every frame)
 *   counts           layers · timesteps · 8 B · 64 (action rows of the estimate and the replay)
 *
 * Limit: 4 GiB, or IMCSIM_MAX_MEMORY / the CLI's --max-memory (`8GiB`, `512MiB`, `2e9`).
 */
import { located } from '../config/errors.js';
import type { NetworkSpec } from './schema.js';
import type { NetworkShapes } from './shapes.js';

export const DEFAULT_MAX_MEMORY_BYTES = 4 * 1024 ** 3;
export const MAX_MEMORY_ENV = 'IMCSIM_MAX_MEMORY';

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  kib: 1024,
  m: 1e6,
  mb: 1e6,
  mib: 1024 ** 2,
  g: 1e9,
  gb: 1e9,
  gib: 1024 ** 3,
  t: 1e12,
  tb: 1e12,
  tib: 1024 ** 4,
};

/** `4GiB`, `512 MiB`, `2e9`, `1.5G` → bytes; an InputError naming `what` otherwise. */
export function parseByteSize(text: string, what: string): number {
  const m = /^\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  const n = m && unit ? Number(m[1]) * unit : NaN;
  if (!(n > 0) || !Number.isFinite(n))
    throw located(`${what} must be a size in bytes`, {
      path: what,
      expected: 'a positive size such as 4GiB, 512MiB or 2e9',
      found: JSON.stringify(text),
    });
  return Math.floor(n);
}

let override: number | undefined;

/** Sets the limit for this process (the CLI's --max-memory); undefined goes back to the environment. */
export function setMemoryLimit(bytes: number | undefined): void {
  override = bytes;
}

/** The limit in bytes: --max-memory, else IMCSIM_MAX_MEMORY, else 4 GiB. */
export function memoryLimit(): number {
  if (override !== undefined) return override;
  const env = process.env[MAX_MEMORY_ENV];
  return env ? parseByteSize(env, MAX_MEMORY_ENV) : DEFAULT_MAX_MEMORY_BYTES;
}

export interface MemoryNeed {
  /** What the bytes are for, in words. */
  what: string;
  /** The layer field that drives them (`layers[0].out_channels`, `input.shape`, `timesteps`). */
  path: string;
  bytes: number;
}

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** The big allocations of running the network for `timesteps` steps (the largest per-layer item first). */
export function networkMemory(spec: NetworkSpec, shapes: NetworkShapes, timesteps: number): MemoryNeed[] {
  const needs: MemoryNeed[] = [];
  shapes.layers.forEach((ls, i) => {
    const type = spec.layers[i]?.type;
    const path =
      type === 'conv2d'
        ? `layers[${i}].out_channels`
        : type === 'linear'
          ? `layers[${i}].out_features`
          : i === 0
            ? 'input.shape'
            : `layers[${i}]`;
    needs.push({
      what: `activations of layer ${ls.name} (${prod(ls.inShape)} in + ${prod(ls.outShape)} out elements)`,
      path,
      bytes: (prod(ls.inShape) + prod(ls.outShape)) * 4 * 3,
    });
  });
  for (const m of shapes.mapped) {
    const layer = spec.layers[m.topologyIndex];
    const T = Math.max(timesteps, layer && 'timesteps' in layer && layer.timesteps ? layer.timesteps : 0);
    const field = m.kind === 'conv2d' ? 'out_channels' : 'out_features';
    needs.push({
      what: `weights of layer ${m.name} (${field} ${m.outChannels} × ${m.rows} inputs each = ${m.outChannels * m.rows} values)`,
      path: `layers[${m.topologyIndex}]`,
      bytes: m.groups * m.rows * m.cols * 4 * 2,
    });
    needs.push({
      what: `one trace sample's frames of layer ${m.name} (${m.inputElements} elements × ${T} timesteps)`,
      path: m.index === 0 ? 'input.shape' : `layers[${m.topologyIndex}]`,
      bytes: m.inputElements * T * 4,
    });
  }
  needs.push({
    what: `action counts (${spec.layers.length} layers × ${timesteps} timesteps)`,
    path: 'timesteps',
    bytes: spec.layers.length * timesteps * 8 * 64,
  });
  return needs;
}

function human(n: number): string {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n < 10 ? n.toFixed(1) : n.toFixed(0)} ${u[i]}`;
}

/**
 * Refuses a network whose estimated memory for `timesteps` exceeds the limit: an InputError naming the
 * file, the field of the largest item, what it is for, the estimate and the limit (and how to raise it).
 */
export function checkNetworkMemory(
  spec: NetworkSpec,
  shapes: NetworkShapes,
  opts: { timesteps?: number; file?: string; limit?: number } = {},
): void {
  const T = opts.timesteps ?? spec.timesteps;
  const needs = networkMemory(spec, shapes, T);
  const total = needs.reduce((a, n) => a + n.bytes, 0);
  const limit = opts.limit ?? memoryLimit();
  if (total <= limit) return;
  const top = needs.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  throw located(
    `the network needs about ${human(total)} of memory, more than the limit of ${human(limit)}; the largest part is ${top.what}: ${human(top.bytes)} (raise the limit with --max-memory or ${MAX_MEMORY_ENV} if this is intended)`,
    { file: opts.file, path: top.path, expected: `≤ ${human(limit)} in all`, found: human(total) },
  );
}
