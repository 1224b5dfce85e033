import { MAX_WASM_PAGES, pagesFor, WASM_PAGE } from '../datasets/shared-array.js';
import type { Dataset, DatasetStore } from '../datasets/store.js';
import type { MemoryBudget, Reservation } from '../memory.js';

/**
 * Room for query vectors inside each WebAssembly memory of a dataset (one per segment). A SIMD
 * kernel addresses one memory only, so the vector of dot, cosine or euclidean has to sit in the same
 * memory as the rows. Each memory grows once, at the dataset's first vector job, by one slot per pool
 * thread (shared-array.ts leaves a segment room for that); a worker
 * claims a free slot for a task, copies the job's vector in unless the slot holds it already, and
 * frees the slot when the task ends. Without a slot the JS kernels run instead, with the same bits.
 *
 * Slot layout: Int32 claim flag at +0 (0 free, 1 taken), float64 tag of the job whose vector it holds
 * at +8, the vector from +16.
 */
export interface VectorSlots {
  /** Byte offset of slot 0 in the dataset's memory. */
  readonly offset: number;
  readonly stride: number;
  readonly count: number;
}

/** Each segment's slots, in segment order: null for a segment that has none. */
export type DatasetVectorSlots = readonly (VectorSlots | null)[];

const SLOT_HEADER_BYTES = 16;
/** The slots may add at most this share of the dataset's size, or a few vectors' worth for small ones. */
const MAX_SHARE = 1 / 8;
const ALWAYS_ALLOWED_BYTES = 1 << 20;

export class VectorSlotAreas {
  readonly #areas = new Map<string, { slots: DatasetVectorSlots; reservations: Reservation[] }>();
  readonly #budget: MemoryBudget;
  readonly #count: number;

  constructor(store: DatasetStore, budget: MemoryBudget, threads: number) {
    this.#budget = budget;
    this.#count = threads;
    store.onDelete((dataset) => {
      for (const r of this.#areas.get(dataset.id)?.reservations ?? []) r.release();
      this.#areas.delete(dataset.id);
    });
  }

  /** The dataset's slots, made on first use; null when none of its segments can have them. */
  slotsFor(dataset: Dataset): DatasetVectorSlots | null {
    const existing = this.#areas.get(dataset.id);
    if (existing !== undefined) return existing.slots;
    const stride = SLOT_HEADER_BYTES + Math.ceil((dataset.rowLength * 8) / 16) * 16;
    const reservations: Reservation[] = [];
    const slots = dataset.segments.map((segment) => {
      const made = this.#grow(segment.memory, segment.bytes, stride);
      if (made === null) return null;
      reservations.push(made.reservation);
      return made.slots;
    });
    if (reservations.length === 0) return null;
    this.#areas.set(dataset.id, { slots, reservations });
    return slots;
  }

  /** Slots at the end of one segment's memory, or null when it cannot have them. */
  #grow(
    memory: WebAssembly.Memory | null,
    segmentBytes: number,
    stride: number,
  ): { slots: VectorSlots; reservation: Reservation } | null {
    if (memory === null) return null;
    const bytes = stride * this.#count;
    if (bytes > Math.max(segmentBytes * MAX_SHARE, ALWAYS_ALLOWED_BYTES)) return null;
    const pages = pagesFor(bytes);
    // Never evict anybody's results for room that only makes a job faster. The slots are charged at
    // their size: the rest of the last page is never touched, so it never takes memory.
    if (bytes > this.#budget.free) return null;
    const before = memory.buffer.byteLength / WASM_PAGE;
    if (before + pages > MAX_WASM_PAGES) return null;
    const reservation = this.#budget.reserve(bytes, 'room for query vectors');
    try {
      const offset = memory.grow(pages) * WASM_PAGE;
      return { slots: { offset, stride, count: this.#count }, reservation };
    } catch {
      reservation.release();
      return null;
    }
  }
}

/**
 * Takes a free slot and makes sure it holds the job's vector (named by `tag`); returns the vector's
 * byte offset in the memory, or -1 when every slot is taken (a worker that died holding one never
 * gave it back).
 */
export function claimSlot(
  memory: WebAssembly.Memory,
  slots: VectorSlots,
  tag: number,
  vector: Float64Array,
): number {
  const buffer = memory.buffer;
  const flags = new Int32Array(buffer);
  for (let slot = 0; slot < slots.count; slot++) {
    const at = slots.offset + slot * slots.stride;
    if (Atomics.compareExchange(flags, at / 4, 0, 1) !== 0) continue;
    const held = new Float64Array(buffer, at + 8, 1);
    if (held[0] !== tag) {
      new Float64Array(buffer, at + SLOT_HEADER_BYTES, vector.length).set(vector);
      held[0] = tag;
    }
    return at + SLOT_HEADER_BYTES;
  }
  return -1;
}

/** Gives back the slot whose vector `claimSlot` put at `vectorAt`. */
export function releaseSlot(memory: WebAssembly.Memory, vectorAt: number): void {
  Atomics.store(new Int32Array(memory.buffer), (vectorAt - SLOT_HEADER_BYTES) / 4, 0);
}
