import type { Dataset, Job } from '../client/index.js';

/** What the commands print on stdout: tab-separated tables for people, JSON for scripts. */

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

function printTable(header: string[], rows: string[][]): void {
  process.stdout.write([header, ...rows].map((row) => `${row.join('\t')}\n`).join(''));
}

export function printDatasets(datasets: readonly Dataset[]): void {
  printTable(
    ['id', 'name', 'dtype', 'shape', 'bytes', 'created'],
    datasets.map((d) => [d.id, d.name ?? '', d.dtype, d.shape.join('x'), String(d.bytes), d.createdAt]),
  );
}

export function printJobs(jobs: readonly Job[]): void {
  printTable(
    ['id', 'dataset', 'op', 'status', 'rows done', 'created'],
    jobs.map((j) => [
      j.id,
      j.datasetId,
      j.op,
      j.status,
      `${j.progress.rowsDone}/${j.progress.rowsTotal}`,
      j.createdAt,
    ]),
  );
}
