import { allocateSharedArray, arrayBytes, type SharedArray } from '../datasets/shared-array.js';
import type { MemoryBudget, Reservation } from '../memory.js';
import type { ClusterDataset, DatasetObjects } from './dataset-objects.js';
import { owners } from './rendezvous.js';

/** A shard this node owns, in its shared memory like a dataset, so the pool computes it in place. */
export interface HeldShard extends SharedArray {
  readonly datasetId: string;
  readonly index: number;
  /** The dataset's rows this shard holds: [start, end). */
  readonly start: number;
  readonly end: number;
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
 * The shards this node owns, loaded from the object store into memory counted by the budget.
 * reconcile() moves the holdings to what the current members imply: shards it no longer owns are
 * released, newly owned ones are loaded; one that does not fit is reported, never dropped elsewhere.
 */
export class ShardHoldings {
  readonly #held = new Map<string, { shard: HeldShard; reservation: Reservation }>();
  #unplaced: UnplacedShard[] = [];

  constructor(
    readonly self: string,
    readonly replicas: number,
    readonly datasets: DatasetObjects,
    readonly budget: MemoryBudget,
  ) {}

  held(): HeldShard[] {
    return [...this.#held.values()].map((h) => h.shard);
  }

  get unplaced(): readonly UnplacedShard[] {
    return this.#unplaced;
  }

  async reconcile(members: readonly string[], tables: readonly ClusterDataset[]): Promise<void> {
    const wanted = new Map<string, { dataset: ClusterDataset; index: number }>();
    for (const dataset of tables) {
      for (const { index } of dataset.shards) {
        const key = shardKey(dataset.id, index);
        if (owners(key, members, this.replicas).includes(this.self)) wanted.set(key, { dataset, index });
      }
    }
    for (const [key, { reservation }] of this.#held) {
      if (wanted.has(key)) continue;
      this.#held.delete(key);
      reservation.release();
    }
    const unplaced: UnplacedShard[] = [];
    for (const [key, { dataset, index }] of wanted) {
      if (this.#held.has(key)) continue;
      try {
        this.#held.set(key, await this.#load(dataset, index));
      } catch (err) {
        unplaced.push({ datasetId: dataset.id, index, reason: (err as Error).message });
      }
    }
    this.#unplaced = unplaced;
  }

  async #load(dataset: ClusterDataset, index: number) {
    const { start, end, bytes } = dataset.shards[index];
    const reservation = this.budget.reserve(bytes, `shard ${index} of dataset ${dataset.id}`);
    try {
      const data = await this.datasets.shard(dataset, index);
      const array = allocateSharedArray(dataset.dtype, bytes);
      arrayBytes(array).set(data);
      return { shard: { ...array, datasetId: dataset.id, index, start, end }, reservation };
    } catch (err) {
      reservation.release();
      throw err;
    }
  }
}
