/**
 * The golden fixtures in test/fixtures (made by NumPy): the manifest, and any fixture .npy read into
 * the layout rowpool stores (little-endian, C order), whatever byte order and memory order the file
 * has. Kept simple rather than fast: the files are small.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DTYPE_INFO, type DType, elementCount } from '../../src/datasets/dtypes.js';
import { parseNpyHeader } from '../../src/datasets/npy.js';

export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/', import.meta.url));

export interface FixtureParams {
  readonly ddof?: number;
  readonly ord?: 1 | 2 | 'inf';
  readonly q?: number;
  readonly vector?: number[];
}

export interface FixtureCase {
  /** Relative to FIXTURES_DIR, e.g. `inputs/float32_c.npy`. */
  readonly input: string;
  readonly op: string;
  readonly params: FixtureParams;
  readonly top?: { readonly k: number; readonly largest: boolean };
  /** Per-row results, or for a top-k case the ranked rows and their values. */
  readonly expected: string | { readonly indices: string; readonly values: string };
}

export interface Manifest {
  /** The NumPy version that made the fixtures. */
  readonly numpy: string;
  readonly seed: number;
  readonly cases: FixtureCase[];
}

export interface NpyArray {
  readonly dtype: DType;
  readonly shape: number[];
  /** shape[0], and the product of the other dimensions (1 for a 1-D array). */
  readonly rows: number;
  readonly rowLength: number;
  /** The elements little-endian in C order, in a buffer of exactly their size. */
  readonly data: ArrayBuffer;
}

export function loadManifest(): Manifest {
  return JSON.parse(readFileSync(`${FIXTURES_DIR}manifest.json`, 'utf8')) as Manifest;
}

/** A file's bytes exactly as stored, for tests that upload fixtures. */
export function fixtureFile(relativePath: string): Buffer {
  return readFileSync(`${FIXTURES_DIR}${relativePath}`);
}

/** A readable name for a case, e.g. `float32_c.var_ddof1` or `int8_c.sum_top3`. */
export function caseName(c: FixtureCase): string {
  const file = typeof c.expected === 'string' ? c.expected : c.expected.values;
  return file.replace(/^expected\//, '').replace(/(\.values)?\.npy$/, '');
}

export function readNpy(relativePath: string): NpyArray {
  const file = fixtureFile(relativePath);
  const header = parseNpyHeader(file);
  const { itemsize } = DTYPE_INFO[header.dtype];
  const count = elementCount(header.shape);
  const stored = new Uint8Array(file.buffer, file.byteOffset + header.dataOffset, count * itemsize);
  const data = new Uint8Array(count * itemsize);
  if (header.fortranOrder) copyFortranToC(stored, data, header.shape, itemsize);
  else data.set(stored);
  if (header.bigEndian) {
    for (let at = 0; at < data.length; at += itemsize) data.subarray(at, at + itemsize).reverse();
  }
  return {
    dtype: header.dtype,
    shape: header.shape,
    rows: header.shape[0],
    rowLength: elementCount(header.shape.slice(1)),
    data: data.buffer,
  };
}

/** Walks the C-order positions with a multi-index and copies each element from its Fortran position. */
function copyFortranToC(src: Uint8Array, dst: Uint8Array, shape: readonly number[], itemsize: number): void {
  const fortranStrides = shape.map((_, axis) => elementCount(shape.slice(0, axis)));
  const index = shape.map(() => 0);
  const count = elementCount(shape);
  for (let c = 0; c < count; c++) {
    let f = 0;
    for (let axis = 0; axis < shape.length; axis++) f += index[axis] * fortranStrides[axis];
    dst.set(src.subarray(f * itemsize, (f + 1) * itemsize), c * itemsize);
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      if (++index[axis] < shape[axis]) break;
      index[axis] = 0;
    }
  }
}

/** IEEE half precision, decoded from the formula (independently of the kernels' lookup table). */
export function float16Value(bits: number): number {
  const sign = bits >> 15 ? -1 : 1;
  const exponent = (bits >> 10) & 31;
  const fraction = (bits & 1023) / 1024;
  if (exponent === 0) return sign * 2 ** -14 * fraction;
  if (exponent === 31) return fraction === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * 2 ** (exponent - 15) * (1 + fraction);
}

/** The elements as float64, as `astype(np.float64)` gives them (64-bit integers through BigInt). */
export function toNumbers(array: NpyArray): Float64Array {
  const { data } = array;
  switch (array.dtype) {
    case 'float16':
      return Float64Array.from(new Uint16Array(data), float16Value);
    case 'float32':
      return Float64Array.from(new Float32Array(data));
    case 'float64':
      return new Float64Array(data.slice(0));
    case 'int8':
      return Float64Array.from(new Int8Array(data));
    case 'int16':
      return Float64Array.from(new Int16Array(data));
    case 'int32':
      return Float64Array.from(new Int32Array(data));
    case 'int64':
      return Float64Array.from(new BigInt64Array(data), (v) => Number(v));
    case 'uint8':
      return Float64Array.from(new Uint8Array(data));
    case 'uint16':
      return Float64Array.from(new Uint16Array(data));
    case 'uint32':
      return Float64Array.from(new Uint32Array(data));
    case 'uint64':
      return Float64Array.from(new BigUint64Array(data), (v) => Number(v));
    case 'bool':
      return Float64Array.from(new Uint8Array(data), (v) => (v === 0 ? 0 : 1));
  }
}

/** A fixture's elements as numbers; expected files are `<f8` or `<i8`. */
export function readNumbers(relativePath: string): Float64Array {
  return toNumbers(readNpy(relativePath));
}

/**
 * Where `actual` differs from `expected` beyond `rtol` (|a - e| <= rtol * |e|), NaN matching only
 * NaN and infinities matching in sign; an empty list means they agree.
 */
export function mismatches(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 1e-9): string[] {
  const out: string[] = [];
  if (actual.length !== expected.length) out.push(`length ${actual.length} instead of ${expected.length}`);
  for (let i = 0; i < Math.min(actual.length, expected.length); i++) {
    const a = actual[i];
    const e = expected[i];
    const ok = Number.isNaN(e)
      ? Number.isNaN(a)
      : Number.isFinite(e)
        ? Math.abs(a - e) <= rtol * Math.abs(e)
        : a === e;
    if (!ok) out.push(`[${i}]: ${a} instead of ${e}`);
  }
  return out;
}
