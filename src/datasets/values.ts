import { DTYPE_INFO, type DType } from './dtypes.js';

/**
 * Element encoders for text uploads: each writes one value into a typed view of the array's buffer
 * with NumPy's rules for what fits a dtype (integers must be whole and in range, bool takes any
 * number with non-zero as true, floats round), and says what was wrong when the value does not fit.
 */

/** Integer text from CSV arrives as bigint, so 64-bit integers keep every digit. */
export type Scalar = number | boolean | bigint;

/** Why a value could not be stored; undefined when it was stored. */
export type EncodeProblem = 'not-integer' | 'out-of-range' | undefined;

/** Writes `value` as element `index` of `view`, a typed array made by `viewFor`. */
export type Encoder = (view: ElementView, index: number, value: Scalar) => EncodeProblem;

export type ElementView =
  | Float64Array
  | Float32Array
  | Uint16Array
  | Uint8Array
  | Int8Array
  | Int16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

const VIEW: Record<DType, new (buffer: SharedArrayBuffer) => ElementView> = {
  float16: Uint16Array,
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  int64: BigInt64Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
};

export function viewFor(dtype: DType, buffer: SharedArrayBuffer): ElementView {
  return new VIEW[dtype](buffer);
}

const INT_RANGE: Partial<Record<DType, readonly [number, number]>> = {
  int8: [-(2 ** 7), 2 ** 7 - 1],
  int16: [-(2 ** 15), 2 ** 15 - 1],
  int32: [-(2 ** 31), 2 ** 31 - 1],
  uint8: [0, 2 ** 8 - 1],
  uint16: [0, 2 ** 16 - 1],
  uint32: [0, 2 ** 32 - 1],
};

const BIG_RANGE = {
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
} as const;

export function encoderFor(dtype: DType): Encoder {
  const kind = DTYPE_INFO[dtype].kind;
  if (kind === 'b') {
    return (view, i, v) => {
      view[i] = v !== 0 && v !== false && v !== 0n ? 1 : 0;
      return undefined;
    };
  }
  if (dtype === 'float16') {
    return (view, i, v) => {
      view[i] = float16Bits(Number(v));
      return undefined;
    };
  }
  if (kind === 'f') {
    return (view, i, v) => {
      view[i] = Number(v);
      return undefined;
    };
  }
  if (dtype === 'int64' || dtype === 'uint64') {
    const [min, max] = BIG_RANGE[dtype];
    return (view, i, v) => {
      if (typeof v !== 'bigint' && !Number.isInteger(Number(v))) return 'not-integer';
      const big = typeof v === 'bigint' ? v : BigInt(Number(v));
      if (big < min || big > max) return 'out-of-range';
      view[i] = big;
      return undefined;
    };
  }
  const [min, max] = INT_RANGE[dtype] as readonly [number, number];
  return (view, i, v) => {
    const n = Number(v);
    if (!Number.isInteger(n)) return 'not-integer';
    if (n < min || n > max) return 'out-of-range';
    view[i] = n;
    return undefined;
  };
}

/** The message for a value an encoder refused, naming where it came from. */
export function encodeProblemText(
  problem: 'not-integer' | 'out-of-range',
  where: string,
  value: Scalar,
  dtype: DType,
): string {
  return problem === 'not-integer'
    ? `${where} is ${value}, which is not an integer as dtype ${dtype} needs`
    : `${where} is ${value}, outside the range of dtype ${dtype}`;
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
