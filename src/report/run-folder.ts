/**
 * A run folder: summary.json, layers.csv, timesteps.csv, components.csv, samples.csv and report.html
 * (docs/RUN_FOLDER.md). Units in every column name; files appear whole or not at all. report.html is
 * built from the files' texts read back (parseRunFolder), exactly as `imcsim report` rebuilds it.
 */
import { writeToString } from 'fast-csv';
import { join } from 'node:path';
import { COMPONENTS } from '../hw/actions.js';
import type { SimulationResult } from '../pricing/results.js';
import { writeFileAtomic } from '../util/atomic.js';
import { tidyJson, tidyRow } from '../util/format.js';
import {
  parseRunFolder,
  RUN_FOLDER_FORMAT,
  RUN_FOLDER_FORMAT_VERSION,
  type RunFileName,
  type RunFolderTexts,
} from './read-run-folder.js';
import { buildReportHtml } from './report-html.js';

/** Numbers are rounded by `tidy` (12 significant digits, integers exact): docs/RUN_FOLDER.md. */
async function csv(rows: Record<string, string | number | null>[]): Promise<string> {
  return (await writeToString(rows.map(tidyRow), { headers: true })) + '\n';
}

export async function writeRunFolder(dir: string, r: SimulationResult): Promise<string[]> {
  const { sample_rows, noc, ...rest } = r;
  const summary = {
    format: RUN_FOLDER_FORMAT,
    format_version: RUN_FOLDER_FORMAT_VERSION,
    ...rest,
    noc: { ...noc, link_utilisation: undefined },
    link_utilisation: noc.link_utilisation,
  };
  const files: Array<[RunFileName | 'report.html', string]> = [];
  files.push(['summary.json', JSON.stringify(summary, tidyJson, 2) + '\n']);
  files.push([
    'layers.csv',
    await csv(
      r.layers.map((l) => ({
        layer: l.name,
        kind: l.kind,
        timesteps: l.timesteps,
        crossbars: l.crossbars,
        pes: l.pes,
        tiles: l.tiles,
        energy_j: l.energy_j,
        dynamic_energy_j: l.dynamic_energy_j,
        leakage_energy_j: l.leakage_energy_j,
        busy_s: l.latency_s,
        area_m2: l.area_m2,
        ...Object.fromEntries(COMPONENTS.map((c) => [`${c}_energy_j`, l.components[c]])),
      })),
    ),
  ]);
  files.push([
    'timesteps.csv',
    await csv(
      r.timesteps.map((t) => ({
        timestep: t.timestep,
        energy_j: t.energy_j,
        dynamic_energy_j: t.dynamic_energy_j,
        busy_s: t.busy_s,
      })),
    ),
  ]);
  files.push([
    'components.csv',
    await csv(
      COMPONENTS.map((c) => {
        const x = r.components[c];
        return {
          component: c,
          class: x.class,
          tech_node_nm: x.tech_node_nm,
          ref_tech_node_nm: x.ref_tech_node_nm,
          area_units: x.area_units,
          area_unit: x.area_unit,
          area_m2: x.area_m2,
          leakage_w: x.leakage_w,
          dynamic_energy_j: x.dynamic_energy_j,
          leakage_energy_j: x.leakage_energy_j,
          energy_j: x.energy_j,
          source: x.source,
        };
      }),
    ),
  ]);
  files.push([
    'samples.csv',
    await csv(
      sample_rows.map((s) => ({
        sample: s.index,
        label: s.label,
        prediction: s.prediction,
        exit_timestep: s.exitTimestep,
        start_s: s.start_s,
        latency_s: s.latency_s,
        dynamic_energy_j: s.dynamic_energy_j,
        energy_j: s.energy_j,
      })),
    ),
  ]);
  const texts = Object.fromEntries(files) as RunFolderTexts;
  files.push(['report.html', await buildReportHtml(await parseRunFolder(dir, texts))]);
  for (const [name, text] of files) writeFileAtomic(join(dir, name), text);
  return files.map(([n]) => join(dir, n));
}
