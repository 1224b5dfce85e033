import { InvalidDatasetRequest } from '../errors.js';
import type { MemoryBudget } from '../memory.js';
import { DTYPE_INFO, type DType } from './dtypes.js';
import { allocateSharedArray } from './shared-array.js';
import type { FilledArray } from './store.js';

/**
 * Turns the numbers of a JSON or CSV upload into a dataset buffer, with NumPy's rules for what fits a
 * dtype: integers must be whole and in range, bool takes any number (non-zero is true), floats round.
 */
/** Integer text from CSV arrives as bigint, so 64-bit integers keep every digit. */
export type Scalar = number | boolean | bigint;

const INT_RANGE: Partial<Record<DType, readonly [number, number]>> = {
  int8: [-(2 ** 7), 2 ** 7 - 1],
  int16: [-(2 ** 15), 2 ** 15 - 1],
  int32: [-(2 ** 31), 2 ** 31 - 1],

  uint8: [0, 2 ** 8 - 1],
  uint16: [0, 2 ** 16 - 1],
  uint32: [0, 2 ** 32 - 1],
};

export function fillFromValues(
  dtype: DType,
  shape: readonly number[],
  values: readonly Scalar[],
  budget: MemoryBudget,
  describe: (flatIndex: number) => string,
): FilledArray {
  const bytes = values.length * DTYPE_INFO[dtype].itemsize;
  const reservation = budget.reserve(bytes);
  try {
    const array = allocateSharedArray(dtype, bytes);
    encode(dtype, values, array.buffer, describe);
    return { ...array, dtype, shape, reservation };
  } catch (err) {
    reservation.release();
    throw err;
  }
}

function encode(
  dtype: DType,
  values: readonly Scalar[],
  buffer: SharedArrayBuffer,
  describe: (i: number) => string,
): void {
  const kind = DTYPE_INFO[dtype].kind;
  const n = values.length;
  if (kind === 'b') {
    const out = new Uint8Array(buffer);
    for (let i = 0; i < n; i++) out[i] = values[i] !== 0 && values[i] !== false && values[i] !== 0n ? 1 : 0;
    return;
  }
  const numbers = new Float64Array(n);
  for (let i = 0; i < n; i++) numbers[i] = Number(values[i]);
  if (kind === 'f') {
    if (dtype === 'float16') {
      const out = new Uint16Array(buffer);
      for (let i = 0; i < n; i++) out[i] = float16Bits(numbers[i]);
    } else {
      (dtype === 'float32' ? new Float32Array(buffer) : new Float64Array(buffer)).set(numbers);
    }
    return;
  }
  if (dtype === 'int64' || dtype === 'uint64') {
    const [min, max] = dtype === 'int64' ? [-(2n ** 63n), 2n ** 63n - 1n] : [0n, 2n ** 64n - 1n];
    const out = dtype === 'int64' ? new BigInt64Array(buffer) : new BigUint64Array(buffer);
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (typeof v !== 'bigint' && !Number.isInteger(numbers[i])) throw notInteger(describe(i), v, dtype);
      const big = typeof v === 'bigint' ? v : BigInt(numbers[i]);
      if (big < min || big > max) throw outOfRange(describe(i), v, dtype);
      out[i] = big;
    }
    return;
  }
  const [min, max] = INT_RANGE[dtype]!;
  for (let i = 0; i < n; i++) {
    const v = numbers[i];
    if (!Number.isInteger(v)) throw notInteger(describe(i), values[i], dtype);
    if (v < min || v > max) throw outOfRange(describe(i), values[i], dtype);
  }
  const Typed = {
    int8: Int8Array,
    int16: Int16Array,
    int32: Int32Array,
    uint8: Uint8Array,
    uint16: Uint16Array,
    uint32: Uint32Array,
  }[dtype as 'int8'];
  new Typed(buffer).set(numbers);
}

/** IEEE 754 half-precision bits of `x`, rounded to nearest, ties to even, as NumPy's astype does. */
export function float16Bits(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= 65520) return sign | 0x7c00;
  if (a < 2 ** -14) {
    // Subnormal: a multiple of 2^-24, rounded half to even.
    return sign | roundHalfEven(a * 2 ** 24);
  }
  let e = Math.floor(Math.log2(a));
  if (a / 2 ** e >= 2) e++;
  else if (a / 2 ** e < 1) e--;
  const scaled = a / 2 ** e;
  let mantissa = roundHalfEven((scaled - 1) * 1024);
  let biased = e + 15;
  if (mantissa === 1024) {
    mantissa = 0;
    biased += 1;
  }
  if (biased >= 31) return sign | 0x7c00;
  return sign | (biased << 10) | mantissa;
}

function roundHalfEven(v: number): number {
  const floor = Math.floor(v);
  const diff = v - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

function notInteger(where: string, value: Scalar, dtype: DType): Error {
  return new InvalidDatasetRequest(`${where} is ${value}, which is not an integer as dtype ${dtype} needs`);
}

function outOfRange(where: string, value: Scalar, dtype: DType): Error {
  return new InvalidDatasetRequest(`${where} is ${value}, outside the range of dtype ${dtype}`);
}
