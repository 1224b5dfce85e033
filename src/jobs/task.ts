import type { TaskDataset } from './block-runner.js';
import type { DatasetVectorSlots } from './vector-slots.js';

/**
 * A job's task, as sent to a worker: it claims the job's chunks one at a time (control[NEXT_CHUNK])
 * and runs them until none is left, so a job costs one task per thread however many chunks balance
 * it. Buffers are SharedArrayBuffers, which structured clone shares rather than copies, so a task
 * carries only a handful of numbers across threads.
 */
export interface ChunkTask {
  readonly op: string;
  /** The op's params as its `prepare` made them, the same object for every chunk of the job. */
  readonly params: unknown;
  readonly dataset: TaskDataset;
  /** Where the worker may put params.vector in each segment's memory for the SIMD kernels, if anywhere. */
  readonly vectorSlots: { readonly slots: DatasetVectorSlots; readonly tag: number } | null;
  /** The job's chunk plan, float64: `chunks + 1` row bounds, then each chunk's slot in `result`. */
  readonly plan: SharedArrayBuffer;
  readonly chunks: number;
  readonly result: SharedArrayBuffer;
  /**
   * Int32 cells shared by the job's tasks: [CANCEL] set to stop, [ROWS_DONE] progress, [NEXT_CHUNK]
   * the next chunk to claim.
   */
  readonly control: SharedArrayBuffer;
  /**
   * The engine's Int32 cell [YIELD]: set while small jobs wait for a thread, so a task gives its
   * thread back after the chunk it is on (scheduler.ts); the engine sends the rest again.
   */
  readonly pressure: SharedArrayBuffer;
  /**
   * For a top job whose chunks rank their own rows (chunk-top.ts): the chunk keeps its k best rows
   * per query (one query unless params is a batch) and writes them, as (row, value) float64 pairs,
   * from float64 `resultIndex` of `result` on (query-heaps.ts). Null: a value per row from
   * `resultIndex` on.
   */
  readonly top: { readonly k: number; readonly largest: boolean } | null;
}

export const CANCEL = 0;
export const ROWS_DONE = 1;
export const NEXT_CHUNK = 2;
export const CONTROL_BYTES = 12;
export const YIELD = 0;

export interface ChunkOutcome {
  readonly rowsDone: number;
  readonly cancelled: boolean;
  /** Chunks the task ran. */
  readonly chunks: number;
  /** Time spent running in the worker, for the task-run histogram. */
  readonly runSeconds: number;
}

/** Workers run an extra full GC whenever this Int32 cell changes (see reclaim.ts). */
export interface WorkerData {
  readonly reclaimSignal: SharedArrayBuffer;
}

/** A plan of `bounds.length - 1` chunks: chunk c is rows bounds[c]..bounds[c+1]-1, its values from slots[c]. */
export function chunkPlan(bounds: readonly number[], slots: readonly number[]): SharedArrayBuffer {
  const plan = new Float64Array(new SharedArrayBuffer((bounds.length + slots.length) * 8));
  plan.set(bounds);
  plan.set(slots, bounds.length);
  return plan.buffer as SharedArrayBuffer;
}

/** Where a job's results go and how its tasks are steered. */
export interface ChunkOutput {
  readonly plan: SharedArrayBuffer;
  readonly chunks: number;
  readonly result: SharedArrayBuffer;
  readonly control: SharedArrayBuffer;
  readonly pressure: SharedArrayBuffer;
  readonly vectorSlots?: ChunkTask['vectorSlots'];
  readonly top?: ChunkTask['top'];
}

/**
 * A task of a job. Only the fields of the dataset a worker needs are sent: its name and shape stay
 * on the main thread.
 */
export function chunkTask(op: string, params: unknown, dataset: TaskDataset, output: ChunkOutput): ChunkTask {
  const { id, dtype, segments, segmentRows, rows, rowLength } = dataset;
  return {
    op,
    params,
    dataset: { id, dtype, segments, segmentRows, rows, rowLength },
    vectorSlots: output.vectorSlots ?? null,
    plan: output.plan,
    chunks: output.chunks,
    result: output.result,
    control: output.control,
    pressure: output.pressure,
    top: output.top ?? null,
  };
}
