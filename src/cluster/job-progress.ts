/** The least time between two progress writes of a job's entry: the events route reads four a second. */
export const PROGRESS_WRITE_MS = 250;

/**
 * A running job's rows done, written to its entry as shards answer: at most one write in flight and
 * one every PROGRESS_WRITE_MS, the latest count each time, so a job of many shards costs a few writes
 * a second rather than one a shard. A write that fails is reported and the next one tries again.
 */
export class JobProgress {
  #done = 0;
  #written = 0;
  #lastWrite = 0;
  #writing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(
    readonly write: (rowsDone: number) => Promise<unknown>,
    readonly onError: (err: unknown) => void,
  ) {}

  advance(rows: number): void {
    this.#done += rows;
    this.#schedule();
  }

  /** No write after this; resolves once the one in flight, if any, has ended. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#writing;
  }

  #schedule(): void {
    if (this.#stopped || this.#writing !== undefined || this.#timer !== undefined) return;
    if (this.#done === this.#written) return;
    const wait = this.#lastWrite + PROGRESS_WRITE_MS - Date.now();
    if (wait > 0) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#schedule();
      }, wait);
      return;
    }
    const rowsDone = this.#done;
    this.#lastWrite = Date.now();
    this.#writing = this.write(rowsDone)
      .then(
        () => {
          this.#written = rowsDone;
        },
        (err: unknown) => this.onError(err),
      )
      .finally(() => {
        this.#writing = undefined;
        this.#schedule();
      });
  }
}
