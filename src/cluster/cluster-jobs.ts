import { randomUUID } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { DatasetNotFound, InvalidJob, JobNotFound } from '../errors.js';
import type { JobFilter, JobPage, JobRequest } from '../jobs/engine.js';
import type { JobRecord, JobResult } from '../jobs/job.js';
import { isEnded, type JobStatus } from '../jobs/status.js';
import { type TopK, topK } from '../jobs/topk.js';
import type { MemoryBudget, Reservation } from '../memory.js';
import { validateParams } from '../ops/params.js';
import { opNamed } from '../ops/registry.js';
import type { ClusterDataset, DatasetObjects } from './dataset-objects.js';
import { type GatherOptions, gather } from './scatter.js';
import { decodeTop, encodeTask } from './shard-work.js';

/** Ended jobs kept for their results; the oldest go first (results are held in memory until then). */
const KEPT_ENDED = 1000;

/** Kernels are uploaded to one node, so the shards' owners may not have the module. */
const NOT_ON_SHARDS = new Set(['kernel']);

interface ClusterJob extends JobRecord {
  status: JobStatus;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | undefined;
  buffer: SharedArrayBuffer | undefined;
  top: JobRecord['top'];
  topResult: TopK | undefined;
  reservation: Reservation | undefined;
  readonly waiters: Array<() => void>;
}

/**
 * Jobs this node coordinates: one request per shard over NATS (scatter.ts), each owner computing its
 * rows on its own engine (shard-work.ts); the per-row values are put together in row order, or the
 * shards' top-k merged. The records and results stay on this node.
 */
export class ClusterJobs {
  readonly #jobs = new Map<string, ClusterJob>();
  #seq = 0;

  constructor(
    readonly nc: NatsConnection,
    readonly datasets: DatasetObjects,
    readonly budget: MemoryBudget,
    readonly gatherOptions: GatherOptions,
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
    const start = request.rows?.start ?? 0;
    const end = request.rows?.end ?? dataset.rows;
    if (end > dataset.rows || start > dataset.rows) {
      throw new InvalidJob(`rows ${start}..${end} fall outside the dataset, which has ${dataset.rows} rows`);
    }
    if (start > end) {
      throw new InvalidJob(`rows.start (${start}) is after rows.end (${end}); the range is end-exclusive`);
    }
    const top =
      request.top === undefined
        ? undefined
        : { k: request.top.k, largest: request.top.largest ?? op.largestFirst };
    const reservation = this.budget.reserve((end - start) * 8, "the job's result");
    const job: ClusterJob = {
      id: randomUUID(),
      seq: ++this.#seq,
      datasetId,
      op,
      params,
      rows: { start, end },
      top,
      status: 'queued',
      createdAt: new Date().toISOString(),
      startedAt: null,
      finishedAt: null,
      error: undefined,
      buffer: undefined,
      topResult: undefined,
      reservation,
      waiters: [],
      rowsDone() {
        return this.status === 'succeeded' ? this.rows.end - this.rows.start : 0;
      },
    };
    this.#jobs.set(job.id, job);
    void this.#run(job, dataset);
    return job;
  }

  get(id: string): JobRecord {
    return this.#job(id);
  }

  list(filter: JobFilter, page: { limit: number; cursor?: string }): JobPage {
    let before = Number.POSITIVE_INFINITY;
    if (page.cursor !== undefined) {
      const match = /^job:(\d+)$/.exec(Buffer.from(page.cursor, 'base64url').toString());
      if (match === null) {
        throw new InvalidJob(
          `cursor "${page.cursor}" is not one this server gave; pass nextCursor back as it came`,
        );
      }
      before = Number(match[1]);
    }
    const jobs = [...this.#jobs.values()]
      .reverse()
      .filter(
        (j) =>
          j.seq < before &&
          (filter.status === undefined || j.status === filter.status) &&
          (filter.datasetId === undefined || j.datasetId === filter.datasetId) &&
          (filter.op === undefined || j.op.name === filter.op),
      )
      .slice(0, page.limit + 1);
    const more = jobs.length > page.limit;
    if (more) jobs.pop();
    const last = jobs.at(-1);
    return {
      jobs,
      nextCursor: more && last !== undefined ? Buffer.from(`job:${last.seq}`).toString('base64url') : null,
    };
  }

  cancel(id: string, reason = 'cancelled by request'): JobRecord {
    const job = this.#job(id);
    if (!isEnded(job.status)) this.#end(job, 'cancelled', reason);
    return job;
  }

  remove(id: string): void {
    const job = this.#job(id);
    if (!isEnded(job.status)) this.#end(job, 'cancelled', 'cancelled by request');
    this.#forget(job);
  }

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

  result(record: JobRecord): JobResult {
    const job = this.#job(record.id);
    return { dtype: job.op.result, buffer: job.buffer, top: job.topResult, batch: undefined };
  }

  /**
   * The result and a hold on its bytes while it is sent. A coordinator's results live outside the
   * memory limit (see the README's "Running several nodes"), so the hold holds nothing.
   */
  holdResult(record: JobRecord): { result: JobResult; hold: Reservation } {
    return { result: this.result(record), hold: { bytes: 0, release() {} } };
  }

  async #run(job: ClusterJob, dataset: ClusterDataset): Promise<void> {
    job.status = 'running';
    job.startedAt = new Date().toISOString();
    const { start, end } = job.rows;
    const parts = dataset.shards
      .filter((s) => s.start < end && s.end > start)
      .map((s) => ({
        shard: s,
        rows: { start: Math.max(start, s.start) - s.start, end: Math.min(end, s.end) - s.start },
      }));
    try {
      const replies = await gather(
        this.nc,
        dataset.id,
        parts.map(({ shard, rows }) => ({
          index: shard.index,
          payload: encodeTask({ op: job.op.name, params: job.params, rows, top: job.top }),
        })),
        this.gatherOptions,
      );
      if (isEnded(job.status)) return;
      if (job.top === undefined)
        job.buffer = assemble(
          replies,
          parts.map((p) => p.rows),
        );
      else job.topResult = merge(replies.map(decodeTop), parts, job.top);
      this.#end(job, 'succeeded');
    } catch (err) {
      if (!isEnded(job.status)) this.#end(job, 'failed', (err as Error).message);
    }
  }

  #end(job: ClusterJob, status: 'succeeded' | 'failed' | 'cancelled', error?: string): void {
    job.error = error;
    if (status !== 'succeeded' || job.top !== undefined) {
      // A top-k keeps 16 bytes a ranked row; a per-row result keeps the reservation made at submit.
      job.reservation?.release();
      job.reservation = undefined;
      job.buffer = status === 'succeeded' ? job.buffer : undefined;
    }
    job.status = status;
    job.finishedAt = new Date().toISOString();
    for (const wake of job.waiters.splice(0)) wake();
    const ended = [...this.#jobs.values()].filter((j) => isEnded(j.status));
    for (const old of ended.slice(0, Math.max(0, ended.length - KEPT_ENDED))) this.#forget(old);
  }

  #forget(job: ClusterJob): void {
    job.reservation?.release();
    job.reservation = undefined;
    job.buffer = undefined;
    job.topResult = undefined;
    this.#jobs.delete(job.id);
  }

  #job(id: string): ClusterJob {
    const job = this.#jobs.get(id);
    if (job === undefined) throw new JobNotFound(id);
    return job;
  }
}

/** The shards' per-row values, 8 bytes a row, one after the other in row order. */
function assemble(
  replies: readonly Uint8Array[],
  rows: readonly { start: number; end: number }[],
): SharedArrayBuffer {
  const total = rows.reduce((n, r) => n + (r.end - r.start) * 8, 0);
  const buffer = new SharedArrayBuffer(total);
  const out = new Uint8Array(buffer);
  let at = 0;
  replies.forEach((reply, i) => {
    const want = (rows[i].end - rows[i].start) * 8;
    if (reply.byteLength !== want) {
      throw new Error(`shard part ${i} answered ${reply.byteLength} bytes for ${want / 8} rows`);
    }
    out.set(reply, at);
    at += want;
  });
  return buffer;
}

/**
 * The k best of the shards' own top-k: the best k of a dataset are among the best k of its shards.
 * The candidates go in row order, so topK's rule (ties to the lower row, NaN last) holds across shards.
 */
function merge(
  tops: readonly TopK[],
  parts: readonly { shard: { start: number } }[],
  top: { k: number; largest: boolean },
): TopK {
  const candidates = tops
    .flatMap((t, i) => t.indices.map((row, j) => ({ row: row + parts[i].shard.start, value: t.values[j] })))
    .sort((a, b) => a.row - b.row);
  const best = topK(
    candidates.map((c) => c.value),
    0,
    Math.min(top.k, candidates.length),
    top.largest,
  );
  return { indices: best.indices.map((i) => candidates[i].row), values: best.values };
}
