import type { KV } from '@nats-io/kv';

/**
 * Whether a job's coordinating node is still a member, read from the membership bucket (whose
 * entries expire with a node's heartbeat). A node found live is trusted for `trustMs`, so readers
 * polling a job do not read the bucket each time; a node found gone is asked again every time.
 */
export class Coordinators {
  readonly #seenLive = new Map<string, number>();

  constructor(
    readonly members: KV,
    readonly self: string,
    readonly trustMs: number,
  ) {}

  async isLive(id: string): Promise<boolean> {
    if (id === this.self) return true;
    const seen = this.#seenLive.get(id);
    if (seen !== undefined && Date.now() - seen < this.trustMs) return true;
    const entry = await this.members.get(id);
    const live = entry !== null && entry.operation === 'PUT';
    if (live) this.#seenLive.set(id, Date.now());
    else this.#seenLive.delete(id);
    return live;
  }
}
