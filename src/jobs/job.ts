import type { Dataset } from '../datasets/store.js';
import type { Reservation } from '../memory.js';
import type { OpDefinition } from '../ops/op.js';
import type { ChunkTop } from './chunk-top.js';
import type { RowNorms } from './kernels/rows.js';
import type { JobStatus } from './status.js';
import { NEXT_CHUNK } from './task.js';
import type { TopK } from './topk.js';

/** What the routes may read of a job: a read-only view, never the engine's working state. */
export interface JobRecord {
  readonly id: string;
  /** Order of submission, for paging. */
  readonly seq: number;
  readonly datasetId: string;
  readonly op: OpDefinition;
  /** The params as validated, defaults filled in: what the request asked for. */
  readonly params: Readonly<Record<string, unknown>>;
  readonly rows: { readonly start: number; readonly end: number };
  readonly top: { readonly k: number; readonly largest: boolean } | undefined;
  readonly status: JobStatus;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly error: string | undefined;
  /** Rows computed so far. */
  rowsDone(): number;
}

export interface JobResult {
  readonly dtype: 'float64' | 'int64';
  /** One value per row of the job, little-endian; undefined for a top-k job. */
  readonly buffer: SharedArrayBuffer | undefined;
  readonly top: TopK | undefined;
  /** A batch job's ranked rows, one list per query; undefined for any other job. */
  readonly batch: TopK[] | undefined;
}

/** The engine's working state of a job. */
export interface Job extends JobRecord {
  /** What the kernels read, made once by the op's `prepare`. */
  readonly taskParams: unknown;
  readonly control: Int32Array;
  /** Tells the job's vector from others in a worker's vector slot; 0 for a job without one. */
  readonly vectorTag: number;
  /** Reads at most SMALL_JOB_BYTES, so it runs in the small jobs' lane (see scheduler.ts). */
  readonly small: boolean;
  status: JobStatus;
  startedAt: string | null;
  finishedAt: string | null;
  startedMs: number;
  /**
   * For an op with a time limit (op.timeLimit), set when the job starts: `signal` goes with every
   * chunk and aborts when `timeout` fires or `stop` is aborted because the job ended unsuccessfully.
   */
  limit:
    | {
        readonly signal: AbortSignal;
        readonly timeout: AbortSignal;
        readonly stop: AbortController;
        readonly message: string;
      }
    | undefined;
  error: string | undefined;
  /** Held only while the job runs, so a finished job never keeps a deleted dataset's memory alive. */
  dataset: Dataset | undefined;
  /** The dataset's cached row norms the job reads or fills (norm-cache.ts), held while it runs. */
  norms: RowNorms | undefined;
  result: { buffer: SharedArrayBuffer; reservation: Reservation } | undefined;
  /** The query vector's share of the memory limit, held for as long as the job is kept. */
  vectorReservation: Reservation | undefined;
  /** A top-k job's ranked rows (16 bytes each), which replace its full result when it succeeds. */
  topReservation: Reservation | undefined;
  topResult: TopK | undefined;
  /** For a top job whose chunks rank their own rows: where they put their candidates. */
  readonly chunkTop: ChunkTop | undefined;
  /** A batch job's ranked rows per query, which replace its candidates when it succeeds. */
  batchResult: TopK[] | undefined;
  /** Row boundaries of the job's chunks (chunks.ts). */
  readonly bounds: readonly number[];
  /** The bounds and each chunk's result slot, as the tasks read them (task.ts's chunkPlan). */
  readonly plan: SharedArrayBuffer;
  /** Tasks sent and not yet back. */
  inFlight: number;
  readonly waiters: Array<() => void>;
}

/** Chunks no task has claimed yet. */
export function chunksLeft(job: Job): number {
  const chunks = job.bounds.length - 1;
  return chunks - Math.min(chunks, Atomics.load(job.control, NEXT_CHUNK));
}

export function hasChunksLeft(job: Job): boolean {
  return chunksLeft(job) > 0;
}

/**
 * Whether another task would help the job: each task runs chunks until none is left, so a job
 * needs at most one per thread, and no more than it has chunks left.
 */
export function wantsTask(job: Job, threads: number): boolean {
  return job.inFlight < Math.min(threads, chunksLeft(job));
}

/** Bytes of the memory limit the job holds. */
export function heldBytes(job: Job): number {
  return (
    (job.result?.reservation.bytes ?? 0) +
    (job.vectorReservation?.bytes ?? 0) +
    (job.topReservation?.bytes ?? 0)
  );
}

/** Gives back everything the job holds; what is left is its record. */
export function releaseAll(job: Job): void {
  job.result?.reservation.release();
  job.result = undefined;
  job.vectorReservation?.release();
  job.vectorReservation = undefined;
  job.topReservation?.release();
  job.topReservation = undefined;
  job.topResult = undefined;
  job.batchResult = undefined;
}
