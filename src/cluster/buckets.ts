import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import type { NatsConnection } from '@nats-io/transport-node';
import { DatasetObjects } from './dataset-objects.js';
import { JobTable } from './job-table.js';
import { keyLister, objectReader } from './leader-reads.js';
import { type Member, Membership } from './membership.js';
import { shardRowsFor } from './shards.js';

export interface ClusterBucketOptions {
  /** JetStream replicas of every bucket: 1, 3 or 5, at most the NATS servers in the cluster. */
  readonly streamReplicas: number;
  /** How long a member's heartbeat counts. */
  readonly memberTtlMs: number;
  readonly maxShardBytes: number;
}

const MEMBERS = 'rowpool-members';
const DATASETS = 'rowpool-datasets';
const SHARDS = 'rowpool-shards';
const RESULTS = 'rowpool-results';

/** Opens (creating when missing) the buckets every node shares; the names are fixed. */
export async function openBuckets(nc: NatsConnection, self: Member, opts: ClusterBucketOptions) {
  const kvm = new Kvm(nc);
  const objm = new Objm(nc);
  const replicas = opts.streamReplicas;
  const [members, datasets, objects, jobs, results, jsm] = await Promise.all([
    kvm.create(MEMBERS, { ttl: opts.memberTtlMs, history: 1, replicas }),
    kvm.create(DATASETS, { history: 1, replicas }),
    objm.create(SHARDS, { replicas }),
    kvm.create('rowpool-jobs', { history: 1, replicas }),
    objm.create(RESULTS, { replicas }),
    jetstreamManager(nc),
  ]);
  return {
    membership: new Membership(members, keyLister(jsm, MEMBERS), self),
    // A shard's per-row answer is one message: the server's max_payload bounds its rows.
    datasets: new DatasetObjects(
      objects,
      datasets,
      { keys: keyLister(jsm, DATASETS), object: objectReader(objects, jsm, SHARDS) },
      opts.maxShardBytes,
      shardRowsFor(nc.info?.max_payload ?? 1 << 20),
    ),
    jobs: new JobTable(jobs),
    results,
    readResult: objectReader(results, jsm, RESULTS),
  };
}
