import type { ArraySink } from '../datasets/array-sink.js';
import { type DatasetIdentity, type DatasetInfo, datasetInfo } from '../datasets/store.js';
import { DatasetNotFound } from '../errors.js';
import type { MemoryBudget } from '../memory.js';
import type { ClusterDataset, DatasetObjects, Described } from './dataset-objects.js';

/** The datasets as every node of a cluster sees them: the shared tables in JetStream, not a node's memory. */
export class ClusterCatalog {
  constructor(
    readonly datasets: DatasetObjects,
    /** What an upload in flight holds is counted here: its shards not yet acknowledged. */
    readonly budget: MemoryBudget,
  ) {}

  /**
   * Stores the array `read` streams into the sink, shard by shard as it arrives; resolves once
   * JetStream has acknowledged every shard and the metadata.
   */
  async upload(
    identity: DatasetIdentity,
    read: (sink: ArraySink) => Promise<Described>,
  ): Promise<DatasetInfo> {
    return datasetInfo(await this.datasets.upload(identity, this.budget, read));
  }

  async list(): Promise<DatasetInfo[]> {
    return (await this.datasets.list()).map(datasetInfo);
  }

  async get(id: string): Promise<ClusterDataset> {
    const found = await this.datasets.get(id);
    if (found === undefined) throw new DatasetNotFound(id);
    return found;
  }

  async info(id: string): Promise<DatasetInfo> {
    return datasetInfo(await this.get(id));
  }

  async delete(id: string): Promise<void> {
    await this.datasets.delete(await this.get(id));
  }

  /** The dataset's bytes, a shard at a time, in row order. */
  async *bytes(dataset: ClusterDataset): AsyncGenerator<Uint8Array> {
    for (const shard of dataset.shards) yield await this.datasets.shard(dataset, shard.index);
  }
}
