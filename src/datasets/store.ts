import { randomUUID } from 'node:crypto';
import { DatasetNotFound } from '../errors.js';
import type { Reservation } from '../memory.js';
import type { DType } from './dtypes.js';
import type { SharedArray } from './shared-array.js';

export interface DatasetInfo {
  readonly id: string;
  readonly name: string | null;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly rows: number;
  readonly rowLength: number;
  readonly bytes: number;
  readonly createdAt: string;
}

/**
 * Where a cluster shard's rows sit in the dataset it was cut from: its rows are rows `firstRow..`
 * of a dataset of `rows` rows, so an op that reads the row number sees the whole dataset's.
 */
export interface ShardPlace {
  readonly firstRow: number;
  readonly rows: number;
}

/** The array, little-endian and in C order (in one segment or more), is shared with the workers, never copied. */
export interface Dataset extends DatasetInfo, SharedArray {
  readonly shardOf?: ShardPlace;
}

/** A filled array whose memory is reserved, waiting to be stored (or dropped, on error). */
export interface FilledArray extends SharedArray {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly reservation: Reservation;
}

/** What names a dataset for good: kept on disk with it and given back when it is loaded again. */
export interface DatasetIdentity {
  readonly id: string;
  readonly createdAt: string;
}

export function newDatasetIdentity(): DatasetIdentity {
  return { id: randomUUID(), createdAt: new Date().toISOString() };
}

type DeleteListener = (dataset: Dataset) => void;
type FreedListener = (bytes: number) => void;

interface Entry {
  readonly dataset: Dataset;
  readonly reservation: Reservation;
  /** Readers still using the buffer (downloads): its memory stays counted until they end. */
  holds: number;
  deleted: boolean;
}

/**
 * id -> dataset. Holding the only main-thread reference to each segment is what lets delete free it;
 * a dataset deleted while a download still reads it stays counted until the download ends.
 */
export class DatasetStore {
  readonly #datasets = new Map<string, Entry>();
  readonly #onDelete: DeleteListener[] = [];
  readonly #onFreed: FreedListener[] = [];

  add(
    filled: FilledArray,
    name: string | null,
    identity = newDatasetIdentity(),
    shardOf?: ShardPlace,
  ): Dataset {
    const { shape } = filled;
    const rows = shape[0];
    let rowLength = 1;
    for (let d = 1; d < shape.length; d++) rowLength *= shape[d];
    const dataset: Dataset = {
      id: identity.id,
      name,
      dtype: filled.dtype,
      shape: [...shape],
      rows,
      rowLength,
      bytes: filled.bytes,
      createdAt: identity.createdAt,
      segmentRows: filled.segmentRows,
      segments: filled.segments,
      ...(shardOf === undefined ? {} : { shardOf }),
    };
    this.#datasets.set(dataset.id, { dataset, reservation: filled.reservation, holds: 0, deleted: false });
    return dataset;
  }

  get(id: string): Dataset {
    const entry = this.#datasets.get(id);
    if (entry === undefined) throw new DatasetNotFound(id);
    return entry.dataset;
  }

  has(id: string): boolean {
    return this.#datasets.has(id);
  }

  list(): Dataset[] {
    return [...this.#datasets.values()].map((e) => e.dataset);
  }

  get count(): number {
    return this.#datasets.size;
  }

  get totalBytes(): number {
    let sum = 0;
    for (const { dataset } of this.#datasets.values()) sum += dataset.bytes;
    return sum;
  }

  onDelete(listener: DeleteListener): void {
    this.#onDelete.push(listener);
  }

  /** Called with the bytes of each dataset whose memory is given back (after its last reader). */
  onFreed(listener: FreedListener): void {
    this.#onFreed.push(listener);
  }

  /**
   * The dataset and a hold on its memory: the bytes stay counted in the budget, even after a
   * delete, until the hold is released (released twice is harmless).
   */
  hold(id: string): { dataset: Dataset; hold: Reservation } {
    const entry = this.#datasets.get(id);
    if (entry === undefined) throw new DatasetNotFound(id);
    entry.holds++;
    let released = false;
    return {
      dataset: entry.dataset,
      hold: {
        bytes: entry.dataset.bytes,
        release: () => {
          if (released) return;
          released = true;
          entry.holds--;
          this.#freeIfUnused(entry);
        },
      },
    };
  }

  delete(id: string): Dataset {
    const entry = this.#datasets.get(id);
    if (entry === undefined) throw new DatasetNotFound(id);
    this.#datasets.delete(id);
    entry.deleted = true;
    for (const listener of this.#onDelete) listener(entry.dataset);
    this.#freeIfUnused(entry);
    return entry.dataset;
  }

  #freeIfUnused(entry: Entry): void {
    if (!entry.deleted || entry.holds > 0) return;
    entry.reservation.release();
    for (const listener of this.#onFreed) listener(entry.dataset.bytes);
  }
}

export function datasetInfo(d: DatasetInfo): DatasetInfo {
  return {
    id: d.id,
    name: d.name,
    dtype: d.dtype,
    shape: d.shape,
    rows: d.rows,
    rowLength: d.rowLength,
    bytes: d.bytes,
    createdAt: d.createdAt,
  };
}
