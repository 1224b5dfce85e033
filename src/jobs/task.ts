import type { TaskDataset } from './block-runner.js';
import type { DatasetVectorSlots } from './vector-slots.js';

/**
 * One chunk of a job, as sent to a worker. Buffers are SharedArrayBuffers, which structured clone
 * shares rather than copies, so a task carries only a handful of numbers across threads.
 */
export interface ChunkTask {
  readonly op: string;
  /** The op's params as its `prepare` made them, the same object for every chunk of the job. */
  readonly params: unknown;
  readonly dataset: TaskDataset;
  /** Where the worker may put params.vector in each segment's memory for the SIMD kernels, if anywhere. */
  readonly vectorSlots: { readonly slots: DatasetVectorSlots; readonly tag: number } | null;
  readonly r0: number;
  readonly r1: number;
  readonly result: SharedArrayBuffer;
  /** The slot in `result` for row r0. */
  readonly resultIndex: number;
  /** Int32 cells shared by the job's chunks: [CANCEL] set to stop, [ROWS_DONE] progress. */
  readonly control: SharedArrayBuffer;
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
export const CONTROL_BYTES = 8;

export interface ChunkOutcome {
  readonly rowsDone: number;
  readonly cancelled: boolean;
  /** Time spent running in the worker, for the task-run histogram. */
  readonly runSeconds: number;
}

/** Workers run an extra full GC whenever this Int32 cell changes (see reclaim.ts). */
export interface WorkerData {
  readonly reclaimSignal: SharedArrayBuffer;
}

/** Where a chunk's results go and how it is steered. */
export interface ChunkOutput {
  readonly result: SharedArrayBuffer;
  readonly resultIndex: number;
  readonly control: SharedArrayBuffer;
  readonly vectorSlots?: ChunkTask['vectorSlots'];
  readonly top?: ChunkTask['top'];
}

/**
 * The task for dataset rows [r0, r1) of a job. Only the fields of the dataset a worker needs are
 * sent: its name and shape stay on the main thread.
 */
export function chunkTask(
  op: string,
  params: unknown,
  dataset: TaskDataset,
  r0: number,
  r1: number,
  output: ChunkOutput,
): ChunkTask {
  const { id, dtype, segments, segmentRows, rows, rowLength } = dataset;
  return {
    op,
    params,
    dataset: { id, dtype, segments, segmentRows, rows, rowLength },
    vectorSlots: output.vectorSlots ?? null,
    r0,
    r1,
    result: output.result,
    resultIndex: output.resultIndex,
    control: output.control,
    top: output.top ?? null,
  };
}
