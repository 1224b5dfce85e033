/**
 * Block kernels for float64 rows that live in a WebAssembly memory: the same ops as rows.ts with
 * the summations done by the SIMD module, which gives the same bits as the JS ones. `p` is the byte
 * offset of the block's first row in the memory, `vectorAt` that of the query vector (or -1); row r
 * of the block goes to `out[r]`.
 */
import type { KernelParams, OpName } from './index.js';
import { pairwiseSumSquares } from './pairwise.js';
import type { SimdKernels } from './simd.js';

export type SimdBlockKernel = (
  k: SimdKernels,
  p: number,
  rows: number,
  n: number,
  params: KernelParams,
  vectorAt: number,
  out: Float64Array,
) => void;

/**
 * Shorter rows stay in JS: each row is one call into WebAssembly, which costs more than the SIMD
 * loop saves on a short row (measured: slower at 64 values a row, faster from 128 on).
 */
const MIN_ROW_LENGTH = 128;

/** Ops that read the query vector, and so run here only when it is in the memory too. */
export const VECTOR_OPS: ReadonlySet<OpName> = new Set<OpName>(['dot', 'cosine', 'euclidean']);

function variance(k: SimdKernels, p: number, n: number, ddof: number): number {
  const mean = (0 + k.sum(p, n)) / n;
  return k.sumSquaredDeviations(p, n, mean) / Math.max(n - ddof, 0);
}

const KERNELS: Readonly<Partial<Record<OpName, SimdBlockKernel>>> = {
  sum(k, p, rows, n, _params, _v, out) {
    const stride = n * 8;
    for (let r = 0; r < rows; r++) out[r] = 0 + k.sum(p + r * stride, n);
  },
  mean(k, p, rows, n, _params, _v, out) {
    const stride = n * 8;
    for (let r = 0; r < rows; r++) out[r] = (0 + k.sum(p + r * stride, n)) / n;
  },
  var(k, p, rows, n, params, _v, out) {
    const stride = n * 8;
    const ddof = params.ddof;
    for (let r = 0; r < rows; r++) out[r] = variance(k, p + r * stride, n, ddof);
  },
  std(k, p, rows, n, params, _v, out) {
    const stride = n * 8;
    const ddof = params.ddof;
    for (let r = 0; r < rows; r++) out[r] = Math.sqrt(variance(k, p + r * stride, n, ddof));
  },
  dot(k, p, rows, n, _params, v, out) {
    const stride = n * 8;
    for (let r = 0; r < rows; r++) out[r] = k.dot(p + r * stride, v, n);
  },
  cosine(k, p, rows, n, params, v, out) {
    const stride = n * 8;
    const vNorm = Math.sqrt(pairwiseSumSquares(params.vector!, 0, n));
    for (let r = 0; r < rows; r++) {
      const row = p + r * stride;
      out[r] = k.dot(row, v, n) / (Math.sqrt(k.sumSquares(row, n)) * vNorm);
    }
  },
  euclidean(k, p, rows, n, _params, v, out) {
    const stride = n * 8;
    for (let r = 0; r < rows; r++) out[r] = Math.sqrt(k.sumSquaredDifferences(p + r * stride, v, n));
  },
};

const norm2: SimdBlockKernel = (k, p, rows, n, _params, _v, out) => {
  const stride = n * 8;
  for (let r = 0; r < rows; r++) out[r] = Math.sqrt(k.sumSquares(p + r * stride, n));
};

const norm1: SimdBlockKernel = (k, p, rows, n, _params, _v, out) => {
  const stride = n * 8;
  for (let r = 0; r < rows; r++) out[r] = k.sumAbs(p + r * stride, n);
};

/**
 * The SIMD kernel for an op on rows of length n, if it has one: norm with ord "inf" is a max, not a
 * sum, and stays in JS, as do short rows.
 */
export function simdKernelFor(op: OpName, params: KernelParams, n: number): SimdBlockKernel | undefined {
  if (n < MIN_ROW_LENGTH) return undefined;
  if (op === 'norm') return params.ord === 2 ? norm2 : params.ord === 1 ? norm1 : undefined;
  return KERNELS[op];
}
