/**
 * Block kernels: each computes one op over `rows` consecutive float64 rows of length `n` starting at
 * `src[off]` and writes one result per row from `out[slot]` on. One function per op keeps the row
 * loop and the summation it calls monomorphic and inlinable; the caller dispatches once per block.
 */
import { writeInt64 } from '../../int64.js';
import {
  dotInLanes,
  pairwiseSum,
  pairwiseSumAbs,
  pairwiseSumSquaredDeviations,
  pairwiseSumSquaredDifferences,
  pairwiseSumSquares,
} from './pairwise.js';
import { rowMedian, rowQuantile } from './select.js';

/** The params each kernel reads, as the op registry (src/ops) prepares them. */
export interface DdofParams {
  readonly ddof: number;
}
export interface OrdParams {
  readonly ord: 1 | 2 | 'inf';
}
export interface QuantileParams {
  readonly q: number;
}
export interface VectorParams {
  /** One value per row element, in shared memory so every task of the job reads the same copy. */
  readonly vector: Float64Array;
}
/**
 * The dataset's row 2-norms, one float64 per dataset row in shared memory (norm-cache.ts): read, or
 * when `fill` is set, computed and written by the job that builds them.
 */
export interface RowNorms {
  readonly values: Float64Array;
  readonly fill: boolean;
}
export interface CosineParams extends VectorParams {
  readonly norms?: RowNorms;
}

function variance(src: Float64Array, off: number, n: number, ddof: number): number {
  // NumPy's sum reduction starts from the identity 0, so a sum of -0.0 values is +0.0.
  const mean = (0 + pairwiseSum(src, off, n)) / n;
  return pairwiseSumSquaredDeviations(src, off, n, mean) / Math.max(n - ddof, 0);
}

// In the scans below only a better value or NaN fails the first comparison, so the common case
// costs one comparison. NumPy's answer for a row holding NaN is NaN (and its index the first NaN's).

function rowMin(a: Float64Array, off: number, n: number): number {
  let m = a[off];
  if (Number.isNaN(m)) return m;
  for (let i = off + 1, end = off + n; i < end; i++) {
    const v = a[i];
    if (!(v >= m)) {
      if (Number.isNaN(v)) return v;
      m = v;
    }
  }
  return m;
}

function rowMax(a: Float64Array, off: number, n: number): number {
  let m = a[off];
  if (Number.isNaN(m)) return m;
  for (let i = off + 1, end = off + n; i < end; i++) {
    const v = a[i];
    if (!(v <= m)) {
      if (Number.isNaN(v)) return v;
      m = v;
    }
  }
  return m;
}

function rowMaxAbs(a: Float64Array, off: number, n: number): number {
  let m = Math.abs(a[off]);
  if (Number.isNaN(m)) return m;
  for (let i = off + 1, end = off + n; i < end; i++) {
    const v = Math.abs(a[i]);
    if (!(v <= m)) {
      if (Number.isNaN(v)) return v;
      m = v;
    }
  }
  return m;
}

function rowArgmin(a: Float64Array, off: number, n: number): number {
  let best = a[off];
  if (Number.isNaN(best)) return 0;
  let at = off;
  for (let i = off + 1, end = off + n; i < end; i++) {
    const v = a[i];
    if (!(v >= best)) {
      if (Number.isNaN(v)) return i - off;
      best = v;
      at = i;
    }
  }
  return at - off;
}

function rowArgmax(a: Float64Array, off: number, n: number): number {
  let best = a[off];
  if (Number.isNaN(best)) return 0;
  let at = off;
  for (let i = off + 1, end = off + n; i < end; i++) {
    const v = a[i];
    if (!(v <= best)) {
      if (Number.isNaN(v)) return i - off;
      best = v;
      at = i;
    }
  }
  return at - off;
}

/** NaN is nonzero, as in NumPy; counting the zeros keeps the loop to one comparison. */
function rowCountNonzero(a: Float64Array, off: number, n: number): number {
  let zeros = 0;
  for (let i = off, end = off + n; i < end; i++) if (a[i] === 0) zeros++;
  return n - zeros;
}

/** A float64-result op's kernel over a block of rows (see ROW_KERNELS); row r is dataset row firstRow + r. */
type FloatKernel<P> = (
  src: Float64Array,
  off: number,
  rows: number,
  n: number,
  params: P,
  out: Float64Array,
  slot: number,
  firstRow: number,
) => void;

/** An int64-result op's kernel: `out` views the int64 cells as Int32 pairs. */
type IndexKernel = (
  src: Float64Array,
  off: number,
  rows: number,
  n: number,
  params: unknown,
  out: Int32Array,
  slot: number,
) => void;

/**
 * One block kernel per op: rows [0, rows) of the block, row r at `src[off + r * n]`, its result in
 * `out[slot + r]`. For the int64 ops `out` views the results as Int32 pairs (see int64.ts).
 */
export const ROW_KERNELS = {
  sum: ((src, off, rows, n, _params, out, slot) => {
    for (let r = 0; r < rows; r++) out[slot + r] = 0 + pairwiseSum(src, off + r * n, n);
  }) satisfies FloatKernel<unknown>,
  mean: ((src, off, rows, n, _params, out, slot) => {
    for (let r = 0; r < rows; r++) out[slot + r] = (0 + pairwiseSum(src, off + r * n, n)) / n;
  }) satisfies FloatKernel<unknown>,
  min: ((src, off, rows, n, _params, out, slot) => {
    for (let r = 0; r < rows; r++) out[slot + r] = rowMin(src, off + r * n, n);
  }) satisfies FloatKernel<unknown>,
  max: ((src, off, rows, n, _params, out, slot) => {
    for (let r = 0; r < rows; r++) out[slot + r] = rowMax(src, off + r * n, n);
  }) satisfies FloatKernel<unknown>,
  var: ((src, off, rows, n, params, out, slot) => {
    const ddof = params.ddof;
    for (let r = 0; r < rows; r++) out[slot + r] = variance(src, off + r * n, n, ddof);
  }) satisfies FloatKernel<DdofParams>,
  std: ((src, off, rows, n, params, out, slot) => {
    const ddof = params.ddof;
    for (let r = 0; r < rows; r++) out[slot + r] = Math.sqrt(variance(src, off + r * n, n, ddof));
  }) satisfies FloatKernel<DdofParams>,
  norm: ((src, off, rows, n, params, out, slot) => {
    const ord = params.ord;
    if (ord === 2) {
      for (let r = 0; r < rows; r++) out[slot + r] = Math.sqrt(pairwiseSumSquares(src, off + r * n, n));
    } else if (ord === 1) {
      for (let r = 0; r < rows; r++) out[slot + r] = pairwiseSumAbs(src, off + r * n, n);
    } else {
      for (let r = 0; r < rows; r++) out[slot + r] = rowMaxAbs(src, off + r * n, n);
    }
  }) satisfies FloatKernel<OrdParams>,
  median: ((src, off, rows, n, _params, out, slot) => {
    for (let r = 0; r < rows; r++) out[slot + r] = rowMedian(src, off + r * n, n);
  }) satisfies FloatKernel<unknown>,
  quantile: ((src, off, rows, n, params, out, slot) => {
    const q = params.q;
    for (let r = 0; r < rows; r++) out[slot + r] = rowQuantile(src, off + r * n, n, q);
  }) satisfies FloatKernel<QuantileParams>,
  dot: ((src, off, rows, n, params, out, slot) => {
    // NumPy hands x @ v to BLAS, whose rounding is not pinned down. Summing in the SIMD kernel's lane
    // order everywhere makes a job's answer independent of which kernel ran it.
    const v = params.vector;
    for (let r = 0; r < rows; r++) out[slot + r] = dotInLanes(src, off + r * n, v, 0, n);
  }) satisfies FloatKernel<VectorParams>,
  cosine: ((src, off, rows, n, params, out, slot, firstRow) => {
    const v = params.vector;
    const vNorm = Math.sqrt(pairwiseSumSquares(v, 0, n));
    const norms = params.norms;
    if (norms !== undefined && !norms.fill) {
      const cached = norms.values;
      for (let r = 0; r < rows; r++) {
        out[slot + r] = dotInLanes(src, off + r * n, v, 0, n) / (cached[firstRow + r] * vNorm);
      }
      return;
    }
    for (let r = 0; r < rows; r++) {
      const o = off + r * n;
      const norm = Math.sqrt(pairwiseSumSquares(src, o, n));
      if (norms !== undefined) norms.values[firstRow + r] = norm;
      out[slot + r] = dotInLanes(src, o, v, 0, n) / (norm * vNorm);
    }
  }) satisfies FloatKernel<CosineParams>,
  euclidean: ((src, off, rows, n, params, out, slot) => {
    const v = params.vector;
    for (let r = 0; r < rows; r++) {
      out[slot + r] = Math.sqrt(pairwiseSumSquaredDifferences(src, off + r * n, v, 0, n));
    }
  }) satisfies FloatKernel<VectorParams>,
  argmin: ((src, off, rows, n, _params, out, slot) => {
    for (let r = 0; r < rows; r++) writeInt64(out, slot + r, rowArgmin(src, off + r * n, n));
  }) satisfies IndexKernel,
  argmax: ((src, off, rows, n, _params, out, slot) => {
    for (let r = 0; r < rows; r++) writeInt64(out, slot + r, rowArgmax(src, off + r * n, n));
  }) satisfies IndexKernel,
  count_nonzero: ((src, off, rows, n, _params, out, slot) => {
    for (let r = 0; r < rows; r++) writeInt64(out, slot + r, rowCountNonzero(src, off + r * n, n));
  }) satisfies IndexKernel,
};
