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

/**
 * Pages of each segment's 4 GiB left for the query vectors of dot, cosine and euclidean
 * (vector-slots.ts): a SIMD kernel reads the vector from the memory its rows are in.
 */
const VECTOR_ROOM_PAGES = 1024;

/** The most rows' bytes a segment holds: a wasm32 memory less the room for query vectors. */
export const MAX_SEGMENT_BYTES = (MAX_WASM_PAGES - VECTOR_ROOM_PAGES) * WASM_PAGE;

/** Rows [firstRow, firstRow + rows) of an array, in memory of their own. */
export interface Segment {
  /** Holds the rows from byte 0; it may be longer than `bytes` (a memory is whole pages). */
  readonly buffer: SharedArrayBuffer;
  readonly firstRow: number;
  readonly rows: number;
  readonly bytes: number;
  /**
   * The shared WebAssembly.Memory behind `buffer`, or null. Rows of any dtype that fit in one live
   * in such a memory so the SIMD kernels read them where they are, at the dtype's own width; the
   * memory may later grow past the rows (the job engine keeps query vectors there), never shrink.
   */
  readonly memory: WebAssembly.Memory | null;
}

/**
 * Where an array's bytes live, shared by every thread: little-endian, C order, split between rows
 * into segments that each hold `segmentRows` rows (the last may hold fewer). An array up to the
 * segment limit is one segment.
 */
export interface SharedArray {
  readonly bytes: number;
  readonly segmentRows: number;
  readonly segments: readonly Segment[];
}

export function pagesFor(bytes: number): number {
  return Math.ceil(bytes / WASM_PAGE);
}

/**
 * Allocates zeroed shared memory for `rows` rows of `rowBytes` bytes. An array of at most
 * `segmentLimit` bytes is one segment, in a WebAssembly memory from MIN_WASM_BYTES up (where
 * simd.wat has kernels for every dtype) and in a plain buffer below: V8 reserves about 10 GiB of
 * address space for every WebAssembly memory whatever its size, and a process has room for some
 * thousands of those only. That reservation is also why each memory's maximum is the 4 GiB limit:
 * it costs nothing more, and the room lets the memory grow for query vectors.
 *
 * A larger array is split between rows into segments of at most `segmentLimit` bytes, each a
 * WebAssembly memory of its own, so the SIMD kernels read arrays of any size. A row too long for
 * the limit is a segment by itself, and a row past 4 GiB, which no wasm32 memory holds, stays in
 * a plain buffer for the JS kernels.
 */
export function allocateSharedArray(
  _dtype: DType,
  rows: number,
  rowBytes: number,
  segmentLimit = MAX_SEGMENT_BYTES,
): SharedArray {
  const bytes = rows * rowBytes;
  if (bytes <= segmentLimit) {
    const wasm = bytes >= MIN_WASM_BYTES && pagesFor(bytes) < MAX_WASM_PAGES;
    return { bytes, segmentRows: Math.max(rows, 1), segments: [allocateSegment(0, rows, bytes, wasm)] };
  }
  const segmentRows = Math.max(1, Math.floor(segmentLimit / rowBytes));
  const segments: Segment[] = [];
  for (let row = 0; row < rows; row += segmentRows) {
    const count = Math.min(segmentRows, rows - row);
    const segmentBytes = count * rowBytes;
    segments.push(allocateSegment(row, count, segmentBytes, pagesFor(segmentBytes) <= MAX_WASM_PAGES));
  }
  return { bytes, segmentRows, segments };
}

function allocateSegment(firstRow: number, rows: number, bytes: number, wasm: boolean): Segment {
  const memory = wasm ? wasmMemory(pagesFor(bytes)) : null;
  const buffer =
    memory === null ? new SharedArrayBuffer(bytes) : (memory.buffer as unknown as SharedArrayBuffer);
  return { buffer, firstRow, rows, bytes, memory };
}

/** Should the address space run out, the rows go in a plain buffer and the JS kernels read them. */
function wasmMemory(pages: number): WebAssembly.Memory | null {
  try {
    return new WebAssembly.Memory({ initial: pages, maximum: MAX_WASM_PAGES, shared: true });
  } catch {
    return null;
  }
}

/** The index of the segment that holds `row` (the last one for the end of the array). */
export function segmentIndex(array: SharedArray, row: number): number {
  return Math.min(array.segments.length - 1, Math.floor(row / array.segmentRows));
}

/**
 * Byte ranges [start, end) of the array, in order and at most `maxBytes` each, as views of its
 * segments: never a copy, and never one view past a segment (nor past 4 GiB, which a view cannot).
 */
export function* arraySlices(
  array: SharedArray,
  maxBytes: number,
  start = 0,
  end = array.bytes,
): Generator<Uint8Array> {
  let segmentStart = 0;
  for (const segment of array.segments) {
    const from = Math.max(start, segmentStart);
    const to = Math.min(end, segmentStart + segment.bytes);
    for (let at = from; at < to; at += maxBytes) {
      yield new Uint8Array(segment.buffer, at - segmentStart, Math.min(maxBytes, to - at));
    }
    segmentStart += segment.bytes;
    if (segmentStart >= end) return;
  }
}

/** Largest view arraySlices hands out when the reader has no size of its own in mind. */
const COPY_SLICE = 1 << 30;

/** A copy of bytes [start, end) of the array. */
export function copyBytes(array: SharedArray, start: number, end: number): Uint8Array {
  const out = new Uint8Array(end - start);
  let at = 0;
  for (const slice of arraySlices(array, COPY_SLICE, start, end)) {
    out.set(slice, at);
    at += slice.byteLength;
  }
  return out;
}

/** Writes `data` over the array's bytes from byte 0. */
export function setBytes(array: SharedArray, data: Uint8Array): void {
  let at = 0;
  for (const slice of arraySlices(array, COPY_SLICE, 0, data.byteLength)) {
    slice.set(data.subarray(at, at + slice.byteLength));
    at += slice.byteLength;
  }
}
