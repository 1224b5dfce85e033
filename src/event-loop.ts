import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * How long one stretch of synchronous work (parsing an upload, formatting a download) may hold the
 * event loop before other requests get their turn: /healthz must answer within 100 ms, so a slice
 * stays well under that even on a loaded machine that stretches it.
 */
const SLICE_MS = 10;

/**
 * Lets the event loop run between slices of work. Awaiting a promise is not enough: work chained
 * through promises and process.nextTick never reaches the I/O phase, and a socket whose reader keeps
 * up (another process on loopback) accepts every write at once, so a download's pieces can follow
 * one another without a single turn of the loop.
 */
export class Yielder {
  #since = performance.now();

  async maybeYield(): Promise<void> {
    if (performance.now() - this.#since < SLICE_MS) return;
    await nextTurn();
    this.#since = performance.now();
  }
}
