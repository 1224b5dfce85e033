import { workerData } from 'node:worker_threads';
import { collectOnSignal } from '../reclaim.js';
import { runRows } from './kernels/index.js';
import { CANCEL, type ChunkOutcome, type ChunkTask, ROWS_DONE, type WorkerData } from './task.js';

/**
 * The pool's worker: a thin dispatcher that makes views over the shared buffers and calls the kernels
 * a block of rows at a time, checking for cancellation and publishing progress between blocks.
 * It keeps no reference to any buffer after a task, so deleting a dataset can free its memory.
 */
const BLOCK_ELEMENTS = 1 << 18;

void collectOnSignal((workerData as WorkerData).reclaimSignal);

export default function runChunk(task: ChunkTask): ChunkOutcome {
  const started = performance.now();
  const control = new Int32Array(task.control);
  const blockRows =
    task.op === 'strided_mean' ? 1 : Math.max(1, Math.floor(BLOCK_ELEMENTS / Math.max(1, task.rowLength)));
  const spec = {
    op: task.op,
    dtype: task.dtype,
    data: task.data,
    dataByteOffset: 0,
    rows: task.rows,
    rowLength: task.rowLength,
    params: {
      ddof: task.ddof,
      ord: task.ord,
      q: task.q,
      vector: task.vector === null ? undefined : new Float64Array(task.vector),
    },
    r0: task.r0,
    r1: task.r0,
    result: task.result,
    resultIndex: task.resultIndex,
  };
  let done = 0;
  for (let r = task.r0; r < task.r1; r += blockRows) {
    if (Atomics.load(control, CANCEL) !== 0) {
      return { rowsDone: done, cancelled: true, runSeconds: (performance.now() - started) / 1000 };
    }
    const end = Math.min(task.r1, r + blockRows);
    spec.r0 = r;
    spec.r1 = end;
    spec.resultIndex = task.resultIndex + (r - task.r0);
    runRows(spec);
    Atomics.add(control, ROWS_DONE, end - r);
    done += end - r;
  }
  return { rowsDone: done, cancelled: false, runSeconds: (performance.now() - started) / 1000 };
}
