/**
 * Per-dtype readers that turn stored elements into float64, as `x.astype(np.float64)` does. Every
 * codec is written out as its own function literals, so each element access site only ever sees
 * one typed-array class and V8 keeps it monomorphic. Where `TypedArray.prototype.set` converts
 * exactly (every integer type of up to 32 bits, and float32) it does the bulk conversion: V8's
 * native loop is several times faster than any JavaScript loop; the others are unrolled by hand.
 */
import type { DType } from '../../datasets/dtypes.js';
import { TWO_POW_32 } from '../../int64.js';

export type RawView =
  | Float64Array
  | Float32Array
  | Uint16Array
  | Int8Array
  | Int16Array
  | Int32Array
  | Uint8Array
  | Uint32Array;

/**
 * Element indices and counts are in dataset elements, whatever the view's class (int64 and uint64
 * are read as two 32-bit halves per element). Methods, not function properties, so that a codec
 * over one view class is assignable to `Codec<RawView>`.
 */
export interface Codec<T extends RawView> {
  /** How many view elements one dataset element takes. */
  readonly lanes: number;
  view(buffer: ArrayBufferLike, byteOffset: number, elements: number): T;
  /** Writes elements `start, start + stride, …` (n of them) as float64 into `out[0..n)`. */
  gather(src: T, start: number, stride: number, n: number, out: Float64Array): void;
}

/** float64 rows are read in place; every other dtype is converted a block at a time. */
export interface Converter<T extends RawView> extends Codec<T> {
  /** Writes elements `[start, start + n)` as float64 into `out[0..n)`. */
  convert(src: T, start: number, n: number, out: Float64Array): void;
}

/** Every float16 bit pattern decoded once; a table lookup beats decoding bits per element. */
export const FLOAT16_TO_FLOAT64: Float64Array = buildFloat16Table();

function buildFloat16Table(): Float64Array {
  const table = new Float64Array(65536);
  for (let bits = 0; bits < 65536; bits++) {
    const sign = bits & 0x8000 ? -1 : 1;
    const exponent = (bits >> 10) & 0x1f;
    const mantissa = bits & 0x3ff;
    let magnitude: number;
    if (exponent === 0) magnitude = mantissa * 2 ** -24;
    else if (exponent === 31) magnitude = mantissa === 0 ? Number.POSITIVE_INFINITY : Number.NaN;
    else magnitude = (1024 + mantissa) * 2 ** (exponent - 25);
    table[bits] = sign * magnitude;
  }
  return table;
}

const float64: Codec<Float64Array> = {
  lanes: 1,
  view: (buffer, byteOffset, elements) => new Float64Array(buffer, byteOffset, elements),
  gather(src, start, stride, n, out) {
    for (let i = 0, j = start; i < n; i++, j += stride) out[i] = src[j];
  },
};

const float32: Converter<Float32Array> = {
  lanes: 1,
  view: (buffer, byteOffset, elements) => new Float32Array(buffer, byteOffset, elements),
  convert(src, start, n, out) {
    out.set(src.subarray(start, start + n));
  },
  gather(src, start, stride, n, out) {
    for (let i = 0, j = start; i < n; i++, j += stride) out[i] = src[j];
  },
};

const float16: Converter<Uint16Array> = {
  lanes: 1,
  view: (buffer, byteOffset, elements) => new Uint16Array(buffer, byteOffset, elements),
  convert(src, start, n, out) {
    const table = FLOAT16_TO_FLOAT64;
    let i = 0;
    for (const head = n % 4; i < head; i++) out[i] = table[src[start + i]];
    for (let j = start + i; i < n; i += 4, j += 4) {
      out[i] = table[src[j]];
      out[i + 1] = table[src[j + 1]];
      out[i + 2] = table[src[j + 2]];
      out[i + 3] = table[src[j + 3]];
    }
  },
  gather(src, start, stride, n, out) {
    const table = FLOAT16_TO_FLOAT64;
    for (let i = 0, j = start; i < n; i++, j += stride) out[i] = table[src[j]];
  },
};

const int8: Converter<Int8Array> = {
  lanes: 1,
  view: (buffer, byteOffset, elements) => new Int8Array(buffer, byteOffset, elements),
  convert(src, start, n, out) {
    out.set(src.subarray(start, start + n));
  },
  gather(src, start, stride, n, out) {
    for (let i = 0, j = start; i < n; i++, j += stride) out[i] = src[j];
  },
};

const int16: Converter<Int16Array> = {
  lanes: 1,
  view: (buffer, byteOffset, elements) => new Int16Array(buffer, byteOffset, elements),
  convert(src, start, n, out) {
    out.set(src.subarray(start, start + n));
  },
  gather(src, start, stride, n, out) {
    for (let i = 0, j = start; i < n; i++, j += stride) out[i] = src[j];
  },
};

const int32: Converter<Int32Array> = {
  lanes: 1,
  view: (buffer, byteOffset, elements) => new Int32Array(buffer, byteOffset, elements),
  convert(src, start, n, out) {
    out.set(src.subarray(start, start + n));
  },
  gather(src, start, stride, n, out) {
    for (let i = 0, j = start; i < n; i++, j += stride) out[i] = src[j];
  },
};

// hi * 2**32 is exact and adding lo rounds once, to nearest even, exactly as NumPy's cast does.
const int64: Converter<Int32Array> = {
  lanes: 2,
  view: (buffer, byteOffset, elements) => new Int32Array(buffer, byteOffset, elements * 2),
  convert(src, start, n, out) {
    for (let i = 0, j = start * 2; i < n; i++, j += 2) out[i] = src[j + 1] * TWO_POW_32 + (src[j] >>> 0);
  },
  gather(src, start, stride, n, out) {
    const step = stride * 2;
    for (let i = 0, j = start * 2; i < n; i++, j += step) out[i] = src[j + 1] * TWO_POW_32 + (src[j] >>> 0);
  },
};

const uint8: Converter<Uint8Array> = {
  lanes: 1,
  view: (buffer, byteOffset, elements) => new Uint8Array(buffer, byteOffset, elements),
  convert(src, start, n, out) {
    out.set(src.subarray(start, start + n));
  },
  gather(src, start, stride, n, out) {
    for (let i = 0, j = start; i < n; i++, j += stride) out[i] = src[j];
  },
};

const uint16: Converter<Uint16Array> = {
  lanes: 1,
  view: (buffer, byteOffset, elements) => new Uint16Array(buffer, byteOffset, elements),
  convert(src, start, n, out) {
    out.set(src.subarray(start, start + n));
  },
  gather(src, start, stride, n, out) {
    for (let i = 0, j = start; i < n; i++, j += stride) out[i] = src[j];
  },
};

const uint32: Converter<Uint32Array> = {
  lanes: 1,
  view: (buffer, byteOffset, elements) => new Uint32Array(buffer, byteOffset, elements),
  convert(src, start, n, out) {
    out.set(src.subarray(start, start + n));
  },
  gather(src, start, stride, n, out) {
    for (let i = 0, j = start; i < n; i++, j += stride) out[i] = src[j];
  },
};

const uint64: Converter<Uint32Array> = {
  lanes: 2,
  view: (buffer, byteOffset, elements) => new Uint32Array(buffer, byteOffset, elements * 2),
  convert(src, start, n, out) {
    for (let i = 0, j = start * 2; i < n; i++, j += 2) out[i] = src[j + 1] * TWO_POW_32 + src[j];
  },
  gather(src, start, stride, n, out) {
    const step = stride * 2;
    for (let i = 0, j = start * 2; i < n; i++, j += step) out[i] = src[j + 1] * TWO_POW_32 + src[j];
  },
};

// NumPy reads any nonzero byte as True, so a stray byte other than 1 still counts as 1.
const bool: Converter<Uint8Array> = {
  lanes: 1,
  view: (buffer, byteOffset, elements) => new Uint8Array(buffer, byteOffset, elements),
  convert(src, start, n, out) {
    let i = 0;
    for (const head = n % 4; i < head; i++) out[i] = src[start + i] === 0 ? 0 : 1;
    for (let j = start + i; i < n; i += 4, j += 4) {
      out[i] = src[j] === 0 ? 0 : 1;
      out[i + 1] = src[j + 1] === 0 ? 0 : 1;
      out[i + 2] = src[j + 2] === 0 ? 0 : 1;
      out[i + 3] = src[j + 3] === 0 ? 0 : 1;
    }
  },
  gather(src, start, stride, n, out) {
    for (let i = 0, j = start; i < n; i++, j += stride) out[i] = src[j] === 0 ? 0 : 1;
  },
};

export const CONVERTERS: Readonly<Record<Exclude<DType, 'float64'>, Converter<RawView>>> = {
  float16,
  float32,
  int8,
  int16,
  int32,
  int64,
  uint8,
  uint16,
  uint32,
  uint64,
  bool,
};

export const CODECS: Readonly<Record<DType, Codec<RawView>>> = { ...CONVERTERS, float64 };
