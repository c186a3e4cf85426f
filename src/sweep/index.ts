/** Design-space sweeps: spec, points, local and distributed execution, results and report. */
export {
  loadSweepSpec,
  parseSweepSpec,
  expandValues,
  METRICS,
  METRIC_DESCRIPTIONS,
  SWEEP_MODES,
  SWEEP_POLICIES,
  MAX_POINTS,
  type MetricName,
  type SweepMode,
  type SweepSpec,
  type Scalar,
} from './spec.js';
export { planSweep, pointId, artifactKey, ALGORITHM_COLUMNS, type SweepPlan, type PlanAxis } from './plan.js';
export { evaluatePoint, ensureArtifact } from './evaluate.js';
export { createExecutor, defaultWorkers, type Executor } from './pool.js';
export { SweepCsv, formatCsvLine, parseCsvLine } from './csv.js';
export { runSweep, planJson, type SweepRunOptions, type SweepOutcome, type SweepProgress } from './run.js';
export {
  parseRedisUrl,
  checkRedis,
  runQueued,
  startQueueWorker,
  QueueUnavailableError,
  DEFAULT_QUEUE_NAME,
  DEFAULT_TUNING,
  type RedisTarget,
  type ConnectionTuning,
  type QueueRunOptions,
  type QueueWorkerOptions,
  type RunningWorker,
} from './queue.js';
export { sweepHtml, paretoMin, rowsFromCsv, type ReportRow } from './report.js';
export { canonicalJson, contentId } from './hash.js';
export type {
  PointTask,
  PointMetrics,
  PointFailure,
  SweepPoint,
  WorkloadRef,
  Algorithm,
  ArtifactTask,
} from './types.js';
