import { headers, type NatsConnection, type Subscription } from '@nats-io/transport-node';

/** Every replica of a shard answers in this queue group, so one of them gets each request. */
export const SHARD_QUEUE = 'rowpool-shards';
const ERROR_HEADER = 'Rowpool-Error';

export function shardSubject(datasetId: string, index: number): string {
  return `rowpool.shard.${datasetId}.${index}`;
}

export class ShardFailed extends Error {
  override name = 'ShardFailed';
}

export interface GatherOptions {
  /** How long one attempt waits for its answer. */
  readonly timeoutMs: number;
  /** Attempts per shard; each after the first goes to whichever owner answers then. */
  readonly attempts: number;
  /** Pause before an attempt after the first: a lost owner's shards need a moment to load elsewhere. */
  readonly retryDelayMs: number;
}

/** One shard's part of a call. */
export interface ShardRequest {
  readonly index: number;
  readonly payload: Uint8Array;
}

/**
 * One request per shard, all at once; the answers in shard order. A shard whose request times out,
 * finds no owner or gets an error is asked again (a dead owner's subscription is gone, so the
 * retry reaches another replica). If any shard fails every attempt, the whole call fails naming
 * it: never a partial result. `answered` hears of each request's position as its answer comes.
 */
export async function gather(
  nc: NatsConnection,
  datasetId: string,
  requests: readonly ShardRequest[],
  opts: GatherOptions,
  answered: (position: number) => void = () => {},
): Promise<Uint8Array[]> {
  return Promise.all(
    requests.map(async ({ index, payload }, position) => {
      const reply = await ask(nc, datasetId, index, payload, opts);
      answered(position);
      return reply;
    }),
  );
}

async function ask(
  nc: NatsConnection,
  datasetId: string,
  index: number,
  payload: Uint8Array,
  opts: GatherOptions,
): Promise<Uint8Array> {
  let last = '';
  for (let attempt = 1; attempt <= opts.attempts; attempt++) {
    if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, opts.retryDelayMs));
    try {
      const reply = await nc.request(shardSubject(datasetId, index), payload, { timeout: opts.timeoutMs });
      const failure = reply.headers?.get(ERROR_HEADER);
      if (failure === undefined || failure === '') return reply.data;
      last = failure;
    } catch (err) {
      last = (err as Error).message;
    }
  }
  throw new ShardFailed(
    `shard ${index} of dataset ${datasetId} could not be computed in ${opts.attempts} attempts: ${last}`,
  );
}

/** Answers requests for one shard this node owns; a failing handler answers with its message. */
export function serveShard(
  nc: NatsConnection,
  datasetId: string,
  index: number,
  handler: (request: Uint8Array) => Promise<Uint8Array>,
): Subscription {
  return nc.subscribe(shardSubject(datasetId, index), {
    queue: SHARD_QUEUE,
    callback: (err, msg) => {
      if (err !== null) return;
      const fail = (failure: Error) => {
        const h = headers();
        h.set(ERROR_HEADER, failure.message || 'the shard could not be computed');
        msg.respond(new Uint8Array(0), { headers: h });
      };
      // A reply the connection refuses (over max_payload) is answered as a failure, not thrown.
      handler(msg.data)
        .then((data) => msg.respond(data))
        .catch(fail)
        .catch(() => {});
    },
  });
}
