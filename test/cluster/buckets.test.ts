import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openBuckets } from '../../src/cluster/buckets.js';
import { shardObjectName } from '../../src/cluster/dataset-objects.js';
import { owners } from '../../src/cluster/rendezvous.js';
import { sampleBytes, sharedArrayOf } from '../helpers/arrays.js';
import { type NatsServer, natsSkipReason, startNatsServer } from './nats-server.js';

const skip = natsSkipReason();
if (skip !== undefined) console.warn(`skipping the JetStream bucket tests: ${skip}`);

describe.skipIf(skip !== undefined)('datasets and membership in JetStream', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  // One bucket per server: the first open fixes its TTL for every later one.
  const open = (id: string, memberTtlMs = 1500) =>
    openBuckets(
      nc,
      { id, url: `http://${id}`, memoryLimit: 1 },
      { streamReplicas: 1, memberTtlMs, maxShardBytes: 256 * 1024 },
    );

  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
  });
  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
  });

  test('a dataset is split into row-aligned shard objects that read back byte for byte', async () => {
    const { datasets } = await open('a');
    const rows = 1000;
    const rowLength = 100;
    const data = sampleBytes('float64', rows * rowLength, 7);
    const id = randomUUID();
    const started = performance.now();
    const stored = await datasets.put(
      {
        id,
        name: 'big',
        dtype: 'float64',
        shape: [rows, rowLength],
        rows,
        rowLength,
        bytes: data.byteLength,
        createdAt: new Date().toISOString(),
      },
      sharedArrayOf('float64', data, rows),
    );
    const putMs = performance.now() - started;
    // 800 kB in shards of at most 256 KiB: 4 shards of 327 rows and a last of 19.
    expect(stored.shards.map((s) => s.end - s.start)).toEqual([327, 327, 327, 19]);
    const again = await datasets.get(id);
    expect(again).toEqual(stored);
    const parts = await Promise.all(stored.shards.map((s) => datasets.shard(stored, s.index)));
    expect(Buffer.concat(parts).equals(Buffer.from(data))).toBe(true);
    console.log(`put ${data.byteLength} bytes in ${stored.shards.length} shards: ${putMs.toFixed(0)} ms`);

    await datasets.delete(stored);
    expect(await datasets.get(id)).toBeUndefined();
    expect(await datasets.objects.getBlob(shardObjectName(id, 0))).toBeNull();
  });

  test('members appear when they join, go when they leave or stop beating, and agree on owners', async () => {
    const a = await open('node-a');
    const b = await open('node-b');
    await a.membership.join(300, () => {});
    await b.membership.join(300, () => {});
    const ids = async () => (await a.membership.members()).map((m) => m.id);
    expect(await ids()).toEqual(['node-a', 'node-b']);
    const ownersSeenByB = owners(
      'ds/0',
      (await b.membership.members()).map((m) => m.id),
      1,
    );
    expect(owners('ds/0', await ids(), 1)).toEqual(ownersSeenByB);

    await b.membership.leave();
    expect(await ids()).toEqual(['node-a']);

    // A node that stops beating without leaving (a crash) is gone once its TTL passes.
    const c = await open('node-c');
    await c.membership.join(60_000, () => {});
    expect(await ids()).toContain('node-c');
    await expect.poll(ids, { timeout: 6000, interval: 250 }).toEqual(['node-a']);
    await a.membership.leave();
  });
});
