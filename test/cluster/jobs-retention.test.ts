import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openBuckets } from '../../src/cluster/buckets.js';
import { ClusterJobs } from '../../src/cluster/cluster-jobs.js';
import type { DatasetObjects } from '../../src/cluster/dataset-objects.js';
import { Coordinators } from '../../src/cluster/job-coordinators.js';
import { JobResults } from '../../src/cluster/job-results.js';
import type { JobTable } from '../../src/cluster/job-table.js';
import { MemoryBudget } from '../../src/memory.js';
import { sampleBytes, sharedArrayOf } from '../helpers/arrays.js';
import { until } from '../helpers/wait.js';
import { type NatsServer, natsSkipReason, startNatsServer } from './nats-server.js';

const skip = natsSkipReason();
if (skip !== undefined) console.warn(`skipping the cluster job retention tests: ${skip}`);

describe.skipIf(skip !== undefined)('cluster job retention and limits', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let table: JobTable;
  let datasets: DatasetObjects;
  let jobs: ClusterJobs;

  const dataset = async (rows: number, rowLength: number) => {
    const data = sampleBytes('float64', rows * rowLength, 3);
    const stored = await datasets.put(
      {
        id: randomUUID(),
        name: null,
        dtype: 'float64',
        shape: [rows, rowLength],
        rows,
        rowLength,
        bytes: data.byteLength,
        createdAt: new Date().toISOString(),
      },
      sharedArrayOf('float64', data, rows),
    );
    return stored.id;
  };

  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
    const buckets = await openBuckets(
      nc,
      { id: 'solo', url: 'http://solo', memoryLimit: 2 ** 24 },
      { streamReplicas: 1, memberTtlMs: 5000, maxShardBytes: 8000 },
    );
    await buckets.membership.join(1000, () => {});
    ({ datasets } = buckets);
    table = buckets.jobs;
    await table.start(() => {});
    const budget = new MemoryBudget(2 ** 24);
    jobs = new ClusterJobs(
      nc,
      datasets,
      budget,
      { timeoutMs: 1000, attempts: 1, retryDelayMs: 10 },
      {
        nodeId: 'solo',
        table,
        results: new JobResults(buckets.results, buckets.readResult, budget),
        coordinators: new Coordinators(buckets.membership.bucket, 'solo', 1000),
        recheckMs: 200,
        keptEnded: 3,
        log: Fastify({ logger: false }).log,
      },
    );
  });
  afterAll(async () => {
    table?.stop();
    await nc?.close();
    await nats?.stop();
  });

  test('past the ended jobs kept, the first to end are forgotten with their results', async () => {
    const id = await dataset(10, 4);
    const ids: string[] = [];
    // Jobs of no rows need no shard owner, so they end at once.
    for (let i = 0; i < 5; i++) {
      const job = await jobs.submit(id, { op: 'sum', rows: { start: 0, end: 0 } });
      await jobs.waitFor(job, 10);
      expect(job.status).toBe('succeeded');
      ids.push(job.id);
    }
    const listed = async () => (await jobs.list({}, { limit: 100 })).jobs.map((j) => j.id);
    expect(await until(listed, (found) => found.length === 3)).toEqual(ids.slice(2).reverse());
    for (const old of ids.slice(0, 2)) {
      await expect(jobs.get(old)).rejects.toMatchObject({ statusCode: 404 });
      expect((await jobs.shared.results.objects.info(old))?.deleted).toBe(true);
    }
    const kept = await jobs.get(ids[4]);
    const { result, hold } = await jobs.holdResult(kept);
    expect(result.buffer?.byteLength).toBe(0);
    hold.release();
  });

  test('a job whose record would not fit in one NATS message is refused with 400', async () => {
    const rowLength = 70_000;
    const id = await dataset(1, rowLength);
    const vector = Array.from({ length: rowLength }, (_, i) => i + 0.123456789);
    await expect(jobs.submit(id, { op: 'dot', params: { vector } })).rejects.toMatchObject({
      statusCode: 400,
      message: expect.stringMatching(/more than the \d+ a cluster shares a job in/),
    });
    expect((await jobs.list({ datasetId: id }, { limit: 10 })).jobs).toEqual([]);
  });

  test('ids that cannot be jobs are 404, not errors of the bucket', async () => {
    for (const bad of ['nope', '../x', 'a.b', '*']) {
      await expect(jobs.get(bad)).rejects.toMatchObject({ statusCode: 404 });
      await expect(jobs.remove(bad)).rejects.toMatchObject({ statusCode: 404 });
    }
  });
});
