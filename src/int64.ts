/**
 * int64 values as JavaScript sees them: two 32-bit halves, little-endian. Results of argmin, argmax
 * and count_nonzero are int64 in NumPy, and typed arrays of int32 pairs read and write them without
 * BigInt in the kernels' loops.
 */
export const TWO_POW_32 = 4294967296;

/** Writes a safe integer as the int64 in slot `slot` of `out` (an Int32Array view of int64 cells). */
export function writeInt64(out: Int32Array, slot: number, value: number): void {
  out[2 * slot] = value >>> 0;
  out[2 * slot + 1] = Math.floor(value / TWO_POW_32);
}

/** Reads `count` little-endian int64 values (such as argmax results) as numbers. */
export function readInt64(buffer: ArrayBufferLike, count: number): Float64Array {
  const halves = new Int32Array(buffer, 0, count * 2);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = halves[2 * i + 1] * TWO_POW_32 + (halves[2 * i] >>> 0);
  return out;
}
