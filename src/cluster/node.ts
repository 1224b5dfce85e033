import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import type { FastifyBaseLogger } from 'fastify';
import type { ClusterConfig } from '../config.js';
import type { DatasetStore } from '../datasets/store.js';
import type { JobEngine } from '../jobs/engine.js';
import type { MemoryBudget } from '../memory.js';
import { openBuckets } from './buckets.js';
import { ClusterJobs } from './cluster-jobs.js';
import type { DatasetObjects } from './dataset-objects.js';
import { Coordinators } from './job-coordinators.js';
import { JobResults } from './job-results.js';
import type { Membership } from './membership.js';
import { serveShard } from './scatter.js';
import { ShardHoldings, shardKey } from './shard-holdings.js';
import { runShardTask } from './shard-work.js';

export interface ClusterNodeDeps {
  readonly store: DatasetStore;
  readonly budget: MemoryBudget;
  readonly engine: JobEngine;
  readonly log: FastifyBaseLogger;
}

/**
 * This process as a member of the cluster: its heartbeat, the shards it owns loaded into its store
 * and served on their subjects, and the jobs it coordinates. Every heartbeat it reads the members
 * and the dataset tables and moves its holdings to match. It keeps a copy of the job table (job-table.ts)
 * from its start to its close.
 */
export class ClusterNode {
  readonly #subs = new Map<string, Subscription>();
  #timer: NodeJS.Timeout | undefined;
  #members = 0;
  #closed = false;

  private constructor(
    readonly config: ClusterConfig,
    readonly connection: NatsConnection,
    readonly membership: Membership,
    readonly datasets: DatasetObjects,
    readonly holdings: ShardHoldings,
    readonly jobs: ClusterJobs,
    readonly deps: ClusterNodeDeps,
  ) {}

  static async open(config: ClusterConfig, memoryLimit: number, deps: ClusterNodeDeps): Promise<ClusterNode> {
    const nc = await connect({ servers: config.natsUrl.split(','), name: config.nodeId });
    const {
      membership,
      datasets,
      jobs: table,
      results,
      readResult,
    } = await withRetries(() =>
      openBuckets(
        nc,
        { id: config.nodeId, url: config.advertiseUrl, memoryLimit },
        {
          streamReplicas: config.streamReplicas,
          memberTtlMs: config.memberTtlMs,
          maxShardBytes: config.shardBytes,
        },
      ),
    ).catch(async (err: unknown) => {
      await nc.close().catch(() => {});
      throw new Error(`the cluster buckets could not be opened: ${(err as Error).message}`);
    });
    const holdings = new ShardHoldings(config.nodeId, config.replicas, datasets, deps.store, deps.budget);
    await table.start((err) =>
      deps.log.error({ err }, 'an entry of the cluster job table could not be read'),
    );
    const jobs = new ClusterJobs(
      nc,
      datasets,
      deps.budget,
      {
        timeoutMs: config.shardTimeoutMs,
        // Enough pauses of a heartbeat each for a lost owner's entry to expire and its shards to load
        // elsewhere, or for an owner cut off with its NATS server to reconnect to another.
        attempts: Math.ceil(config.memberTtlMs / config.heartbeatMs) + 10,
        retryDelayMs: config.heartbeatMs,
      },
      {
        nodeId: config.nodeId,
        table,
        results: new JobResults(results, readResult, deps.budget),
        coordinators: new Coordinators(membership.bucket, config.nodeId, config.heartbeatMs),
        recheckMs: config.heartbeatMs,
        log: deps.log,
      },
    );
    return new ClusterNode(config, nc, membership, datasets, holdings, jobs, deps);
  }

  /** Joins, loads what this node owns, then keeps doing so every heartbeat. */
  async start(): Promise<void> {
    const onError = (err: unknown) => this.deps.log.warn({ err }, 'cluster heartbeat failed');
    await this.membership.join(this.config.heartbeatMs, onError);
    await this.#reconcile();
    const tick = () => {
      this.#timer = setTimeout(() => {
        this.#reconcile()
          .catch(onError)
          .finally(() => {
            if (!this.#closed) tick();
          });
      }, this.config.heartbeatMs);
      this.#timer.unref();
    };
    tick();
  }

  /** Why this node has not loaded what it owns, or undefined when it has. */
  notReadyReason(): string | undefined {
    if (!this.holdings.reconciled) return 'joining the cluster: the shards this node owns are not loaded yet';
    if (this.holdings.loading > 0) return `loading ${this.holdings.loading} shards this node owns`;
    return undefined;
  }

  get nodes(): number {
    return this.#members;
  }

  /** Leaves at once, so the others take its shards without waiting for its heartbeat to expire. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.membership.leave().catch(() => {});
    this.holdings.releaseAll();
    this.jobs.shared.table.stop();
    await this.connection.drain().catch(() => {});
  }

  async #reconcile(): Promise<void> {
    const members = (await this.membership.members()).map((m) => m.id);
    this.#members = members.length;
    await this.holdings.reconcile(members, await this.datasets.list());
    const held = new Map(this.holdings.held().map((s) => [shardKey(s.datasetId, s.index), s]));
    for (const [key, sub] of this.#subs) {
      if (held.has(key)) continue;
      sub.unsubscribe();
      this.#subs.delete(key);
    }
    for (const [key, shard] of held) {
      if (this.#subs.has(key)) continue;
      this.#subs.set(
        key,
        serveShard(this.connection, shard.datasetId, shard.index, (request) =>
          runShardTask(this.deps.engine, shard.storeId, request),
        ),
      );
    }
    if (this.holdings.unplaced.length > 0) {
      this.deps.log.warn({ unplaced: this.holdings.unplaced }, 'owned shards that do not fit in memory');
    }
  }
}

/**
 * Nodes started together all create the same buckets; JetStream may refuse some of the racing
 * creates (or time out while it places replicas), and a moment later the buckets are there.
 */
async function withRetries<T>(attempt: () => Promise<T>, tries = 4, pauseMs = 1000): Promise<T> {
  for (let k = 1; ; k++) {
    try {
      return await attempt();
    } catch (err) {
      if (k >= tries) throw err;
      await new Promise((resolve) => setTimeout(resolve, pauseMs * k));
    }
  }
}
