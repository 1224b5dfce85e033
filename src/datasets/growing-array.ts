import { InvalidDatasetRequest } from '../errors.js';
import type { MemoryBudget, Reservation } from '../memory.js';
import { DTYPE_INFO, type DType } from './dtypes.js';
import { allocateSharedArray, type SharedArray } from './shared-array.js';
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

/**
 * The values of a text upload, written one by one into shared memory whose final size is only known
 * when the body ends. The buffer doubles as it fills, and every byte it holds is reserved from the
 * budget first, so the upload is refused with 413 the moment it would pass ROWPOOL_MEMORY_LIMIT.
 * A WebAssembly memory grows in place; a plain buffer is copied into one twice its size, which for
 * a short while holds both (and reserves both).
 */
export class GrowingArray {
  readonly dtype: DType;
  readonly #budget: MemoryBudget;
  readonly #itemsize: number;
  readonly #encode: Encoder;
  #array: SharedArray | undefined;
  #view: ElementView | undefined;
  #capacity = 0;
  #reservations: Reservation[] = [];
  #length = 0;

  constructor(dtype: DType, budget: MemoryBudget) {
    this.dtype = dtype;
    this.#budget = budget;
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
    const array = this.#array ?? allocateSharedArray(this.dtype, 0);
    this.#releaseAll();
    // Releasing first cannot fail the exact reservation: it is no larger than what was just freed.
    const reservation = this.#budget.reserve(bytes);
    this.#array = undefined;
    this.#view = undefined;
    return { buffer: array.buffer, bytes, memory: array.memory, dtype: this.dtype, shape, reservation };
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
    let array: SharedArray;
    try {
      array = allocateSharedArray(this.dtype, newBytes);
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
    this.#setArray(
      { buffer: memory.buffer as unknown as SharedArrayBuffer, bytes: newBytes, memory },
      newBytes,
    );
    return true;
  }

  #setArray(array: SharedArray, bytes: number): void {
    this.#array = array;
    this.#view = viewFor(this.dtype, array.buffer);
    this.#capacity = bytes / this.#itemsize;
  }
}
