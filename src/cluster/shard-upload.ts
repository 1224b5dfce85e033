import type { ObjectStore } from '@nats-io/obj';
import type { ArrayLayout, ArraySink } from '../datasets/array-sink.js';
import type { MemoryBudget, Reservation } from '../memory.js';
import type { Shard } from './shards.js';

/** Shards put to the object store at once, each acknowledged chunk by chunk, while the next one fills. */
export const UPLOAD_WINDOW = 4;
/** The first buffer of a shard whose rows are not known yet (a text body); it doubles to the shard's size. */
const FIRST_BUFFER = 64 * 1024;

export interface ShardLimits {
  readonly maxShardBytes: number;
  readonly maxShardRows: number;
}

export type ShardObjects = Pick<ObjectStore, 'putBlob' | 'delete'>;

interface Filling {
  buffer: Uint8Array;
  filled: number;
  reservation: Reservation;
}

/**
 * An upload cut into row-aligned shards as its bytes arrive, each put as an object as soon as it is
 * full while the next fills. At most UPLOAD_WINDOW puts are in flight; `ready()` waits while the window
 * is full, so what an upload holds is the window and the shard filling, never the dataset (a text
 * body's writes are its parser's batches, which may pass a small shard by a batch). Every
 * buffer is reserved from the budget before it is allocated and released once JetStream has
 * acknowledged its shard. Shards are cut as planShards would cut them: as many whole rows as fit in
 * the shard size, at most `maxShardRows`, a row past the size a shard by itself.
 */
export class ShardUpload implements ArraySink {
  readonly #shards: Shard[] = [];
  readonly #written: string[] = [];
  readonly #inFlight = new Set<Promise<void>>();
  #rowBytes: number | undefined;
  #rows: number | undefined;
  #swapItemsize = 1;
  #current: Filling | undefined;
  #rowsCut = 0;
  #bytesCut = 0;
  #failure: unknown;

  constructor(
    readonly objects: ShardObjects,
    readonly budget: MemoryBudget,
    readonly limits: ShardLimits,
    readonly objectName: (index: number) => string,
  ) {}

  /** A write of at most a shard sends at most one, so the window and the shard filling are all it holds. */
  get pieceBytes(): number {
    const rowBytes = this.#rowBytes ?? 0;
    return rowBytes === 0 ? FIRST_BUFFER : this.#rowsPerShard() * rowBytes;
  }

  begin(layout: ArrayLayout): void {
    this.#rows = layout.rows;
    this.#swapItemsize = layout.swapItemsize ?? 1;
    if (layout.rowBytes !== undefined) this.setRowBytes(layout.rowBytes);
  }

  /** Refuses, before any data is held, an upload whose window of shards cannot fit in the budget. */
  setRowBytes(rowBytes: number): void {
    this.#rowBytes = rowBytes;
    const shardBytes = this.#rowsPerShard() * rowBytes;
    const shards =
      this.#rows === undefined ? UPLOAD_WINDOW + 1 : Math.ceil(this.#rows / this.#rowsPerShard());
    const held = Math.min(UPLOAD_WINDOW + 1, Math.max(shards, 1)) * shardBytes;
    const current = this.#current?.reservation.bytes ?? 0;
    this.budget.assertCouldFit(Math.max(0, held - current), 'the shards of the upload in flight');
    if (this.#current !== undefined && this.#current.filled === this.#target()) this.#send();
  }

  write(bytes: Uint8Array): void {
    let at = 0;
    while (at < bytes.length) {
      const current = this.#current ?? this.#open();
      if (current.filled === current.buffer.length) this.#grow(current);
      // A buffer grown before the row length was known may be longer than its shard.
      const end = Math.min(current.buffer.length, this.#target() ?? Number.POSITIVE_INFINITY);
      const take = Math.min(end - current.filled, bytes.length - at);
      current.buffer.set(bytes.subarray(at, at + take), current.filled);
      current.filled += take;
      at += take;
      if (current.filled === this.#target()) this.#send();
    }
  }

  async ready(): Promise<void> {
    while (this.#failure === undefined && this.#inFlight.size >= UPLOAD_WINDOW) {
      await Promise.race(this.#inFlight);
    }
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** Puts the last shard and waits for every acknowledgement: the shard table of `rows` rows. */
  async end(rows: number): Promise<Shard[]> {
    if (this.#target() === undefined) {
      // Rows of no bytes: empty shards, still cut by rows so each one's per-row answer fits a message.
      const perShard = this.#rowBytes === undefined ? Math.max(rows, 1) : this.#rowsPerShard();
      do this.#send(Math.min(perShard, rows - this.#rowsCut));
      while (this.#rowsCut < rows);
    } else if (this.#current !== undefined || this.#shards.length === 0) {
      this.#send();
    }
    while (this.#inFlight.size > 0) await Promise.race(this.#inFlight);
    if (this.#failure !== undefined) throw this.#failure;
    const last = this.#shards.at(-1) as Shard;
    if (last.end !== rows) {
      throw new Error(`the upload's shards hold ${last.end} rows, its shape says ${rows}`);
    }
    return this.#shards;
  }

  /** Drops what is held and deletes every shard put, once their puts have settled. */
  async abort(): Promise<void> {
    this.#current?.reservation.release();
    this.#current = undefined;
    await Promise.allSettled(this.#inFlight);
    await Promise.allSettled(this.#written.map((name) => this.objects.delete(name)));
  }

  #rowsPerShard(): number {
    const rowBytes = this.#rowBytes as number;
    const { maxShardBytes, maxShardRows } = this.limits;
    const byBytes =
      rowBytes === 0 ? Number.POSITIVE_INFINITY : Math.max(1, Math.floor(maxShardBytes / rowBytes));
    return Math.max(1, Math.min(byBytes, maxShardRows));
  }

  /** The bytes of the shard filling, or undefined while the row length is unknown (or rows hold none). */
  #target(): number | undefined {
    if (this.#rowBytes === undefined || this.#rowBytes === 0) return undefined;
    const rows = this.#rowsPerShard();
    const left = this.#rows === undefined ? rows : Math.min(rows, this.#rows - this.#rowsCut);
    return left * this.#rowBytes;
  }

  #open(): Filling {
    const target = this.#target();
    // A shard of known rows gets its buffer whole; one that may end sooner grows as it fills.
    const bytes =
      target !== undefined && this.#rows !== undefined ? target : Math.min(target ?? Infinity, FIRST_BUFFER);
    this.#current = this.#allocate(bytes);
    return this.#current;
  }

  #grow(current: Filling): void {
    const bytes = Math.min(this.#target() ?? Number.POSITIVE_INFINITY, current.buffer.length * 2);
    const next = this.#allocate(bytes);
    next.buffer.set(current.buffer.subarray(0, current.filled));
    next.filled = current.filled;
    current.reservation.release();
    current.buffer = next.buffer;
    current.reservation = next.reservation;
  }

  #allocate(bytes: number): Filling {
    const reservation = this.budget.reserve(bytes, 'a shard of the upload');
    return { buffer: Buffer.allocUnsafe(bytes), filled: 0, reservation };
  }

  /** Puts the shard filling; `rows` says how many rows it holds when its rows have no bytes. */
  #send(rows?: number): void {
    const current = this.#current ?? this.#allocate(0);
    this.#current = undefined;
    const rowBytes = this.#rowBytes ?? 0;
    const count = rowBytes === 0 ? (rows ?? 0) : current.filled / rowBytes;
    if (!Number.isInteger(count)) {
      current.reservation.release();
      throw new Error(`the upload ends inside a row: ${current.filled} bytes left of rows of ${rowBytes}`);
    }
    const index = this.#shards.length;
    this.#shards.push({
      index,
      start: this.#rowsCut,
      end: this.#rowsCut + count,
      byteOffset: this.#bytesCut,
      bytes: current.filled,
    });
    this.#rowsCut += count;
    this.#bytesCut += current.filled;
    const bytes = current.buffer.subarray(0, current.filled);
    if (this.#swapItemsize > 1) swap(bytes, this.#swapItemsize);
    const name = this.objectName(index);
    this.#written.push(name);
    const put: Promise<void> = this.objects
      .putBlob({ name }, bytes)
      .then(
        () => {},
        (err: unknown) => {
          this.#failure ??= err;
        },
      )
      .finally(() => {
        current.reservation.release();
        this.#inFlight.delete(put);
      });
    this.#inFlight.add(put);
  }
}

/** Big-endian elements to little-endian, in place: a shard holds whole rows, so whole elements. */
function swap(bytes: Uint8Array, itemsize: number): void {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (itemsize === 2) view.swap16();
  else if (itemsize === 4) view.swap32();
  else view.swap64();
}
