/**
 * imcsim as a library: everything the CLI does is a function here (the CLI only parses arguments and
 * prints). Grouped as the folders are: configuration, hardware models, networks, analytic estimates,
 * the SNN engine and training, traces, the discrete-event simulator and its replay, reports.
 */
export { VERSION } from './util/version.js';

// Configuration (hardware description YAML, overrides, errors with locations)
export type { ArchSpec } from './config/schema.js';
export { ArchSchema } from './config/schema.js';
export {
  loadArch,
  parseArch,
  parseOverride,
  applyOverrides,
  checkArch,
  type Override,
} from './config/load.js';
export { InputError, InputErrors, formatLocated, located, type Where } from './util/errors.js';

// Hardware: actions, component models, mapping
export { COMPONENTS, type ComponentKey } from './hw/actions.js';
export { buildComponentModels, type ComponentModels } from './hw/components/registry.js';
export { mapNetwork, hops, type ChipMapping, type LayerMapping } from './chip/mapping.js';

// Networks
export { loadNetwork, parseNetwork, type LoadedNetwork } from './network/load.js';
export { inferShapes } from './network/shapes.js';

// Analytic estimate (imcsim rate-based accounting, SpikeSim reproduction)
export { estimate, type EstimateOptions, type EstimateResult } from './analytic/estimate.js';
export { buildWorkload, chipComponentModels, type Workload, type WorkloadOptions } from './chip/workload.js';
export { TOPOLOGIES, topologyOf } from './chip/noc/registry.js';
export { routeOf, linksOf, type Topology, type Noc, type HopProfile } from './chip/noc/topology.js';

// SNN engine, models, data, training
export { Engine, compileModel } from './snn/engine.js';
export { normalizedEntropy } from './snn/policies/entropy.js';
export { maxSoftmax } from './snn/policies/confidence.js';
export { exitPolicy, POLICY_NAMES, type ExitPolicyModule } from './snn/policies/registry.js';
export { neuronConvention, NEURON_CONVENTION_NAMES, type NeuronConvention } from './snn/neurons/registry.js';
export { loadModel, saveModel, initModel, type SnnModel } from './snn/model.js';
export { evaluateModel, traceModel, type EvalResult, type RunOptions } from './snn/run.js';
export {
  loadDataset,
  type Dataset,
  type DatasetName,
  type DatasetRef,
  type DatasetSplit,
  type LoadDatasetOptions,
} from './snn/data/dataset.js';
export {
  EXTERNAL_FORMATS,
  parseDatasetRef,
  parseNormalize,
  type ExternalFormat,
  type Normalization,
} from './snn/data/external.js';
export { binEvents, type EventBinning } from './snn/data/events.js';
export { NpzFile, parseNpy, readNpy, type NpyArray } from './util/npy.js';
export { trainCommand, type TrainCommandOptions, type TrainCommandResult } from './snn/train/api.js';
export { dtsnnCurve, type DtsnnCurveResult } from './snn/train/dtsnn.js';
export { ldsnnSearch, type LdsnnResult } from './snn/train/ldsnn.js';
export { ChipTraining } from './snn/train/hw.js';
export { importNir, exportNir, type NirImportOptions } from './snn/io/nir.js';

// Traces
export { TraceReader, TraceWriter } from './trace/format.js';
export type { TraceHeader, TraceSample, TraceSummary, TracePolicy } from './trace/types.js';
export { generateSyntheticTrace, type SyntheticTraceOptions } from './trace/synthetic.js';
export { traceInfo, type TraceInfo } from './trace/info.js';
export { exportTraceNirData } from './trace/nirdata.js';
export { importTrace, type TraceImportOptions } from './trace/import.js';

// Discrete-event kernel and trace replay
export { simulateTrace, type SimulationResult, type SimulateOptions } from './replay/simulate.js';
export {
  estimateFromTrace,
  traceWorkload,
  type TraceEstimateOptions,
  type TraceEstimateResult,
} from './replay/trace-estimate.js';

// Reports
export { writeRunFolder } from './report/run-folder.js';
export {
  readRunFolder,
  parseRunFolder,
  RUN_FILES,
  type RunFolder,
  type RunSummary,
  type RunLayerRow,
  type RunTimestepRow,
  type RunComponentRow,
  type RunSampleRow,
} from './report/read-run-folder.js';
export { writeReport, buildReportHtml, REPORT_CHARTS } from './report/report-html.js';
export {
  compareRuns,
  writeComparison,
  buildCompareHtml,
  compareCsv,
  COMPARE_CHARTS,
  runLabel,
  comparisonWarnings,
  type Comparison,
  type CompareRow,
  type Delta,
} from './report/compare.js';
export type { RunAssumptions, ChipConfiguration } from './pricing/assumptions.js';
export {
  runEfficiency,
  componentUtilisation,
  componentUtilisations,
  type RunEfficiency,
} from './pricing/efficiency.js';
export { ActivityCounter, fanOut, type RunActivity } from './replay/activity.js';
export { tidy, FILE_DIGITS } from './util/format.js';
export { renderSvg, htmlPage, type ChartSpec } from './report/vega.js';

// Design-space sweeps (local worker threads, or BullMQ workers on Redis)
export {
  loadSweepSpec,
  parseSweepSpec,
  planSweep,
  runSweep,
  evaluatePoint,
  createExecutor,
  runQueued,
  startQueueWorker,
  parseRedisUrl,
  checkRedis,
  QueueUnavailableError,
  sweepHtml,
  paretoMin,
  METRICS as SWEEP_METRICS,
  type SweepSpec,
  type SweepPlan,
  type SweepPoint,
  type SweepRunOptions,
  type SweepOutcome,
  type PointTask,
  type PointMetrics,
  type MetricName as SweepMetricName,
} from './sweep/index.js';
