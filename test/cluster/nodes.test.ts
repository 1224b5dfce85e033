import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { sampleBytes } from '../helpers/arrays.js';
import { npyFile } from '../helpers/npy.js';
import { startInProcessNode } from './in-process-node.js';
import { type NatsServer, natsSkipReason, startNatsServer } from './nats-server.js';

const skip = natsSkipReason();
if (skip !== undefined) console.warn(`skipping the three-node tests: ${skip}`);

const MiB = 2 ** 20;
const ROWS = 16384;
const ROW_LENGTH = 128;

describe.skipIf(skip !== undefined)('three rowpool nodes on one NATS server', () => {
  let nats: NatsServer;
  const nodes: FastifyInstance[] = [];
  const data = new Float64Array(sampleBytes('float64', ROWS * ROW_LENGTH, 5).buffer);
  const sums = Array.from({ length: ROWS }, (_, r) =>
    data.subarray(r * ROW_LENGTH, (r + 1) * ROW_LENGTH).reduce((a, b) => a + b, 0),
  );

  const node = async (id: string, memoryLimit: number) => {
    const app = await startInProcessNode({ natsUrl: nats.url, id, memoryLimit, shardBytes: MiB });
    nodes.push(app);
    return app;
  };
  const held = () => nodes.reduce((n, app) => n + (app.rowpool.cluster?.holdings.held().length ?? 0), 0);

  beforeAll(async () => {
    nats = await startNatsServer();
  });
  afterAll(async () => {
    for (const app of nodes) await app.close();
    await nats?.stop();
  });

  test('upload via A, sum and top-k via B equal the reference; a crashed owner is replaced mid-job', async () => {
    // The dataset is 16 MiB: B and C each have less room than that; A has room for the upload too.
    const a = await node('node-a', 40 * MiB);
    const b = await node('node-b', 15 * MiB);
    const c = await node('node-c', 15 * MiB);

    const body = npyFile('<f8', [ROWS, ROW_LENGTH], new Uint8Array(data.buffer));
    let started = performance.now();
    const upload = await a.inject({
      method: 'POST',
      url: '/v1/datasets?name=big',
      headers: { 'content-type': 'application/x-npy' },
      payload: body,
    });
    const uploadMs = performance.now() - started;
    expect(upload.statusCode, upload.body).toBe(201);
    const id = upload.json().id as string;
    for (const app of [a, b, c]) {
      const listed = (await app.inject('/v1/datasets')).json().datasets.map((d: { id: string }) => d.id);
      expect(listed).toEqual([id]);
      expect((await app.inject(`/v1/datasets/${id}`)).json().shape).toEqual([ROWS, ROW_LENGTH]);
    }
    started = performance.now();
    await expect.poll(held, { timeout: 10_000, interval: 50 }).toBe(16);
    const loadMs = performance.now() - started;
    for (const app of [a, b, c]) {
      expect(app.rowpool.cluster!.holdings.held().length).toBeGreaterThan(0);
      expect((await app.inject('/readyz')).statusCode).toBe(200);
      expect(app.rowpool.budget.used).toBeLessThan(16 * MiB);
    }

    const run = async (via: FastifyInstance, job: object) => {
      const t0 = performance.now();
      const res = await via.inject({ method: 'POST', url: `/v1/datasets/${id}/jobs?wait=30`, payload: job });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().status, res.body).toBe('succeeded');
      const result = await via.inject(`/v1/jobs/${res.json().id}/result`);
      return { result: result.json(), ms: performance.now() - t0 };
    };
    const sum = await run(b, { op: 'sum' });
    expect(sum.result.data).toEqual(sums);
    const part = await run(b, { op: 'sum', rows: { start: 1000, end: 5000 } });
    expect(part.result.data).toEqual(sums.slice(1000, 5000));
    const top = await run(b, { op: 'sum', top: { k: 7, largest: true } });
    const ranked = sums
      .map((value, index) => ({ index, value }))
      .sort((x, y) => y.value - x.value || x.index - y.index)
      .slice(0, 7);
    expect(top.result.indices).toEqual(ranked.map((r) => r.index));
    expect(top.result.values).toEqual(ranked.map((r) => r.value));

    // An expression's i and rows are the whole dataset's, whichever shard computes the row.
    const expr = await run(b, {
      op: 'expr',
      params: { expr: 'x[0] * 2 + i * 1000 + rows' },
      rows: { start: 3000, end: 9000 },
    });
    expect(expr.result.data).toEqual(
      Array.from({ length: 6000 }, (_, k) => data[(3000 + k) * ROW_LENGTH] * 2 + (3000 + k) * 1000 + ROWS),
    );
    const exprTop = await run(b, { op: 'expr', params: { expr: 'x[1] - x[0]' }, top: { k: 3 } });
    const diffs = Array.from({ length: ROWS }, (_, r) => data[r * ROW_LENGTH + 1] - data[r * ROW_LENGTH]);
    const bestDiffs = diffs
      .map((value, index) => ({ index, value }))
      .sort((x, y) => y.value - x.value || x.index - y.index)
      .slice(0, 3);
    expect(exprTop.result.indices).toEqual(bestDiffs.map((r) => r.index));
    for (const [job, message] of [
      [{ op: 'expr', params: { expr: 'data[::i+1].mean()' } }, /reads data \(the whole dataset\)/],
      [{ op: 'strided_mean' }, /op "strided_mean" reads across rows/],
      [{ op: 'dot', params: { vectors: [[1]] }, top: { k: 1 } }, /with params.vectors is not run/],
    ] as const) {
      const refused = await b.inject({ method: 'POST', url: `/v1/datasets/${id}/jobs`, payload: job });
      expect(refused.statusCode, refused.body).toBe(400);
      expect(refused.json().message).toMatch(message);
    }

    // One value a row: by bytes a shard would take 131072 rows, whose 1 MiB answer is over NATS's
    // max_payload; shards are cut by rows too, so every answer fits.
    const narrow = Float64Array.from({ length: 300_000 }, (_, k) => (k % 1000) / 8);
    const narrowUpload = await a.inject({
      method: 'POST',
      url: '/v1/datasets?name=narrow',
      headers: { 'content-type': 'application/x-npy' },
      payload: npyFile('<f8', [300_000, 1], new Uint8Array(narrow.buffer)),
    });
    expect(narrowUpload.statusCode, narrowUpload.body).toBe(201);
    const narrowId = narrowUpload.json().id as string;
    await expect.poll(held, { timeout: 10_000, interval: 50 }).toBe(19);
    const narrowJob = await b.inject({
      method: 'POST',
      url: `/v1/datasets/${narrowId}/jobs?wait=30`,
      payload: { op: 'sum' },
    });
    expect(narrowJob.json().status, narrowJob.body).toBe('succeeded');
    const narrowResult = await b.inject(`/v1/jobs/${narrowJob.json().id}/result`);
    expect(narrowResult.json().data).toEqual(Array.from(narrow));
    expect((await c.inject({ method: 'DELETE', url: `/v1/datasets/${narrowId}` })).statusCode).toBe(204);
    await expect.poll(held, { timeout: 10_000, interval: 50 }).toBe(16);

    // C crashes: its connection drops without leaving, so its entry lives until the TTL expires and
    // the job's requests for C's shards find no one until A and B have loaded them.
    const cShards = c.rowpool.cluster!.holdings.held().length;
    await c.rowpool.cluster!.connection.close();
    started = performance.now();
    const after = await run(b, { op: 'sum' });
    expect(after.result.data).toEqual(sums);
    console.log(
      `upload 16 MiB in 16 shards via A: ${uploadMs.toFixed(0)} ms; owners loaded in ${loadMs.toFixed(0)} ms; ` +
        `sum over 16 MiB via B: ${sum.ms.toFixed(0)} ms; after C (${cShards} shards) crashed: ${after.ms.toFixed(0)} ms`,
    );
    expect(c.rowpool.cluster!.holdings.held().length).toBe(cShards);
  }, 60_000);
});
