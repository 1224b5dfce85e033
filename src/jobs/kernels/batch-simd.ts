/**
 * Scores of a block of rows against a batch of queries, everything in one WebAssembly memory: `rows`
 * rows of `n` elements back to back from byte `p`, `nq` float64 queries of `n` values back to back
 * from byte `q`; the score of row r and query j goes to `out[r * nq + j]`, where `out` views the
 * memory from byte `outAt`. Each score has the bits the op's single-query SIMD kernel gives
 * (rows-simd.ts), so a batch answers exactly as one job per query would.
 */
import type { SimdKernels } from './simd.js';

/** Declared through a method so that one type fits every op's scorer in the registry. */
export type BatchScorer = {
  score(
    k: SimdKernels,
    p: number,
    rows: number,
    n: number,
    itemsize: number,
    q: number,
    nq: number,
    norms: Float64Array,
    outAt: number,
    out: Float64Array,
  ): void;
}['score'];

export const batchDot: BatchScorer = (k, p, rows, n, _itemsize, q, nq, _norms, outAt) => {
  k.dotMany(p, rows, n, q, nq, outAt);
};

export const batchCosine: BatchScorer = (k, p, rows, n, itemsize, q, nq, norms, outAt, out) => {
  k.dotMany(p, rows, n, q, nq, outAt);
  const stride = itemsize * n;
  for (let r = 0; r < rows; r++) {
    const rowNorm = Math.sqrt(k.sumSquares(p + r * stride, n));
    const at = r * nq;
    for (let j = 0; j < nq; j++) out[at + j] = out[at + j] / (rowNorm * norms[j]);
  }
};

export const batchEuclidean: BatchScorer = (k, p, rows, n, itemsize, q, nq, _norms, _outAt, out) => {
  const stride = itemsize * n;
  const qStride = n * 8;
  for (let r = 0; r < rows; r++) {
    const row = p + r * stride;
    const at = r * nq;
    for (let j = 0; j < nq; j++) out[at + j] = Math.sqrt(k.sumSquaredDifferences(row, q + j * qStride, n));
  }
};
