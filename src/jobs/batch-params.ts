import { pairwiseSumSquares } from './kernels/pairwise.js';

/** What the workers read of a batch of queries (`params.vectors`), made once per job. */
export interface BatchParams {
  /** The queries back to back, one row length each, in shared memory so every task reads one copy. */
  readonly vectors: Float64Array;
  readonly queries: number;
  /**
   * Each query's 2-norm, computed as the single-query cosine kernels compute it, so a batch gives
   * the same bits as one job per query.
   */
  readonly norms: Float64Array;
}

export function isBatch(params: unknown): params is BatchParams {
  return (params as Partial<BatchParams>).vectors instanceof Float64Array;
}

export function prepareBatch(vectors: readonly (readonly number[])[]): BatchParams {
  const queries = vectors.length;
  const n = vectors[0].length;
  const flat = new Float64Array(new SharedArrayBuffer(queries * n * 8));
  const norms = new Float64Array(queries);
  for (let j = 0; j < queries; j++) {
    flat.set(vectors[j], j * n);
    norms[j] = Math.sqrt(pairwiseSumSquares(flat, j * n, n));
  }
  return { vectors: flat, queries, norms };
}
