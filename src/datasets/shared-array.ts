import type { DType } from './dtypes.js';

/** Bytes in a WebAssembly memory page. */
export const WASM_PAGE = 65536;
/** The most pages a 32-bit WebAssembly memory can have (4 GiB). */
export const MAX_WASM_PAGES = 65536;

/**
 * The smallest array worth a WebAssembly memory, whatever its dtype: below it a job is over before
 * the SIMD kernels gain back what the memory costs (see allocateSharedArray).
 */
export const MIN_WASM_BYTES = 1 << 20;

/** Where an array's bytes live, shared by every thread. */
export interface SharedArray {
  /** Holds the array from byte 0; it may be longer than `bytes` (a memory is whole pages). */
  readonly buffer: SharedArrayBuffer;
  readonly bytes: number;
  /**
   * The shared WebAssembly.Memory behind `buffer`, or null. Arrays of any dtype that fit in one
   * live in such a memory so the SIMD kernels read them where they are, at the dtype's own width;
   * the memory may later grow past the array (the job engine keeps query vectors there), never
   * shrink.
   */
  readonly memory: WebAssembly.Memory | null;
}

export function pagesFor(bytes: number): number {
  return Math.ceil(bytes / WASM_PAGE);
}

/**
 * Allocates zeroed shared memory for an array. Every dtype from MIN_WASM_BYTES up goes in a
 * WebAssembly memory, where simd.wat has kernels for it. Small arrays stay in a plain buffer: V8
 * reserves about 10 GiB of address space for every WebAssembly memory whatever its size, and a
 * process has room for some thousands of those only. That reservation is also why the maximum is
 * the 4 GiB limit: it costs nothing more, and the room lets the memory grow for query vectors.
 * An array of 4 GiB or more is not split: it stays in a plain buffer for the JS kernels.
 */
export function allocateSharedArray(_dtype: DType, bytes: number): SharedArray {
  if (bytes >= MIN_WASM_BYTES && pagesFor(bytes) < MAX_WASM_PAGES) {
    const memory = wasmMemory(pagesFor(bytes));
    if (memory !== null) return { buffer: memory.buffer as unknown as SharedArrayBuffer, bytes, memory };
  }
  return { buffer: new SharedArrayBuffer(bytes), bytes, memory: null };
}

/** Should the address space run out, the array goes in a plain buffer and the JS kernels read it. */
function wasmMemory(pages: number): WebAssembly.Memory | null {
  try {
    return new WebAssembly.Memory({ initial: pages, maximum: MAX_WASM_PAGES, shared: true });
  } catch {
    return null;
  }
}

/** The array's bytes, exactly. */
export function arrayBytes(array: SharedArray): Uint8Array {
  return new Uint8Array(array.buffer, 0, array.bytes);
}
