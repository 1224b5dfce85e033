import { DTYPE_INFO, elementCount } from '../datasets/dtypes.js';
import { npyDataOffset, parseNpyHeader } from '../datasets/npy.js';
import type { DType, NdArray, TopK, TypedArray } from './types.js';

/**
 * Reads .npy bytes into typed arrays. The header is parsed by the server's own codec, so the client
 * accepts exactly what an upload accepts; data is viewed in place when it is little-endian and
 * aligned, and copied otherwise.
 */

const ARRAY_OF: Record<
  Exclude<DType, 'float16'>,
  (buffer: ArrayBuffer, offset: number, length: number) => TypedArray
> = {
  float32: (b, o, n) => new Float32Array(b, o, n),
  float64: (b, o, n) => new Float64Array(b, o, n),
  int8: (b, o, n) => new Int8Array(b, o, n),
  int16: (b, o, n) => new Int16Array(b, o, n),
  int32: (b, o, n) => new Int32Array(b, o, n),
  int64: (b, o, n) => new BigInt64Array(b, o, n),
  uint8: (b, o, n) => new Uint8Array(b, o, n),
  uint16: (b, o, n) => new Uint16Array(b, o, n),
  uint32: (b, o, n) => new Uint32Array(b, o, n),
  uint64: (b, o, n) => new BigUint64Array(b, o, n),
  bool: (b, o, n) => new Uint8Array(b, o, n),
};

/** The descr rowpool writes for a top-k result. */
const TOP_K_DESCR = "[('index', '<i8'), ('value', '<f8')]";

export function readNpy(bytes: Uint8Array): NdArray {
  const header = parseNpyHeader(bytes);
  const { dtype, shape, dataOffset } = header;
  if (header.fortranOrder && shape.filter((d) => d !== 1).length > 1) {
    throw new Error('the .npy file is in Fortran order; save it in C order (numpy.ascontiguousarray)');
  }
  const count = elementCount(shape);
  const { itemsize } = DTYPE_INFO[dtype];
  if (bytes.length < dataOffset + count * itemsize) {
    throw new Error(
      `the .npy file holds ${bytes.length - dataOffset} data bytes; its header says ${count * itemsize}`,
    );
  }
  let data = bytes.subarray(dataOffset, dataOffset + count * itemsize);
  if (header.bigEndian || data.byteOffset % itemsize !== 0) data = data.slice();
  if (header.bigEndian) swapInPlace(data, itemsize);
  return { dtype, shape, data: typedArray(dtype, data, count) };
}

/** A top-k result's .npy (a structured array of index and value); undefined for any other file. */
export function readTopK(bytes: Uint8Array): TopK | undefined {
  const dataOffset = npyDataOffset(bytes);
  if (dataOffset === undefined) return undefined;
  const header = Buffer.from(bytes.buffer, bytes.byteOffset, dataOffset).toString('latin1');
  if (!header.includes(`'descr': ${TOP_K_DESCR}`)) return undefined;
  const count = Number(/'shape': \((\d+),\)/.exec(header)?.[1] ?? Number.NaN);
  if (!Number.isSafeInteger(count)) throw new Error('the top-k .npy header has no 1-d shape');
  const view = new DataView(bytes.buffer, bytes.byteOffset + dataOffset, count * 16);
  const indices = new Array<number>(count);
  const values = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    indices[i] = Number(view.getBigInt64(i * 16, true));
    values[i] = view.getFloat64(i * 16 + 8, true);
  }
  return { indices, values };
}

function typedArray(dtype: DType, data: Uint8Array, count: number): TypedArray {
  if (dtype === 'float16') return float16ToFloat32(new Uint16Array(data.buffer, data.byteOffset, count));
  return ARRAY_OF[dtype](data.buffer as ArrayBuffer, data.byteOffset, count);
}

function swapInPlace(bytes: Uint8Array, itemsize: number): void {
  for (let i = 0; i < bytes.length; i += itemsize) bytes.subarray(i, i + itemsize).reverse();
}

/** IEEE 754 half precision to single: every half value, subnormals and NaN included, is exact. */
function float16ToFloat32(halves: Uint16Array): Float32Array {
  const out = new Float32Array(halves.length);
  for (let i = 0; i < halves.length; i++) {
    const h = halves[i];
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const fraction = h & 0x3ff;
    if (exponent === 0) out[i] = sign * fraction * 2 ** -24;
    else if (exponent === 0x1f) out[i] = fraction === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
    else out[i] = sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
  }
  return out;
}
