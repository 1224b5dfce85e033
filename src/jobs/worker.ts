import { workerData } from 'node:worker_threads';
import { collectOnSignal } from '../reclaim.js';
import { runRows } from './kernels/index.js';
import { type SimdKernels, simdKernels } from './kernels/simd.js';
import { CANCEL, type ChunkOutcome, type ChunkTask, ROWS_DONE, type WorkerData } from './task.js';
import { SLOT_HEADER_BYTES } from './vector-slots.js';

/**
 * The pool's worker: a thin dispatcher that makes views over the shared buffers and calls the kernels
 * a block of rows at a time, checking for cancellation and publishing progress between blocks.
 * It keeps no reference to any buffer or WebAssembly instance after a task, so deleting a dataset
 * can free its memory.
 */
const BLOCK_ELEMENTS = 1 << 18;

void collectOnSignal((workerData as WorkerData).reclaimSignal);

export default function runChunk(task: ChunkTask): ChunkOutcome {
  const started = performance.now();
  const control = new Int32Array(task.control);
  const blockRows =
    task.op === 'strided_mean' ? 1 : Math.max(1, Math.floor(BLOCK_ELEMENTS / Math.max(1, task.rowLength)));
  const vector = task.vector === null ? undefined : new Float64Array(task.vector);
  const simd = task.memory === null || task.dtype !== 'float64' ? null : simdKernels(task.memory);
  const slot = simd === null || vector === undefined ? -1 : claimSlot(task, vector);
  const spec = {
    op: task.op,
    dtype: task.dtype,
    data: task.data,
    dataByteOffset: 0,
    rows: task.rows,
    rowLength: task.rowLength,
    params: { ddof: task.ddof, ord: task.ord, q: task.q, vector },
    r0: task.r0,
    r1: task.r0,
    result: task.result,
    resultIndex: task.resultIndex,
    simd: simd as SimdKernels | null,
    vectorAt: slot < 0 ? -1 : slotAt(task, slot) + SLOT_HEADER_BYTES,
  };
  let done = 0;
  let cancelled = false;
  try {
    for (let r = task.r0; r < task.r1; r += blockRows) {
      if (Atomics.load(control, CANCEL) !== 0) {
        cancelled = true;
        break;
      }
      const end = Math.min(task.r1, r + blockRows);
      spec.r0 = r;
      spec.r1 = end;
      spec.resultIndex = task.resultIndex + (r - task.r0);
      runRows(spec);
      Atomics.add(control, ROWS_DONE, end - r);
      done += end - r;
    }
  } finally {
    if (slot >= 0) Atomics.store(new Int32Array(task.memory!.buffer), slotAt(task, slot) / 4, 0);
  }
  return { rowsDone: done, cancelled, runSeconds: (performance.now() - started) / 1000 };
}

function slotAt(task: ChunkTask, slot: number): number {
  return task.slotOffset + slot * task.slotStride;
}

/**
 * Takes a free vector slot in the dataset's memory and makes sure it holds the job's vector.
 * Returns -1 when every slot is taken (a worker that died holding one never gave it back).
 */
function claimSlot(task: ChunkTask, vector: Float64Array): number {
  const memory = task.memory!.buffer;
  const flags = new Int32Array(memory);
  for (let slot = 0; slot < task.slotCount; slot++) {
    const at = slotAt(task, slot);
    if (Atomics.compareExchange(flags, at / 4, 0, 1) !== 0) continue;
    const tag = new Float64Array(memory, at + 8, 1);
    if (tag[0] !== task.vectorTag) {
      new Float64Array(memory, at + SLOT_HEADER_BYTES, vector.length).set(vector);
      tag[0] = task.vectorTag;
    }
    return slot;
  }
  return -1;
}
