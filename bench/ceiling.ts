import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { ShareOutcome, ShareTask } from './ceiling-worker.js';

/**
 * The simplest parallel read of a dataset's bytes, for comparison with the service's jobs: each
 * thread reads an equal share in one flat loop, one task per thread, with no chunking or progress.
 * The loop is JS (float64 values), or bench/ceiling.wat's SIMD read when given the dataset's
 * WebAssembly memory. The SIMD read takes bytes as bytes, so the ceiling of a dtype is this read
 * over its own bytes: pass the dtype's size as `itemsize`.
 */
export class Ceiling {
  readonly #pool: Piscina<ShareTask, ShareOutcome>;

  constructor(readonly threads: number) {
    this.#pool = new Piscina<ShareTask, ShareOutcome>({
      filename: fileURLToPath(new URL('./ceiling-worker.ts', import.meta.url)),
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: Number.POSITIVE_INFINITY,
      execArgv: ['--import', 'tsx'],
    });
  }

  /**
   * Wall seconds for `threads` workers to read all of `data` together, and whether every share had a
   * thread of its own (a pool still starting may hand two to one thread, which makes the figure serial).
   */
  async run(
    data: SharedArrayBuffer,
    memory: WebAssembly.Memory | null,
    elements: number,
    threads: number,
    itemsize = 8,
  ): Promise<{ seconds: number; parallel: boolean }> {
    const share = Math.ceil(elements / threads);
    const started = performance.now();
    const outcomes = await Promise.all(
      Array.from({ length: threads }, (_, t) =>
        this.#pool.run({
          data,
          memory,
          start: Math.min(elements, t * share) * itemsize,
          end: Math.min(elements, (t + 1) * share) * itemsize,
        }),
      ),
    );
    const seconds = (performance.now() - started) / 1000;
    return { seconds, parallel: new Set(outcomes.map((o) => o.threadId)).size === threads };
  }

  close(): Promise<void> {
    return this.#pool.destroy();
  }
}
