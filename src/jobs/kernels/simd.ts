/**
 * The f64x2 kernels of simd.wat, run in place on a dataset held in a shared WebAssembly.Memory.
 * The pairwise ones give the same bits as their twins in pairwise.ts; `dot` has its own rounding
 * order, which `dotInLanes` in pairwise.ts repeats in JS for data that is not in a wasm memory.
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
 * `memory`. An instance keeps its memory alive: whoever keeps one must let go of it before the
 * memory can be freed.
 */
export function simdKernels(memory: WebAssembly.Memory): SimdKernels {
  compiled ??= new WebAssembly.Module(Buffer.from(SIMD_WASM_BASE64, 'base64'));
  const instance = new WebAssembly.Instance(compiled, { env: { memory } });
  return instance.exports as unknown as SimdKernels;
}
