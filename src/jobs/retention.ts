import { heldBytes, type Job, releaseAll } from './job.js';

/** Finished jobs kept at most; the oldest go first, like results evicted for memory. */
export const MAX_FINISHED_JOBS = 10_000;

/**
 * The finished jobs, in the order they finished, and what they hold. Finished jobs are kept until
 * deleted, evicted for memory (oldest first) or pushed out by newer ones past MAX_FINISHED_JOBS;
 * the bytes they hold are counted as they come and go, never by a scan.
 */
export class JobRetention {
  readonly #finished = new Map<string, { job: Job; bytes: number }>();
  #bytes = 0;

  constructor(
    private readonly forget: (job: Job, reason: 'evicted' | 'trimmed') => void,
    private readonly maxFinished = MAX_FINISHED_JOBS,
  ) {}

  /** Bytes held by finished jobs: what evicting them all would free. */
  get evictableBytes(): number {
    return this.#bytes;
  }

  /** Takes a job that has just ended; drops the oldest kept job past the limit. */
  keep(job: Job): void {
    const bytes = heldBytes(job);
    this.#finished.set(job.id, { job, bytes });
    this.#bytes += bytes;
    while (this.#finished.size > this.maxFinished) {
      const oldest = this.#finished.values().next().value!.job;
      this.drop(oldest);
      this.forget(oldest, 'trimmed');
    }
  }

  /** Forgets a finished job and frees what it held; a job not kept here is left alone. */
  drop(job: Job): void {
    const entry = this.#finished.get(job.id);
    if (entry === undefined) return;
    this.#finished.delete(job.id);
    this.#bytes -= entry.bytes;
    releaseAll(job);
  }

  /** Frees finished jobs, oldest first, until `bytes` more are free or none hold anything. */
  evict(bytes: number): number {
    let freed = 0;
    for (const { job, bytes: held } of [...this.#finished.values()]) {
      if (freed >= bytes) break;
      if (held === 0) continue;
      freed += held;
      this.drop(job);
      this.forget(job, 'evicted');
    }
    return freed;
  }
}
