/**
 * Block kernels for rows that live in a WebAssembly memory: the same ops as rows.ts with the
 * summations done by the SIMD module, which gives the same bits as the JS ones. `p` is the byte
 * offset of the block's first row in the memory, `stride` the bytes from one row to the next,
 * `vectorAt` the byte offset of the query vector (or -1); row r of the block is dataset row
 * `firstRow + r` and goes to `out[r]`.
 */
import { pairwiseSumSquares } from './pairwise.js';
import type { CosineParams, DdofParams, OrdParams, VectorParams } from './rows.js';
import type { SimdKernels } from './simd.js';

/** Declared through a method so that a kernel for one op's params fits the registry's common type. */
export type SimdBlockKernel<P> = {
  kernel(
    k: SimdKernels,
    p: number,
    rows: number,
    n: number,
    stride: number,
    params: P,
    vectorAt: number,
    out: Float64Array,
    firstRow: number,
  ): void;
}['kernel'];

/**
 * Shorter rows stay in JS: each row is one call into WebAssembly, which costs more than the SIMD
 * loop saves on a short row (measured: slower at 64 values a row, faster from 128 on).
 */
export const MIN_SIMD_ROW_LENGTH = 128;

function variance(k: SimdKernels, p: number, n: number, ddof: number): number {
  const mean = (0 + k.sum(p, n)) / n;
  return k.sumSquaredDeviations(p, n, mean) / Math.max(n - ddof, 0);
}

export const simdSum: SimdBlockKernel<unknown> = (k, p, rows, n, stride, _params, _v, out) => {
  for (let r = 0; r < rows; r++) out[r] = 0 + k.sum(p + r * stride, n);
};

export const simdMean: SimdBlockKernel<unknown> = (k, p, rows, n, stride, _params, _v, out) => {
  for (let r = 0; r < rows; r++) out[r] = (0 + k.sum(p + r * stride, n)) / n;
};

export const simdVar: SimdBlockKernel<DdofParams> = (k, p, rows, n, stride, params, _v, out) => {
  const ddof = params.ddof;
  for (let r = 0; r < rows; r++) out[r] = variance(k, p + r * stride, n, ddof);
};

export const simdStd: SimdBlockKernel<DdofParams> = (k, p, rows, n, stride, params, _v, out) => {
  const ddof = params.ddof;
  for (let r = 0; r < rows; r++) out[r] = Math.sqrt(variance(k, p + r * stride, n, ddof));
};

export const simdDot: SimdBlockKernel<VectorParams> = (k, p, rows, n, stride, _params, v, out) => {
  for (let r = 0; r < rows; r++) out[r] = k.dot(p + r * stride, v, n);
};

/** With the dataset's cached row norms a row costs a dot; the job that fills them pays the norms too. */
export const simdCosine: SimdBlockKernel<CosineParams> = (
  k,
  p,
  rows,
  n,
  stride,
  params,
  v,
  out,
  firstRow,
) => {
  const vNorm = Math.sqrt(pairwiseSumSquares(params.vector, 0, n));
  const norms = params.norms;
  if (norms !== undefined && !norms.fill) {
    const cached = norms.values;
    for (let r = 0; r < rows; r++) out[r] = k.dot(p + r * stride, v, n) / (cached[firstRow + r] * vNorm);
    return;
  }
  for (let r = 0; r < rows; r++) {
    const row = p + r * stride;
    const norm = Math.sqrt(k.sumSquares(row, n));
    if (norms !== undefined) norms.values[firstRow + r] = norm;
    out[r] = k.dot(row, v, n) / (norm * vNorm);
  }
};

export const simdEuclidean: SimdBlockKernel<VectorParams> = (k, p, rows, n, stride, _params, v, out) => {
  for (let r = 0; r < rows; r++) out[r] = Math.sqrt(k.sumSquaredDifferences(p + r * stride, v, n));
};

const norm2: SimdBlockKernel<OrdParams> = (k, p, rows, n, stride, _params, _v, out) => {
  for (let r = 0; r < rows; r++) out[r] = Math.sqrt(k.sumSquares(p + r * stride, n));
};

const norm1: SimdBlockKernel<OrdParams> = (k, p, rows, n, stride, _params, _v, out) => {
  for (let r = 0; r < rows; r++) out[r] = k.sumAbs(p + r * stride, n);
};

/** norm with ord "inf" is a max, not a sum, and stays in JS. */
export function simdNorm(params: OrdParams): SimdBlockKernel<OrdParams> | undefined {
  return params.ord === 2 ? norm2 : params.ord === 1 ? norm1 : undefined;
}
