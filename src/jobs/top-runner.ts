import type { BlockRun } from './block-runner.js';
import type { QueryHeaps } from './query-heaps.js';

/**
 * A one-query top job's chunk ranks its own rows: each block's values go to a scratch of the
 * worker's and from there into the chunk's heap, so the chunk sends back k rows instead of a value
 * per row and the main thread merges a few candidates instead of ranking every row.
 *
 * The scratch is grown, never shrunk, and reused from task to task.
 */
let scratch = new ArrayBuffer(0);

/**
 * Runs blocks of at most `blockRows` rows with the runner `make` builds over the scratch (writing a
 * block's values from slot 0) and offers each value to query 0 of `heaps`.
 */
export function topRunner(
  blockRows: number,
  heaps: QueryHeaps,
  make: (scratch: ArrayBuffer) => BlockRun,
): BlockRun {
  if (scratch.byteLength < blockRows * 8) scratch = new ArrayBuffer(blockRows * 8);
  const run = make(scratch);
  const values = new Float64Array(scratch);
  const { bars, largest } = heaps;
  return (r0, r1) => {
    run(r0, r1, 0);
    // Most values cannot enter the heap: one comparison with its bar rules them out.
    if (largest) {
      for (let i = 0, r = r0; r < r1; i++, r++) if (!(values[i] <= bars[0])) heaps.offer(0, values[i], r);
    } else {
      for (let i = 0, r = r0; r < r1; i++, r++) if (!(values[i] >= bars[0])) heaps.offer(0, values[i], r);
    }
  };
}
