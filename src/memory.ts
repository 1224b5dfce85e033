import { InsufficientMemory } from './errors.js';

/** A claim on part of ROWPOOL_MEMORY_LIMIT; releasing it twice is harmless. */
export interface Reservation {
  readonly bytes: number;
  release(): void;
}

/** Memory that can be given back on demand: the job engine's finished results. */
export interface Evictor {
  /** Bytes that evicting everything evictable would free. */
  evictable(): number;
  /** Frees at least `bytes`, oldest first, when `evictable()` allows it. */
  evict(bytes: number): void;
}

/**
 * Accounts every byte rowpool holds in shared memory (datasets, uploads in flight, job results)
 * against one limit. Space is reserved before a buffer is allocated, so a request that would not fit
 * is refused before its body is read.
 */
export class MemoryBudget {
  #used = 0;
  #evictor: Evictor | undefined;

  constructor(readonly limit: number) {}

  get used(): number {
    return this.#used;
  }

  get free(): number {
    return this.limit - this.#used;
  }

  setEvictor(evictor: Evictor): void {
    this.#evictor = evictor;
  }

  /** Throws the 413 that `reserve` would, without reserving or evicting anything. */
  assertCouldFit(bytes: number, what = 'the dataset'): void {
    if (bytes > this.free + (this.#evictor?.evictable() ?? 0)) {
      throw new InsufficientMemory(what, bytes, this.free, this.limit);
    }
  }

  reserve(bytes: number, what = 'the dataset'): Reservation {
    // Evict only when that makes enough room: a request refused anyway must not cost others their results.
    const missing = bytes - this.free;
    if (missing > 0 && this.#evictor !== undefined && this.#evictor.evictable() >= missing) {
      this.#evictor.evict(missing);
    }
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

/** A reservation whose bytes readers can hold on to after its owner has released it. */
export interface HoldableReservation extends Reservation {
  /** A hold that keeps the bytes counted until it is released (released twice is harmless). */
  hold(): Reservation;
}

/**
 * Wraps `reservation` so its bytes are released only once the owner has released the wrapper and
 * every hold has been released, in whatever order. When a hold outlives the owner, `onFreed` runs
 * with the bytes as the last hold goes, so whoever returns freed memory hears of them then. A
 * reservation wrapped already is returned as it is.
 */
export function holdable(reservation: Reservation, onFreed: (bytes: number) => void): HoldableReservation {
  if ('hold' in reservation) return reservation as HoldableReservation;
  let holds = 0;
  let ownerReleased = false;
  let outlived = false;
  const free = () => {
    if (!ownerReleased || holds > 0) return;
    reservation.release();
    if (outlived) onFreed(reservation.bytes);
  };
  return {
    bytes: reservation.bytes,
    release() {
      if (ownerReleased) return;
      ownerReleased = true;
      outlived = holds > 0;
      free();
    },
    hold() {
      holds++;
      let released = false;
      return {
        bytes: reservation.bytes,
        release() {
          if (released) return;
          released = true;
          holds--;
          free();
        },
      };
    },
  };
}
