/**
 * sweep.csv: one row per point, appended (and fsync'd) as points finish, so a crash loses at most the
 * line being written; on re-open a torn last line is cut off and the ids present are the points already
 * done. At the end the file is rewritten atomically in point order, so every run of the same sweep (local,
 * distributed, resumed) leaves the same bytes.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, truncateSync, writeSync } from 'node:fs';
import { located } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { tidy } from '../util/format.js';
import type { Scalar } from './spec.js';

/**
 * A number rounded by `tidy` (12 significant digits, integers exact; no float noise) in its shortest form;
 * strings quoted when they need it; null and NaN empty.
 */
export function formatCsvValue(v: Scalar | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(tidy(v)) : '';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return /[",\r\n]/.test(v) || v !== v.trim() ? `"${v.replace(/"/g, '""')}"` : v;
}

export function formatCsvLine(fields: ReadonlyArray<Scalar | null | undefined>): string {
  return fields.map(formatCsvValue).join(',');
}

/** Splits one CSV line (RFC 4180 quoting; no newlines inside fields). */
export function parseCsvLine(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let s = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) throw new Error('unterminated quoted field');
        s += line.slice(i, q);
        if (line[q + 1] === '"') {
          s += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      out.push(s);
    } else {
      const c = line.indexOf(',', i);
      out.push(line.slice(i, c < 0 ? line.length : c));
      i = c < 0 ? line.length : c;
    }
    if (i >= line.length) break;
    if (line[i] !== ',') throw new Error('text after a quoted field');
    i++;
    if (i === line.length) {
      out.push('');
      break;
    }
  }
  return out;
}

const ID_RE = /^[0-9a-f]{12}$/;

export interface CsvOpenReport {
  /** Bytes of a torn last line that were cut off. */
  tornBytes: number;
  /** Complete lines that could not be read as rows of this sweep (dropped at the final rewrite). */
  badLines: number;
  /** Rows whose id appeared earlier in the file (dropped at the final rewrite). */
  duplicates: number;
}

export class SweepCsv {
  /** id → the row's line (without newline), in file order. */
  readonly rows = new Map<string, string>();
  private fd: number | null;

  private constructor(
    readonly path: string,
    readonly header: string,
    readonly report: CsvOpenReport,
  ) {
    this.fd = openSync(path, 'a');
  }

  /**
   * Opens (or creates) a sweep CSV with this header. An existing file must have the same header (else it
   * belongs to another sweep: an InputError); a torn last line is cut off.
   */
  static open(path: string, columns: readonly string[]): SweepCsv {
    const header = formatCsvLine(columns);
    const report: CsvOpenReport = { tornBytes: 0, badLines: 0, duplicates: 0 };
    if (!existsSync(path)) {
      writeFileAtomic(path, header + '\n');
      return new SweepCsv(path, header, report);
    }
    const buf = readFileSync(path);
    let end = buf.length;
    if (end > 0 && buf[end - 1] !== 0x0a) {
      end = buf.lastIndexOf(0x0a) + 1;
      report.tornBytes = buf.length - end;
      truncateSync(path, end);
    }
    const text = buf.subarray(0, end).toString('utf8');
    if (end === 0) {
      // Nothing complete, not even the header (a crash while the file was created).
      writeFileAtomic(path, header + '\n');
      return new SweepCsv(path, header, report);
    }
    const lines = text.split('\n');
    lines.pop(); // after the last newline
    if (lines[0] !== header)
      throw located('this output folder holds a sweep.csv with other columns (another sweep wrote it)', {
        file: path,
        line: 1,
        expected: JSON.stringify(header.length > 120 ? header.slice(0, 119) + '…' : header),
        found: JSON.stringify(lines[0].length > 120 ? lines[0].slice(0, 119) + '…' : lines[0]),
      });
    const csv = new SweepCsv(path, header, report);
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i];
      let fields: string[];
      try {
        fields = parseCsvLine(line);
      } catch {
        report.badLines++;
        continue;
      }
      if (fields.length !== columns.length || !ID_RE.test(fields[0])) {
        report.badLines++;
        continue;
      }
      if (csv.rows.has(fields[0])) report.duplicates++;
      else csv.rows.set(fields[0], line);
    }
    return csv;
  }

  /** Appends one row and fsyncs it; the id must be new. */
  append(id: string, line: string): void {
    if (this.fd === null) throw new Error('sweep.csv is closed');
    if (this.rows.has(id)) return;
    writeSync(this.fd, line + '\n');
    fsyncSync(this.fd);
    this.rows.set(id, line);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  /**
   * Rewrites the file atomically: the header, the rows of `order` (point ids) in that order, then rows of
   * ids not in `order` (points of an earlier version of the spec) sorted by id.
   */
  finalize(order: readonly string[]): void {
    this.close();
    const known = new Set(order);
    const lines = [this.header];
    for (const id of order) {
      const row = this.rows.get(id);
      if (row !== undefined) lines.push(row);
    }
    for (const id of [...this.rows.keys()].filter((k) => !known.has(k)).sort())
      lines.push(this.rows.get(id)!);
    writeFileAtomic(this.path, lines.join('\n') + '\n');
  }
}
