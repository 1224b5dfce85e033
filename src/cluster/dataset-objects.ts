import type { KV } from '@nats-io/kv';
import type { ObjectStore } from '@nats-io/obj';
import { copyBytes, type SharedArray } from '../datasets/shared-array.js';
import type { DatasetInfo } from '../datasets/store.js';
import type { KeyLister, ObjectReader } from './leader-reads.js';
import { planShards, type Shard } from './shards.js';

/** A dataset as the cluster knows it: its metadata and the shard table, kept in a KV bucket. */
export interface ClusterDataset extends DatasetInfo {
  readonly version: 1;
  readonly shards: readonly Shard[];
}

export type NewClusterDataset = Omit<ClusterDataset, 'version' | 'shards'>;

/** Shards uploaded at once: the object store acknowledges chunk by chunk, so several overlap the waits. */
const PARALLEL_SHARDS = 4;

export function shardObjectName(id: string, index: number): string {
  return `${id}/${index}`;
}

/**
 * Datasets in JetStream: each row-aligned shard its own object, the metadata with the shard table
 * one KV entry written after every shard is acknowledged, so a dataset whose metadata can be read is
 * whole. A failed upload deletes the shards it wrote.
 */
export class DatasetObjects {
  constructor(
    readonly objects: ObjectStore,
    readonly meta: KV,
    readonly reads: { readonly keys: KeyLister; readonly object: ObjectReader },
    readonly maxShardBytes: number,
    readonly maxShardRows: number,
  ) {}

  async put(dataset: NewClusterDataset, data: SharedArray): Promise<ClusterDataset> {
    const itemBytes = dataset.rows === 0 ? 0 : dataset.bytes / dataset.rows;
    const shards = planShards(dataset.rows, itemBytes, this.maxShardBytes, this.maxShardRows);
    const written: string[] = [];
    try {
      let next = 0;
      const worker = async () => {
        while (next < shards.length) {
          const shard = shards[next++];
          const name = shardObjectName(dataset.id, shard.index);
          written.push(name);
          // A copy of the shard (whichever segments it spans): the client keeps the bytes it sends
          // until JetStream acknowledges them.
          const bytes = copyBytes(data, shard.byteOffset, shard.byteOffset + shard.bytes);
          await this.objects.putBlob({ name }, bytes);
        }
      };
      await Promise.all(Array.from({ length: Math.min(PARALLEL_SHARDS, shards.length) }, worker));
      const stored: ClusterDataset = { version: 1, ...dataset, shards };
      await this.meta.put(dataset.id, JSON.stringify(stored));
      return stored;
    } catch (err) {
      await Promise.allSettled(written.map((name) => this.objects.delete(name)));
      throw err;
    }
  }

  async get(id: string): Promise<ClusterDataset | undefined> {
    const entry = await this.meta.get(id);
    if (entry === null || entry.operation !== 'PUT') return undefined;
    return entry.json<ClusterDataset>();
  }

  /** Every dataset whose upload completed. */
  async list(): Promise<ClusterDataset[]> {
    const found: ClusterDataset[] = [];
    for (const id of await this.reads.keys()) {
      const dataset = await this.get(id);
      if (dataset !== undefined) found.push(dataset);
    }
    return found;
  }

  /** A shard's bytes, checked against the shard table. */
  async shard(dataset: ClusterDataset, index: number): Promise<Uint8Array> {
    const shard = dataset.shards[index];
    const bytes = await this.reads.object(shardObjectName(dataset.id, index));
    if (bytes === null) throw new Error(`shard ${index} of dataset ${dataset.id} is missing`);
    if (bytes.byteLength !== shard.bytes) {
      throw new Error(
        `shard ${index} of dataset ${dataset.id} is ${bytes.byteLength} bytes, its table says ${shard.bytes}`,
      );
    }
    return bytes;
  }

  /** The metadata goes first, so no node finds a dataset whose shards are being removed. */
  async delete(dataset: ClusterDataset): Promise<void> {
    await this.meta.delete(dataset.id);
    await Promise.all(dataset.shards.map((s) => this.objects.delete(shardObjectName(dataset.id, s.index))));
  }
}
