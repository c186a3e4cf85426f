/**
 * Worker-thread entry of the local pool (tinypool): makes a trace or computes a point. Runs from the built
 * library (dist/sweep/pool-worker.js); errors come back as values (see TaskOutcome).
 */
import { ensureArtifact, evaluatePoint, outcome, type TaskOutcome } from './evaluate.js';
import type { ArtifactTask, PointMetrics, PointTask } from './types.js';

export type PoolMessage =
  | { kind: 'artifact'; task: ArtifactTask; cacheDir: string }
  | { kind: 'point'; task: PointTask; cacheDir: string };

export default function run(msg: PoolMessage): Promise<TaskOutcome<string | PointMetrics>> {
  return msg.kind === 'artifact'
    ? outcome<string | PointMetrics>(() => ensureArtifact(msg.task, msg.cacheDir))
    : outcome<string | PointMetrics>(() => evaluatePoint(msg.task, msg.cacheDir));
}
