/**
 * The f64x2 kernels of simd.wat, run in place on a dataset held in a shared WebAssembly.Memory.
 * The pairwise ones give the same bits as their twins in pairwise.ts; `dot` has its own rounding
 * order, which `dotInLanes` repeats in JS for data that is not in a wasm memory.
 */
import { SIMD_WASM_BASE64 } from './simd-binary.js';

/** Pointers are byte offsets into the memory (8-byte aligned), `n` is a count of float64 values. */
export interface SimdKernels {
  /** The bits of `pairwiseSum(a, p / 8, n)`. */
  sum(p: number, n: number): number;
  /** The bits of `pairwiseSumSquares(a, p / 8, n)`. */
  sumSquares(p: number, n: number): number;
  /** The bits of `pairwiseSumAbs(a, p / 8, n)`. */
  sumAbs(p: number, n: number): number;
  /** The bits of `pairwiseSumSquaredDeviations(a, p / 8, n, mean)`. */
  sumSquaredDeviations(p: number, n: number, mean: number): number;
  /** The bits of `pairwiseSumSquaredDifferences(a, p / 8, a, q / 8, n)`. */
  sumSquaredDifferences(p: number, q: number, n: number): number;
  /** The bits of `dotInLanes(a, p / 8, a, q / 8, n)`. */
  dot(p: number, q: number, n: number): number;
  /** Any-order sum: the benchmark's memory-read ceiling, not a kernel. */
  flatSum(p: number, n: number): number;
}

let compiled: WebAssembly.Module | undefined;

/**
 * Compiles the module once per thread (lazily, on first use) and returns a fresh instance over
 * `memory`. An instance keeps its memory alive, so callers drop it after a task for the memory to
 * be freed: never cache instances.
 */
export function simdKernels(memory: WebAssembly.Memory): SimdKernels {
  compiled ??= new WebAssembly.Module(Buffer.from(SIMD_WASM_BASE64, 'base64'));
  const instance = new WebAssembly.Instance(compiled, { env: { memory } });
  return instance.exports as unknown as SimdKernels;
}

/**
 * Sums `a[off + i] * v[voff + i]` for i < n in the order of the wasm `dot`: eight accumulators
 * starting at +0 take element 8j+k of each whole block into s_k, combine as
 * ((s0+s2)+(s4+s6)) + ((s1+s3)+(s5+s7)) (the f64x2 lanes (s0,s1)..(s6,s7) added lane-wise, then
 * the two lanes), then the n%8 tail is added in order.
 */
export function dotInLanes(a: Float64Array, off: number, v: Float64Array, voff: number, n: number): number {
  const shift = voff - off;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let s4 = 0;
  let s5 = 0;
  let s6 = 0;
  let s7 = 0;
  const end = off + n;
  const blocksEnd = end - (n % 8);
  let i = off;
  for (; i < blocksEnd; i += 8) {
    const j = i + shift;
    s0 += a[i] * v[j];
    s1 += a[i + 1] * v[j + 1];
    s2 += a[i + 2] * v[j + 2];
    s3 += a[i + 3] * v[j + 3];
    s4 += a[i + 4] * v[j + 4];
    s5 += a[i + 5] * v[j + 5];
    s6 += a[i + 6] * v[j + 6];
    s7 += a[i + 7] * v[j + 7];
  }
  let res = s0 + s2 + (s4 + s6) + (s1 + s3 + (s5 + s7));
  for (; i < end; i++) res += a[i] * v[i + shift];
  return res;
}
