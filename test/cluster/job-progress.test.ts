import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { sampleBytes } from '../helpers/arrays.js';
import { npyFile } from '../helpers/npy.js';
import { startInProcessNode } from './in-process-node.js';
import { type NatsServer, natsSkipReason, startNatsServer } from './nats-server.js';

const skip = natsSkipReason();
if (skip !== undefined) console.warn(`skipping the cluster job progress tests: ${skip}`);

const ROWS = 2048;
const ROW_LENGTH = 32;
/** 128 rows a shard: 16 shards. */
const SHARD_ROWS = 128;
const SHARDS = ROWS / SHARD_ROWS;
/** Shard k's answer reaches the coordinator k × this late, so the job runs about a second. */
const STAGGER_MS = 70;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The frames of an event stream that has ended, as [event, data]. */
function frames(body: string): Array<[string, Record<string, unknown>]> {
  return body
    .split('\n\n')
    .filter((f) => f.trim() !== '')
    .map((f) => [/^event: (.*)$/m.exec(f)![1], JSON.parse(/^data: (.*)$/m.exec(f)![1])]);
}

describe.skipIf(skip !== undefined)("a cluster job's progress", () => {
  let nats: NatsServer;
  let app: FastifyInstance;
  let datasetId: string;

  beforeAll(async () => {
    nats = await startNatsServer();
    app = await startInProcessNode({
      natsUrl: nats.url,
      id: 'coordinator',
      memoryLimit: 64 * 2 ** 20,
      shardBytes: SHARD_ROWS * ROW_LENGTH * 8,
    });
    const values = sampleBytes('float64', ROWS * ROW_LENGTH, 13);
    const upload = await app.inject({
      method: 'POST',
      url: '/v1/datasets',
      headers: { 'content-type': 'application/x-npy' },
      payload: npyFile('<f8', [ROWS, ROW_LENGTH], values),
    });
    expect(upload.statusCode, upload.body).toBe(201);
    datasetId = upload.json().id;
    const holdings = app.rowpool.cluster!.holdings;
    const deadline = performance.now() + 10_000;
    while (holdings.held().length < SHARDS) {
      if (performance.now() > deadline) throw new Error('the node did not load its shards');
      await sleep(20);
    }
    // The shards' answers are held back in turn, so the job is seen midway.
    const nc = app.rowpool.cluster!.connection;
    const request = nc.request.bind(nc);
    nc.request = async (subject, payload, opts) => {
      const reply = await request(subject, payload, opts);
      const shard = /^rowpool\.shard\.[^.]+\.(\d+)$/.exec(subject);
      if (shard !== null) await sleep(Number(shard[1]) * STAGGER_MS);
      return reply;
    };
  }, 30_000);
  afterAll(async () => {
    await app?.close();
    await nats?.stop();
  });

  test('rows done are written as shards answer: the record and the events show the job midway', async () => {
    const submitted = await app.inject({
      method: 'POST',
      url: `/v1/datasets/${datasetId}/jobs`,
      payload: { op: 'sum' },
    });
    expect(submitted.statusCode, submitted.body).toBe(202);
    const id = submitted.json().id as string;
    const events = app.inject(`/v1/jobs/${id}/events`);

    const seen: number[] = [];
    for (;;) {
      const job = (await app.inject(`/v1/jobs/${id}`)).json();
      if (job.status === 'succeeded') break;
      expect(job.status).toBe('running');
      seen.push(job.progress.rowsDone);
      await sleep(50);
    }
    const midway = seen.filter((rows) => rows > 0 && rows < ROWS);
    expect(midway.length).toBeGreaterThan(0);
    // Whole shards, never fewer rows than a moment before.
    expect(midway.every((rows) => rows % SHARD_ROWS === 0)).toBe(true);
    expect(seen).toEqual([...seen].sort((x, y) => x - y));

    const stream = frames((await events).body);
    const progress = stream
      .filter(([event]) => event === 'progress')
      .map(([, data]) => data.rowsDone as number);
    const between = progress.filter((rows) => rows > 0 && rows < ROWS);
    expect(between.length).toBeGreaterThanOrEqual(2);
    expect(between.every((rows) => rows % SHARD_ROWS === 0)).toBe(true);
    expect(progress).toEqual([...new Set(progress)].sort((x, y) => x - y));
    expect(stream.at(-1)).toEqual([
      'end',
      expect.objectContaining({ id, status: 'succeeded', progress: { rowsDone: ROWS, rowsTotal: ROWS } }),
    ]);
  }, 30_000);
});
