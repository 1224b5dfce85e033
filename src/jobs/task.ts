import type { DType } from '../datasets/dtypes.js';
import type { OpName } from './kernels/index.js';
import type { VectorSlots } from './vector-slots.js';

/**
 * One chunk of a job, as sent to a worker. Buffers are SharedArrayBuffers, which structured clone
 * shares rather than copies, so a task carries only a handful of numbers across threads.
 */
export interface ChunkTask {
  readonly op: OpName;
  readonly dtype: DType;
  readonly datasetId: string;
  readonly data: SharedArrayBuffer;
  /** The WebAssembly memory behind `data` for a float64 dataset kept in one, else null. */
  readonly memory: WebAssembly.Memory | null;
  readonly rows: number;
  readonly rowLength: number;
  readonly ddof: number;
  readonly ord: number;
  readonly q: number;
  /** The query vector of dot, cosine and euclidean as float64, shared by all chunks of the job. */
  readonly vector: SharedArrayBuffer | null;
  /** Where the worker may put the vector in `memory` (see vector-slots.ts), if anywhere. */
  readonly slots: VectorSlots | null;
  /** Names the job's vector, so a slot that holds it already is not written again. */
  readonly vectorTag: number;
  readonly r0: number;
  readonly r1: number;
  readonly result: SharedArrayBuffer;
  readonly resultIndex: number;
  /** Int32 cells shared by the job's chunks: [CANCEL] set to stop, [ROWS_DONE] progress. */
  readonly control: SharedArrayBuffer;
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
