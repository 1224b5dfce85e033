import { type Reply, streamUpload } from './client.js';
import { chunk } from './data.js';

/**
 * The uploading client runs in a worker thread of the benchmark's process: its memory still counts
 * in the RSS figures, but it no longer takes turns with the server on the main thread's event loop.
 * No top-level await: on Node 20 tsx reaches a worker only through its require hook.
 */
export interface UploadTask {
  readonly port: number;
  readonly path: string;
  readonly contentType: string;
  readonly head: Uint8Array;
  readonly dataBytes: number;
}

export default function upload(task: UploadTask): Promise<Reply<unknown>> {
  return streamUpload(task.port, task.path, task.contentType, task.head, task.dataBytes, chunk);
}
