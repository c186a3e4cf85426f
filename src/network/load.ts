/** Loading network topology files: models/<name>/network.yaml, or a directory holding one. */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readTextFile } from '../config/load.js';
import { deepFreeze, loadYaml } from '../util/yaml-loader.js';
import { NetworkSchema, type NetworkSpec } from './schema.js';
import { checkNetworkMemory } from './memory.js';
import { inferShapes, type NetworkShapes } from './shapes.js';

export interface LoadedNetwork {
  file: string;
  spec: NetworkSpec;
  shapes: NetworkShapes;
}

/** Accepts a YAML file or a model directory containing network.yaml. */
export function resolveNetworkFile(pathOrDir: string): string {
  if (existsSync(pathOrDir) && statSync(pathOrDir).isDirectory()) return join(pathOrDir, 'network.yaml');
  return pathOrDir;
}

export function parseNetwork(text: string, file: string): LoadedNetwork {
  const spec = loadYaml(text, file, NetworkSchema);
  // Frozen like the spec: immutable, so the chip's mapping of the pair can be cached (chip/workload.ts).
  const shapes = deepFreeze(inferShapes(spec, file));
  checkNetworkMemory(spec, shapes, { file });
  return { file, spec, shapes };
}

export function loadNetwork(pathOrDir: string): LoadedNetwork {
  const file = resolveNetworkFile(pathOrDir);
  return parseNetwork(readTextFile(file), file);
}
