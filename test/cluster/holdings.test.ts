import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openBuckets } from '../../src/cluster/buckets.js';
import { ShardHoldings, shardKey } from '../../src/cluster/shard-holdings.js';
import { copyBytes } from '../../src/datasets/shared-array.js';
import { DatasetStore } from '../../src/datasets/store.js';
import { MemoryBudget } from '../../src/memory.js';
import { sampleBytes, sharedArrayOf } from '../helpers/arrays.js';
import { type NatsServer, natsSkipReason, startNatsServer } from './nats-server.js';

const skip = natsSkipReason();
if (skip !== undefined) console.warn(`skipping the shard ownership tests: ${skip}`);

describe.skipIf(skip !== undefined)('shard ownership', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
  });
  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
  });

  test('members hold every shard between them; when one leaves the others load its shards; no room is reported', async () => {
    const { datasets } = await openBuckets(
      nc,
      { id: 'x', url: '', memoryLimit: 0 },
      { streamReplicas: 1, memberTtlMs: 5000, maxShardBytes: 8000 },
    );
    const rows = 60;
    const data = sampleBytes('float64', rows * 100, 11);
    const stored = await datasets.put(
      {
        id: randomUUID(),
        name: null,
        dtype: 'float64',
        shape: [rows, 100],
        rows,
        rowLength: 100,
        bytes: data.byteLength,
        createdAt: new Date().toISOString(),
      },
      sharedArrayOf('float64', data, rows),
    );
    expect(stored.shards).toHaveLength(6);
    const tables = await datasets.list();
    const nodes = ['a', 'b', 'c'];
    const holdings = nodes.map(
      (id) => new ShardHoldings(id, 1, datasets, new DatasetStore(), new MemoryBudget(2 ** 20)),
    );
    await Promise.all(holdings.map((h) => h.reconcile(nodes, tables)));
    const heldKeys = holdings.flatMap((h) => h.held().map((s) => shardKey(s.datasetId, s.index)));
    expect(heldKeys.sort()).toEqual(stored.shards.map((s) => shardKey(stored.id, s.index)).sort());
    for (const h of holdings) {
      for (const s of h.held()) {
        const want = data.subarray(s.start * 800, s.end * 800);
        const local = h.store.get(s.storeId);
        expect(local.shape).toEqual([s.end - s.start, 100]);
        expect(Buffer.from(copyBytes(local, 0, local.bytes)).equals(Buffer.from(want))).toBe(true);
      }
    }

    // c leaves: a and b now own all six between them and load what c held.
    const [a, b] = holdings;
    await Promise.all([a.reconcile(['a', 'b'], tables), b.reconcile(['a', 'b'], tables)]);
    expect(a.held().length + b.held().length).toBe(6);
    const usedBefore = a.budget.used;
    expect(usedBefore).toBe(a.held().reduce((n, s) => n + (s.end - s.start) * 800, 0));
    expect(a.store.count).toBe(a.held().length);

    // a alone with room for two shards: it holds two and reports the rest, with the reason.
    const small = new ShardHoldings('a', 1, datasets, new DatasetStore(), new MemoryBudget(2 * 8000));
    await small.reconcile(['a'], tables);
    expect(small.held()).toHaveLength(2);
    expect(small.unplaced).toHaveLength(4);
    expect(small.unplaced[0].reason).toMatch(/ROWPOOL_MEMORY_LIMIT/);
  });
});
