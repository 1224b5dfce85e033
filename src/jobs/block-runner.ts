/**
 * Runs one op over blocks of rows, as a worker does between its cancellation checks. Everything that
 * depends only on the task (which kernel, SIMD or JS, the views over the dataset) is decided once in
 * `blockRunner`; the returned function is then called for block after block.
 *
 * Rows are read in place where they are float64 (by the SIMD kernels when the dataset lives in a
 * WebAssembly memory and the op has one for the row length); other dtypes are converted a chunk of
 * rows at a time into a float64 scratch that stays in L2 between conversion and kernel.
 */
import { DTYPE_INFO, type DType } from '../datasets/dtypes.js';
import type { DatasetOp, IndexRowOp, OpDefinition, RowOp, WholeDataset } from '../ops/op.js';
import { CODECS, CONVERTERS } from './kernels/convert.js';
import type { SimdKernels } from './kernels/simd.js';

/** The dataset as a task carries it: its bytes and what is needed to read them. */
export interface TaskDataset {
  readonly id: string;
  readonly dtype: DType;
  /** The whole dataset's bytes from offset 0, little-endian, C order. */
  readonly buffer: SharedArrayBuffer;
  /** The shared WebAssembly memory behind `buffer`, if the dataset lives in one. */
  readonly memory: WebAssembly.Memory | null;
  readonly rows: number;
  readonly rowLength: number;
}

/** Computes dataset rows [r0, r1) into the result from slot `slot` on. */
export type BlockRun = (r0: number, r1: number, slot: number) => void;

/** Where the SIMD kernels may run: the dataset's memory's kernels, and the query vector's offset there. */
export interface SimdPlace {
  readonly kernels: SimdKernels;
  /** Byte offset of params.vector in the memory, or -1 when it is not there. */
  readonly vectorAt: number;
}

/** Elements converted per chunk: the scratch (128 KiB) stays in L2 between conversion and kernel. */
const CHUNK_ELEMENTS = 16384;

let converted = new Float64Array(CHUNK_ELEMENTS);

const NO_WHOLE: WholeDataset = { codec: CODECS.float64, raw: new Float64Array(0), total: 0, rows: 0 };

function wholeDataset(op: OpDefinition, params: unknown, dataset: TaskDataset): WholeDataset {
  if (op.scope !== 'dataset' && op.readsWholeDataset?.(params) !== true) return NO_WHOLE;
  const codec = CODECS[dataset.dtype];
  const total = dataset.rows * dataset.rowLength;
  return { codec, raw: codec.view(dataset.buffer, 0, total), total, rows: dataset.rows };
}

/**
 * Whether the op's SIMD kernel can run this task: the dataset is in a WebAssembly memory, the op has
 * a kernel for these params and row length, and the vector (if it reads one) is in that memory.
 */
export function simdKernelOf(op: OpDefinition, params: unknown, dataset: TaskDataset) {
  if (op.scope !== 'rows' || op.result !== 'float64' || dataset.memory === null) return undefined;
  return op.simd?.(params, dataset.rowLength);
}

export function blockRunner(
  op: OpDefinition,
  params: unknown,
  dataset: TaskDataset,
  result: ArrayBufferLike,
  simd: SimdPlace | null,
): BlockRun {
  if (op.scope === 'dataset') return datasetRunner(op, params, dataset, result);
  const n = dataset.rowLength;
  const simdKernel = simd === null ? undefined : simdKernelOf(op, params, dataset);
  if (simdKernel !== undefined && simd !== null && (op.vector !== 'row' || simd.vectorAt >= 0)) {
    const { kernels, vectorAt } = simd;
    const stride = n * DTYPE_INFO[dataset.dtype].itemsize;
    return (r0, r1, slot) => {
      const out = new Float64Array(result, slot * 8, r1 - r0);
      simdKernel(kernels, r0 * stride, r1 - r0, n, stride, params, vectorAt, out, r0);
    };
  }
  const whole = wholeDataset(op, params, dataset);
  if (op.result === 'int64') return rowsRunner(op, params, dataset, new Int32Array(result), whole);
  return rowsRunner(op, params, dataset, new Float64Array(result), whole);
}

function datasetRunner(
  op: DatasetOp,
  params: unknown,
  dataset: TaskDataset,
  result: ArrayBufferLike,
): BlockRun {
  const whole = wholeDataset(op, params, dataset);
  const out = new Float64Array(result);
  return (r0, r1, slot) => op.run(whole, r0, r1 - r0, params, out, slot);
}

/** A row kernel with its result view left open: the op's result dtype picked the view. */
type AnyRowKernel = (
  src: Float64Array,
  off: number,
  rows: number,
  n: number,
  params: unknown,
  out: Float64Array | Int32Array,
  slot: number,
  firstRow: number,
  whole: WholeDataset,
) => void;

const NO_ROWS = new Float64Array(0);

function rowsRunner(
  op: RowOp | IndexRowOp,
  params: unknown,
  dataset: TaskDataset,
  out: Float64Array | Int32Array,
  whole: WholeDataset,
): BlockRun {
  const kernel = op.js as AnyRowKernel;
  const n = dataset.rowLength;
  const { dtype } = dataset;
  if (op.readsRows?.(params) === false) {
    return (r0, r1, slot) => kernel(NO_ROWS, 0, r1 - r0, n, params, out, slot, r0, whole);
  }
  if (dtype === 'float64') {
    const src = new Float64Array(dataset.buffer, 0, dataset.rows * n);
    return (r0, r1, slot) => kernel(src, r0 * n, r1 - r0, n, params, out, slot, r0, whole);
  }
  const converter = CONVERTERS[dtype];
  const raw = converter.view(dataset.buffer, 0, dataset.rows * n);
  const chunkRows = n === 0 ? Number.MAX_SAFE_INTEGER : Math.max(1, Math.floor(CHUNK_ELEMENTS / n));
  return (r0, r1, slot) => {
    const most = Math.min(chunkRows, r1 - r0);
    if (converted.length < most * n) converted = new Float64Array(most * n);
    for (let r = r0; r < r1; r += chunkRows) {
      const rows = Math.min(chunkRows, r1 - r);
      converter.convert(raw, r * n, rows * n, converted);
      kernel(converted, 0, rows, n, params, out, slot + (r - r0), r, whole);
    }
  };
}
