import type { KV, KvWatchEntry } from '@nats-io/kv';
import { ServiceUnavailable } from '../errors.js';
import { isEnded } from '../jobs/status.js';
import { ClusterJobRecord, type StoredJob } from './job-entry.js';

/** How long a reader waits for this node's copy to catch up with the bucket before giving up. */
const SYNC_TIMEOUT_MS = 5000;
/** Tries at creating the watch, each bounded by JetStream's 5 s answer. */
const WATCH_ATTEMPTS = 5;

interface Row {
  readonly stored: StoredJob;
  readonly revision: number;
}

/**
 * This node's copy of the `rowpool-jobs` bucket, kept by one watch: what lists and retention read,
 * and what tells waiters that a job's entry changed. The watch delivers changes in the bucket's
 * order, so after sync() the copy holds at least every change made before it was called.
 */
export class JobTable {
  readonly #rows = new Map<string, Row>();
  /** Ended jobs in the order they were seen to end: the first are the first forgotten. */
  readonly #ended = new Set<string>();
  readonly #waiters = new Map<string, Set<() => void>>();
  readonly #caughtUp: Array<{ revision: number; resolve: () => void }> = [];
  #revision = 0;
  #watch: Awaited<ReturnType<KV['watch']>> | undefined;

  constructor(readonly bucket: KV) {}

  /** Reads every entry and follows changes from then on. */
  async start(onError: (err: unknown) => void): Promise<void> {
    const watch = await this.#openWatch();
    this.#watch = watch;
    void (async () => {
      for await (const entry of watch) {
        try {
          this.#apply(entry);
        } catch (err) {
          onError(err);
        }
      }
    })();
  }

  stop(): void {
    this.#watch?.stop();
  }

  /**
   * The watch runs on an ephemeral consumer; with one server of a NATS cluster down, nats-server 2.9
   * places about half of those on the lost server and the creation times out, so it is tried again.
   */
  async #openWatch(): Promise<Awaited<ReturnType<KV['watch']>>> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.bucket.watch({ key: '>' });
      } catch (err) {
        if (attempt >= WATCH_ATTEMPTS) throw err;
      }
    }
  }

  /** Resolves once the copy has every change the bucket held when it was called. */
  async sync(): Promise<void> {
    const last = (await this.bucket.status()).streamInfo.state.last_seq;
    if (this.#revision >= last) return;
    await new Promise<void>((resolve, reject) => {
      const waiter = {
        revision: last,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.#caughtUp.splice(this.#caughtUp.indexOf(waiter), 1);
        reject(new ServiceUnavailable('the cluster job table did not catch up in time; try again'));
      }, SYNC_TIMEOUT_MS);
      this.#caughtUp.push(waiter);
    });
  }

  /** Every job, each a fresh snapshot. */
  records(): ClusterJobRecord[] {
    return [...this.#rows.values()].map((row) => new ClusterJobRecord(row.stored, row.revision));
  }

  /** Ids of the ended jobs past the first `kept` from the newest, oldest first. */
  endedBeyond(kept: number): string[] {
    const excess = this.#ended.size - kept;
    if (excess <= 0) return [];
    const ids: string[] = [];
    for (const id of this.#ended) {
      if (ids.length === excess) break;
      ids.push(id);
    }
    return ids;
  }

  /**
   * A promise that resolves at the next change to the job's entry or after `ms`, whichever comes
   * first; `cancel` stops waiting. Registered at once, so a change made after the call is never missed.
   */
  nextChange(id: string, ms: number): { readonly changed: Promise<void>; cancel(): void } {
    let wake = () => {};
    const changed = new Promise<void>((resolve) => {
      wake = resolve;
    });
    const timer = setTimeout(() => done(), ms);
    const done = () => {
      clearTimeout(timer);
      const set = this.#waiters.get(id);
      set?.delete(done);
      if (set?.size === 0) this.#waiters.delete(id);
      wake();
    };
    const set = this.#waiters.get(id) ?? new Set();
    set.add(done);
    this.#waiters.set(id, set);
    return { changed, cancel: done };
  }

  #apply(entry: KvWatchEntry): void {
    this.#revision = Math.max(this.#revision, entry.revision);
    if (entry.operation === 'PUT') {
      const stored = entry.json<StoredJob>();
      this.#rows.set(entry.key, { stored, revision: entry.revision });
      if (isEnded(stored.status)) this.#ended.add(entry.key);
    } else {
      this.#rows.delete(entry.key);
      this.#ended.delete(entry.key);
    }
    for (const wake of [...(this.#waiters.get(entry.key) ?? [])]) wake();
    for (let i = this.#caughtUp.length - 1; i >= 0; i--) {
      if (this.#caughtUp[i].revision <= this.#revision) this.#caughtUp.splice(i, 1)[0].resolve();
    }
  }
}
