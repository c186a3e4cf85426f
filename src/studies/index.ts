/**
 * The co-design studies, one command each (`imcsim study NAME --out DIR`): each runs its simulations,
 * then writes CSVs, an HTML page with charts and a Markdown summary of its findings (writeStudy).
 */
import { accuracyStudy } from './accuracy.js';
import { dtsnnStudy } from './dtsnn.js';
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

/** Runs a study and writes its folder; returns the result and the files written. */
export async function runStudy(
  name: StudyName,
  opts: StudyOptions,
): Promise<{ result: StudyResult; files: string[] }> {
  const result = await STUDIES[name](opts);
  const files = await writeStudy(opts.out, result);
  return { result, files };
}

export { studyMarkdown, writeStudy, type StudyOptions, type StudyResult } from './common.js';
