import { BodySizeMismatch, InvalidNpy } from '../errors.js';
import type { MemoryBudget } from '../memory.js';
import { type ArrayLayout, type ArraySink, type StreamedArray, writeAll } from './array-sink.js';
import { ArrayWriter, scattersFortran } from './array-writer.js';
import { DTYPE_INFO, type DType, elementCount } from './dtypes.js';
import { npyDataOffset, npyDeclaredBytes, parseNpyHeader } from './npy.js';
import { allocateSharedArray, arraySlices, MAX_SEGMENT_BYTES, type SharedArray } from './shared-array.js';
import type { FilledArray } from './store.js';

/**
 * Streams an upload into new shared memory. The size is known from the header (or the query)
 * before any data byte is read, so memory is reserved first and the body is copied once, chunk by
 * chunk, into its final place: peak memory for an N-byte upload is N plus one chunk.
 *
 * The source is read through its iterator and never destroyed here: for an HTTP request that would
 * reset the socket before the error response could be sent.
 */
export async function readNpyStream(
  body: AsyncIterable<Uint8Array>,
  budget: MemoryBudget,
  contentLength?: number,
  segmentLimit = MAX_SEGMENT_BYTES,
): Promise<FilledArray> {
  const chunks = body[Symbol.asyncIterator]();
  const prefix = await readNpyPrefix(chunks);
  const declared = npyDeclaredBytes(prefix);
  if (declared !== undefined) budget.assertCouldFit(declared);
  const header = parseNpyHeader(prefix);
  const bytes = elementCount(header.shape) * DTYPE_INFO[header.dtype].itemsize;
  const reservation = budget.reserve(bytes);
  try {
    checkLength(contentLength, header.dataOffset + bytes, "the header's dtype and shape");
    const array = allocateArray(header.dtype, header.shape, segmentLimit);
    const writer = new ArrayWriter(
      array,
      DTYPE_INFO[header.dtype].itemsize,
      header.bigEndian,
      header.fortranOrder ? header.shape : undefined,
    );
    writer.write(prefix.subarray(header.dataOffset));
    await drainInto(chunks, writer);
    return { ...array, dtype: header.dtype, shape: header.shape, reservation };
  } catch (err) {
    reservation.release();
    throw err;
  }
}

/** The body's first chunks, up to at least the end of the .npy header. */
async function readNpyPrefix(chunks: AsyncIterator<Uint8Array>): Promise<Buffer> {
  let prefix: Buffer = Buffer.alloc(0);
  let dataOffset: number | undefined;
  while (dataOffset === undefined || prefix.length < dataOffset) {
    const next = await chunks.next();
    if (next.done) {
      throw new InvalidNpy(prefix.length === 0 ? 'the body is empty' : 'the body ends inside the header');
    }
    prefix = Buffer.concat([prefix, next.value]);
    dataOffset ??= npyDataOffset(prefix);
  }
  return prefix;
}

/**
 * An .npy body into a sink as it arrives, a chunk at a time. Fortran-order data reaches its C-order
 * place only once all of it has arrived, so that alone is read whole first (counted like any upload).
 */
export async function streamNpy(
  body: AsyncIterable<Uint8Array>,
  sink: ArraySink,
  budget: MemoryBudget,
  contentLength?: number,
): Promise<StreamedArray> {
  const chunks = body[Symbol.asyncIterator]();
  const prefix = await readNpyPrefix(chunks);
  const header = parseNpyHeader(prefix);
  const { dtype, shape } = header;
  const itemsize = DTYPE_INFO[dtype].itemsize;
  const bytes = elementCount(shape) * itemsize;
  checkLength(contentLength, header.dataOffset + bytes, "the header's dtype and shape");
  if (header.fortranOrder && scattersFortran(shape)) {
    const array = await readNpyStream(replay(prefix, chunks), budget, contentLength);
    try {
      sink.begin(layoutOf(dtype, shape));
      for (const slice of arraySlices(array, STREAM_SLICE)) await writeAll(sink, slice);
    } finally {
      array.reservation.release();
    }
    return { dtype, shape };
  }
  sink.begin({ ...layoutOf(dtype, shape), swapItemsize: header.bigEndian ? itemsize : undefined });
  await drainIntoSink(prefix.subarray(header.dataOffset), chunks, sink, bytes);
  return { dtype, shape };
}

/** Raw little-endian C-order bytes into a sink as they arrive. */
export async function streamRaw(
  body: AsyncIterable<Uint8Array>,
  sink: ArraySink,
  dtype: DType,
  shape: readonly number[],
  contentLength?: number,
): Promise<StreamedArray> {
  const bytes = elementCount(shape) * DTYPE_INFO[dtype].itemsize;
  checkLength(contentLength, bytes, `dtype ${dtype} and shape (${shape.join(', ')})`);
  sink.begin(layoutOf(dtype, shape));
  await drainIntoSink(new Uint8Array(0), body[Symbol.asyncIterator](), sink, bytes);
  return { dtype, shape };
}

/** Largest piece of an array held whole handed to a sink at once. */
const STREAM_SLICE = 4 * 2 ** 20;

function layoutOf(dtype: DType, shape: readonly number[]): ArrayLayout {
  return {
    rows: shape.length === 0 ? 1 : shape[0],
    rowBytes: elementCount(shape.slice(1)) * DTYPE_INFO[dtype].itemsize,
  };
}

/** The chunks again, the prefix already read from them first. */
async function* replay(prefix: Uint8Array, chunks: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield prefix;
  for (;;) {
    const next = await chunks.next();
    if (next.done) return;
    yield next.value;
  }
}

/** Exactly `total` data bytes, `first` and then the chunks, each chunk awaited into the sink. */
async function drainIntoSink(
  first: Uint8Array,
  chunks: AsyncIterator<Uint8Array>,
  sink: ArraySink,
  total: number,
): Promise<void> {
  let received = 0;
  for (let chunk = first; ; ) {
    if (received + chunk.length > total) {
      throw new BodySizeMismatch(
        `the body holds more bytes than the declared dtype and shape need (${total} data bytes): trailing bytes`,
      );
    }
    await writeAll(sink, chunk);
    received += chunk.length;
    const next = await chunks.next();
    if (next.done) break;
    chunk = next.value;
  }
  if (received !== total) {
    throw new BodySizeMismatch(
      `the body is truncated: the dtype and shape need ${total} data bytes but ${received} arrived`,
    );
  }
}

/** Raw little-endian C-order bytes whose dtype and shape came with the request. */
export async function readRawStream(
  body: AsyncIterable<Uint8Array>,
  budget: MemoryBudget,
  dtype: DType,
  shape: readonly number[],
  contentLength?: number,
  segmentLimit = MAX_SEGMENT_BYTES,
): Promise<FilledArray> {
  const bytes = elementCount(shape) * DTYPE_INFO[dtype].itemsize;
  const reservation = budget.reserve(bytes);
  try {
    checkLength(contentLength, bytes, `dtype ${dtype} and shape (${shape.join(', ')})`);
    const array = allocateArray(dtype, shape, segmentLimit);
    const writer = new ArrayWriter(array, DTYPE_INFO[dtype].itemsize, false);
    await drainInto(body[Symbol.asyncIterator](), writer);
    return { ...array, dtype, shape, reservation };
  } catch (err) {
    reservation.release();
    throw err;
  }
}

/** Zeroed shared memory for an array of this dtype and shape, split between rows past `segmentLimit`. */
export function allocateArray(dtype: DType, shape: readonly number[], segmentLimit: number): SharedArray {
  const rowBytes = elementCount(shape.slice(1)) * DTYPE_INFO[dtype].itemsize;
  return allocateSharedArray(dtype, shape.length === 0 ? 1 : shape[0], rowBytes, segmentLimit);
}

/** A declared body length that cannot be right is refused before any data is copied. */
function checkLength(contentLength: number | undefined, needed: number, what: string): void {
  if (contentLength === undefined || contentLength === needed) return;
  throw new BodySizeMismatch(
    `${contentLength < needed ? 'the body is truncated' : 'the body has trailing bytes'}: Content-Length is ${contentLength} but ${what} need ${needed} bytes`,
  );
}

async function drainInto(chunks: AsyncIterator<Uint8Array>, writer: ArrayWriter): Promise<void> {
  for (;;) {
    const next = await chunks.next();
    if (next.done) break;
    writer.write(next.value);
  }
  writer.end();
}
