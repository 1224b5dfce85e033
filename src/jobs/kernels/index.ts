/**
 * The per-row compute kernels the workers run. `runRows` is called over and over on small blocks
 * of rows (the worker checks for cancellation and reports progress between calls), so it only
 * creates a few views per call and reuses module-level scratch; each worker thread has its own.
 *
 * float64 rows are read in place, by the SIMD kernels when the dataset lives in a WebAssembly
 * memory and the op has one. Other dtypes are converted a chunk of rows at a time into a float64
 * scratch and the same float64 kernels run there, so every kernel sees only Float64Array.
 */
import { DTYPE_INFO, type DType } from '../../datasets/dtypes.js';
import { CODECS, CONVERTERS } from './convert.js';
import { type BlockKernel, FLOAT_KERNELS, INDEX_KERNELS, type IndexOp } from './rows.js';
import { simdKernelFor, VECTOR_OPS } from './rows-simd.js';
import type { SimdKernels } from './simd.js';
import { stridedMeans } from './strided.js';

export { flatSum } from './pairwise.js';

export const OPS = [
  'sum',
  'mean',
  'min',
  'max',
  'argmin',
  'argmax',
  'var',
  'std',
  'norm',
  'count_nonzero',
  'median',
  'quantile',
  'dot',
  'cosine',
  'euclidean',
  'strided_mean',
] as const;

export type OpName = (typeof OPS)[number];

export const RESULT_DTYPE: Record<OpName, 'float64' | 'int64'> = {
  sum: 'float64',
  mean: 'float64',
  min: 'float64',
  max: 'float64',
  argmin: 'int64',
  argmax: 'int64',
  var: 'float64',
  std: 'float64',
  norm: 'float64',
  count_nonzero: 'int64',
  median: 'float64',
  quantile: 'float64',
  dot: 'float64',
  cosine: 'float64',
  euclidean: 'float64',
  strided_mean: 'float64',
};

export interface KernelParams {
  /** var and std: the divisor is n - ddof (an integer >= 0). */
  readonly ddof: number;
  /** norm: 1, 2 or Infinity. */
  readonly ord: number;
  /** quantile: in [0, 1]. */
  readonly q: number;
  /** dot, cosine, euclidean: one value per row element. */
  readonly vector: Float64Array | undefined;
}

export interface RowsSpec {
  readonly op: OpName;
  readonly dtype: DType;
  /** The whole dataset's bytes (a SharedArrayBuffer in production), little-endian, C order. */
  readonly data: ArrayBufferLike;
  /** Where the dataset starts in `data`. */
  readonly dataByteOffset: number;
  /** The dataset's shape as rows x rowLength. */
  readonly rows: number;
  readonly rowLength: number;
  readonly params: KernelParams;
  /** Dataset rows to compute, end-exclusive. */
  readonly r0: number;
  readonly r1: number;
  /** The job's result buffer: one little-endian float64 or int64 per row. */
  readonly result: ArrayBufferLike;
  /** The slot in `result` for row r0; row r goes to resultIndex + r - r0. */
  readonly resultIndex: number;
  /** The SIMD kernels over the WebAssembly memory whose buffer is `data`, if it is one. */
  readonly simd: SimdKernels | null;
  /** Byte offset of a copy of `params.vector` in that memory, or -1. */
  readonly vectorAt: number;
}

/** Elements converted per chunk: the scratch (128 KiB) stays in L2 between conversion and kernel. */
const CHUNK_ELEMENTS = 16384;
/** The most elements a typed array may have. */
const MAX_VIEW_LENGTH = 2 ** 32 - 1;
const EMPTY_ROW_OPS: ReadonlySet<OpName> = new Set(['min', 'max', 'argmin', 'argmax', 'quantile']);

let converted = new Float64Array(CHUNK_ELEMENTS);

function isIndexOp(op: OpName): op is IndexOp {
  return RESULT_DTYPE[op] === 'int64';
}

function checkSpec(spec: RowsSpec): void {
  const { op, rows, rowLength, r0, r1, params } = spec;
  if (!Number.isSafeInteger(rows) || rows < 0 || !Number.isSafeInteger(rowLength) || rowLength < 0) {
    throw new RangeError(`invalid dataset shape ${rows} x ${rowLength}`);
  }
  if (!Number.isSafeInteger(r0) || !Number.isSafeInteger(r1) || r0 < 0 || r1 < r0 || r1 > rows) {
    throw new RangeError(`rows [${r0}, ${r1}) are not within the dataset's ${rows} rows`);
  }
  if (
    rowLength === 0 &&
    (EMPTY_ROW_OPS.has(op) || (op === 'norm' && params.ord === Number.POSITIVE_INFINITY))
  ) {
    throw new RangeError(`${op} is undefined on rows of length 0`);
  }
  switch (op) {
    case 'var':
    case 'std':
      if (!Number.isSafeInteger(params.ddof) || params.ddof < 0) {
        throw new RangeError(`ddof must be an integer >= 0, not ${params.ddof}`);
      }
      break;
    case 'norm':
      if (params.ord !== 1 && params.ord !== 2 && params.ord !== Number.POSITIVE_INFINITY) {
        throw new RangeError(`norm ord must be 1, 2 or Infinity, not ${params.ord}`);
      }
      break;
    case 'quantile':
      if (!(params.q >= 0 && params.q <= 1)) throw new RangeError(`q must be in [0, 1], not ${params.q}`);
      break;
    case 'dot':
    case 'cosine':
    case 'euclidean':
      if (params.vector?.length !== rowLength) {
        throw new RangeError(
          `${op} needs a vector of ${rowLength} values (the row length), not ${params.vector?.length ?? 'none'}`,
        );
      }
      break;
  }
}

function runStridedMean(spec: RowsSpec): void {
  const codec = CODECS[spec.dtype];
  const total = spec.rows * spec.rowLength;
  if (total * codec.lanes > MAX_VIEW_LENGTH) {
    throw new RangeError(
      `strided_mean reads the whole dataset through one typed-array view, which holds at most ${MAX_VIEW_LENGTH} ` +
        `elements; this ${spec.dtype} dataset needs ${total * codec.lanes}`,
    );
  }
  const raw = codec.view(spec.data, spec.dataByteOffset, total);
  const count = spec.r1 - spec.r0;
  const out = new Float64Array(spec.result, spec.resultIndex * 8, count);
  stridedMeans(codec, raw, total, spec.r0, count, out, 0);
}

function runBlocks<O extends Float64Array | Int32Array>(
  spec: RowsSpec,
  kernel: BlockKernel<O>,
  out: O,
): void {
  const { dtype, rowLength: n, r0, r1, params } = spec;
  const count = r1 - r0;
  const byteOffset = spec.dataByteOffset + r0 * n * DTYPE_INFO[dtype].itemsize;
  if (dtype === 'float64') {
    kernel(new Float64Array(spec.data, byteOffset, count * n), 0, count, n, params, out, 0);
    return;
  }
  const converter = CONVERTERS[dtype];
  const raw = converter.view(spec.data, byteOffset, count * n);
  const chunkRows = n === 0 ? count : Math.max(1, Math.floor(CHUNK_ELEMENTS / n));
  if (converted.length < chunkRows * n) converted = new Float64Array(chunkRows * n);
  for (let r = 0; r < count; r += chunkRows) {
    const rows = Math.min(chunkRows, count - r);
    converter.convert(raw, r * n, rows * n, converted);
    kernel(converted, 0, rows, n, params, out, r);
  }
}

/**
 * Computes `spec.op` for dataset rows [r0, r1) and writes each result into its slot of
 * `spec.result`. Throws a RangeError for a spec the engine should have refused.
 */
export function runRows(spec: RowsSpec): void {
  checkSpec(spec);
  const { op, r0, r1, result, resultIndex } = spec;
  const count = r1 - r0;
  if (count === 0) return;
  if (op === 'strided_mean') {
    runStridedMean(spec);
  } else if (isIndexOp(op)) {
    runBlocks(spec, INDEX_KERNELS[op], new Int32Array(result, resultIndex * 8, count * 2));
  } else if (!runSimd(spec)) {
    runBlocks(spec, FLOAT_KERNELS[op], new Float64Array(result, resultIndex * 8, count));
  }
}

/** Runs the spec on the SIMD kernels if they can take it; false if the JS ones must. */
function runSimd(spec: RowsSpec): boolean {
  const { simd, op, params, vectorAt, rowLength: n, r0, r1 } = spec;
  if (simd === null || spec.dtype !== 'float64' || (vectorAt < 0 && VECTOR_OPS.has(op))) return false;
  const kernel = simdKernelFor(op, params, n);
  if (kernel === undefined) return false;
  const count = r1 - r0;
  const out = new Float64Array(spec.result, spec.resultIndex * 8, count);
  kernel(simd, spec.dataByteOffset + r0 * n * 8, count, n, params, vectorAt, out);
  return true;
}
