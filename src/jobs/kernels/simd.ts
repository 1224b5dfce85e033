/**
 * The f64x2 kernels of simd.wat, run in place on a dataset held in a shared WebAssembly.Memory.
 * There is one set per dtype: each reads the dtype at its own width and widens to float64 in
 * registers, so its result has the bits of the float64 kernel on the row converted as
 * `x.astype(float64)` (CONVERTERS in convert.ts). The pairwise ones give the same bits as their
 * twins in pairwise.ts; `dot` has its own rounding order, which `dotInLanes` in pairwise.ts
 * repeats in JS for data that is not in a wasm memory.
 */
import type { DType } from '../../datasets/dtypes.js';
import { SIMD_WASM_BASE64 } from './simd-binary.js';

/**
 * Pointers are byte offsets into the memory: `p` of the row's first element (aligned to the
 * dtype's size), `q` of a float64 vector (8-byte aligned). `n` counts elements. `a` below is the
 * run at `p` converted to float64, `v` the float64 memory.
 */
export interface SimdKernels {
  /** The bits of `pairwiseSum(a, 0, n)`. */
  sum(p: number, n: number): number;
  /** The bits of `pairwiseSumSquares(a, 0, n)`. */
  sumSquares(p: number, n: number): number;
  /** The bits of `pairwiseSumAbs(a, 0, n)`. */
  sumAbs(p: number, n: number): number;
  /** The bits of `pairwiseSumSquaredDeviations(a, 0, n, mean)`. */
  sumSquaredDeviations(p: number, n: number, mean: number): number;
  /** The bits of `pairwiseSumSquaredDifferences(a, 0, v, q / 8, n)`. */
  sumSquaredDifferences(p: number, q: number, n: number): number;
  /** The bits of `dotInLanes(a, 0, v, q / 8, n)`. */
  dot(p: number, q: number, n: number): number;
  /**
   * For each of `rows` rows of `n` elements stored back to back from `p`, and each of `nq` float64
   * query vectors of `n` values stored back to back from `q`: `dot(row, query)` as a float64 at
   * `out + 8 * (row * nq + query)`.
   */
  dotMany(p: number, rows: number, n: number, q: number, nq: number, out: number): void;
  /** The memory the kernels read. */
  readonly memory: WebAssembly.Memory;
}

/** The export suffix of each dtype's kernels in simd.wat (`sum_f32`, `dot_i8`, …). */
export const SIMD_SUFFIX: Readonly<Record<DType, string>> = {
  float64: 'f64',
  float32: 'f32',
  float16: 'f16',
  int8: 'i8',
  int16: 'i16',
  int32: 'i32',
  int64: 'i64',
  uint8: 'u8',
  uint16: 'u16',
  uint32: 'u32',
  uint64: 'u64',
  bool: 'bool',
};

const KERNEL_NAMES = [
  'sum',
  'sumSquares',
  'sumAbs',
  'sumSquaredDeviations',
  'sumSquaredDifferences',
  'dot',
  'dotMany',
] as const satisfies readonly (keyof SimdKernels)[];

let compiled: WebAssembly.Module | undefined;

function instantiate(memory: WebAssembly.Memory): Record<string, unknown> {
  compiled ??= new WebAssembly.Module(Buffer.from(SIMD_WASM_BASE64, 'base64'));
  return new WebAssembly.Instance(compiled, { env: { memory } }).exports as Record<string, unknown>;
}

/**
 * Compiles the module once per thread (lazily, on first use) and returns a fresh instance's
 * kernels for `dtype` over `memory`. An instance keeps its memory alive: whoever keeps one must
 * let go of it before the memory can be freed.
 */
export function simdKernelsFor(memory: WebAssembly.Memory, dtype: DType): SimdKernels {
  const exports = instantiate(memory);
  const suffix = SIMD_SUFFIX[dtype];
  const kernels: Partial<Record<keyof SimdKernels, unknown>> = { memory };
  for (const name of KERNEL_NAMES) kernels[name] = exports[`${name}_${suffix}`];
  return kernels as SimdKernels;
}

/** The float64 kernels over `memory`. */
export function simdKernels(memory: WebAssembly.Memory): SimdKernels {
  return simdKernelsFor(memory, 'float64');
}
