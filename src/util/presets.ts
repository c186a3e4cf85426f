/**
 * The presets shipped with the package: chips in arch-configs/*.yaml, networks and trained models in
 * models/<name>/. `--arch default`, `--network vgg9-cifar10`, `--model mnist-convnet-t4` name them; a
 * path that exists always wins over a preset of the same name. One resolver for every command.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { closest, distance } from 'fastest-levenshtein';
import { located } from './errors.js';
import { PACKAGE_ROOT } from './package-root.js';

/** arch: a chip; network: a topology (models/<name>/network.yaml); model: a topology with trained weights. */
export type PresetKind = 'arch' | 'network' | 'model';

export interface Preset {
  name: string;
  kind: PresetKind;
  /** Relative to the package root, with `/` separators. */
  path: string;
  description: string;
}

const ARCH_DIR = 'arch-configs';
const MODEL_DIR = 'models';

function listDir(dir: string): string[] {
  try {
    return readdirSync(join(PACKAGE_ROOT, dir)).sort();
  } catch {
    return [];
  }
}

/** The leading comment block's first sentence (arch files document themselves there). */
function archDescription(file: string): string {
  const lines: string[] = [];
  for (const l of readFileSync(file, 'utf8').split('\n')) {
    if (!l.startsWith('#')) break;
    lines.push(l.replace(/^#\s?/, '').trim());
  }
  const text = lines.join(' ');
  const sentence = text.split(/(?<=\.)\s/)[0] ?? '';
  return sentence.length > 100 ? sentence.slice(0, 99) + '…' : sentence;
}

function modelDescription(file: string, trained: boolean): string {
  const text = readFileSync(file, 'utf8');
  const field = (k: string) => new RegExp(`^${k}:\\s*(.+)$`, 'm').exec(text)?.[1]?.trim();
  const parts = [field('description') ?? '', field('dataset') ?? ''].filter((s) => s);
  const weights = trained ? 'trained weights' : 'topology only';
  if (!parts.some((p) => p.includes(weights))) parts.push(weights);
  return parts.join(', ');
}

/** Every bundled preset, chips first, each group sorted by name. */
export function listPresets(): Preset[] {
  const out: Preset[] = [];
  for (const f of listDir(ARCH_DIR))
    if (f.endsWith('.yaml'))
      out.push({
        name: f.slice(0, -'.yaml'.length),
        kind: 'arch',
        path: `${ARCH_DIR}/${f}`,
        description: archDescription(join(PACKAGE_ROOT, ARCH_DIR, f)),
      });
  for (const d of listDir(MODEL_DIR)) {
    const net = join(PACKAGE_ROOT, MODEL_DIR, d, 'network.yaml');
    if (!existsSync(net)) continue;
    const trained = existsSync(join(PACKAGE_ROOT, MODEL_DIR, d, 'weights.safetensors'));
    out.push({
      name: d,
      kind: trained ? 'model' : 'network',
      path: `${MODEL_DIR}/${d}`,
      description: modelDescription(net, trained),
    });
  }
  return out;
}

/** The bundled default chip, as a path. */
export const DEFAULT_ARCH_PRESET = 'arch-configs/default.yaml';
export const DEFAULT_ARCH_PATH = join(PACKAGE_ROOT, DEFAULT_ARCH_PRESET);

/** A value that names a file rather than a preset: it has a separator or a file extension. */
function looksLikePath(v: string): boolean {
  return /[\\/]/.test(v) || /\.[A-Za-z0-9]+$/.test(v) || v === '.' || v === '..';
}

/**
 * Resolves an --arch / --network / --model value: an existing path is returned as is; a preset name
 * becomes the preset's absolute path; anything else that looks like a path is returned as is (the loader
 * then reports the missing file); an unknown bare name is an InputError with a suggestion and the list.
 * `--network` accepts every model directory (trained or not); `--model` only trained ones.
 */
export function resolvePreset(value: string, flag: '--arch' | '--network' | '--model'): string {
  if (existsSync(value) || looksLikePath(value)) return value;
  const kinds: PresetKind[] =
    flag === '--arch' ? ['arch'] : flag === '--network' ? ['network', 'model'] : ['model'];
  const all = listPresets();
  const candidates = all.filter((p) => kinds.includes(p.kind));
  const hit = candidates.find((p) => p.name === value);
  if (hit) return join(PACKAGE_ROOT, hit.path);
  const other = all.find((p) => p.name === value);
  if (other)
    throw located(
      `the bundled preset "${value}" is ${other.kind === 'network' ? 'a topology without trained weights' : `a ${other.kind}`}, not usable here`,
      { path: flag, expected: `one of ${candidates.map((p) => p.name).join(', ')}` },
    );
  const names = candidates.map((p) => p.name);
  const prefixed = names.filter((n) => n.startsWith(value));
  const best = prefixed.length === 1 ? prefixed[0] : names.length ? closest(value, names) : undefined;
  const suggest =
    best !== undefined &&
    (prefixed.length === 1 || distance(value, best) <= Math.max(2, Math.floor(best.length / 3)))
      ? ` (did you mean "${best}"?)`
      : '';
  throw located(`no such file and no bundled preset named "${value}"${suggest}`, {
    path: flag,
    expected: names.length ? `a path or one of ${names.join(', ')}` : 'a path',
  });
}
