import { Kvm } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import type { NatsConnection } from '@nats-io/transport-node';
import { DatasetObjects } from './dataset-objects.js';
import { JobTable } from './job-table.js';
import { type Member, Membership } from './membership.js';
import { shardRowsFor } from './shards.js';

export interface ClusterBucketOptions {
  /** JetStream replicas of every bucket: 1, 3 or 5, at most the NATS servers in the cluster. */
  readonly streamReplicas: number;
  /** How long a member's heartbeat counts. */
  readonly memberTtlMs: number;
  readonly maxShardBytes: number;
}

/** Opens (creating when missing) the buckets every node shares; the names are fixed. */
export async function openBuckets(nc: NatsConnection, self: Member, opts: ClusterBucketOptions) {
  const kvm = new Kvm(nc);
  const objm = new Objm(nc);
  const replicas = opts.streamReplicas;
  const [members, datasets, objects, jobs, results] = await Promise.all([
    kvm.create('rowpool-members', { ttl: opts.memberTtlMs, history: 1, replicas }),
    kvm.create('rowpool-datasets', { history: 1, replicas }),
    objm.create('rowpool-shards', { replicas }),
    kvm.create('rowpool-jobs', { history: 1, replicas }),
    objm.create('rowpool-results', { replicas }),
  ]);
  return {
    membership: new Membership(members, self),
    // A shard's per-row answer is one message: the server's max_payload bounds its rows.
    datasets: new DatasetObjects(
      objects,
      datasets,
      opts.maxShardBytes,
      shardRowsFor(nc.info?.max_payload ?? 1 << 20),
    ),
    jobs: new JobTable(jobs),
    results,
  };
}
