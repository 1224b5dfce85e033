import type { KV } from '@nats-io/kv';
import type { KeyLister } from './leader-reads.js';

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
    readonly keys: KeyLister,
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
    for (const key of await this.keys()) {
      const entry = await this.bucket.get(key);
      if (entry !== null && entry.operation === 'PUT') found.push(entry.json<Member>());
    }
    return found.sort((a, b) => a.id.localeCompare(b.id));
  }

  async #beat(): Promise<void> {
    await this.bucket.put(this.self.id, JSON.stringify(this.self));
  }
}
