/**
 * Runs one op over blocks of rows, as a worker does between its cancellation checks. Everything that
 * depends only on the task (which kernel, SIMD or JS, the views over the dataset) is decided once in
 * `blockRunner`; the returned function is then called for block after block.
 *
 * Rows are read in place where they are float64 (by the SIMD kernels when the rows live in a
 * WebAssembly memory and the op has one for the row length); other dtypes are converted a chunk of
 * rows at a time into a float64 scratch that stays in L2 between conversion and kernel. A dataset
 * in several segments is read a segment at a time; the SIMD kernels read one segment's memory, so
 * a task that runs them holds rows of that segment only (chunks.ts splits jobs there).
 */
import { DTYPE_INFO, type DType } from '../datasets/dtypes.js';
import type { Segment } from '../datasets/shared-array.js';
import type { DatasetOp, IndexRowOp, OpDefinition, RowOp, WholeDataset } from '../ops/op.js';
import { CODECS, CONVERTERS, type RawView } from './kernels/convert.js';
import type { SimdKernels } from './kernels/simd.js';

/** The dataset as a task carries it: its bytes and what is needed to read them. */
export interface TaskDataset {
  readonly id: string;
  readonly dtype: DType;
  /** The dataset's rows, little-endian, C order: `segmentRows` rows in each segment but the last. */
  readonly segments: readonly Segment[];
  readonly segmentRows: number;
  readonly rows: number;
  readonly rowLength: number;
}

/** Computes dataset rows [r0, r1) into the result from slot `slot` on. */
export type BlockRun = (r0: number, r1: number, slot: number) => void;

/** Where the SIMD kernels may run: one segment's memory's kernels, and the query vector's offset there. */
export interface SimdPlace {
  readonly kernels: SimdKernels;
  /** The first dataset row of the segment whose memory the kernels read. */
  readonly firstRow: number;
  /** Byte offset of params.vector in the memory, or -1 when it is not there. */
  readonly vectorAt: number;
}

/** Elements converted per chunk: the scratch (128 KiB) stays in L2 between conversion and kernel. */
const CHUNK_ELEMENTS = 16384;

let converted = new Float64Array(CHUNK_ELEMENTS);

const EMPTY = new Float64Array(0);
const NO_WHOLE: WholeDataset = {
  codec: CODECS.float64,
  raw: EMPTY,
  total: 0,
  rows: 0,
  segments: [EMPTY],
  segmentElements: 0,
};

/** Views of each segment's rows, as `view` makes them for `n` elements a row. */
function segmentViews<T>(
  dataset: TaskDataset,
  view: (buffer: SharedArrayBuffer, elements: number) => T,
): readonly T[] {
  return dataset.segments.map((s) => view(s.buffer, s.rows * dataset.rowLength));
}

function wholeDataset(op: OpDefinition, params: unknown, dataset: TaskDataset): WholeDataset {
  if (op.scope !== 'dataset' && op.readsWholeDataset?.(params) !== true) return NO_WHOLE;
  const codec = CODECS[dataset.dtype];
  const segments = segmentViews<RawView>(dataset, (buffer, elements) => codec.view(buffer, 0, elements));
  return {
    codec,
    raw: segments[0],
    total: dataset.rows * dataset.rowLength,
    rows: dataset.rows,
    segments,
    segmentElements: dataset.segmentRows * dataset.rowLength,
  };
}

/**
 * Whether the op's SIMD kernel can run rows of this segment: the segment is a WebAssembly memory,
 * and the op has a kernel for these params and row length.
 */
export function simdKernelOf(op: OpDefinition, params: unknown, dataset: TaskDataset, segment: Segment) {
  if (op.scope !== 'rows' || op.result !== 'float64' || segment.memory === null) return undefined;
  return op.simd?.(params, dataset.rowLength);
}

/** Calls `run` for each part of rows [r0, r1) that lies in one segment: segment index, its rows. */
function eachSegment(
  dataset: TaskDataset,
  r0: number,
  r1: number,
  run: (segment: number, s0: number, s1: number) => void,
): void {
  for (let r = r0; r < r1; ) {
    const segment = Math.floor(r / dataset.segmentRows);
    const end = Math.min(r1, (segment + 1) * dataset.segmentRows);
    run(segment, r, end);
    r = end;
  }
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
  const simdKernel =
    simd === null || op.scope !== 'rows' || op.result !== 'float64' ? undefined : op.simd?.(params, n);
  if (simdKernel !== undefined && simd !== null && (op.vector !== 'row' || simd.vectorAt >= 0)) {
    const { kernels, vectorAt, firstRow } = simd;
    const stride = n * DTYPE_INFO[dataset.dtype].itemsize;
    return (r0, r1, slot) => {
      const out = new Float64Array(result, slot * 8, r1 - r0);
      simdKernel(kernels, (r0 - firstRow) * stride, r1 - r0, n, stride, params, vectorAt, out, r0);
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
  src: Float64Array | Float32Array,
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
  const asStored = dtype === 'float32' && op.readsFloat32?.(params) === true;
  if (dtype === 'float64' || asStored) {
    const sources = segmentViews(dataset, (buffer, elements) =>
      asStored ? new Float32Array(buffer, 0, elements) : new Float64Array(buffer, 0, elements),
    );
    if (sources.length === 1) {
      const src = sources[0];
      return (r0, r1, slot) => kernel(src, r0 * n, r1 - r0, n, params, out, slot, r0, whole);
    }
    return (r0, r1, slot) =>
      eachSegment(dataset, r0, r1, (segment, s0, s1) => {
        const local = s0 - segment * dataset.segmentRows;
        kernel(sources[segment], local * n, s1 - s0, n, params, out, slot + (s0 - r0), s0, whole);
      });
  }
  const converter = CONVERTERS[dtype];
  const raws = segmentViews(dataset, (buffer, elements) => converter.view(buffer, 0, elements));
  const chunkRows = n === 0 ? Number.MAX_SAFE_INTEGER : Math.max(1, Math.floor(CHUNK_ELEMENTS / n));
  const convertRows = (raw: RawView, local0: number, r0: number, r1: number, slot: number) => {
    const most = Math.min(chunkRows, r1 - r0);
    if (converted.length < most * n) converted = new Float64Array(most * n);
    for (let r = r0; r < r1; r += chunkRows) {
      const rows = Math.min(chunkRows, r1 - r);
      converter.convert(raw, (local0 + r - r0) * n, rows * n, converted);
      kernel(converted, 0, rows, n, params, out, slot + (r - r0), r, whole);
    }
  };
  if (raws.length === 1) return (r0, r1, slot) => convertRows(raws[0], r0, r0, r1, slot);
  return (r0, r1, slot) =>
    eachSegment(dataset, r0, r1, (segment, s0, s1) =>
      convertRows(raws[segment], s0 - segment * dataset.segmentRows, s0, s1, slot + (s0 - r0)),
    );
}
