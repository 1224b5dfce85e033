import { allocateArray } from '../datasets/ingest.js';
import { MAX_SEGMENT_BYTES, setBytes } from '../datasets/shared-array.js';
import type { DatasetStore } from '../datasets/store.js';
import type { MemoryBudget } from '../memory.js';
import type { ClusterDataset, DatasetObjects } from './dataset-objects.js';
import { owners } from './rendezvous.js';

/** Shards read at once: each is read a chunk per request, so several overlap the round trips. */
const PARALLEL_LOADS = 4;

/** A shard this node owns, held in its DatasetStore as a dataset of its own, so the engine runs it. */
export interface HeldShard {
  readonly datasetId: string;
  readonly index: number;
  /** The dataset's rows this shard holds: [start, end). */
  readonly start: number;
  readonly end: number;
  /** Its id in the local store; never listed, since in a cluster the routes list the shared catalog. */
  readonly storeId: string;
}

/** A shard this node owns but cannot hold, and why; it stays in the object store. */
export interface UnplacedShard {
  readonly datasetId: string;
  readonly index: number;
  readonly reason: string;
}

export function shardKey(datasetId: string, index: number): string {
  return `${datasetId}/${index}`;
}

/**
 * The shards this node owns, loaded from the object store into the local store, counted by the
 * budget. reconcile() moves the holdings to what the current members imply: shards it no longer owns
 * are deleted from the store (which cancels the jobs reading them), newly owned ones are loaded; one
 * that does not fit is reported, never dropped elsewhere.
 */
export class ShardHoldings {
  readonly #held = new Map<string, HeldShard>();
  #unplaced: UnplacedShard[] = [];
  #loading = 0;
  #reconciled = false;

  constructor(
    readonly self: string,
    readonly replicas: number,
    readonly datasets: DatasetObjects,
    readonly store: DatasetStore,
    readonly budget: MemoryBudget,
  ) {}

  held(): HeldShard[] {
    return [...this.#held.values()];
  }

  get unplaced(): readonly UnplacedShard[] {
    return this.#unplaced;
  }

  /** Shards owned but still being read from the object store. */
  get loading(): number {
    return this.#loading;
  }

  /** Whether a reconcile has completed, so what is held is what this node owns. */
  get reconciled(): boolean {
    return this.#reconciled;
  }

  async reconcile(members: readonly string[], tables: readonly ClusterDataset[]): Promise<void> {
    const wanted = new Map<string, { dataset: ClusterDataset; index: number }>();
    for (const dataset of tables) {
      for (const { index } of dataset.shards) {
        const key = shardKey(dataset.id, index);
        if (owners(key, members, this.replicas).includes(this.self)) wanted.set(key, { dataset, index });
      }
    }
    for (const [key, shard] of this.#held) {
      if (wanted.has(key)) continue;
      this.#held.delete(key);
      this.store.delete(shard.storeId);
    }
    const missing = [...wanted].filter(([key]) => !this.#held.has(key));
    this.#loading = missing.length;
    const unplaced: UnplacedShard[] = [];
    let next = 0;
    const worker = async () => {
      while (next < missing.length) {
        const [key, { dataset, index }] = missing[next++];
        try {
          this.#held.set(key, await this.#load(dataset, index));
        } catch (err) {
          unplaced.push({ datasetId: dataset.id, index, reason: (err as Error).message });
        } finally {
          this.#loading--;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_LOADS, missing.length) }, worker));
    this.#unplaced = unplaced;
    this.#reconciled = true;
  }

  /** Gives back every shard, as the node leaves. */
  releaseAll(): void {
    for (const shard of this.#held.values()) this.store.delete(shard.storeId);
    this.#held.clear();
  }

  async #load(dataset: ClusterDataset, index: number): Promise<HeldShard> {
    const { start, end, bytes } = dataset.shards[index];
    const reservation = this.budget.reserve(bytes, `shard ${index} of dataset ${dataset.id}`);
    try {
      const data = await this.datasets.shard(dataset, index);
      const shape = [end - start, ...dataset.shape.slice(1)];
      const array = allocateArray(dataset.dtype, shape, MAX_SEGMENT_BYTES);
      setBytes(array, data);
      const storeId = `shard.${dataset.id}.${index}`;
      this.store.add(
        { ...array, dtype: dataset.dtype, shape, reservation },
        null,
        { id: storeId, createdAt: dataset.createdAt },
        { firstRow: start, rows: dataset.rows },
      );
      return { datasetId: dataset.id, index, start, end, storeId };
    } catch (err) {
      reservation.release();
      throw err;
    }
  }
}
