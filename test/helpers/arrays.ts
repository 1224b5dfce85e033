import { DTYPE_INFO, type DType } from '../../src/datasets/dtypes.js';
import { allocateSharedArray, type SharedArray, setBytes } from '../../src/datasets/shared-array.js';

/** Deterministic pseudo-random bytes that are valid values of every dtype (bool stays 0/1). */
export function sampleBytes(dtype: DType, count: number, seed = 1): Uint8Array {
  const { itemsize, kind } = DTYPE_INFO[dtype];
  const out = new Uint8Array(count * itemsize);
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
  if (kind === 'b') {
    for (let i = 0; i < count; i++) out[i] = next() & 1;
  } else if (kind === 'f') {
    const view = new DataView(out.buffer);
    for (let i = 0; i < count; i++) {
      const v = ((next() % 20001) - 10000) / 64;
      if (itemsize === 8) view.setFloat64(i * 8, v, true);
      else if (itemsize === 4) view.setFloat32(i * 4, v, true);
      else view.setUint16(i * 2, (next() % 0x7b00) | (next() & 0x8000), true);
    }
  } else {
    for (let i = 0; i < out.length; i++) out[i] = next() & 0xff;
  }
  return out;
}

export function swapBytes(bytes: Uint8Array, itemsize: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += itemsize) {
    for (let b = 0; b < itemsize; b++) out[i + b] = bytes[i + itemsize - 1 - b];
  }
  return out;
}

/** C-order element bytes rearranged into Fortran order (first axis fastest). */
export function toFortran(bytes: Uint8Array, shape: readonly number[], itemsize: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  const count = bytes.length / itemsize;
  const index = shape.map(() => 0);
  for (let f = 0; f < count; f++) {
    let c = 0;
    for (let d = 0; d < shape.length; d++) c = c * shape[d] + index[d];
    out.set(bytes.subarray(c * itemsize, (c + 1) * itemsize), f * itemsize);
    for (let d = 0; d < shape.length; d++) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

/** `data` (rows of `rowBytes` bytes) in shared memory, split into segments past `segmentLimit` bytes. */
export function sharedArrayOf(
  dtype: DType,
  data: Uint8Array,
  rows: number,
  segmentLimit?: number,
): SharedArray {
  const array = allocateSharedArray(dtype, rows, rows === 0 ? 0 : data.byteLength / rows, segmentLimit);
  setBytes(array, data);
  return array;
}
