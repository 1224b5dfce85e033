import type { JobEngine, JobRequest } from '../jobs/engine.js';
import { isEnded } from '../jobs/status.js';
import type { TopK } from '../jobs/topk.js';

/** One shard's part of a job: the request with its rows made relative to the shard's first row. */
export interface ShardTask {
  readonly op: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly rows: { readonly start: number; readonly end: number };
  readonly top?: { readonly k: number; readonly largest: boolean };
}

export function encodeTask(task: ShardTask): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(task));
}

/**
 * Runs a shard's part on this node's own engine, as a job on the shard's local dataset, and answers
 * with its per-row values (raw little-endian, 8 bytes a row) or its top-k as JSON with shard-local
 * row indices. The local job is forgotten once answered: the coordinator keeps the record.
 */
export async function runShardTask(
  engine: JobEngine,
  storeId: string,
  payload: Uint8Array,
): Promise<Uint8Array> {
  const task = JSON.parse(new TextDecoder().decode(payload)) as ShardTask;
  const job = engine.submit(storeId, task as JobRequest);
  try {
    while (!isEnded(job.status)) await engine.waitFor(job, 60);
    if (job.status !== 'succeeded') throw new Error(job.error ?? `its job ended ${job.status}`);
    const result = engine.result(job);
    if (task.top !== undefined) {
      // JSON has no NaN or infinities: those travel as their names and are read back by Number().
      const { indices, values } = result.top!;
      const wire = values.map((v) => (Number.isFinite(v) ? v : String(v)));
      return new TextEncoder().encode(JSON.stringify({ indices, values: wire }));
    }
    return new Uint8Array(result.buffer!).slice();
  } finally {
    engine.remove(job.id);
  }
}

export function decodeTop(reply: Uint8Array): TopK {
  const wire = JSON.parse(new TextDecoder().decode(reply)) as {
    indices: number[];
    values: (number | string)[];
  };
  return { indices: wire.indices, values: wire.values.map(Number) };
}
