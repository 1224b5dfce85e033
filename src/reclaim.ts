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
