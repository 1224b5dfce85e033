import { createReadStream } from 'node:fs';
import type { FastifyBaseLogger } from 'fastify';
import { readNpyStream } from '../datasets/ingest.js';
import { arraySlices } from '../datasets/shared-array.js';
import type { Dataset, DatasetIdentity, DatasetStore, FilledArray } from '../datasets/store.js';
import type { MemoryBudget } from '../memory.js';
import { DatasetFiles, WRITE_SLICE } from './dataset-files.js';

/** A dataset kept on disk but not in memory: it stays there and is tried again at the next start. */
export interface NotLoaded {
  readonly id: string;
  readonly name: string | null;
  readonly bytes: number;
  readonly reason: string;
}

/**
 * ROWPOOL_DATA_DIR: every dataset is written to disk before its upload is answered, removed from it
 * before its delete is answered, and loaded back at start.
 */
export class DurableDatasets {
  readonly #files: DatasetFiles;
  readonly #log: FastifyBaseLogger;
  #notLoaded: NotLoaded[] = [];

  constructor(dir: string, log: FastifyBaseLogger) {
    this.#files = new DatasetFiles(dir);
    this.#log = log;
  }

  /** Datasets found at start that are not served, with why. */
  get notLoaded(): readonly NotLoaded[] {
    return this.#notLoaded;
  }

  async save(identity: DatasetIdentity, filled: FilledArray, name: string | null): Promise<void> {
    await this.#files.save(
      {
        version: 1,
        id: identity.id,
        name,
        dtype: filled.dtype,
        shape: filled.shape,
        bytes: filled.bytes,
        createdAt: identity.createdAt,
      },
      arraySlices(filled, WRITE_SLICE),
    );
  }

  async remove(id: string): Promise<void> {
    await this.#files.remove(id);
  }

  /**
   * Loads every completed dataset, oldest first, into the store. One that does not fit in the memory
   * limit (or cannot be read) is skipped and reported, and its files are kept.
   */
  async restore(store: DatasetStore, budget: MemoryBudget): Promise<Dataset[]> {
    await this.#files.ensureDirectory();
    const { stored, discarded } = await this.#files.scan();
    for (const { file, reason } of discarded) {
      this.#log.warn({ file, reason }, 'discarded an incomplete dataset file');
    }
    const loaded: Dataset[] = [];
    const notLoaded: NotLoaded[] = [];
    for (const { meta, file, size } of stored) {
      const stream = createReadStream(file, { highWaterMark: 1 << 20 });
      try {
        const filled = await readNpyStream(stream, budget, size);
        loaded.push(store.add(filled, meta.name, { id: meta.id, createdAt: meta.createdAt }));
      } catch (err) {
        const reason = (err as Error).message;
        notLoaded.push({ id: meta.id, name: meta.name, bytes: meta.bytes, reason });
        this.#log.error(
          { datasetId: meta.id, file, reason },
          'stored dataset not loaded; its files are kept',
        );
      } finally {
        stream.destroy();
      }
    }
    this.#notLoaded = notLoaded;
    return loaded;
  }
}
