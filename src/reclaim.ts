import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * A dropped SharedArrayBuffer keeps its memory until every thread that saw it has collected its
 * handle, and an idle thread may not collect for a long time. Deleting a dataset or a result therefore
 * runs a full collection at once in the main thread and in every helper thread: the main thread
 * bumps a shared signal cell, and each thread that called `collectOnSignal` wakes and collects.
 * `--expose-gc` set at run time applies to contexts created afterwards, hence the new context.
 */
setFlagsFromString('--expose-gc');
export const collectGarbage = runInNewContext('gc') as () => void;

/** The signal cell to hand to helper threads, and the call that makes every thread collect. */
export class Reclaimer {
  readonly signal = new SharedArrayBuffer(4);
  readonly #cell = new Int32Array(this.signal);

  reclaim(): void {
    Atomics.add(this.#cell, 0, 1);
    Atomics.notify(this.#cell, 0);
    // After the current call stack, which may still hold the last reference, has unwound.
    setImmediate(collectGarbage);
  }
}

/**
 * In a helper thread: collect garbage whenever the main thread signals, for the thread's life,
 * after `drop` lets go of whatever the thread keeps between tasks.
 */
export async function collectOnSignal(signal: SharedArrayBuffer, drop: () => void = () => {}): Promise<void> {
  const cell = new Int32Array(signal);
  for (;;) {
    const seen = Atomics.load(cell, 0);
    const wait = Atomics.waitAsync(cell, 0, seen);
    if (wait.async) await wait.value;
    drop();
    collectGarbage();
  }
}

/** Freed bytes below which no collection is run: V8 finds small buffers on its own soon enough. */
const MIN_BYTES = 16 * 2 ** 20;
/** A burst of deletes gets one collection, this long after the last of them… */
const QUIET_MS = 150;
/** …or at the latest this long after the first, so a steady stream of deletes still collects. */
const MAX_WAIT_MS = 1000;

/**
 * Batches the full collections that return freed shared memory. A collection on every thread costs
 * tens of milliseconds, so whatever frees memory (dataset and job deletes, evicted results, cancelled
 * chunks, downloads that outlived a delete) adds up the bytes it freed, and one collection runs once
 * 16 MiB or more are waiting and the frees pause; smaller amounts are left to V8.
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
