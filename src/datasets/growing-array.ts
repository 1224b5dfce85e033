import { InvalidDatasetRequest } from '../errors.js';
import type { MemoryBudget, Reservation } from '../memory.js';
import { DTYPE_INFO, type DType } from './dtypes.js';
import { allocateSharedArray, arraySlices, MAX_SEGMENT_BYTES, type Segment } from './shared-array.js';
import type { FilledArray } from './store.js';
import {
  type ElementView,
  type Encoder,
  encodeProblemText,
  encoderFor,
  type Scalar,
  viewFor,
} from './values.js';

/** The first buffer a text upload gets; it doubles from there. */
const INITIAL_BYTES = 64 * 1024;
/** Largest view copied at once when the values move into segments (a view holds at most 4 GiB). */
const COPY_SLICE = 1 << 30;

/** Memory the values grow in: one buffer, whose rows are not known until the body ends. */
type Room = Pick<Segment, 'buffer' | 'memory'>;

/**
 * The values of a text upload, written one by one into shared memory whose final size is only known
 * when the body ends. The buffer doubles as it fills, and every byte it holds is reserved from the
 * budget first, so the upload is refused with 413 the moment it would pass ROWPOOL_MEMORY_LIMIT.
 * A WebAssembly memory grows in place; a plain buffer is copied into one twice its size, which for
 * a short while holds both (and reserves both). The shape, and so where rows start, is only known
 * at the end: values past `segmentLimit` bytes are then copied into row-aligned segments, which
 * for a short while holds (and reserves) them twice.
 */
export class GrowingArray {
  readonly dtype: DType;
  readonly #budget: MemoryBudget;
  readonly #itemsize: number;
  readonly #encode: Encoder;
  readonly #segmentLimit: number;
  #array: Room | undefined;
  #view: ElementView | undefined;
  #capacity = 0;
  #reservations: Reservation[] = [];
  #length = 0;

  constructor(dtype: DType, budget: MemoryBudget, segmentLimit = MAX_SEGMENT_BYTES) {
    this.dtype = dtype;
    this.#budget = budget;
    this.#segmentLimit = segmentLimit;
    this.#itemsize = DTYPE_INFO[dtype].itemsize;
    this.#encode = encoderFor(dtype);
  }

  get length(): number {
    return this.#length;
  }

  /** Appends one value; `where` names it in the error when it does not fit the dtype. */
  push(value: Scalar, where: (index: number) => string): void {
    if (this.#length === this.#capacity) this.#grow();
    const problem = this.#encode(this.#view as ElementView, this.#length, value);
    if (problem !== undefined) {
      throw new InvalidDatasetRequest(encodeProblemText(problem, where(this.#length), value, this.dtype));
    }
    this.#length++;
  }

  /** Element `index` as a number, for re-encoding into another dtype. */
  at(index: number): number {
    return Number((this.#view as ElementView)[index]);
  }

  /** The array with its reservation trimmed to the elements written; this object is spent. */
  finish(shape: readonly number[]): FilledArray {
    const bytes = this.#length * this.#itemsize;
    const rows = shape.length === 0 ? 1 : shape[0];
    const room = this.#array ?? allocateRoom(this.dtype, 0);
    if (bytes > this.#segmentLimit) return this.#finishInSegments(room, shape, rows, bytes);
    this.#releaseAll();
    // Releasing first cannot fail the exact reservation: it is no larger than what was just freed.
    const reservation = this.#budget.reserve(bytes);
    this.#array = undefined;
    this.#view = undefined;
    const segment = { buffer: room.buffer, memory: room.memory, firstRow: 0, rows, bytes };
    return {
      bytes,
      segmentRows: Math.max(rows, 1),
      segments: [segment],
      dtype: this.dtype,
      shape,
      reservation,
    };
  }

  #finishInSegments(room: Room, shape: readonly number[], rows: number, bytes: number): FilledArray {
    const reservation = this.#budget.reserve(bytes, 'the text upload, as it moves into segments,');
    try {
      const array = allocateSharedArray(this.dtype, rows, bytes / rows, this.#segmentLimit);
      let at = 0;
      for (const slice of arraySlices(array, COPY_SLICE)) {
        slice.set(new Uint8Array(room.buffer, at, slice.byteLength));
        at += slice.byteLength;
      }
      this.discard();
      return { ...array, dtype: this.dtype, shape, reservation };
    } catch (err) {
      reservation.release();
      throw err;
    }
  }

  /**
   * Gives back the reservation of the room not yet written, so that converting the values into
   * another array needs only what they take. No value may be pushed after this.
   */
  trimReservation(): void {
    const bytes = this.#length * this.#itemsize;
    this.#releaseAll();
    this.#reservations.push(this.#budget.reserve(bytes));
  }

  /** Drops the buffer and returns its memory to the budget. */
  discard(): void {
    this.#releaseAll();
    this.#array = undefined;
    this.#view = undefined;
  }

  #releaseAll(): void {
    for (const r of this.#reservations) r.release();
    this.#reservations = [];
    this.#capacity = 0;
  }

  #grow(): void {
    const oldBytes = this.#capacity * this.#itemsize;
    const memory = this.#array?.memory;
    const inPlace = memory != null;
    // Doubling is cheap over many pushes, but near the limit it would refuse data that fits: then the
    // buffer grows by what is free, down to a single element, and only that failing is a 413.
    const wanted = Math.max(INITIAL_BYTES, oldBytes * 2);
    const room = this.#budget.free + (inPlace ? oldBytes : 0);
    const fitting = Math.floor(room / this.#itemsize) * this.#itemsize;
    const newBytes = Math.min(wanted, Math.max(fitting, oldBytes + this.#itemsize));
    if (inPlace && this.#growInPlace(memory, oldBytes, newBytes)) return;
    const reservation = this.#budget.reserve(newBytes, 'the text upload, as it grows,');
    let array: Room;
    try {
      array = allocateRoom(this.dtype, newBytes);
    } catch (err) {
      reservation.release();
      throw err;
    }
    if (this.#array !== undefined) {
      new Uint8Array(array.buffer, 0, oldBytes).set(new Uint8Array(this.#array.buffer, 0, oldBytes));
    }
    this.#releaseAll();
    this.#reservations.push(reservation);
    this.#setArray(array, newBytes);
  }

  #growInPlace(memory: WebAssembly.Memory, oldBytes: number, newBytes: number): boolean {
    const extraPages = Math.ceil((newBytes - memory.buffer.byteLength) / 65536);
    const reservation = this.#budget.reserve(newBytes - oldBytes, 'the text upload, as it grows,');
    try {
      if (extraPages > 0) memory.grow(extraPages);
    } catch {
      // Past the memory's maximum: fall back to a copy into a new buffer.
      reservation.release();
      return false;
    }
    this.#reservations.push(reservation);
    this.#setArray({ buffer: memory.buffer as unknown as SharedArrayBuffer, memory }, newBytes);
    return true;
  }

  #setArray(array: Room, bytes: number): void {
    this.#array = array;
    this.#view = viewFor(this.dtype, array.buffer);
    this.#capacity = bytes / this.#itemsize;
  }
}

/** One buffer of `bytes` bytes, in a WebAssembly memory where an array of that size would be. */
function allocateRoom(dtype: DType, bytes: number): Room {
  return allocateSharedArray(dtype, 1, bytes, Number.POSITIVE_INFINITY).segments[0];
}
