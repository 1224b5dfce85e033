import { type Job, wantsTask } from './job.js';

/** A job that reads at most this many bytes takes the small jobs' lane. */
export const SMALL_JOB_BYTES = 2 ** 20;

/**
 * Which job's task goes to the pool next. Jobs run first come, first served: at most `maxRunning` of
 * them run at once and the rest wait, `queued`, in the order they came; tasks go out oldest running
 * job first (each runs its job's chunks until none is left, task.ts), so jobs finish in the order
 * they came instead of all together at the end. A shutdown's grace then finishes as many jobs as it
 * has time for.
 *
 * Small jobs (reading at most SMALL_JOB_BYTES) have a lane of their own: they skip the queue, go out
 * first and have tasks in flight of their own beyond the large jobs' (at most one per thread). While
 * one waits, the large jobs' tasks give their threads back after the chunk they are on (`pressed`),
 * so a small job waits at most for the chunks already on the threads, and a stream of small jobs
 * cannot take the large jobs' share.
 */
export class Scheduler {
  readonly #queued: Job[] = [];
  readonly #running: Job[] = [];
  readonly #small: Job[] = [];
  #smallInFlight = 0;

  constructor(
    private readonly maxRunning: number,
    /** Threads of the pool: the most tasks one job has use for, and the small lane's share. */
    private readonly threads: number,
  ) {}

  /** A new job; returns true when it may start at once. */
  add(job: Job): boolean {
    if (job.small) {
      this.#small.push(job);
      return true;
    }
    if (this.#running.length < this.maxRunning) {
      this.#running.push(job);
      return true;
    }
    this.#queued.push(job);
    return false;
  }

  /** Forgets an ended job; returns the queued jobs that may start now. */
  remove(job: Job): Job[] {
    for (const list of [this.#small, this.#running, this.#queued]) {
      const at = list.indexOf(job);
      if (at >= 0) list.splice(at, 1);
    }
    const started: Job[] = [];
    while (this.#running.length < this.maxRunning && this.#queued.length > 0) {
      const next = this.#queued.shift()!;
      this.#running.push(next);
      started.push(next);
    }
    return started;
  }

  /**
   * The job whose chunk should go out next, or undefined when none may. `largeRoom` says whether the
   * large jobs' share of the tasks in flight has room; the small lane's tasks come on top of it.
   */
  next(largeRoom: boolean): Job | undefined {
    const wants = (job: Job) => wantsTask(job, this.threads);
    if (this.#smallInFlight < this.threads) {
      const small = this.#small.find(wants);
      if (small !== undefined) return small;
    }
    return largeRoom ? this.#running.find(wants) : undefined;
  }

  /** Whether a small job has tasks out or waiting, so the large jobs' tasks should yield. */
  get pressed(): boolean {
    return this.#smallInFlight > 0 || this.#small.some((job) => wantsTask(job, this.threads));
  }

  sent(job: Job): void {
    if (job.small) this.#smallInFlight++;
  }

  returned(job: Job): void {
    if (job.small) this.#smallInFlight--;
  }

  get queuedCount(): number {
    return this.#queued.length;
  }
}
