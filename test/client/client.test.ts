import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  type Job,
  type Progress,
  RowpoolClient,
  RowpoolError,
  RowpoolTimeoutError,
  readNpy,
} from '../../src/client/index.js';
import { bytesOf, npyFile } from '../helpers/npy.js';
import { until } from '../helpers/wait.js';
import { argmax, matrix, median, perRow, startServer, stopServer, sum, type TestServer } from './server.js';

const ROWS = 40;
const COLS = 6;
const data = matrix(ROWS, COLS);

let server: TestServer;
let client: RowpoolClient;
let dir: string;
let datasetId: string;

beforeAll(async () => {
  server = await startServer();
  client = new RowpoolClient({ url: server.url });
  dir = await mkdtemp(join(tmpdir(), 'rowpool-client-'));
  datasetId = (await client.upload(data, { shape: [ROWS, COLS], name: 'matrix' })).id;
});

afterAll(async () => {
  await stopServer(server);
  await rm(dir, { recursive: true, force: true });
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.unreachable('the call should have failed'),
    (error: unknown) => error,
  );
}

describe('datasets', () => {
  test('a typed array goes up as raw bytes and comes back as the same .npy values', async () => {
    const info = await client.dataset(datasetId);
    expect(info).toMatchObject({
      name: 'matrix',
      dtype: 'float64',
      shape: [ROWS, COLS],
      rows: ROWS,
      bytes: data.byteLength,
    });
    const bytes = await client.download(datasetId);
    expect(Buffer.from(bytes)).toEqual(npyFile('<f8', [ROWS, COLS], bytesOf(data)));
    const array = await client.download(datasetId, { parse: true });
    expect(array.dtype).toBe('float64');
    expect(array.shape).toEqual([ROWS, COLS]);
    expect(array.data).toEqual(data);
  });

  test('an .npy file is streamed from disk with its name, reporting bytes sent', async () => {
    const values = Int16Array.from({ length: 3 * 5 }, (_, i) => i * 7 - 30);
    const file = join(dir, 'small.npy');
    const content = npyFile('<i2', [3, 5], bytesOf(values));
    await writeFile(file, content);
    const seen: [number, number][] = [];
    const dataset = await client.upload(file, {
      name: 'from-disk',
      onProgress: (sent, total) => seen.push([sent, total]),
    });
    expect(dataset).toMatchObject({ name: 'from-disk', dtype: 'int16', shape: [3, 5] });
    expect(seen.at(-1)).toEqual([content.length, content.length]);
    expect((await client.download(dataset.id, { parse: true })).data).toEqual(values);

    const [found] = await client.datasets('from-disk');
    expect(found).toEqual(dataset);
    expect((await client.datasets()).map((d) => d.id)).toEqual(
      expect.arrayContaining([datasetId, dataset.id]),
    );
    expect(await client.datasets('no-such-name')).toEqual([]);
  });

  test('bytes of an .npy file in memory, and float16 widened exactly', async () => {
    const halves = Uint16Array.of(0x3c00, 0xc000, 0x3555, 0x0001, 0x7c00, 0x7e00);
    const dataset = await client.upload(new Uint8Array(npyFile('<f2', [6], bytesOf(halves))));
    expect(dataset).toMatchObject({ dtype: 'float16', shape: [6] });
    const { data: back } = await client.download(dataset.id, { parse: true });
    expect(Array.from(back as Float32Array)).toEqual([
      1,
      -2,
      0.333251953125,
      2 ** -24,
      Number.POSITIVE_INFINITY,
      Number.NaN,
    ]);
  });

  test('deleteDataset removes it: the next look is a 404 with the server message', async () => {
    const dataset = await client.upload(Int32Array.of(1, 2, 3));
    expect(dataset.dtype).toBe('int32');
    await client.deleteDataset(dataset.id);
    const error = await rejection(client.dataset(dataset.id));
    expect(error).toBeInstanceOf(RowpoolError);
    expect(error).toMatchObject({
      status: 404,
      code: 'ROWPOOL_DATASET_NOT_FOUND',
      message: `dataset ${dataset.id} not found`,
    });
    expect(await rejection(client.deleteDataset(dataset.id))).toMatchObject({ status: 404 });
  });

  test('an upload the server refuses is a RowpoolError with its 400 message', async () => {
    const error = await rejection(client.upload(Float64Array.of(1, 2, 3), { shape: [2, 2] }));
    expect(error).toMatchObject({ status: 400, code: 'ROWPOOL_BODY_SIZE_MISMATCH' });
    expect((error as Error).message).toMatch(/32 bytes/);
  });
});

describe('jobs', () => {
  test('sum: npy, json and csv results equal the reference sums', async () => {
    const job = await client.submit(datasetId, { op: 'sum' }, { waitSeconds: 10 });
    expect(job).toMatchObject({ status: 'succeeded', progress: { rowsDone: ROWS, rowsTotal: ROWS } });
    const expected = Float64Array.from(perRow(data, COLS, sum));
    expect(await client.result(job.id)).toEqual(expected);
    expect(await client.result(job.id, 'json')).toEqual(expected);
    expect(await client.result(job.id, 'csv')).toEqual(expected);
    const bytes = await client.resultBytes(job.id, 'npy');
    expect(readNpy(bytes)).toMatchObject({ dtype: 'float64', shape: [ROWS] });
    expect(new TextDecoder().decode(await client.resultBytes(job.id, 'csv'))).toBe(
      `${Array.from(expected).join('\n')}\n`,
    );
  });

  test('argmax over a row range is int64 in npy and json', async () => {
    const job = await client.submit(
      datasetId,
      { op: 'argmax', rows: { start: 5, end: 25 } },
      { waitSeconds: 10 },
    );
    const expected = BigInt64Array.from(perRow(data, COLS, argmax).slice(5, 25), BigInt);
    expect(await client.result(job.id, 'npy')).toEqual(expected);
    expect(await client.result(job.id, 'json')).toEqual(expected);
  });

  test('top-k: the best rows and their values, the same in every format', async () => {
    const job = await client.submit(datasetId, { op: 'sum', top: { k: 3 } }, { waitSeconds: 10 });
    const sums = perRow(data, COLS, sum);
    const order = sums.map((_, i) => i).sort((a, b) => sums[b] - sums[a] || a - b);
    const expected = {
      indices: order.slice(0, 3),
      values: Float64Array.from(order.slice(0, 3), (i) => sums[i]),
    };
    expect(await client.result(job.id, 'npy')).toEqual(expected);
    expect(await client.result(job.id, 'json')).toEqual(expected);
    expect(await client.result(job.id, 'csv')).toEqual(expected);
  });

  test('jobs pages with a cursor and filters; allJobs walks every page', async () => {
    const other = await client.upload(Float64Array.of(1, 2, 3, 4), { shape: [2, 2] });
    const ids: string[] = [];
    for (const op of ['mean', 'max', 'min'] as const)
      ids.push((await client.submit(other.id, { op }, { waitSeconds: 10 })).id);
    const first = await client.jobs({ datasetId: other.id, limit: 2 });
    expect(first.jobs.map((j) => j.id)).toEqual([ids[2], ids[1]]);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await client.jobs({ datasetId: other.id, limit: 2, cursor: first.nextCursor! });
    expect(second.jobs.map((j) => j.id)).toEqual([ids[0]]);
    expect(second.nextCursor).toBeNull();
    const all: Job[] = [];
    for await (const job of client.allJobs({ datasetId: other.id, limit: 1 })) all.push(job);
    expect(all.map((j) => j.id)).toEqual([...ids].reverse());
    expect((await client.jobs({ datasetId: other.id, op: 'max' })).jobs.map((j) => j.id)).toEqual([ids[1]]);
    expect((await client.jobs({ datasetId: other.id, status: 'failed' })).jobs).toEqual([]);
  });

  test('wait follows the event stream: progress while it runs, then the ended job', async () => {
    // 4M values go out as four chunks: the two let through leave two at the gate, so a progress
    // event between 0 and every row is certain whatever the machine's speed.
    const rows = 4096;
    const cols = 1024;
    const big = matrix(rows, cols, 3);
    const dataset = await client.upload(big, { shape: [rows, cols] });
    const job = await client.submit(dataset.id, { op: 'median' });
    const seen: Progress[] = [];
    const ended = client.wait(job.id, { timeoutMs: 20_000, onProgress: (p) => seen.push(p) });
    server.gate.release(2);
    await until(
      () => seen.at(-1)?.rowsDone ?? 0,
      (done) => done > 0,
    );
    server.gate.release(1_000_000);
    const final = await ended;
    expect(final).toMatchObject({
      id: job.id,
      status: 'succeeded',
      progress: { rowsDone: rows, rowsTotal: rows },
    });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((p) => p.rowsTotal === rows)).toBe(true);
    expect(seen.some((p) => p.rowsDone > 0 && p.rowsDone < rows)).toBe(true);
    const done = seen.map((p) => p.rowsDone);
    expect(done).toEqual([...done].sort((a, b) => a - b));
    expect(await client.result(job.id)).toEqual(Float64Array.from(perRow(big, cols, median)));
    expect(await client.wait(job.id)).toMatchObject({ id: job.id, status: 'succeeded' });
  });

  test('wait gives up after timeoutMs; cancel keeps the record; deleteJob forgets it', async () => {
    server.gate.close();
    const job = await client.submit(datasetId, { op: 'median' });
    const started = Date.now();
    const error = await rejection(client.wait(job.id, { timeoutMs: 300 }));
    expect(error).toBeInstanceOf(RowpoolTimeoutError);
    expect(Date.now() - started).toBeLessThan(5_000);
    const cancelled = await client.cancel(job.id);
    expect(cancelled).toMatchObject({
      id: job.id,
      status: 'cancelled',
      error: { message: 'cancelled by request' },
    });
    expect(await client.wait(job.id, { timeoutMs: 5_000 })).toMatchObject({ status: 'cancelled' });
    expect(await rejection(client.result(job.id))).toMatchObject({
      status: 409,
      code: 'ROWPOOL_JOB_NOT_SUCCEEDED',
    });
    await client.deleteJob(job.id);
    expect(await rejection(client.job(job.id))).toMatchObject({
      status: 404,
      code: 'ROWPOOL_JOB_NOT_FOUND',
      message: `job ${job.id} not found`,
    });
    expect(await rejection(client.wait(job.id))).toMatchObject({ status: 404 });
    server.gate.release(1_000_000);
  });

  test('a job the server refuses is a 400 with its message', async () => {
    const error = await rejection(client.submit(datasetId, { op: 'dot', params: { vector: [1, 2, 3] } }));
    expect(error).toMatchObject({
      status: 400,
      code: 'ROWPOOL_INVALID_JOB',
      message: `params.vector has 3 numbers but the dataset's rows have ${COLS}`,
    });
    expect(await rejection(client.submit('nope', { op: 'sum' }))).toMatchObject({ status: 404 });
  });
});

describe('a server with ROWPOOL_API_TOKEN', () => {
  let guarded: TestServer;
  beforeAll(async () => {
    guarded = await startServer({ apiToken: 'sesame', threads: 1 });
  });
  afterAll(() => stopServer(guarded));

  test('takes the bearer token and refuses a client without it with 401', async () => {
    const withToken = new RowpoolClient({ url: guarded.url, token: 'sesame' });
    expect(await withToken.datasets()).toEqual([]);
    const error = await rejection(new RowpoolClient({ url: guarded.url }).datasets());
    expect(error).toMatchObject({
      status: 401,
      code: 'ROWPOOL_UNAUTHORIZED',
      message: 'missing or invalid bearer token',
    });
  });
});
