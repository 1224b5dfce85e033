import { type DatasetIdentity, type DatasetInfo, datasetInfo, type FilledArray } from '../datasets/store.js';
import { DatasetNotFound } from '../errors.js';
import type { ClusterDataset, DatasetObjects } from './dataset-objects.js';

/** The datasets as every node of a cluster sees them: the shared tables in JetStream, not a node's memory. */
export class ClusterCatalog {
  constructor(readonly datasets: DatasetObjects) {}

  /** Shards the upload into the object store; resolves once JetStream has acknowledged every shard. */
  async put(identity: DatasetIdentity, filled: FilledArray, name: string | null): Promise<DatasetInfo> {
    const { shape } = filled;
    const rowLength = shape.slice(1).reduce((n, d) => n * d, 1);
    const stored = await this.datasets.put(
      {
        ...identity,
        name,
        dtype: filled.dtype,
        shape: [...shape],
        rows: shape[0],
        rowLength,
        bytes: filled.bytes,
      },
      filled,
    );
    return datasetInfo(stored);
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
