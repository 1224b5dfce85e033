import { InvalidJob } from '../errors.js';
import type { JobFilter, JobPage } from '../jobs/engine.js';
import type { ClusterJobRecord } from './job-entry.js';

/** Where a page of cluster jobs starts: the job it continues after, by creation time then id. */
interface Position {
  readonly ms: number;
  readonly id: string;
}

function positionOf(job: ClusterJobRecord): Position {
  return { ms: job.seq, id: job.id };
}

/** Newest first: later creation time, then the larger id for jobs created in the same millisecond. */
function newerFirst(a: Position, b: Position): number {
  return b.ms - a.ms || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

function encodeCursor({ ms, id }: Position): string {
  return Buffer.from(`job:${ms}:${id}`).toString('base64url');
}

/** Read before any I/O, so a bad cursor is a 400 whatever the cluster's state. */
export function decodeCursor(cursor: string): Position {
  const match = /^job:(\d+):([0-9a-f-]{36})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (match === null) {
    throw new InvalidJob(`cursor "${cursor}" is not one this server gave; pass nextCursor back as it came`);
  }
  return { ms: Number(match[1]), id: match[2] };
}

/**
 * A page of the jobs that pass the filter, newest first, as a single node pages: the cursor names
 * the last job of the previous page, so pages neither repeat nor skip jobs when others come and go.
 * Every node orders by creation time and id, so a cursor from one node pages on any other.
 */
export function pageOf(
  jobs: readonly ClusterJobRecord[],
  filter: JobFilter,
  limit: number,
  after: Position | undefined,
): JobPage {
  const found = jobs
    .filter(
      (j) =>
        (after === undefined || newerFirst(after, positionOf(j)) < 0) &&
        (filter.status === undefined || j.status === filter.status) &&
        (filter.datasetId === undefined || j.datasetId === filter.datasetId) &&
        (filter.op === undefined || j.op.name === filter.op),
    )
    .sort((a, b) => newerFirst(positionOf(a), positionOf(b)))
    .slice(0, limit + 1);
  const more = found.length > limit;
  if (more) found.pop();
  const last = found.at(-1);
  return { jobs: found, nextCursor: more && last !== undefined ? encodeCursor(positionOf(last)) : null };
}
