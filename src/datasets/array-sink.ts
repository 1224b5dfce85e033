import type { DType } from './dtypes.js';

/** What a sink learns of an array before its bytes: whatever the format says up front. */
export interface ArrayLayout {
  /** Bytes of one row, when the format gives them before the data (binary bodies). */
  readonly rowBytes?: number;
  /** Rows, when the format gives them before the data. */
  readonly rows?: number;
  /** The element size of big-endian data, swapped to little-endian as each piece is cut. */
  readonly swapItemsize?: number;
}

/**
 * Where an upload's array goes when it is not held whole: the bytes arrive in row order and the sink
 * hands them on a piece at a time (a cluster's shards). Writes are synchronous so a parser may call
 * them from its callbacks; the reader awaits `ready()` between chunks, which is what back-pressures
 * the request body.
 */
export interface ArraySink {
  /** The most bytes one write may hand over for the sink to stay within what it means to hold. */
  readonly pieceBytes: number;
  begin(layout: ArrayLayout): void;
  /** The bytes of a row, once known: a text body learns them from its first row. */
  setRowBytes(rowBytes: number): void;
  /** The array's next bytes, little-endian (unless swapItemsize was given) and in C order. */
  write(bytes: Uint8Array): void;
  /** Resolves when the sink can take more; rejects with what failed downstream. */
  ready(): Promise<void>;
}

/** Writes `bytes` a piece at a time, waiting for the sink between pieces. */
export async function writeAll(sink: ArraySink, bytes: Uint8Array): Promise<void> {
  const piece = sink.pieceBytes;
  for (let at = 0; at < bytes.length; at += piece) {
    sink.write(bytes.subarray(at, at + piece));
    await sink.ready();
  }
}

/** An array whose bytes went to a sink: what the format said of it once its body ended. */
export interface StreamedArray {
  readonly dtype: DType;
  readonly shape: readonly number[];
}
