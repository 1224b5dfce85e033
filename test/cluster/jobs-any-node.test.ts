import { randomUUID } from 'node:crypto';
import { type KV, Kvm } from '@nats-io/kv';
import { type ObjectStore, Objm } from '@nats-io/obj';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { planShards } from '../../src/cluster/shards.js';
import { sampleBytes } from '../helpers/arrays.js';
import { npyFile } from '../helpers/npy.js';
import { until } from '../helpers/wait.js';
import { startInProcessNode } from './in-process-node.js';
import { type NatsServer, natsSkipReason, startNatsServer } from './nats-server.js';

const skip = natsSkipReason();
if (skip !== undefined) console.warn(`skipping the any-node job tests: ${skip}`);

const ROWS = 2048;
const ROW_LENGTH = 32;
const SHARD_BYTES = 64 * 1024;

function npyBody(values: Float64Array): Buffer {
  return Buffer.from(npyFile('<f8', [values.length], new Uint8Array(values.buffer)));
}

/** The frames of an event stream that has ended, as [event, data]. */
function frames(body: string): Array<[string, Record<string, unknown>]> {
  return body
    .split('\n\n')
    .filter((f) => f.trim() !== '')
    .map((f) => [/^event: (.*)$/m.exec(f)![1], JSON.parse(/^data: (.*)$/m.exec(f)![1])]);
}

describe.skipIf(skip !== undefined)('any node answers for any job', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let jobsKv: KV;
  let datasetsKv: KV;
  let results: ObjectStore;
  let a: FastifyInstance;
  let b: FastifyInstance;
  let c: FastifyInstance;
  let datasetId: string;
  const nodes: FastifyInstance[] = [];
  const data = new Float64Array(sampleBytes('float64', ROWS * ROW_LENGTH, 9).buffer);
  const sums = Array.from({ length: ROWS }, (_, r) =>
    data.subarray(r * ROW_LENGTH, (r + 1) * ROW_LENGTH).reduce((x, y) => x + y, 0),
  );

  const node = async (id: string) => {
    const app = await startInProcessNode({
      natsUrl: nats.url,
      id,
      memoryLimit: 64 * 2 ** 20,
      shardBytes: SHARD_BYTES,
    });
    nodes.push(app);
    return app;
  };

  /**
   * A dataset whose table is in the catalog but whose shards were never stored: no node can load
   * them, so a job on it asks every shard again once a heartbeat for about two seconds, then fails.
   * It gives a job that is running, deterministically, while the test acts on it.
   */
  const phantomDataset = async () => {
    const id = randomUUID();
    const rows = 64;
    const rowLength = 4;
    const shards = planShards(rows, rowLength * 8, SHARD_BYTES);
    await datasetsKv.put(
      id,
      JSON.stringify({
        version: 1,
        id,
        name: 'phantom',
        dtype: 'float64',
        shape: [rows, rowLength],
        rows,
        rowLength,
        bytes: rows * rowLength * 8,
        createdAt: new Date().toISOString(),
        shards,
      }),
    );
    return id;
  };

  const submit = async (via: FastifyInstance, dataset: string, job: object, wait = '') => {
    const res = await via.inject({
      method: 'POST',
      url: `/v1/datasets/${dataset}/jobs${wait}`,
      payload: job,
    });
    expect(res.statusCode, res.body).toBe(wait === '' ? 202 : 200);
    return res.json() as { id: string; status: string };
  };
  const resultStored = async (id: string) => {
    const info = await results.info(id);
    return info !== null && !info.deleted;
  };
  const status = async (via: FastifyInstance, id: string) => (await via.inject(`/v1/jobs/${id}`)).json();

  beforeAll(async () => {
    nats = await startNatsServer();
    a = await node('node-a');
    b = await node('node-b');
    c = await node('node-c');
    nc = await connect({ servers: nats.url });
    jobsKv = await new Kvm(nc).open('rowpool-jobs');
    datasetsKv = await new Kvm(nc).open('rowpool-datasets');
    results = await new Objm(nc).open('rowpool-results');
    const upload = await a.inject({
      method: 'POST',
      url: '/v1/datasets?name=sums',
      headers: { 'content-type': 'application/x-npy' },
      payload: npyFile('<f8', [ROWS, ROW_LENGTH], new Uint8Array(data.buffer)),
    });
    expect(upload.statusCode, upload.body).toBe(201);
    datasetId = upload.json().id;
    const held = () => nodes.reduce((n, app) => n + (app.rowpool.cluster?.holdings.held().length ?? 0), 0);
    // 512 KiB in shards of 64 KiB.
    expect(await until(held, (n) => n === 8)).toBe(8);
  }, 60_000);

  afterAll(async () => {
    await nc?.close();
    for (const app of nodes) await app.close();
    await nats?.stop();
  });

  test('a job submitted through A: status, result as JSON, .npy and CSV, and events alike on A, B and C', async () => {
    const { id } = await submit(a, datasetId, { op: 'sum' });
    for (const via of [b, c]) {
      const seen = await status(via, id);
      expect(seen).toMatchObject({ id, datasetId, op: 'sum', rows: { start: 0, end: ROWS } });
      expect(['queued', 'running', 'succeeded']).toContain(seen.status);
    }
    // B follows the job live until it ends.
    const events = frames((await b.inject(`/v1/jobs/${id}/events`)).body);
    expect(events.at(-1)).toEqual(['end', expect.objectContaining({ id, status: 'succeeded' })]);
    expect(events.slice(0, -1).every(([event]) => event === 'progress')).toBe(true);

    const before = b.rowpool.budget.used;
    const expectedNpy = npyBody(Float64Array.from(sums));
    const expectedCsv = `${sums.map(String).join('\n')}\n`;
    for (const via of [a, b, c]) {
      const seen = await status(via, id);
      expect(seen).toMatchObject({ status: 'succeeded', progress: { rowsDone: ROWS, rowsTotal: ROWS } });
      expect(seen).not.toHaveProperty('error');
      const json = await via.inject(`/v1/jobs/${id}/result`);
      expect(json.statusCode, json.body).toBe(200);
      expect(json.json()).toEqual({ jobId: id, dtype: 'float64', shape: [ROWS], data: sums });
      const npy = await via.inject(`/v1/jobs/${id}/result?format=npy`);
      expect(npy.headers['content-type']).toBe('application/x-npy');
      expect(npy.rawPayload.equals(expectedNpy)).toBe(true);
      const csv = await via.inject({ url: `/v1/jobs/${id}/result`, headers: { accept: 'text/csv' } });
      expect(csv.body).toBe(expectedCsv);
    }
    // Reading the result counted it only while it was sent.
    expect(b.rowpool.budget.used).toBe(before);
    expect((await results.info(id))?.size).toBe(ROWS * 8);
  }, 30_000);

  test('a top-k job and a part of the rows read the same on every node', async () => {
    const top = await submit(c, datasetId, { op: 'sum', top: { k: 6, largest: false } }, '?wait=30');
    const ranked = sums
      .map((value, index) => ({ index, value }))
      .sort((x, y) => x.value - y.value || x.index - y.index)
      .slice(0, 6);
    const npys: Buffer[] = [];
    for (const via of [a, b, c]) {
      expect((await via.inject(`/v1/jobs/${top.id}/result`)).json()).toEqual({
        jobId: top.id,
        indices: ranked.map((r) => r.index),
        values: ranked.map((r) => r.value),
      });
      npys.push((await via.inject(`/v1/jobs/${top.id}/result?format=npy`)).rawPayload);
      const csv = await via.inject(`/v1/jobs/${top.id}/result?format=csv`);
      expect(csv.body).toBe(`index,value\n${ranked.map((r) => `${r.index},${r.value}\n`).join('')}`);
    }
    expect(npys[1].equals(npys[0]) && npys[2].equals(npys[0])).toBe(true);
    // The header, then 6 records of 16 bytes.
    expect(npys[0].length % 16).toBe(0);
    expect(npys[0].readBigInt64LE(npys[0].length - 16)).toBe(BigInt(ranked[5].index));

    const part = await submit(b, datasetId, { op: 'sum', rows: { start: 100, end: 1500 } }, '?wait=30');
    expect((await a.inject(`/v1/jobs/${part.id}/result`)).json().data).toEqual(sums.slice(100, 1500));
  }, 30_000);

  test('every node lists every node’s jobs, newest first, with filters and a cursor any node takes', async () => {
    const first = await submit(a, datasetId, { op: 'mean' }, '?wait=30');
    const second = await submit(b, datasetId, { op: 'mean' }, '?wait=30');
    const third = await submit(c, datasetId, { op: 'mean' }, '?wait=30');
    const mine = [third.id, second.id, first.id];
    for (const via of [a, b, c]) {
      const listed = (await via.inject('/v1/jobs?op=mean')).json();
      expect(listed.jobs.map((j: { id: string }) => j.id)).toEqual(mine);
      expect(listed.nextCursor).toBeNull();
    }
    const page1 = (await a.inject('/v1/jobs?op=mean&limit=2')).json();
    expect(page1.jobs.map((j: { id: string }) => j.id)).toEqual(mine.slice(0, 2));
    const page2 = (await c.inject(`/v1/jobs?op=mean&limit=2&cursor=${page1.nextCursor}`)).json();
    expect(page2).toEqual({ jobs: [expect.objectContaining({ id: first.id })], nextCursor: null });
    const all = (await b.inject('/v1/jobs?status=succeeded&limit=1000')).json().jobs;
    expect(all.length).toBeGreaterThanOrEqual(3);
    expect(all.every((j: { status: string }) => j.status === 'succeeded')).toBe(true);
    const bad = await b.inject('/v1/jobs?cursor=nonsense');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/not one this server gave/);
  }, 30_000);

  test('a running job cancelled through B stays cancelled everywhere; its coordinator keeps no result', async () => {
    const phantom = await phantomDataset();
    const { id } = await submit(a, phantom, { op: 'sum' });
    const baseline = a.rowpool.budget.used - 64 * 8;
    const cancelled = await b.inject({ method: 'POST', url: `/v1/jobs/${id}/cancel` });
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(cancelled.json()).toMatchObject({
      id,
      status: 'cancelled',
      error: { message: 'cancelled by request' },
    });
    for (const via of [a, c]) expect((await status(via, id)).status).toBe('cancelled');
    const events = frames((await c.inject(`/v1/jobs/${id}/events`)).body);
    expect(events).toEqual([['end', expect.objectContaining({ status: 'cancelled' })]]);
    // A's attempts at the missing shards end in a while; its failure does not overwrite the cancel.
    await expect.poll(() => a.rowpool.budget.used, { timeout: 10_000, interval: 50 }).toBe(baseline);
    expect((await status(c, id)).status).toBe('cancelled');
    expect((await b.inject(`/v1/jobs/${id}/result`)).statusCode).toBe(409);
    expect(await resultStored(id)).toBe(false);
    await datasetsKv.delete(phantom);
  }, 30_000);

  test('a job deleted through C, ended or running, is gone from every node with its result', async () => {
    const done = await submit(a, datasetId, { op: 'max' }, '?wait=30');
    expect(await resultStored(done.id)).toBe(true);
    expect((await c.inject({ method: 'DELETE', url: `/v1/jobs/${done.id}` })).statusCode).toBe(204);
    for (const via of [a, b, c]) {
      const gone = await via.inject(`/v1/jobs/${done.id}`);
      expect(gone.statusCode).toBe(404);
      expect(gone.json()).toMatchObject({
        statusCode: 404,
        error: 'Not Found',
        message: `job ${done.id} not found`,
      });
      expect((await via.inject(`/v1/jobs/${done.id}/result`)).statusCode).toBe(404);
      const listed = (await via.inject('/v1/jobs?op=max')).json().jobs.map((j: { id: string }) => j.id);
      expect(listed).not.toContain(done.id);
    }
    expect(await resultStored(done.id)).toBe(false);
    expect((await b.inject({ method: 'DELETE', url: `/v1/jobs/${done.id}` })).statusCode).toBe(404);

    const phantom = await phantomDataset();
    const running = await submit(b, phantom, { op: 'sum' });
    const baseline = b.rowpool.budget.used - 64 * 8;
    expect((await c.inject({ method: 'DELETE', url: `/v1/jobs/${running.id}` })).statusCode).toBe(204);
    await expect.poll(() => b.rowpool.budget.used, { timeout: 10_000, interval: 50 }).toBe(baseline);
    for (const via of [a, b, c]) expect((await via.inject(`/v1/jobs/${running.id}`)).statusCode).toBe(404);
    expect(await jobsKv.get(running.id)).toMatchObject({ operation: 'DEL' });
    await datasetsKv.delete(phantom);
  }, 30_000);

  test('a job whose coordinator crashed is reported failed on the others, not running for good', async () => {
    const phantom = await phantomDataset();
    const { id } = await submit(c, phantom, { op: 'sum' });
    // C's connection drops without leaving: its membership lasts until its entry expires.
    await c.rowpool.cluster!.connection.close();
    const failed = await expect
      .poll(async () => (await status(a, id)).status, { timeout: 10_000, interval: 100 })
      .toBe('failed')
      .then(() => status(b, id));
    expect(failed).toMatchObject({
      id,
      status: 'failed',
      error: { message: 'failed: its coordinating node node-c left the cluster before the job ended' },
    });
    expect(failed.finishedAt).not.toBeNull();
    const events = frames((await b.inject(`/v1/jobs/${id}/events`)).body);
    expect(events).toEqual([['end', expect.objectContaining({ status: 'failed' })]]);
    expect((await a.inject(`/v1/jobs?status=running`)).json().jobs).toEqual([]);
    await datasetsKv.delete(phantom);
  }, 30_000);
});
