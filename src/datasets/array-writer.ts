import { BodySizeMismatch, InvalidDatasetRequest } from '../errors.js';
import { arraySlices, type SharedArray } from './shared-array.js';

/** Largest range byte-swapped at once: a view can be no longer than 4 GiB. */
const SWAP_SLICE = 1 << 30;

/** Whether Fortran-order data of this shape lies in another order than C's: more than one axis past 1. */
export function scattersFortran(shape: readonly number[]): boolean {
  return shape.filter((d) => d > 1).length > 1;
}

/**
 * Writes an array's bytes, as they arrive in chunks, into its shared segments in little-endian C
 * order. The common case (little-endian, C order) is one copy per chunk (two where a chunk spans a
 * segment boundary); big-endian data is swapped in place once whole elements have landed;
 * Fortran-order data is scattered element by element to its C-order place, so no second buffer is
 * ever needed.
 */
export class ArrayWriter {
  readonly #target: SharedArray;
  readonly #itemsize: number;
  readonly #bigEndian: boolean;
  readonly #scatter: FortranScatter | undefined;
  #received = 0;
  #swapped = 0;
  /** The segment the next byte goes to, and where that segment starts in the array. */
  #segment = 0;
  #segmentStart = 0;

  constructor(target: SharedArray, itemsize: number, bigEndian: boolean, fortranShape?: readonly number[]) {
    this.#target = target;
    this.#itemsize = itemsize;
    this.#bigEndian = bigEndian && itemsize > 1;
    this.#scatter =
      fortranShape !== undefined && scattersFortran(fortranShape)
        ? new FortranScatter(target, itemsize, this.#bigEndian, fortranShape)
        : undefined;
  }

  write(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const total = this.#target.bytes;
    if (this.#received + chunk.length > total) {
      throw new BodySizeMismatch(
        `the body holds more bytes than the declared dtype and shape need (${total} data bytes): trailing bytes`,
      );
    }
    if (this.#scatter !== undefined) {
      this.#scatter.write(chunk);
      this.#received += chunk.length;
      return;
    }
    const end = this.#received + chunk.length;
    let from = 0;
    while (this.#received < end) {
      const segment = this.#target.segments[this.#segment];
      const at = this.#received - this.#segmentStart;
      const take = Math.min(segment.bytes - at, end - this.#received);
      new Uint8Array(segment.buffer, at, take).set(chunk.subarray(from, from + take));
      from += take;
      this.#received += take;
      if (at + take === segment.bytes && this.#segment + 1 < this.#target.segments.length) {
        this.#segment++;
        this.#segmentStart += segment.bytes;
      }
    }
    if (this.#bigEndian) this.#swapWholeElements(end);
  }

  /** Throws unless every byte the shape promises has arrived. */
  end(): void {
    const total = this.#target.bytes;
    if (this.#received !== total) {
      throw new BodySizeMismatch(
        `the body is truncated: the dtype and shape need ${total} data bytes but ${this.#received} arrived`,
      );
    }
  }

  #swapWholeElements(end: number): void {
    const upTo = end - (end % this.#itemsize);
    if (upTo <= this.#swapped) return;
    // Segments hold whole rows, so no element straddles two slices.
    for (const slice of arraySlices(this.#target, SWAP_SLICE, this.#swapped, upTo)) {
      const bytes = Buffer.from(slice.buffer, slice.byteOffset, slice.byteLength);
      if (this.#itemsize === 2) bytes.swap16();
      else if (this.#itemsize === 4) bytes.swap32();
      else bytes.swap64();
    }
    this.#swapped = upTo;
  }
}

/** Walks the array's index in Fortran order (first axis fastest) and keeps its C-order offset. */
class FortranScatter {
  /** Each segment's bytes, and how many bytes every segment but the last holds. */
  readonly #segments: Uint8Array[];
  readonly #segmentBytes: number;
  readonly #itemsize: number;
  readonly #bigEndian: boolean;
  readonly #shape: readonly number[];
  readonly #strides: number[];
  readonly #index: number[];
  readonly #pending: Uint8Array;
  #pendingLength = 0;
  #offset = 0;

  constructor(target: SharedArray, itemsize: number, bigEndian: boolean, shape: readonly number[]) {
    if (target.bytes >= 2 ** 32) {
      throw new InvalidDatasetRequest(
        'Fortran-order arrays are limited to 4 GiB; send larger arrays in C order',
      );
    }
    this.#segments = target.segments.map((s) => new Uint8Array(s.buffer, 0, s.bytes));
    this.#segmentBytes = target.segments[0].bytes;
    this.#itemsize = itemsize;
    this.#bigEndian = bigEndian;
    this.#shape = shape;
    this.#strides = shape.map(() => 0);
    let stride = itemsize;
    for (let d = shape.length - 1; d >= 0; d--) {
      this.#strides[d] = stride;
      stride *= shape[d];
    }
    this.#index = shape.map(() => 0);
    this.#pending = new Uint8Array(itemsize);
  }

  write(chunk: Uint8Array): void {
    let pos = 0;
    if (this.#pendingLength > 0) {
      const take = Math.min(this.#itemsize - this.#pendingLength, chunk.length);
      this.#pending.set(chunk.subarray(0, take), this.#pendingLength);
      this.#pendingLength += take;
      pos = take;
      if (this.#pendingLength < this.#itemsize) return;
      this.#place(this.#pending, 0);
      this.#pendingLength = 0;
    }
    const size = this.#itemsize;
    for (; pos + size <= chunk.length; pos += size) this.#place(chunk, pos);
    if (pos < chunk.length) {
      this.#pending.set(chunk.subarray(pos));
      this.#pendingLength = chunk.length - pos;
    }
  }

  #place(source: Uint8Array, at: number): void {
    const size = this.#itemsize;
    const segment = this.#segments.length === 1 ? 0 : Math.floor(this.#offset / this.#segmentBytes);
    const out = this.#segments[segment];
    const dest = this.#offset - segment * this.#segmentBytes;
    if (this.#bigEndian) for (let b = 0; b < size; b++) out[dest + b] = source[at + size - 1 - b];
    else for (let b = 0; b < size; b++) out[dest + b] = source[at + b];
    const shape = this.#shape;
    const index = this.#index;
    for (let d = 0; d < shape.length; d++) {
      index[d]++;
      this.#offset += this.#strides[d];
      if (index[d] < shape[d]) return;
      this.#offset -= shape[d] * this.#strides[d];
      index[d] = 0;
    }
  }
}
