import type { KV } from '@nats-io/kv';

const LIST_TIMEOUT_MS = 2000;
const LIST_ATTEMPTS = 3;

/** What a node says about itself in its heartbeat. */
export interface Member {
  readonly id: string;
  /** Where its HTTP API answers. */
  readonly url: string;
  readonly memoryLimit: number;
}

/**
 * Membership in a KV bucket whose entries expire (its TTL): each node puts its entry every
 * heartbeat, so a node that stops (a crash, a partition) drops out of the list once its last
 * heartbeat is older than the TTL, with no one having to notice it.
 */
export class Membership {
  #timer: NodeJS.Timeout | undefined;

  constructor(
    readonly bucket: KV,
    readonly self: Member,
  ) {}

  /** Puts this node's entry now and then every `heartbeatMs` until leave(). */
  async join(heartbeatMs: number, onError: (err: unknown) => void): Promise<void> {
    await this.#beat();
    this.#timer = setInterval(() => this.#beat().catch(onError), heartbeatMs);
    this.#timer.unref();
  }

  /** Leaves at once rather than after the TTL: the others move its shards without waiting. */
  async leave(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.bucket.delete(this.self.id);
  }

  /** The live members, by id. */
  async members(): Promise<Member[]> {
    const found: Member[] = [];
    for (const key of await this.#keys()) {
      const entry = await this.bucket.get(key);
      if (entry !== null && entry.operation === 'PUT') found.push(entry.json<Member>());
    }
    return found.sort((a, b) => a.id.localeCompare(b.id));
  }

  /**
   * The bucket's keys. A listing counts the entries first and then waits for them, so an entry that
   * expires in between would keep it waiting for good: a listing is bounded and tried again.
   */
  async #keys(): Promise<string[]> {
    let last: unknown;
    for (let attempt = 0; attempt < LIST_ATTEMPTS; attempt++) {
      const iterator = await this.bucket.keys();
      const timer = setTimeout(
        () => iterator.stop(new Error('listing the members timed out')),
        LIST_TIMEOUT_MS,
      );
      try {
        const keys: string[] = [];
        for await (const key of iterator) keys.push(key);
        return keys;
      } catch (err) {
        last = err;
      } finally {
        clearTimeout(timer);
      }
    }
    throw last;
  }

  async #beat(): Promise<void> {
    await this.bucket.put(this.self.id, JSON.stringify(this.self));
  }
}
