// The machine a benchmark ran on, recorded with every bench/results/*.json.
import { cpus, totalmem } from 'node:os';

export function machine() {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memory_gib: +(totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
  };
}
