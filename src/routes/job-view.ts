import type { JobRecord } from '../jobs/job.js';

/** A job as the API shows it. */
export interface JobView {
  id: string;
  datasetId: string;
  op: string;
  params: Record<string, unknown>;
  vectorLength?: number;
  queries?: number;
  rows: { start: number; end: number };
  top?: { k: number; largest: boolean };
  status: string;
  progress: { rowsDone: number; rowsTotal: number };
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error?: { message: string };
}

/**
 * `brief` is for list views: the query vector or vectors, which may hold a million numbers, are left
 * out and only their length and count given, so a page of jobs stays small whatever the jobs were asked.
 */
export function jobView(job: JobRecord, brief = false): JobView {
  const { vector, vectors, ...rest } = job.params as { vector?: unknown[]; vectors?: unknown[] };
  return {
    id: job.id,
    datasetId: job.datasetId,
    op: job.op.name,
    params: brief
      ? rest
      : {
          ...rest,
          ...(vector === undefined ? {} : { vector }),
          ...(vectors === undefined ? {} : { vectors }),
        },
    ...(vector === undefined ? {} : { vectorLength: vector.length }),
    ...(vectors === undefined ? {} : { queries: vectors.length }),
    rows: { start: job.rows.start, end: job.rows.end },
    ...(job.top === undefined ? {} : { top: { k: job.top.k, largest: job.top.largest } }),
    status: job.status,
    progress: { rowsDone: job.rowsDone(), rowsTotal: job.rows.end - job.rows.start },
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
    ...(job.error === undefined ? {} : { error: { message: job.error } }),
  };
}
