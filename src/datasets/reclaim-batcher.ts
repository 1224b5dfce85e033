/** Freed bytes below which no collection is run: V8 finds small buffers on its own soon enough. */
const MIN_BYTES = 16 * 2 ** 20;
/** A burst of deletes gets one collection, this long after the last of them… */
const QUIET_MS = 150;
/** …or at the latest this long after the first, so a steady stream of deletes still collects. */
const MAX_WAIT_MS = 1000;

/**
 * Batches the full collections that return freed shared memory (see reclaim.ts). A collection on
 * every thread costs tens of milliseconds, so deletes add up the bytes they free and one collection
 * runs once 16 MiB or more are waiting and the deletes pause; smaller amounts are left to V8.
 */
export class ReclaimBatcher {
  readonly #reclaim: () => void;
  #pending = 0;
  #timer: NodeJS.Timeout | undefined;
  #firstAt = 0;

  constructor(reclaim: () => void) {
    this.#reclaim = reclaim;
  }

  freed(bytes: number): void {
    this.#pending += bytes;
    if (this.#pending < MIN_BYTES) return;
    const now = Date.now();
    if (this.#timer === undefined) this.#firstAt = now;
    else clearTimeout(this.#timer);
    const wait = Math.max(0, Math.min(QUIET_MS, this.#firstAt + MAX_WAIT_MS - now));
    this.#timer = setTimeout(() => this.#run(), wait);
    this.#timer.unref();
  }

  #run(): void {
    this.#timer = undefined;
    this.#pending = 0;
    this.#reclaim();
  }
}
