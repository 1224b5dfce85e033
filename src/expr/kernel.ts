/**
 * Turns compiled source into a runnable block kernel. Only compileExpr's output reaches
 * `new Function`, never expression text; kernels are cached per thread by source, in a bounded LRU.
 */
import type { RawView } from '../jobs/kernels/convert.js';
import type { SimdKernels } from '../jobs/kernels/simd.js';
import { RUNTIME, type Runtime } from './runtime.js';

/**
 * The whole dataset, flattened in C order, in its stored dtype (the views of convert.ts's codecs):
 * `raw` for a dataset in one segment; for one in several, element j is element
 * `j - s * segmentElements` of `segments[s]`, s = floor(j / segmentElements).
 */
export interface DataReader {
  readonly raw: RawView;
  /** Elements (not view entries: int64 and uint64 take two each). */
  readonly length: number;
  readonly segments: readonly RawView[];
  readonly segmentElements: number;
}

export interface ExprEnv {
  /** Needed only when the compiled expression `usesData`. */
  readonly data: DataReader | undefined;
  /** The job vector, or an empty array. */
  readonly v: Float64Array;
  /** The values of `params.args`, in `ExprShape.argNames` order. */
  readonly args: Float64Array;
  /** The dataset's number of rows. */
  readonly rows: number;
  /** The SIMD kernels over the memory `src` views, for a kernel compiled with `ExprShape.simd`. */
  readonly sk?: SimdKernels;
}

/**
 * Computes dataset rows `firstRow .. firstRow + count - 1`: row r is `src[off + r*n .. + n)` as
 * float64, and its result goes to `out[slot + r]`. Throws ExprRowError where NumPy raises.
 */
export type ExprBlockKernel = (
  src: Float64Array | Float32Array,
  off: number,
  count: number,
  n: number,
  firstRow: number,
  env: ExprEnv,
  out: Float64Array,
  slot: number,
) => void;

export const EXPR_CACHE_SIZE = 256;

const cache = new Map<string, ExprBlockKernel>();

/**
 * The kernel of `source` for rows held as `rows` (float64, or float32 read as stored). Each element
 * type gets its own compiled instance, so V8 sees one array type in each and keeps it monomorphic.
 */
export function exprKernel(source: string, rows: 'float64' | 'float32' = 'float64'): ExprBlockKernel {
  const key = `${rows}\n${source}`;
  const hit = cache.get(key);
  if (hit !== undefined) {
    // Re-inserting marks it most recently used; Map keeps insertion order.
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const factory = new Function('rt', source) as (rt: Runtime) => ExprBlockKernel;
  const kernel = factory(RUNTIME);
  cache.set(key, kernel);
  if (cache.size > EXPR_CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return kernel;
}

/** How many kernels this thread holds; for tests of the bound. */
export function exprCacheSize(): number {
  return cache.size;
}
