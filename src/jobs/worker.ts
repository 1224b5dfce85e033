import { workerData } from 'node:worker_threads';
import { opNamed } from '../ops/registry.js';
import { collectOnSignal } from '../reclaim.js';
import { dropAllKernelInstances } from '../user-kernels/instances.js';
import { type BatchParams, isBatch } from './batch-params.js';
import { batchRunner } from './batch-runner.js';
import { blockRunner, type SimdPlace, simdKernelOf, type TaskDataset } from './block-runner.js';
import { type SimdKernels, simdKernelsFor } from './kernels/simd.js';
import { QueryHeaps } from './query-heaps.js';
import {
  CANCEL,
  type ChunkOutcome,
  type ChunkTask,
  NEXT_CHUNK,
  ROWS_DONE,
  type WorkerData,
  YIELD,
} from './task.js';
import { topRunner } from './top-runner.js';
import { claimSlot, releaseSlot } from './vector-slots.js';

/**
 * The pool's worker: a thin dispatcher that claims its job's chunks one at a time, makes views over
 * the shared buffers and calls the kernels a block of rows at a time, checking for cancellation and
 * publishing progress between blocks.
 */
const BLOCK_ELEMENTS = 1 << 18;

/**
 * The SIMD instances of the last dataset, one per segment, kept between its tasks: with a new
 * instance per task the kernels' calls into WebAssembly would see a new target each time, and V8
 * would stop inlining them (measured: 15-25% slower on 1000-value rows in cache). They hold the
 * dataset's memories alive, so they are dropped whenever the main thread asks for a collection,
 * which it does on every delete.
 */
let cached: { readonly datasetId: string; readonly kernels: Map<number, SimdKernels> } | undefined;

void collectOnSignal((workerData as WorkerData).reclaimSignal, () => {
  cached = undefined;
  // An instance holds its whole memory (up to ROWPOOL_KERNEL_MEMORY), and its kernel may be deleted.
  dropAllKernelInstances();
});

function kernelsFor(dataset: TaskDataset, segment: number, memory: WebAssembly.Memory): SimdKernels {
  const datasetId = dataset.id;
  if (cached?.datasetId !== datasetId) cached = { datasetId, kernels: new Map() };
  let kernels = cached.kernels.get(segment);
  if (kernels === undefined) {
    kernels = simdKernelsFor(memory, dataset.dtype);
    cached.kernels.set(segment, kernels);
  }
  return kernels;
}

export default function runTask(task: ChunkTask): ChunkOutcome {
  return runClaimedChunks(task);
}

/**
 * Claims the job's chunks until none is left, the job is cancelled, or (after one chunk at least, so
 * every task makes progress) small jobs wait for the thread. `beforeChunk` runs before each chunk
 * claimed: a test's gate.
 */
export function runClaimedChunks(task: ChunkTask, beforeChunk?: (task: ChunkTask) => void): ChunkOutcome {
  const started = performance.now();
  const control = new Int32Array(task.control);
  const pressure = new Int32Array(task.pressure);
  const plan = new Float64Array(task.plan);
  const { chunks } = task;
  let rowsDone = 0;
  let ran = 0;
  let cancelled = false;
  while (ran === 0 || Atomics.load(pressure, YIELD) === 0) {
    const c = Atomics.add(control, NEXT_CHUNK, 1);
    if (c >= chunks) break;
    beforeChunk?.(task);
    rowsDone += runChunk(task, control, small(plan[c]), small(plan[c + 1]), small(plan[chunks + 1 + c]));
    ran++;
    if (Atomics.load(control, CANCEL) !== 0) {
      cancelled = true;
      break;
    }
  }
  return { rowsDone, cancelled, chunks: ran, runSeconds: (performance.now() - started) / 1000 };
}

/**
 * A plan entry as a small integer where it fits one: read from a Float64Array it would stay a double,
 * and a double row offset makes every index in the generated expression kernels a double too
 * (measured: 30-60% slower JS kernels).
 */
function small(value: number): number {
  return value <= 0x7fffffff ? value | 0 : value;
}

/** Runs rows [r0, r1), their values from `resultIndex` on, until done or cancelled; returns the rows done. */
function runChunk(task: ChunkTask, control: Int32Array, r0: number, r1: number, resultIndex: number): number {
  const op = opNamed(task.op);
  const { dataset, params } = task;
  const scorer = op.scope === 'rows' && isBatch(params) && task.top !== null ? op.batch : undefined;
  const batch = scorer !== undefined;
  // A batch row costs one row's work per query: it checks for cancellation as often in time.
  const blockRows =
    op.scope === 'dataset'
      ? 1
      : Math.max(
          1,
          Math.floor(
            BLOCK_ELEMENTS / Math.max(1, dataset.rowLength) / (batch ? (params as BatchParams).queries : 1),
          ),
        );
  // The engine's chunks never cross a segment boundary, so the task's rows share one memory.
  const segmentAt = Math.min(dataset.segments.length - 1, Math.floor(r0 / dataset.segmentRows));
  const segment = dataset.segments[segmentAt];
  const memory = segment.memory;
  const useSimd = !batch && memory !== null && simdKernelOf(op, params, dataset, segment) !== undefined;
  const heaps =
    task.top === null
      ? undefined
      : new QueryHeaps(
          batch ? (params as BatchParams).queries : 1,
          Math.min(task.top.k, r1 - r0),
          task.top.largest,
        );
  let vectorAt = -1;
  let done = 0;
  let cancelled = false;
  try {
    let simd: SimdPlace | null = null;
    if (useSimd) {
      const vector = (params as { vector?: Float64Array }).vector;
      if (op.vector === 'row' && task.vectorSlots !== null && vector !== undefined) {
        const slots = task.vectorSlots.slots[segmentAt];
        if (slots !== null) vectorAt = claimSlot(memory, slots, task.vectorSlots.tag, vector);
      }
      simd = { kernels: kernelsFor(dataset, segmentAt, memory), firstRow: segment.firstRow, vectorAt };
    }
    const run =
      scorer !== undefined
        ? batchRunner(scorer, params as BatchParams, dataset, heaps!)
        : heaps === undefined
          ? blockRunner(op, params, dataset, task.result, simd)
          : topRunner(blockRows, heaps, (scratch) => blockRunner(op, params, dataset, scratch, simd));
    for (let r = r0; r < r1; r += blockRows) {
      if (Atomics.load(control, CANCEL) !== 0) {
        cancelled = true;
        break;
      }
      const end = Math.min(r1, r + blockRows);
      run(r, end, resultIndex + (r - r0));
      Atomics.add(control, ROWS_DONE, end - r);
      done += end - r;
    }
    if (heaps !== undefined && !cancelled) heaps.write(new Float64Array(task.result), resultIndex);
  } finally {
    if (vectorAt >= 0) releaseSlot(memory!, vectorAt);
  }
  return done;
}
