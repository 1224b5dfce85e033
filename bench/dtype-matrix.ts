import { DTYPE_INFO, type DType } from '../src/datasets/dtypes.js';

/**
 * The matrices of bench/ceiling-kernels.ts. A matrix is a 1 MiB pattern of plausible values
 * repeated: quick to fill, and NumPy makes the same array from the same pattern, since `np.resize`
 * repeats it the same way. The size divides by every dtype's, so the repeats keep whole elements.
 */
export const PATTERN_BYTES = 1 << 20;
const PAGE = 65536;

/** Plausible values of each dtype: no NaN or subnormal patterns to take slow paths. */
function fillPattern(dtype: DType, view: DataView, bytes: number): void {
  let seed = 12345;
  const next = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const size = DTYPE_INFO[dtype].itemsize;
  for (let at = 0; at + size <= bytes; at += size) {
    const x = next() * 2 - 1;
    switch (dtype) {
      case 'float64':
        view.setFloat64(at, x, true);
        break;
      case 'float32':
        view.setFloat32(at, x, true);
        break;
      // Magnitudes 2⁻⁵ to 2: small enough that NumPy's float16 sum of squares of a row stays finite.
      case 'float16':
        view.setUint16(
          at,
          (x < 0 ? 0x8000 : 0) | ((10 + Math.floor(next() * 6)) << 10) | (seed & 0x3ff),
          true,
        );
        break;
      case 'int64':
      case 'uint64':
        view.setBigInt64(at, BigInt(Math.floor(next() * 2 ** 40)), true);
        break;
      // NumPy's bools are the bytes 0 and 1; any other byte is not a value it makes.
      case 'bool':
        view.setUint8(at, x < 0 ? 0 : 1);
        break;
      default:
        for (let b = 0; b < size; b++) view.setUint8(at + b, Math.floor(next() * 256));
    }
  }
}

/**
 * One shared WebAssembly.Memory for a whole run, sized for its largest matrix: it holds each
 * dtype's matrix in turn at byte 0, and the float64 vector for dot after the largest. One memory
 * rather than one a dtype, so the run's footprint is one matrix however many dtypes it measures.
 */
export class Matrices {
  readonly memory: WebAssembly.Memory;
  /** Byte offset of the float64 vector. */
  readonly q: number;

  constructor(maxBytes: number, maxCols: number) {
    this.q = Math.ceil(maxBytes / 64) * 64;
    this.memory = new WebAssembly.Memory({
      initial: Math.ceil((this.q + maxCols * 8) / PAGE),
      maximum: 65536,
      shared: true,
    });
  }

  /**
   * Writes the `rows` × `cols` matrix of `dtype` at byte 0 and the vector `sin(i)` for dot;
   * returns the pattern's bytes, for NumPy to repeat into the same array.
   */
  fill(dtype: DType, rows: number, cols: number): Uint8Array {
    const bytes = rows * cols * DTYPE_INFO[dtype].itemsize;
    const pattern = Math.min(bytes, PATTERN_BYTES);
    const u8 = new Uint8Array(this.memory.buffer);
    fillPattern(dtype, new DataView(this.memory.buffer), pattern);
    for (let at = pattern; at < bytes; at += pattern) u8.copyWithin(at, 0, Math.min(pattern, bytes - at));
    const vector = new Float64Array(this.memory.buffer, this.q, cols);
    for (let i = 0; i < cols; i++) vector[i] = Math.sin(i);
    return u8.slice(0, pattern);
  }
}
