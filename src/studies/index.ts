/**
 * The co-design studies, one command each (`imcsim study NAME --out DIR`): each runs its simulations,
 * then writes CSVs, an HTML page with charts and a Markdown summary of its findings (writeStudy).
 */
import { accuracyDatasets, accuracyStudy } from './accuracy.js';
import { dtsnnDatasets, dtsnnStudy } from './dtsnn.js';
import { loadDataset, type DatasetName } from '../snn/data/dataset.js';
import { InputError, OperationalError } from '../util/errors.js';
import { exitOverheadStudy } from './exit-overhead.js';
import { hardwareStudy } from './hardware.js';
import { iirStudy } from './iir.js';
import { ldsnnStudy } from './ldsnn.js';
import { writeStudy, type StudyOptions, type StudyResult } from './common.js';

export const STUDIES = {
  dtsnn: dtsnnStudy,
  iir: iirStudy,
  ldsnn: ldsnnStudy,
  'exit-overhead': exitOverheadStudy,
  hardware: hardwareStudy,
  accuracy: accuracyStudy,
} as const satisfies Record<string, (o: StudyOptions) => Promise<StudyResult>>;

export type StudyName = keyof typeof STUDIES;
export const STUDY_NAMES = Object.keys(STUDIES) as StudyName[];

/** The datasets (test split) each study reads; exit-overhead runs synthetic traces only. */
export const STUDY_DATASETS: Record<StudyName, (tiny: boolean) => DatasetName[]> = {
  dtsnn: dtsnnDatasets,
  iir: () => ['mnist'],
  ldsnn: () => ['mnist'],
  'exit-overhead': () => [],
  hardware: () => ['mnist'],
  accuracy: accuracyDatasets,
};

/**
 * Checks, before anything runs, that every dataset the study needs can be loaded; all missing or
 * unreadable ones are named at once. Data not installed is the environment: OperationalError (exit 1).
 */
export function checkStudyDatasets(
  name: StudyName,
  opts: Pick<StudyOptions, 'tiny' | 'dataDir' | 'dataset' | 'normalize' | 'events'>,
): void {
  const problems: string[] = [];
  // Your data (--dataset) replaces the bundled datasets of the studies that take it.
  const needed = opts.dataset !== undefined ? [opts.dataset] : STUDY_DATASETS[name](!!opts.tiny);
  for (const d of needed) {
    try {
      loadDataset(d, 'test', { dataDir: opts.dataDir, normalize: opts.normalize, events: opts.events });
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      problems.push(`${d}: ${e.message}`);
    }
  }
  if (problems.length)
    throw new OperationalError([
      `study ${name} needs ${problems.length === 1 ? 'a dataset that is' : 'datasets that are'} not available; nothing was run:`,
      ...problems,
    ]);
}

/** Runs a study and writes its folder; returns the result and the files written. */
export async function runStudy(
  name: StudyName,
  opts: StudyOptions,
): Promise<{ result: StudyResult; files: string[] }> {
  checkStudyDatasets(name, opts);
  const result = await STUDIES[name](opts);
  const files = await writeStudy(opts.out, result);
  return { result, files };
}

export { studyMarkdown, writeStudy, type StudyOptions, type StudyResult } from './common.js';
