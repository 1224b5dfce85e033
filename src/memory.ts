import { InsufficientMemory } from './errors.js';

/** A claim on part of ROWPOOL_MEMORY_LIMIT; releasing it twice is harmless. */
export interface Reservation {
  readonly bytes: number;
  release(): void;
}

/**
 * Accounts every byte rowpool holds in shared memory (datasets, uploads in flight, job results)
 * against one limit. Space is reserved before a buffer is allocated, so a request that would not fit
 * is refused before its body is read.
 */
export class MemoryBudget {
  #used = 0;
  #evict: ((bytesNeeded: number) => void) | undefined;

  constructor(readonly limit: number) {}

  get used(): number {
    return this.#used;
  }

  get free(): number {
    return this.limit - this.#used;
  }

  /** Something that can give memory back when asked (the job engine's finished results). */
  setEvictor(evict: (bytesNeeded: number) => void): void {
    this.#evict = evict;
  }

  reserve(bytes: number, what = 'the dataset'): Reservation {
    if (bytes > this.free && bytes <= this.limit) this.#evict?.(bytes - this.free);
    if (bytes > this.free) throw new InsufficientMemory(what, bytes, this.free, this.limit);
    this.#used += bytes;
    let released = false;
    return {
      bytes,
      release: () => {
        if (released) return;
        released = true;
        this.#used -= bytes;
      },
    };
  }
}
