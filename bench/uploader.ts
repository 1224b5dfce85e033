import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { Reply } from './client.js';
import type { UploadTask } from './upload-worker.js';

/** Streams uploads from a worker thread of this process (see upload-worker.ts for why). */
export class Uploader {
  readonly #pool = new Piscina<UploadTask, Reply<unknown>>({
    filename: fileURLToPath(new URL('./upload-worker.ts', import.meta.url)),
    minThreads: 1,
    maxThreads: 1,
    idleTimeout: Number.POSITIVE_INFINITY,
    execArgv: ['--import', 'tsx'],
  });

  async upload<T>(task: UploadTask): Promise<Reply<T>> {
    return (await this.#pool.run(task)) as Reply<T>;
  }

  close(): Promise<void> {
    return this.#pool.destroy();
  }
}
