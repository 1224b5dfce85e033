import { readFileSync, writeFileSync } from 'node:fs';

export const GB = 1e9;

export interface SummaryRow {
  readonly metric: string;
  readonly value: string;
  readonly target: string;
  /** Undefined for a figure given for reference, with no target. */
  readonly met: boolean | undefined;
}

export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

export function summaryTable(rows: readonly SummaryRow[]): string {
  return table(
    ['metric', 'value', 'target', 'met?'],
    rows.map((r) => [r.metric, r.value, r.target, r.met === undefined ? '—' : r.met ? 'yes' : '**no**']),
  );
}

export const best = (values: readonly number[]): number => Math.min(...values);

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The nearest-rank percentile: the smallest value with at least q of the values at or below it. */
export function percentile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)];
}

export const gbps = (bytes: number, seconds: number): string => `${(bytes / seconds / GB).toFixed(2)} GB/s`;
export const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
/** Rounded down, so a ratio shown as 80% never fails an 80% target. */
export const pct = (ratio: number): string => `${Math.floor(ratio * 100 + 1e-9)}%`;
export const ms = (seconds: number): string => `${(seconds * 1000).toFixed(seconds < 0.01 ? 2 : 1)} ms`;

/**
 * Writes `section` (starting with its `## ` heading) into bench/results.md: in place of the same
 * section from an earlier run, keeping every other section where it is, or at the end.
 */
export function writeSection(section: string): void {
  const heading = section.slice(0, section.indexOf('\n'));
  const resultsUrl = new URL('./results.md', import.meta.url);
  const previous = readFileSync(resultsUrl, 'utf8');
  const start = previous.indexOf(`\n${heading}\n`);
  let rest = '';
  let kept = previous;
  if (start >= 0) {
    const next = previous.indexOf('\n## ', start + 1);
    kept = previous.slice(0, start + 1);
    rest = next < 0 ? '' : previous.slice(next + 1);
  }
  writeFileSync(resultsUrl, `${kept.trimEnd()}\n\n${section}${rest === '' ? '' : `\n${rest}`}`);
}
