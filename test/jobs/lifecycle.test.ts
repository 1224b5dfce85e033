import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { Gate } from '../fixtures/workers/gate.js';
import { testApp } from '../helpers/app.js';
import { until } from '../helpers/wait.js';

const gate = new Gate();
let app: FastifyInstance;

beforeAll(async () => {
  app = await testApp({ threads: 2 }, gate.appOptions());
});
afterAll(async () => {
  gate.release(1000);
  await app.close();
});

const release = (permits: number) => gate.release(permits);

/** Row r holds r + c/10 for c in 0..cols-1, so its median is r + (cols - 1) / 20. */
async function dataset(rows: number, cols: number, name = 'd'): Promise<string> {
  const data = new Float64Array(rows * cols).map((_, i) => Math.floor(i / cols) + (i % cols) / 10);
  const res = await app.inject({
    method: 'POST',
    url: `/v1/datasets?dtype=float64&shape=${rows},${cols}&name=${name}`,
    headers: { 'content-type': 'application/octet-stream' },
    payload: Buffer.from(data.buffer),
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id;
}

async function job(id: string) {
  return (await app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).json();
}

async function submit(datasetId: string, body: object, query = '') {
  const res = await app.inject({
    method: 'POST',
    url: `/v1/datasets/${datasetId}/jobs${query}`,
    payload: body,
  });
  return res;
}

beforeEach(() => {
  gate.close();
});

/** Wide enough that a job over its 64 rows goes out as several chunks (four, on two threads). */
const MANY_CHUNKS_COLS = 65536;
/** Rows in each of those chunks; progress moves within a chunk too (a block at a time). */
const CHUNK_ROWS = 16;

describe('a long job', () => {
  test('reports progress while it runs, chunk by chunk, then succeeds', async () => {
    const id = await dataset(64, MANY_CHUNKS_COLS);
    const res = await submit(id, { op: 'median' });
    expect(res.statusCode).toBe(202);
    expect(res.headers.location).toBe(`/v1/jobs/${res.json().id}`);
    const jobId = res.json().id;
    const seen: number[] = [];
    const arrived = gate.arrived;
    for (let step = 1; step <= 3; step++) {
      release(1);
      const view = await until(
        () => job(jobId),
        // Each permit lets one chunk through: wait for all of it.
        (j) => j.progress.rowsDone >= (seen.at(-1) ?? 0) + CHUNK_ROWS,
      );
      expect(view.status).toBe('running');
      expect(view.startedAt).not.toBeNull();
      expect(view.finishedAt).toBeNull();
      seen.push(view.progress.rowsDone);
    }
    expect(seen).toEqual([CHUNK_ROWS, 2 * CHUNK_ROWS, 3 * CHUNK_ROWS]);
    expect(gate.arrived).toBeGreaterThan(arrived);
    release(100);
    const done = await until(
      () => job(jobId),
      (j) => j.status === 'succeeded',
    );
    expect(done.progress).toEqual({ rowsDone: 64, rowsTotal: 64 });
    expect(done.finishedAt).not.toBeNull();
    const result = (await app.inject({ method: 'GET', url: `/v1/jobs/${jobId}/result` })).json();
    expect(result.data[5]).toBeCloseTo(5 + (MANY_CHUNKS_COLS - 1) / 20, 9);
  });

  test('cancel stops it, drops its queued chunks and frees the threads for the next job', async () => {
    const id = await dataset(64, MANY_CHUNKS_COLS);
    const before = gate.arrived;
    const jobId = (await submit(id, { op: 'median' })).json().id;
    await until(
      async () => gate.arrived,
      (n) => n >= before + 2,
    );
    expect((await app.inject({ method: 'GET', url: `/v1/jobs/${jobId}/result` })).statusCode).toBe(409);
    expect((await app.inject({ method: 'DELETE', url: `/v1/jobs/${jobId}` })).statusCode).toBe(204);
    expect((await app.inject({ method: 'GET', url: `/v1/jobs/${jobId}` })).statusCode).toBe(404);
    release(2);
    const next = await submit(id, { op: 'sum' }, '?wait=10');
    expect(next.statusCode).toBe(200);
    expect(next.json().status).toBe('succeeded');
    // Only the two chunks already running ever reached the gate; the queued ones were dropped.
    expect(gate.arrived).toBe(before + 2);
  });

  test('deleting its dataset ends it cancelled and releases the memory', async () => {
    const id = await dataset(64, 8192);
    const usedBefore = (await app.inject({ method: 'GET', url: '/v1/datasets' })).json().memory.usedBytes;
    const jobId = (await submit(id, { op: 'median' })).json().id;
    await until(
      () => job(jobId),
      (j) => j.status === 'running',
    );
    expect((await app.inject({ method: 'DELETE', url: `/v1/datasets/${id}` })).statusCode).toBe(204);
    release(2);
    const view = await job(jobId);
    expect(view.status).toBe('cancelled');
    expect(view.finishedAt).not.toBeNull();
    const usedAfter = (await app.inject({ method: 'GET', url: '/v1/datasets' })).json().memory.usedBytes;
    expect(usedBefore - usedAfter).toBe(64 * 8192 * 8);
    expect((await app.inject({ method: 'GET', url: `/v1/jobs/${jobId}/result` })).statusCode).toBe(409);
  });

  test('wait= answers 202 when time runs out and 200 as soon as the job ends', async () => {
    const id = await dataset(8, 16);
    const other = await dataset(8, 16);
    const started = Date.now();
    const pending = await submit(id, { op: 'median' }, '?wait=0.2');
    expect(pending.statusCode).toBe(202);
    expect(['queued', 'running']).toContain(pending.json().status);
    release(100);
    const quick = await submit(other, { op: 'mean' }, '?wait=30');
    expect(quick.statusCode).toBe(200);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(quick.json().status).toBe('succeeded');
  });
});

describe('failures stay inside their job', () => {
  test('a kernel that throws fails its job with the message, and the next job runs', async () => {
    const bad = await dataset(4, 13);
    const res = await submit(bad, { op: 'sum' }, '?wait=10');
    expect(res.statusCode).toBe(200);
    expect(res.json().status).toBe('failed');
    expect(res.json().error.message).toMatch(/kernel exploded on purpose/);
    const good = await submit(bad, { op: 'mean' }, '?wait=10');
    expect(good.json().status).toBe('succeeded');
  });

  test('a worker thread that dies fails its job cleanly and is replaced', async () => {
    const deadly = await dataset(4, 17);
    const res = await submit(deadly, { op: 'sum' }, '?wait=10');
    expect(res.json().status).toBe('failed');
    expect(res.json().error.message.length).toBeGreaterThan(0);
    for (let i = 0; i < 4; i++) {
      const ok = await submit(deadly, { op: 'max' }, '?wait=10');
      expect(ok.json().status).toBe('succeeded');
    }
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });
});

describe('concurrency', () => {
  test('two jobs on two datasets run at the same time and both are right', async () => {
    const a = await dataset(64, 8192, 'a');
    const b = await dataset(32, 8192, 'b');
    const ja = (await submit(a, { op: 'median' })).json().id;
    const jb = (await submit(b, { op: 'median', rows: { start: 2, end: 30 } })).json().id;
    // Let chunks through one at a time until both jobs are running: the scheduler takes turns.
    let both = false;
    for (let i = 0; i < 8 && !both; i++) {
      const [x, y] = [await job(ja), await job(jb)];
      both = x.status === 'running' && y.status === 'running';
      if (!both) {
        const arrived = gate.arrived;
        release(1);
        await until(
          async () => gate.arrived,
          (n) => n > arrived,
          2000,
        );
      }
    }
    expect(both).toBe(true);
    expect((await job(ja)).progress.rowsDone).toBeLessThan(64);
    release(1000);
    const [ra, rb] = await Promise.all(
      [ja, jb].map((j) =>
        until(
          () => job(j),
          (v) => v.status === 'succeeded',
        ),
      ),
    );
    expect(ra.status).toBe('succeeded');
    expect(rb.status).toBe('succeeded');
    const resultA = (await app.inject({ method: 'GET', url: `/v1/jobs/${ja}/result` })).json();
    const resultB = (await app.inject({ method: 'GET', url: `/v1/jobs/${jb}/result` })).json();
    expect(resultA.shape).toEqual([64]);
    expect(resultB.shape).toEqual([28]);
    expect(resultA.data).toEqual(resultA.data.map((_: number, r: number) => r + 409.55));
    expect(resultB.data).toEqual(resultB.data.map((_: number, i: number) => i + 2 + 409.55));
  });
});
