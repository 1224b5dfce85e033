import { randomUUID } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import type { FastifyBaseLogger } from 'fastify';
import { DatasetNotFound, InvalidJob, JobNotFound } from '../errors.js';
import { type JobFilter, type JobPage, type JobRequest, requestedRows } from '../jobs/engine.js';
import type { JobRecord, JobResult } from '../jobs/job.js';
import { isEnded } from '../jobs/status.js';
import type { MemoryBudget, Reservation } from '../memory.js';
import { validateParams } from '../ops/params.js';
import { opNamed } from '../ops/registry.js';
import type { ClusterDataset, DatasetObjects } from './dataset-objects.js';
import type { Coordinators } from './job-coordinators.js';
import { ClusterJobRecord, encodeJob, isJobId, type StoredJob } from './job-entry.js';
import { assemble, merge } from './job-gather.js';
import { decodeCursor, pageOf } from './job-pages.js';
import { JobProgress } from './job-progress.js';
import { encodeTop, type JobResults } from './job-results.js';
import type { JobTable } from './job-table.js';
import { type GatherOptions, gather } from './scatter.js';
import { decodeTop, encodeTask } from './shard-work.js';

/** Kernels are uploaded to one node, so the shards' owners may not have the module. */
const NOT_ON_SHARDS = new Set(['kernel']);

/** Ended jobs the cluster keeps, with their results; past it the first to have ended are forgotten. */
export const KEPT_ENDED = 1000;

/** Tries of a compare-and-set write that others' writes keep beating (each such write ends the job). */
const WRITE_ATTEMPTS = 5;

/** Room a record keeps for what its later writes add (times, an error message) within a NATS message. */
const RECORD_HEADROOM = 4096;

/** What the jobs share with every node: the buckets, and how this node reads the membership. */
export interface SharedJobs {
  readonly nodeId: string;
  readonly table: JobTable;
  readonly results: JobResults;
  readonly coordinators: Coordinators;
  /** How often a waiter looks again at a job whose coordinator might have gone. */
  readonly recheckMs: number;
  /** Ended jobs kept: KEPT_ENDED unless a smaller cluster of jobs is wanted, as in a test of forgetting. */
  readonly keptEnded?: number;
  readonly log: FastifyBaseLogger;
}

/**
 * Jobs in a cluster. This node coordinates the jobs submitted to it: one request per shard over NATS
 * (scatter.ts), each owner computing its rows on its own engine (shard-work.ts); the per-row values
 * are put together in row order, or the shards' top-k merged. Every job's record is an entry of the
 * `rowpool-jobs` bucket and its result an object of `rowpool-results`, so any node answers for any
 * job: reads go to the bucket, and a cancel or delete is a compare-and-set write that the
 * coordinator's own later write then loses to. Only the coordinator writes "running" and "succeeded";
 * it stores the result before it writes "succeeded", so no reader sees a success without its result.
 */
export class ClusterJobs {
  readonly #forgetting = new Set<string>();

  constructor(
    readonly nc: NatsConnection,
    readonly datasets: DatasetObjects,
    readonly budget: MemoryBudget,
    readonly gatherOptions: GatherOptions,
    readonly shared: SharedJobs,
  ) {}

  async submit(datasetId: string, request: JobRequest): Promise<JobRecord> {
    const dataset = await this.datasets.get(datasetId);
    if (dataset === undefined) throw new DatasetNotFound(datasetId);
    const op = opNamed(request.op);
    if (NOT_ON_SHARDS.has(op.name) || request.params?.vectors !== undefined) {
      throw new InvalidJob(
        `op "${op.name}"${request.params?.vectors === undefined ? '' : ' with params.vectors'} is not run on a sharded dataset in a cluster; the built-in per-row ops, expressions and top-k are`,
      );
    }
    const params = validateParams(op, request.params, dataset) as Record<string, unknown>;
    if (op.scope === 'dataset' || op.readsWholeDataset?.(op.prepare(params, dataset)) === true) {
      throw new InvalidJob(
        op.name === 'expr'
          ? 'params.expr reads data (the whole dataset), which a cluster holds in shards on different nodes; expressions of the row (x, i, n, rows, v and args) run on a cluster'
          : `op "${op.name}" reads across rows, which a cluster holds in shards on different nodes; the per-row ops run on a cluster`,
      );
    }
    const { start, end } = requestedRows(request, dataset.rows);
    const top =
      request.top === undefined
        ? undefined
        : { k: request.top.k, largest: request.top.largest ?? op.largestFirst };
    // Held while this node gathers the shards' values; the result then lives in the object store.
    const reservation = this.budget.reserve((end - start) * 8, "the job's result");
    const stored: StoredJob = {
      version: 1,
      id: randomUUID(),
      coordinator: this.shared.nodeId,
      datasetId,
      op: op.name,
      params,
      rows: { start, end },
      top: top ?? null,
      status: 'queued',
      createdAt: new Date().toISOString(),
      startedAt: null,
      finishedAt: null,
      error: null,
      rowsDone: 0,
      resultBytes: null,
    };
    let revision: number;
    try {
      revision = await this.#bucket.create(stored.id, this.#encodeNew(stored));
    } catch (err) {
      reservation.release();
      throw err;
    }
    const job = new ClusterJobRecord(stored, revision);
    void this.#run(job, dataset, reservation);
    return job;
  }

  async get(id: string): Promise<JobRecord> {
    const job = await this.#read(id);
    await this.#settle(job);
    return job;
  }

  async list(filter: JobFilter, page: { limit: number; cursor?: string }): Promise<JobPage> {
    const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
    await this.shared.table.sync();
    const jobs = this.shared.table.records();
    await Promise.all(jobs.map((job) => this.#settle(job)));
    return pageOf(jobs, filter, page.limit, after);
  }

  async cancel(id: string, reason = 'cancelled by request'): Promise<JobRecord> {
    const job = await this.#read(id);
    await this.#end(job, { status: 'cancelled', error: reason });
    return job;
  }

  /** Cancels the job if it has not ended, then deletes its entry and its result. */
  async remove(id: string): Promise<void> {
    const job = await this.cancel(id);
    await this.#forget(job.id);
  }

  /**
   * Resolves when the job ends or after `seconds`, refreshing `record` in place as it goes. A change
   * to the job's entry wakes it; it also looks again every `recheckMs`, so a job whose coordinator
   * left while it waited is found and marked failed.
   */
  async waitFor(record: JobRecord, seconds: number): Promise<void> {
    const job = this.#own(record);
    const deadline = Date.now() + seconds * 1000;
    while (!isEnded(job.status)) {
      const left = deadline - Date.now();
      if (left <= 0) return;
      const next = this.shared.table.nextChange(job.id, Math.min(left, this.shared.recheckMs));
      try {
        if (await this.#reload(job)) await this.#settle(job);
        if (isEnded(job.status)) return;
        await next.changed;
      } finally {
        next.cancel();
      }
    }
  }

  /** The result, read from the object store for this request and counted until the hold is released. */
  async holdResult(record: JobRecord): Promise<{ result: JobResult; hold: Reservation }> {
    return this.shared.results.hold(this.#own(record));
  }

  get #bucket() {
    return this.shared.table.bucket;
  }

  async #run(job: ClusterJobRecord, dataset: ClusterDataset, reservation: Reservation): Promise<void> {
    const { start, end } = job.rows;
    const parts = dataset.shards
      .filter((s) => s.start < end && s.end > start)
      .map((s) => ({
        shard: s,
        rows: { start: Math.max(start, s.start) - s.start, end: Math.min(end, s.end) - s.start },
      }));
    // Shards answer in any order: the entry counts their rows as they come.
    const progress = new JobProgress(
      (rowsDone) => this.#write(job, { rowsDone }),
      (err) => this.shared.log.warn({ err, jobId: job.id }, "a cluster job's progress could not be written"),
    );
    try {
      if (!(await this.#write(job, { status: 'running', startedAt: new Date().toISOString() }))) return;
      const replies = await gather(
        this.nc,
        dataset.id,
        parts.map(({ shard, rows }) => ({
          index: shard.index,
          payload: encodeTask({ op: job.op.name, params: job.params, rows, top: job.top }),
        })),
        this.gatherOptions,
        (position) => progress.advance(parts[position].rows.end - parts[position].rows.start),
      );
      await progress.stop();
      const bytes =
        job.top === undefined
          ? new Uint8Array(
              assemble(
                replies,
                parts.map((p) => p.rows),
              ),
            )
          : encodeTop(merge(replies.map(decodeTop), parts, job.top));
      await this.shared.results.put(job.id, bytes);
      const succeeded = await this.#end(job, {
        status: 'succeeded',
        rowsDone: end - start,
        resultBytes: bytes.byteLength,
      });
      // Cancelled or deleted while its shards ran: the result is not the job's any more.
      if (!succeeded) await this.shared.results.delete(job.id);
    } catch (err) {
      await progress.stop();
      await this.#end(job, { status: 'failed', error: (err as Error).message }).catch((failure) =>
        this.shared.log.error({ err: failure, jobId: job.id }, 'a failed cluster job could not be marked so'),
      );
    } finally {
      reservation.release();
    }
  }

  /**
   * A job not ended whose coordinator is no longer a member will not end by itself: whoever finds
   * it marks it failed.
   */
  async #settle(job: ClusterJobRecord): Promise<void> {
    if (isEnded(job.status) || (await this.shared.coordinators.isLive(job.coordinator))) return;
    await this.#end(job, {
      status: 'failed',
      error: `failed: its coordinating node ${job.coordinator} left the cluster before the job ended`,
    });
  }

  /** Ends the job unless it has ended already, then forgets the oldest ended jobs past the limit. */
  async #end(
    job: ClusterJobRecord,
    changes: Pick<StoredJob, 'status'> & Partial<Pick<StoredJob, 'error' | 'rowsDone' | 'resultBytes'>>,
  ): Promise<boolean> {
    const written = await this.#write(job, { ...changes, finishedAt: new Date().toISOString() });
    if (written) {
      this.#trim().catch((err) => this.shared.log.warn({ err }, 'forgetting old cluster jobs failed'));
    }
    return written;
  }

  /**
   * Writes `changes` over the entry `job` was read from, unless it has ended or been deleted: false
   * then, and `job` shows the entry as it is. A write beaten by another is tried again on the entry
   * as that left it.
   */
  async #write(job: ClusterJobRecord, changes: Partial<StoredJob>): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      if (isEnded(job.status)) return false;
      const next: StoredJob = { ...job.stored, ...changes };
      try {
        job.refresh(next, await this.#bucket.update(job.id, encodeJob(next), job.revision));
        return true;
      } catch (err) {
        const before = job.revision;
        if (!(await this.#reload(job))) return false;
        // The entry did not change, so the write failed for another reason.
        if (job.revision === before || attempt === WRITE_ATTEMPTS) throw err;
      }
    }
  }

  async #trim(): Promise<void> {
    const old = this.shared.table
      .endedBeyond(this.shared.keptEnded ?? KEPT_ENDED)
      .filter((id) => !this.#forgetting.has(id));
    await Promise.all(old.map((id) => this.#forget(id)));
  }

  /** The entry goes first, so no reader finds a job whose result is being removed. */
  async #forget(id: string): Promise<void> {
    this.#forgetting.add(id);
    try {
      await this.#bucket.delete(id);
      await this.shared.results.delete(id);
    } finally {
      this.#forgetting.delete(id);
    }
  }

  async #read(id: string): Promise<ClusterJobRecord> {
    const entry = isJobId(id) ? await this.#bucket.get(id) : null;
    if (entry === null || entry.operation !== 'PUT') throw new JobNotFound(id);
    return new ClusterJobRecord(entry.json<StoredJob>(), entry.revision);
  }

  /** Reads the job's entry again; false when it has been deleted (the job then shows as cancelled). */
  async #reload(job: ClusterJobRecord): Promise<boolean> {
    const entry = await this.#bucket.get(job.id);
    if (entry === null || entry.operation !== 'PUT') {
      job.forgotten();
      return false;
    }
    if (entry.revision !== job.revision) job.refresh(entry.json<StoredJob>(), entry.revision);
    return true;
  }

  /** A new record, refused when it could not travel in one NATS message as its shards' tasks must. */
  #encodeNew(stored: StoredJob): Uint8Array {
    const bytes = encodeJob(stored);
    const max = this.nc.info?.max_payload;
    if (max !== undefined && bytes.byteLength + RECORD_HEADROOM > max) {
      throw new InvalidJob(
        `the job takes ${bytes.byteLength} bytes as JSON (mostly its params), more than the ${max - RECORD_HEADROOM} a cluster shares a job in (the NATS server's max_payload less ${RECORD_HEADROOM})`,
      );
    }
    return bytes;
  }

  #own(record: JobRecord): ClusterJobRecord {
    if (!(record instanceof ClusterJobRecord))
      throw new Error(`job ${record.id} was not read from the cluster`);
    return record;
  }
}
