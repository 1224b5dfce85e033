import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { DTYPE_INFO } from '../datasets/dtypes.js';
import type { Dataset, DatasetStore } from '../datasets/store.js';
import { JobNotFound, ServiceUnavailable } from '../errors.js';
import type { MemoryBudget, Reservation } from '../memory.js';
import type { Metrics } from '../metrics.js';
import { planChunks, stridedRowCost } from './chunks.js';
import { type OpName, RESULT_DTYPE } from './kernels/index.js';
import type { RowPool } from './pool.js';
import { checkJob, type JobParams, type JobRequest, type JobSpec } from './spec.js';
import { CANCEL, type ChunkTask, CONTROL_BYTES, ROWS_DONE } from './task.js';
import { readInt64, type TopK, topK } from './topk.js';
import { VectorSlotAreas } from './vector-slots.js';

export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Results smaller than this are left to the next ordinary garbage collection. */
const RECLAIM_MIN_BYTES = 16 * 2 ** 20;

/** Finished jobs kept at most; the oldest go first, like results evicted for memory. */
const MAX_FINISHED_JOBS = 10_000;

export interface JobView {
  id: string;
  datasetId: string;
  op: OpName;
  params: JobParams;
  rows: { start: number; end: number };
  top?: { k: number; largest: boolean };
  status: JobStatus;
  progress: { rowsDone: number; rowsTotal: number };
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error?: { message: string };
}

export interface JobResult {
  readonly dtype: 'float64' | 'int64';
  /** One value per row of the job, little-endian; undefined for a top-k job. */
  readonly buffer: SharedArrayBuffer | undefined;
  readonly top: TopK | undefined;
}

interface Job {
  readonly id: string;
  readonly datasetId: string;
  readonly spec: JobSpec;
  readonly createdAt: string;
  readonly control: Int32Array;
  /** Tells the job's vector from others in a worker's vector slot; 0 for a job without one. */
  readonly vectorTag: number;
  status: JobStatus;
  startedAt: string | null;
  finishedAt: string | null;
  startedMs: number;
  error: string | undefined;
  /** Held only while the job runs, so a finished job never keeps a deleted dataset's memory alive. */
  dataset: Dataset | undefined;
  result: { buffer: SharedArrayBuffer; reservation: Reservation } | undefined;
  /** The query vector's share of the memory limit, held for as long as the job is kept. */
  vectorReservation: Reservation | undefined;
  /** A top-k job's ranked rows (16 bytes each), which replace its full result when it succeeds. */
  topReservation: Reservation | undefined;
  top: TopK | undefined;
  bounds: number[];
  nextChunk: number;
  inFlight: number;
  waiters: Array<() => void>;
}

export interface EngineOptions {
  readonly store: DatasetStore;
  readonly budget: MemoryBudget;
  readonly pool: RowPool;
  readonly metrics: Metrics;
  readonly log: FastifyBaseLogger;
}

const ended = (s: JobStatus) => s === 'succeeded' || s === 'failed' || s === 'cancelled';

/**
 * Runs jobs on the pool. The engine keeps its own queue of chunks and hands the pool only about two
 * tasks per thread, taking chunks from the active jobs in turn: cancelling drops a job's queued chunks
 * at once, and a long job does not hold up a short one queued after it.
 */
export class JobEngine {
  readonly #jobs = new Map<string, Job>();
  readonly #runnable: Job[] = [];
  readonly #maxInFlight: number;
  readonly #opts: EngineOptions;
  readonly #vectorSlots: VectorSlotAreas;
  #inFlight = 0;
  #vectorTags = 0;
  #accepting = true;

  constructor(opts: EngineOptions) {
    this.#opts = opts;
    this.#maxInFlight = opts.pool.threads * 2;
    this.#vectorSlots = new VectorSlotAreas(opts.store, opts.budget, opts.pool.threads);
    opts.store.onDelete((dataset) => this.#cancelJobsOf(dataset.id));
    opts.budget.setEvictor({
      evictable: () => this.#evictableBytes(),
      evict: (bytes) => this.#evict(bytes),
    });
  }

  submit(datasetId: string, request: JobRequest): Job {
    if (!this.#accepting) throw new ServiceUnavailable('rowpool is shutting down and takes no new jobs');
    const dataset = this.#opts.store.get(datasetId);
    const spec = checkJob(request, dataset);
    const rowsTotal = spec.rows.end - spec.rows.start;
    const vectorReservation =
      spec.vector === null
        ? undefined
        : this.#opts.budget.reserve(spec.vector.byteLength, "the job's vector");
    let reservation: Reservation;
    try {
      reservation = this.#opts.budget.reserve(rowsTotal * 8, "the job's result");
    } catch (err) {
      vectorReservation?.release();
      throw err;
    }
    const total = dataset.rows * dataset.rowLength;
    const job: Job = {
      id: randomUUID(),
      datasetId,
      spec,
      createdAt: new Date().toISOString(),
      control: new Int32Array(new SharedArrayBuffer(CONTROL_BYTES)),
      vectorTag: spec.vector === null ? 0 : ++this.#vectorTags,
      status: 'queued',
      startedAt: null,
      finishedAt: null,
      startedMs: 0,
      error: undefined,
      dataset,
      result: { buffer: new SharedArrayBuffer(rowsTotal * 8), reservation },
      vectorReservation,
      topReservation: undefined,
      top: undefined,
      bounds: planChunks(
        spec.rows.start,
        spec.rows.end,
        this.#opts.pool.threads,
        stridedRowCost(total, DTYPE_INFO[dataset.dtype].itemsize),
        spec.op === 'strided_mean' ? undefined : dataset.rowLength,
      ),
      nextChunk: 0,
      inFlight: 0,
      waiters: [],
    };
    this.#jobs.set(job.id, job);
    if (rowsTotal === 0) {
      this.#start(job);
      this.#succeed(job);
    } else {
      this.#runnable.push(job);
      this.#pump();
    }
    return job;
  }

  get(id: string): Job {
    const job = this.#jobs.get(id);
    if (job === undefined) throw new JobNotFound(id);
    return job;
  }

  /** Newest first. */
  list(status?: JobStatus): Job[] {
    const jobs = [...this.#jobs.values()].reverse();
    return status === undefined ? jobs : jobs.filter((j) => j.status === status);
  }

  /** Cancels the job if it has not ended, frees its result and forgets it. */
  remove(id: string): void {
    const job = this.get(id);
    if (!ended(job.status)) this.#end(job, 'cancelled');
    this.#forget(job);
  }

  /** Resolves when the job ends or after `seconds`, whichever comes first. */
  async waitFor(job: Job, seconds: number): Promise<void> {
    if (ended(job.status) || seconds <= 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, seconds * 1000);
      job.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  result(job: Job): JobResult {
    return {
      dtype: RESULT_DTYPE[job.spec.op],
      buffer: job.result?.buffer,
      top: job.top,
    };
  }

  view(job: Job): JobView {
    const { spec } = job;
    const rowsTotal = spec.rows.end - spec.rows.start;
    return {
      id: job.id,
      datasetId: job.datasetId,
      op: spec.op,
      params: spec.vector === null ? spec.params : { ...spec.params, vector: Array.from(spec.vector) },
      rows: { start: spec.rows.start, end: spec.rows.end },
      ...(spec.top === undefined ? {} : { top: { k: spec.top.k, largest: spec.top.largest } }),
      status: job.status,
      progress: {
        rowsDone:
          job.status === 'succeeded' ? rowsTotal : Math.min(rowsTotal, Atomics.load(job.control, ROWS_DONE)),
        rowsTotal,
      },
      createdAt: job.createdAt,
      startedAt: job.startedAt,
      finishedAt: job.finishedAt,
      ...(job.error === undefined ? {} : { error: { message: job.error } }),
    };
  }

  get resultBytes(): number {
    let sum = 0;
    for (const job of this.#jobs.values())
      sum += (job.result?.reservation.bytes ?? 0) + (job.topReservation?.bytes ?? 0);
    return sum;
  }

  activeCounts(): { queued: number; running: number } {
    let queued = 0;
    let running = 0;
    for (const job of this.#jobs.values()) {
      if (job.status === 'queued') queued++;
      else if (job.status === 'running') running++;
    }
    return { queued, running };
  }

  /**
   * Stops taking jobs, lets running ones finish for up to `graceSeconds`, then cancels the rest.
   */
  async shutdown(graceSeconds: number): Promise<void> {
    this.#accepting = false;
    const unfinished = [...this.#jobs.values()].filter((j) => !ended(j.status));
    const deadline = Date.now() + graceSeconds * 1000;
    for (const job of unfinished) await this.waitFor(job, Math.max(0, (deadline - Date.now()) / 1000));
    for (const job of unfinished) if (!ended(job.status)) this.#end(job, 'cancelled');
  }

  #start(job: Job): void {
    job.status = 'running';
    job.startedAt = new Date().toISOString();
    job.startedMs = performance.now();
  }

  #pump(): void {
    while (this.#inFlight < this.#maxInFlight && this.#runnable.length > 0) {
      const job = this.#runnable.shift()!;
      const r0 = job.bounds[job.nextChunk];
      const r1 = job.bounds[job.nextChunk + 1];
      job.nextChunk++;
      if (job.nextChunk < job.bounds.length - 1) this.#runnable.push(job);
      if (job.status === 'queued') this.#start(job);
      void this.#runChunk(job, r0, r1);
    }
  }

  async #runChunk(job: Job, r0: number, r1: number): Promise<void> {
    const dataset = job.dataset!;
    const { spec } = job;
    const task: ChunkTask = {
      op: spec.op,
      dtype: dataset.dtype,
      datasetId: dataset.id,
      data: dataset.buffer,
      memory: dataset.memory,
      rows: dataset.rows,
      rowLength: dataset.rowLength,
      ddof: spec.ddof,
      ord: spec.ord,
      q: spec.q,
      vector: spec.vector === null ? null : (spec.vector.buffer as SharedArrayBuffer),
      slots: spec.vector === null ? null : this.#vectorSlots.slotsFor(dataset),
      vectorTag: job.vectorTag,
      r0,
      r1,
      result: job.result!.buffer,
      resultIndex: r0 - spec.rows.start,
      control: job.control.buffer as SharedArrayBuffer,
    };
    const { metrics } = this.#opts;
    this.#inFlight++;
    job.inFlight++;
    const sent = performance.now();
    try {
      const outcome = await this.#opts.pool.run(task);
      const total = (performance.now() - sent) / 1000;
      metrics.taskRun.observe(outcome.runSeconds);
      metrics.taskWait.observe(Math.max(0, total - outcome.runSeconds));
      metrics.rowsProcessed.inc({ op: spec.op }, outcome.rowsDone);
    } catch (err) {
      if (!ended(job.status)) {
        job.error = (err as Error).message || String(err);
        this.#end(job, 'failed');
      }
    } finally {
      this.#inFlight--;
      job.inFlight--;
      if (job.status === 'running' && job.inFlight === 0 && job.nextChunk === job.bounds.length - 1) {
        this.#succeed(job);
      } else if (ended(job.status) && job.inFlight === 0 && job.status !== 'succeeded') {
        // A cancelled chunk may have held the last worker-side handle on a deleted dataset.
        this.#opts.pool.reclaim();
      }
      this.#pump();
    }
  }

  #succeed(job: Job): void {
    const { top } = job.spec;
    if (top !== undefined && job.result !== undefined) {
      const { buffer, reservation } = job.result;
      const rows = job.spec.rows.end - job.spec.rows.start;
      const values =
        RESULT_DTYPE[job.spec.op] === 'int64' ? readInt64(buffer, rows) : new Float64Array(buffer);
      try {
        // k may be any size the client likes; more than the rows returns them all.
        job.top = topK(values, job.spec.rows.start, Math.min(top.k, rows), top.largest);
      } catch (err) {
        job.error = (err as Error).message;
        this.#end(job, 'failed');
        return;
      }
      reservation.release();
      job.result = undefined;
      try {
        job.topReservation = this.#opts.budget.reserve(job.top.indices.length * 16, "the job's top-k result");
      } catch (err) {
        job.top = undefined;
        job.error = (err as Error).message;
        this.#end(job, 'failed');
        return;
      }
    }
    this.#end(job, 'succeeded');
  }

  #end(job: Job, status: 'succeeded' | 'failed' | 'cancelled'): void {
    const { metrics, log } = this.#opts;
    Atomics.store(job.control, CANCEL, status === 'succeeded' ? 0 : 1);
    const index = this.#runnable.indexOf(job);
    if (index >= 0) this.#runnable.splice(index, 1);
    job.dataset = undefined;
    if (status !== 'succeeded') this.#freeResult(job);
    const seconds = job.startedAt === null ? 0 : (performance.now() - job.startedMs) / 1000;
    // Counted before the status turns final, so whoever sees the job ended also sees it counted.
    metrics.jobs.inc({ op: job.spec.op, status });
    if (job.startedAt !== null) metrics.jobDuration.observe({ op: job.spec.op }, seconds);
    job.status = status;
    job.finishedAt = new Date().toISOString();
    log.info(
      {
        jobId: job.id,
        datasetId: job.datasetId,
        op: job.spec.op,
        rows: job.spec.rows.end - job.spec.rows.start,
        durationMs: Math.round(seconds * 1e6) / 1e3,
        status,
        ...(job.error === undefined ? {} : { error: job.error }),
      },
      'job ended',
    );
    for (const wake of job.waiters.splice(0)) wake();
    this.#trimFinished();
  }

  #freeResult(job: Job): void {
    job.result?.reservation.release();
    job.result = undefined;
  }

  /** Everything a forgotten job held: its result and its vector. */
  #freeAll(job: Job): void {
    this.#freeResult(job);
    job.vectorReservation?.release();
    job.vectorReservation = undefined;
    job.topReservation?.release();
    job.topReservation = undefined;
    job.top = undefined;
  }

  #forget(job: Job): void {
    const held = this.#heldBytes(job);
    this.#freeAll(job);
    this.#jobs.delete(job.id);
    // A full collection costs tens of milliseconds: worth it to return a large result at once only.
    if (held >= RECLAIM_MIN_BYTES) this.#opts.pool.reclaim();
  }

  #cancelJobsOf(datasetId: string): void {
    for (const job of this.#jobs.values()) {
      if (job.datasetId === datasetId && !ended(job.status)) this.#end(job, 'cancelled');
    }
  }

  #heldBytes(job: Job): number {
    return (
      (job.result?.reservation.bytes ?? 0) +
      (job.vectorReservation?.bytes ?? 0) +
      (job.topReservation?.bytes ?? 0)
    );
  }

  #evictableBytes(): number {
    let sum = 0;
    for (const job of this.#jobs.values()) if (ended(job.status)) sum += this.#heldBytes(job);
    return sum;
  }

  /** Frees finished results, oldest first, until `bytes` more are free or none are left. */
  #evict(bytes: number): void {
    let freed = 0;
    for (const job of [...this.#jobs.values()]) {
      if (freed >= bytes) break;
      const held = this.#heldBytes(job);
      if (ended(job.status) && held > 0) {
        freed += held;
        this.#opts.log.info({ jobId: job.id, bytes: held }, 'job evicted for memory');
        this.#jobs.delete(job.id);
        this.#freeAll(job);
      }
    }
    if (freed > 0) this.#opts.pool.reclaim();
  }

  #trimFinished(): void {
    let finished = 0;
    for (const job of this.#jobs.values()) if (ended(job.status)) finished++;
    for (const job of [...this.#jobs.values()]) {
      if (finished <= MAX_FINISHED_JOBS) break;
      if (ended(job.status)) {
        this.#jobs.delete(job.id);
        this.#freeAll(job);
        finished--;
      }
    }
  }
}

export type { Job };
