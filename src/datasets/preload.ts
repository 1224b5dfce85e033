import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { PreloadEntry } from '../config.js';
import type { MemoryBudget } from '../memory.js';
import { readNpyStream } from './ingest.js';
import type { Dataset, DatasetStore } from './store.js';

export class PreloadError extends Error {
  override name = 'PreloadError';
}

/**
 * ROWPOOL_PRELOAD: each file is streamed from disk into shared memory with the same checks and
 * limits as an upload. A bad file stops the start, naming the file and what is wrong with it.
 */
export async function preloadDatasets(
  entries: readonly PreloadEntry[],
  store: DatasetStore,
  budget: MemoryBudget,
): Promise<Dataset[]> {
  const loaded: Dataset[] = [];
  for (const { name, path } of entries) {
    try {
      const { size } = await stat(path);
      const stream = createReadStream(path, { highWaterMark: 1 << 20 });
      try {
        loaded.push(store.add(await readNpyStream(stream, budget, size), name));
      } finally {
        stream.destroy();
      }
    } catch (err) {
      throw new PreloadError(`ROWPOOL_PRELOAD ${name}=${path}: ${(err as Error).message}`);
    }
  }
  return loaded;
}
