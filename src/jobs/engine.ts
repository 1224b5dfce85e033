/*
 * This module is long because submit, dispatch, completion and cancellation all change the same job
 * map, chunk queue and in-flight count, which stay private to one class. Scheduling (scheduler.ts),
 * retention and eviction (retention.ts), the job record (job.ts) and the task layout (task.ts) are
 * modules of their own.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { DTYPE_INFO } from '../datasets/dtypes.js';
import type { Dataset, DatasetStore } from '../datasets/store.js';
import { InvalidJob, JobNotFound, ServiceUnavailable } from '../errors.js';
import { readInt64 } from '../int64.js';
import { holdable, type MemoryBudget, type Reservation } from '../memory.js';
import type { Metrics } from '../metrics.js';
import type { OpContext, OpDefinition } from '../ops/op.js';
import { validateParams } from '../ops/params.js';
import { opNamed } from '../ops/registry.js';
import type { ReclaimBatcher } from '../reclaim.js';
import { ChunkTop } from './chunk-top.js';
import { planChunks } from './chunks.js';
import { hasChunksLeft, heldBytes, type Job, type JobRecord, type JobResult, releaseAll } from './job.js';
import { RowNormCache } from './norm-cache.js';
import type { RowPool } from './pool.js';
import { JobRetention } from './retention.js';
import { Scheduler, SMALL_JOB_BYTES } from './scheduler.js';
import { type EndStatus, isEnded, type JobStatus } from './status.js';
import { CANCEL, type ChunkTask, CONTROL_BYTES, chunkPlan, chunkTask, ROWS_DONE, YIELD } from './task.js';
import { topK } from './topk.js';
import { VectorSlotAreas } from './vector-slots.js';

/** A job request as the route has validated it against the request schema. */
export interface JobRequest {
  readonly op: string;
  readonly params?: Readonly<Record<string, unknown>>;
  readonly rows?: { readonly start?: number; readonly end?: number };
  readonly top?: { readonly k: number; readonly largest?: boolean };
}

export interface EngineOptions {
  readonly store: DatasetStore;
  readonly budget: MemoryBudget;
  readonly pool: RowPool;
  /** Told the bytes of every result freed, so a burst of deletes costs one collection. */
  readonly reclaimer: ReclaimBatcher;
  readonly metrics: Metrics;
  readonly log: FastifyBaseLogger;
  /** Jobs that may run at once; the rest wait in order (default: one per pool thread). */
  readonly maxRunningJobs?: number;
  /** What the ops may look up when they check and prepare a job (the uploaded kernels). */
  readonly opContext?: OpContext;
}

/** The request's row range over a dataset of `rows` rows, checked; the whole dataset by default. */
export function requestedRows(request: JobRequest, rows: number): { start: number; end: number } {
  const start = request.rows?.start ?? 0;
  const end = request.rows?.end ?? rows;
  if (end > rows || start > rows) {
    throw new InvalidJob(`rows ${start}..${end} fall outside the dataset, which has ${rows} rows`);
  }
  if (start > end) {
    throw new InvalidJob(`rows.start (${start}) is after rows.end (${end}); the range is end-exclusive`);
  }
  return { start, end };
}

/** Bytes a job reads: its rows, or what its op says each row costs (stopping once past a small job). */
function bytesRead(
  start: number,
  end: number,
  rowLength: number,
  itemsize: number,
  rowCost: ((row: number) => number) | undefined,
): number {
  if (rowCost === undefined) return (end - start) * rowLength * itemsize;
  let bytes = 0;
  for (let r = start; r < end && bytes <= SMALL_JOB_BYTES; r++) bytes += rowCost(r) * itemsize;
  return bytes;
}

/**
 * Where a top job's chunks rank their own rows (chunk-top.ts): always for a batch of queries, which
 * has no value per row to rank afterwards; for one query when the op's values are float64 and the
 * candidates take no more room than a value per row would. Undefined: a value per row, ranked when
 * the job ends.
 */
function chunkTopOf(
  op: OpDefinition,
  k: number | undefined,
  queries: number | undefined,
  bounds: readonly number[],
  rows: number,
): ChunkTop | undefined {
  if (k === undefined) return undefined;
  if (queries !== undefined) return new ChunkTop(bounds, queries, k);
  if (op.result !== 'float64') return undefined;
  const top = new ChunkTop(bounds, 1, k);
  return top.cells <= rows ? top : undefined;
}

export interface JobPage {
  readonly jobs: JobRecord[];
  readonly nextCursor: string | null;
}

function encodeCursor(seq: number): string {
  return Buffer.from(`job:${seq}`).toString('base64url');
}

function decodeCursor(cursor: string): number {
  const match = /^job:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (match === null)
    throw new InvalidJob(`cursor "${cursor}" is not one this server gave; pass nextCursor back as it came`);
  return Number(match[1]);
}

export interface JobFilter {
  readonly status?: JobStatus;
  readonly datasetId?: string;
  readonly op?: string;
}

/**
 * Runs jobs on the pool. A job's tasks, at most one per thread, claim its chunks one at a time, so a
 * thread that falls behind simply claims fewer and a job costs a message per thread, not per chunk.
 * The engine hands the pool about one large job's task per thread, in the order the scheduler picks
 * (scheduler.ts), plus the small lane's: cancelling stops a job's tasks at their next block, and jobs
 * finish in the order they came.
 */
export class JobEngine {
  readonly #jobs = new Map<string, Job>();
  readonly #maxInFlight: number;
  readonly #opts: EngineOptions;
  readonly #vectorSlots: VectorSlotAreas;
  readonly #norms: RowNormCache;
  readonly #scheduler: Scheduler;
  readonly #retention: JobRetention;
  readonly #endListeners: Array<(job: JobRecord) => void> = [];
  #inFlight = 0;
  /** The tasks' YIELD cell (task.ts), kept equal to the scheduler's `pressed`. */
  readonly #pressure = new Int32Array(new SharedArrayBuffer(4));
  #vectorTags = 0;
  #seq = 0;
  #accepting = true;

  constructor(opts: EngineOptions) {
    this.#opts = opts;
    const { threads } = opts.pool;
    this.#maxInFlight = threads;
    this.#scheduler = new Scheduler(opts.maxRunningJobs ?? threads, threads);
    this.#vectorSlots = new VectorSlotAreas(opts.store, opts.budget, threads);
    this.#norms = new RowNormCache(opts.store, opts.budget);
    this.#retention = new JobRetention((job, reason) => {
      this.#jobs.delete(job.id);
      if (reason === 'evicted') opts.log.info({ jobId: job.id }, 'job evicted for memory');
    });
    opts.store.onDelete((dataset) => this.#cancelJobsOf(dataset.id));
    opts.budget.setEvictor({
      evictable: () => this.#retention.evictableBytes,
      evict: (bytes) => {
        const freed = this.#retention.evict(bytes);
        if (freed > 0) opts.reclaimer.freed(freed);
      },
    });
  }

  submit(datasetId: string, request: JobRequest): JobRecord {
    if (!this.#accepting) throw new ServiceUnavailable('rowpool is shutting down and takes no new jobs');
    const dataset = this.#opts.store.get(datasetId);
    const op = opNamed(request.op);
    const params = validateParams(op, request.params, dataset, this.#opts.opContext) as Record<
      string,
      unknown
    >;
    const { start, end } = requestedRows(request, dataset.rows);
    const rowsTotal = end - start;
    const vector = params.vector as number[] | undefined;
    const vectors = params.vectors as number[][] | undefined;
    if (vectors !== undefined && request.top === undefined) {
      throw new InvalidJob(
        'params.vectors needs top: a batch of queries answers with the k best rows of each query, found in one pass over the rows (for example "top": {"k": 10})',
      );
    }
    const queryNumbers = vectors === undefined ? vector?.length : vectors.length * dataset.rowLength;
    const rowCost = op.rowCost?.(params, dataset);
    const bounds = planChunks(
      start,
      end,
      this.#opts.pool.threads,
      rowCost ?? dataset.rowLength * (vectors?.length ?? 1),
      dataset.segmentRows,
    );
    const chunkTop = chunkTopOf(op, request.top?.k, vectors?.length, bounds, rowsTotal);
    const resultBytes = chunkTop === undefined ? rowsTotal * 8 : chunkTop.cells * 8;
    const vectorReservation =
      queryNumbers === undefined
        ? undefined
        : this.#opts.budget.reserve(queryNumbers * 8, "the job's vector");
    let reservation: Reservation;
    try {
      reservation = this.#opts.budget.reserve(resultBytes, "the job's result");
    } catch (err) {
      vectorReservation?.release();
      throw err;
    }
    const itemsize = DTYPE_INFO[dataset.dtype].itemsize;
    const readBytes = bytesRead(start, end, dataset.rowLength, itemsize, rowCost);
    const id = randomUUID();
    const job: Job = {
      id,
      seq: ++this.#seq,
      datasetId,
      op,
      params,
      taskParams: op.prepare(params, dataset, this.#opts.opContext),
      rows: { start, end },
      top:
        request.top === undefined
          ? undefined
          : { k: request.top.k, largest: request.top.largest ?? op.largestFirst },
      createdAt: new Date().toISOString(),
      control: new Int32Array(new SharedArrayBuffer(CONTROL_BYTES)),
      vectorTag: vector === undefined ? 0 : ++this.#vectorTags,
      small: readBytes <= SMALL_JOB_BYTES,
      status: 'queued',
      startedAt: null,
      finishedAt: null,
      startedMs: 0,
      limit: undefined,
      error: undefined,
      dataset,
      norms:
        op.scope === 'rows' && op.usesRowNorms === true && vector !== undefined
          ? this.#norms.forJob(dataset, start, end, id)
          : undefined,
      result: { buffer: new SharedArrayBuffer(resultBytes), reservation },
      chunkTop,
      batchResult: undefined,
      vectorReservation,
      topReservation: undefined,
      topResult: undefined,
      bounds,
      plan: chunkPlan(
        bounds,
        bounds.slice(0, -1).map((r0) => (chunkTop === undefined ? r0 - start : chunkTop.slotOf(r0))),
      ),
      inFlight: 0,
      waiters: [],
      rowsDone() {
        const total = this.rows.end - this.rows.start;
        return this.status === 'succeeded' ? total : Math.min(total, Atomics.load(this.control, ROWS_DONE));
      },
    };
    this.#jobs.set(job.id, job);
    if (rowsTotal === 0) {
      this.#start(job);
      this.#succeed(job);
      return job;
    }
    if (this.#scheduler.add(job)) this.#start(job);
    this.#pump();
    return job;
  }

  get(id: string): JobRecord {
    return this.#job(id);
  }

  /**
   * A page of the jobs that pass the filter, newest first. The cursor is the sequence number of the
   * last job of the previous page, so pages neither repeat nor skip jobs when others come and go.
   */
  list(filter: JobFilter, page: { limit: number; cursor?: string }): JobPage {
    const before = page.cursor === undefined ? Number.POSITIVE_INFINITY : decodeCursor(page.cursor);
    const jobs: JobRecord[] = [];
    const all = [...this.#jobs.values()];
    for (let i = all.length - 1; i >= 0 && jobs.length <= page.limit; i--) {
      const j = all[i];
      if (
        j.seq < before &&
        (filter.status === undefined || j.status === filter.status) &&
        (filter.datasetId === undefined || j.datasetId === filter.datasetId) &&
        (filter.op === undefined || j.op.name === filter.op)
      ) {
        jobs.push(j);
      }
    }
    const more = jobs.length > page.limit;
    if (more) jobs.pop();
    return { jobs, nextCursor: more ? encodeCursor(jobs[jobs.length - 1].seq) : null };
  }

  /** Cancels the job if it has not ended, keeping its record; `reason` goes in its error message. */
  cancel(id: string, reason = 'cancelled by request'): JobRecord {
    const job = this.#job(id);
    if (!isEnded(job.status)) {
      job.error = reason;
      this.#end(job, 'cancelled');
    }
    return job;
  }

  /** Cancels every job not yet ended that `uses` picks, e.g. those of a kernel being deleted. */
  cancelWhere(uses: (job: JobRecord) => boolean, reason: string): void {
    for (const job of this.#jobs.values()) {
      if (!isEnded(job.status) && uses(job)) {
        job.error = reason;
        this.#end(job, 'cancelled');
      }
    }
  }

  /** Cancels the job if it has not ended, frees its result and forgets it. */
  remove(id: string): void {
    const job = this.#job(id);
    if (!isEnded(job.status)) this.#end(job, 'cancelled');
    const held = heldBytes(job);
    this.#retention.drop(job);
    releaseAll(job);
    this.#jobs.delete(job.id);
    if (held > 0) this.#opts.reclaimer.freed(held);
  }

  /** Resolves when the job ends or after `seconds`, whichever comes first. */
  async waitFor(record: JobRecord, seconds: number): Promise<void> {
    const job = this.#job(record.id);
    if (isEnded(job.status) || seconds <= 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, seconds * 1000);
      job.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Calls `listener` whenever a job ends. */
  onEnd(listener: (job: JobRecord) => void): void {
    this.#endListeners.push(listener);
  }

  result(record: JobRecord): JobResult {
    const job = this.#job(record.id);
    return { dtype: job.op.result, buffer: job.result?.buffer, top: job.topResult, batch: job.batchResult };
  }

  /**
   * The job's result and a hold on its memory, for a download: the bytes stay counted in the budget
   * until the hold is released, even should the job be deleted or evicted meanwhile.
   */
  holdResult(record: JobRecord): { result: JobResult; hold: Reservation } {
    const job = this.#job(record.id);
    const freed = (bytes: number) => this.#opts.reclaimer.freed(bytes);
    let hold: Reservation = { bytes: 0, release() {} };
    if (job.result !== undefined) {
      const shared = holdable(job.result.reservation, freed);
      job.result.reservation = shared;
      hold = shared.hold();
    } else if (job.topReservation !== undefined) {
      const shared = holdable(job.topReservation, freed);
      job.topReservation = shared;
      hold = shared.hold();
    }
    return { result: this.result(job), hold };
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
   * Stops taking jobs, lets running and queued ones go on in order for up to `graceSeconds`, then
   * cancels the rest.
   */
  async shutdown(graceSeconds: number): Promise<void> {
    this.#accepting = false;
    const unfinished = [...this.#jobs.values()].filter((j) => !isEnded(j.status));
    const deadline = Date.now() + graceSeconds * 1000;
    for (const job of unfinished) await this.waitFor(job, Math.max(0, (deadline - Date.now()) / 1000));
    for (const job of unfinished) {
      if (!isEnded(job.status)) {
        job.error = 'cancelled: rowpool shut down before the job could finish';
        this.#end(job, 'cancelled');
      }
    }
  }

  #job(id: string): Job {
    const job = this.#jobs.get(id);
    if (job === undefined) throw new JobNotFound(id);
    return job;
  }

  #start(job: Job): void {
    job.status = 'running';
    job.startedAt = new Date().toISOString();
    job.startedMs = performance.now();
    const limit = job.op.timeLimit?.(job.taskParams);
    if (limit !== undefined) {
      const timeout = AbortSignal.timeout(limit.ms);
      const stop = new AbortController();
      job.limit = { signal: AbortSignal.any([timeout, stop.signal]), timeout, stop, message: limit.message };
    }
  }

  #pump(): void {
    for (;;) {
      const job = this.#scheduler.next(this.#inFlight < this.#maxInFlight);
      if (job === undefined) break;
      // #runTask handles what the pool does; anything thrown before it gets there is a server
      // fault that must end the job, not an unhandled rejection that takes the process down.
      this.#runTask(job).catch((err: unknown) => {
        this.#opts.log.error({ err, jobId: job.id }, 'a task of the job could not be sent to the pool');
        if (!isEnded(job.status)) {
          job.error = `internal error: ${(err as Error).message}`;
          this.#end(job, 'failed');
        }
      });
    }
    Atomics.store(this.#pressure, YIELD, this.#scheduler.pressed ? 1 : 0);
  }

  async #runTask(job: Job): Promise<void> {
    const dataset = job.dataset!;
    const vectorSlots =
      job.vectorTag === 0 || job.op.vector !== 'row' ? null : this.#vectorSlotsOf(dataset, job.vectorTag);
    const params =
      job.norms === undefined ? job.taskParams : { ...(job.taskParams as object), norms: job.norms };
    const task = chunkTask(job.op.name, params, dataset, {
      plan: job.plan,
      chunks: job.bounds.length - 1,
      result: job.result!.buffer,
      control: job.control.buffer as SharedArrayBuffer,
      pressure: this.#pressure.buffer as SharedArrayBuffer,
      vectorSlots,
      top: job.chunkTop === undefined ? null : job.top,
    });
    const { metrics } = this.#opts;
    if (!job.small) this.#inFlight++;
    job.inFlight++;
    this.#scheduler.sent(job);
    const sent = performance.now();
    try {
      const outcome = await this.#opts.pool.run(task, { signal: job.limit?.signal });
      const total = (performance.now() - sent) / 1000;
      metrics.taskRun.observe(outcome.runSeconds);
      metrics.taskWait.observe(Math.max(0, total - outcome.runSeconds));
      metrics.rowsProcessed.inc({ op: job.op.name }, outcome.rowsDone);
    } catch (err) {
      if (!isEnded(job.status)) {
        job.error = job.limit?.timeout.aborted ? job.limit.message : (err as Error).message || String(err);
        this.#end(job, 'failed');
      }
    } finally {
      if (!job.small) this.#inFlight--;
      job.inFlight--;
      this.#scheduler.returned(job);
      if (job.status === 'running' && job.inFlight === 0 && !hasChunksLeft(job)) {
        this.#succeed(job);
      } else if (isEnded(job.status) && job.inFlight === 0 && job.status !== 'succeeded') {
        // The workers saw the dropped result, and a cancelled chunk may have held the last handle on
        // a deleted dataset, after the collection its delete asked for.
        const gone = this.#opts.store.has(dataset.id) ? 0 : dataset.bytes;
        this.#opts.reclaimer.freed((job.rows.end - job.rows.start) * 8 + gone);
      }
      this.#pump();
    }
  }

  #vectorSlotsOf(dataset: Dataset, tag: number): ChunkTask['vectorSlots'] {
    const slots = this.#vectorSlots.slotsFor(dataset);
    return slots === null ? null : { slots, tag };
  }

  #succeed(job: Job): void {
    const { top } = job;
    if (top !== undefined && job.result !== undefined) {
      const { buffer, reservation } = job.result;
      const rows = job.rows.end - job.rows.start;
      try {
        if (job.chunkTop === undefined) {
          const values = job.op.result === 'int64' ? readInt64(buffer, rows) : new Float64Array(buffer);
          // k may be any size the client likes; more than the rows returns them all.
          job.topResult = topK(values, job.rows.start, Math.min(top.k, rows), top.largest);
        } else {
          const ranked = job.chunkTop.merge(buffer, top.largest);
          if (job.params.vectors === undefined) job.topResult = ranked[0];
          else job.batchResult = ranked;
        }
      } catch (err) {
        job.error = (err as Error).message;
        this.#end(job, 'failed');
        return;
      }
      reservation.release();
      job.result = undefined;
      try {
        const kept =
          job.batchResult?.reduce((sum, q) => sum + q.indices.length, 0) ?? job.topResult!.indices.length;
        job.topReservation = this.#opts.budget.reserve(kept * 16, "the job's top-k result");
      } catch (err) {
        job.topResult = undefined;
        job.batchResult = undefined;
        job.error = (err as Error).message;
        this.#end(job, 'failed');
        return;
      }
    }
    this.#end(job, 'succeeded');
  }

  #end(job: Job, status: EndStatus): void {
    const { metrics, log } = this.#opts;
    Atomics.store(job.control, CANCEL, status === 'succeeded' ? 0 : 1);
    // A chunk stuck in code that never returns stops only when its thread is terminated.
    if (status !== 'succeeded') job.limit?.stop.abort();
    for (const started of this.#scheduler.remove(job)) this.#start(started);
    job.dataset = undefined;
    this.#norms.ended(job.datasetId, job.id, status === 'succeeded');
    job.norms = undefined;
    if (status !== 'succeeded') {
      job.result?.reservation.release();
      job.result = undefined;
    }
    const seconds = job.startedAt === null ? 0 : (performance.now() - job.startedMs) / 1000;
    // Counted before the status turns final, so whoever sees the job ended also sees it counted.
    metrics.jobs.inc({ op: job.op.name, status });
    if (job.startedAt !== null) metrics.jobDuration.observe({ op: job.op.name }, seconds);
    job.status = status;
    job.finishedAt = new Date().toISOString();
    log.info(
      {
        jobId: job.id,
        datasetId: job.datasetId,
        op: job.op.name,
        rows: job.rows.end - job.rows.start,
        durationMs: Math.round(seconds * 1e6) / 1e3,
        status,
        ...(job.error === undefined ? {} : { error: job.error }),
      },
      'job ended',
    );
    for (const wake of job.waiters.splice(0)) wake();
    for (const listener of this.#endListeners) listener(job);
    this.#retention.keep(job);
    this.#pump();
  }

  #cancelJobsOf(datasetId: string): void {
    for (const job of this.#jobs.values()) {
      if (job.datasetId === datasetId && !isEnded(job.status)) {
        job.error = `cancelled: dataset ${datasetId} was deleted`;
        this.#end(job, 'cancelled');
      }
    }
  }
}
