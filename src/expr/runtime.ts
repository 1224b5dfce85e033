/**
 * What generated kernels call besides Math: NumPy's scalar rules where JavaScript's differ, NumPy's
 * slice arithmetic, the pairwise-summation plan, scratch growth and row errors. Kernels receive this
 * object as their only outside reference.
 */
import { FLOAT16_TO_FLOAT64 } from '../jobs/kernels/convert.js';
import { split } from '../jobs/kernels/pairwise.js';
import { rowMedian, rowQuantile } from '../jobs/kernels/select.js';
import { ExprRowError } from './errors.js';

const LEAF = 128;

/** Failure codes the generated code passes to `fail`, so it carries numbers, never message text. */
export const FAIL = {
  index: 1,
  broadcast: 2,
  step: 3,
  integer: 4,
  quantile: 5,
  emptyMin: 6,
  emptyMax: 7,
  emptyArgmin: 8,
  emptyArgmax: 9,
  emptyQuantile: 10,
} as const;

function message(code: number, a: number, b: number): string {
  switch (code) {
    case FAIL.index:
      return `index ${a} is out of bounds for an axis of size ${b}`;
    case FAIL.broadcast:
      return `operands of lengths ${a} and ${b} could not be broadcast together`;
    case FAIL.step:
      return 'slice step cannot be zero';
    case FAIL.integer:
      return `indices and slice bounds must be integers, got ${a}`;
    case FAIL.quantile:
      return `quantiles must be in the range [0, 1], got ${a}`;
    case FAIL.emptyQuantile:
      return 'quantile of an empty array';
    default:
      return `zero-size array to reduction operation ${['min', 'max', 'argmin', 'argmax'][code - FAIL.emptyMin]} which has no identity`;
  }
}

export function fail(row: number, code: number, a: number, b: number): never {
  throw new ExprRowError(row, message(code, a, b));
}

/** NumPy's npy_divmod quotient (from fmod, as NumPy does), so `-3 // 0.3` is -11. */
export function floorDiv(a: number, b: number): number {
  if (b === 0) return a / b;
  const mod = a % b;
  let div = (a - mod) / b;
  if (mod !== 0 && b < 0 !== mod < 0) div -= 1;
  if (div !== 0) {
    let floordiv = Math.floor(div);
    if (div - floordiv > 0.5) floordiv += 1;
    return floordiv;
  }
  const q = a / b;
  return q < 0 || Object.is(q, -0) ? -0 : 0;
}

/** NumPy's remainder: the sign of the divisor, derived from fmod (`-7.0 % 0.7` is 0.6999999999999995). */
export function remainder(a: number, b: number): number {
  let mod = a % b;
  if (b === 0) return mod;
  if (mod !== 0) {
    if (b < 0 !== mod < 0) mod += b;
  } else {
    mod = b < 0 ? -0 : 0;
  }
  return mod;
}

/** C's pow where JavaScript's differs: 1 to any power, and -1 to ±inf, are 1. */
export function power(a: number, b: number): number {
  if (a === 1) return 1;
  if (a === -1 && (b === Number.POSITIVE_INFINITY || b === Number.NEGATIVE_INFINITY)) return 1;
  return a ** b;
}

/** Round half to even, as np.round and np.rint. */
export function roundHalfEven(a: number): number {
  const r = Math.round(a);
  return r - a === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export function square(a: number): number {
  return a * a;
}

export function isInf(a: number): boolean {
  return a === Number.POSITIVE_INFINITY || a === Number.NEGATIVE_INFINITY;
}

/** np.sign: NaN stays NaN and both zeros give +0. */
export function sign(a: number): number {
  return a > 0 ? 1 : a < 0 ? -1 : a === 0 ? 0 : a;
}

/** A given slice start or stop clamped as Python's PySlice_AdjustIndices does. */
export function sliceBound(length: number, value: number, step: number): number {
  if (value < 0) {
    value += length;
    if (value < 0) return step < 0 ? -1 : 0;
    return value;
  }
  if (value >= length) return step < 0 ? length - 1 : length;
  return value;
}

export function sliceLength(start: number, stop: number, step: number): number {
  if (step < 0) return stop < start ? Math.floor((start - stop - 1) / -step) + 1 : 0;
  return start < stop ? Math.floor((stop - start - 1) / step) + 1 : 0;
}

/** The broadcast length of two 1-D operands, or the row error NumPy raises. */
export function broadcast(row: number, a: number, b: number): number {
  if (a === b || b === 1) return a;
  if (a === 1) return b;
  return fail(row, FAIL.broadcast, a, b);
}

// The pairwise tree of a length, in post-order: an entry >= 0 is a leaf of that many values (taken
// in order), COMBINE adds the top two partial sums, END ends. Built once per distinct length in a row.
export const PLAN_COMBINE = -1;
export const PLAN_END = -2;
let plan = new Int32Array(64);
let planLength = -1;

function planInto(n: number, at: number): number {
  if (n <= LEAF) {
    plan[at] = n;
    return at + 1;
  }
  const n2 = split(n);
  at = planInto(n2, at);
  at = planInto(n - n2, at);
  plan[at] = PLAN_COMBINE;
  return at + 1;
}

/** The post-order plan of NumPy's pairwise summation over `n` values (pairwise.ts's tree). */
export function pairwisePlan(n: number): Int32Array {
  if (n !== planLength) {
    const entries = 2 * Math.ceil(n / 32) + 4;
    if (plan.length < entries) plan = new Int32Array(entries);
    plan[planInto(n, 0)] = PLAN_END;
    planLength = n;
  }
  return plan;
}

/** Scratch that only grows: a kernel keeps the array it gets back for the next row. */
export function grow(scratch: Float64Array, n: number): Float64Array {
  return scratch.length >= n ? scratch : new Float64Array(Math.max(n, scratch.length * 2));
}

/** Sorts `a[0..n)` as np.sort does: ascending, NaN last. */
export function sortPrefix(a: Float64Array, n: number): void {
  if (n === a.length) a.sort();
  else a.subarray(0, n).sort();
}

export function median(a: Float64Array, off: number, n: number): number {
  return rowMedian(a, off, n);
}

export function quantile(row: number, a: Float64Array, off: number, n: number, q: number): number {
  if (!(q >= 0 && q <= 1)) fail(row, FAIL.quantile, q, 0);
  if (n === 0) fail(row, FAIL.emptyQuantile, 0, 0);
  return rowQuantile(a, off, n, q);
}

export const RUNTIME = {
  fail,
  floorDiv,
  remainder,
  power,
  roundHalfEven,
  sign,
  square,
  isInf,
  sliceBound,
  sliceLength,
  broadcast,
  pairwisePlan,
  grow,
  sortPrefix,
  median,
  quantile,
  F16: FLOAT16_TO_FLOAT64,
};

export type Runtime = typeof RUNTIME;
