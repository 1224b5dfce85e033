import type { JobRecord } from '../jobs/job.js';

/** A job as the API shows it. */
export interface JobView {
  id: string;
  datasetId: string;
  op: string;
  params: Record<string, unknown>;
  vectorLength?: number;
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
 * `brief` is for list views: the query vector, which may hold a million numbers, is left out and
 * only its length given, so a page of jobs stays small whatever the jobs were asked.
 */
export function jobView(job: JobRecord, brief = false): JobView {
  const { vector, ...rest } = job.params as { vector?: unknown[] };
  return {
    id: job.id,
    datasetId: job.datasetId,
    op: job.op.name,
    params: brief || vector === undefined ? rest : { ...rest, vector },
    ...(vector === undefined ? {} : { vectorLength: vector.length }),
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
