import type { KV } from '@nats-io/kv';
import type { ObjectStore } from '@nats-io/obj';
import { type ArraySink, type StreamedArray, writeAll } from '../datasets/array-sink.js';
import { arraySlices, type SharedArray } from '../datasets/shared-array.js';
import type { DatasetIdentity, DatasetInfo } from '../datasets/store.js';
import { MemoryBudget } from '../memory.js';
import type { KeyLister, ObjectReader } from './leader-reads.js';
import { ShardUpload } from './shard-upload.js';
import type { Shard } from './shards.js';

/** A dataset as the cluster knows it: its metadata and the shard table, kept in a KV bucket. */
export interface ClusterDataset extends DatasetInfo {
  readonly version: 1;
  readonly shards: readonly Shard[];
}

export type NewClusterDataset = Omit<ClusterDataset, 'version' | 'shards'>;

/** What an upload said of its array once its body ended. */
export interface Described extends StreamedArray {
  readonly name: string | null;
}

/** The array put() is given is in memory already: only the copies in flight would be counted. */
const UNCOUNTED = new MemoryBudget(Number.POSITIVE_INFINITY);
/** Largest view of an array in memory handed to the upload at once. */
const PUT_SLICE = 4 * 2 ** 20;

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

  /**
   * Stores the array `read` writes into the sink it is given, shard by shard as it arrives (see
   * shard-upload.ts), then the metadata `read` answers with. Whatever fails, the shards already put
   * are deleted and no metadata is left.
   */
  async upload(
    identity: DatasetIdentity,
    budget: MemoryBudget,
    read: (sink: ArraySink) => Promise<Described>,
  ): Promise<ClusterDataset> {
    const sink = new ShardUpload(this.objects, budget, this, (index) => shardObjectName(identity.id, index));
    let metaWritten = false;
    try {
      const { dtype, shape, name } = await read(sink);
      const rows = shape.length === 0 ? 1 : shape[0];
      const rowLength = shape.slice(1).reduce((n, d) => n * d, 1);
      const shards = await sink.end(rows);
      const bytes = shards.reduce((n, s) => n + s.bytes, 0);
      const stored: ClusterDataset = {
        version: 1,
        ...identity,
        name,
        dtype,
        shape: [...shape],
        rows,
        rowLength,
        bytes,
        shards,
      };
      metaWritten = true;
      await this.meta.put(identity.id, JSON.stringify(stored));
      return stored;
    } catch (err) {
      // A put that timed out may still have been stored.
      if (metaWritten) await this.meta.delete(identity.id).catch(() => {});
      await sink.abort();
      throw err;
    }
  }

  /** An array already in memory, stored as an upload of it would be. */
  async put(dataset: NewClusterDataset, data: SharedArray, budget = UNCOUNTED): Promise<ClusterDataset> {
    const rowBytes = dataset.rows === 0 ? 0 : dataset.bytes / dataset.rows;
    return this.upload(dataset, budget, async (sink) => {
      sink.begin({ rows: dataset.rows, rowBytes });
      for (const slice of arraySlices(data, PUT_SLICE)) await writeAll(sink, slice);
      return dataset;
    });
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
