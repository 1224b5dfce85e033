import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { testApp } from '../helpers/app.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = await testApp();
});
afterAll(async () => {
  await app.close();
});

async function raw(dtype: string, shape: string, bytes: Buffer): Promise<string> {
  const res = await app.inject({
    method: 'POST',
    url: `/v1/datasets?dtype=${dtype}&shape=${shape}`,
    headers: { 'content-type': 'application/octet-stream' },
    payload: bytes,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id;
}

async function result(id: string, body: object) {
  const job = await app.inject({ method: 'POST', url: `/v1/datasets/${id}/jobs?wait=10`, payload: body });
  expect(job.json().status, job.body).toBe('succeeded');
  return (await app.inject({ method: 'GET', url: `/v1/jobs/${job.json().id}/result` })).json();
}

test('a dataset with no rows stores, downloads and gives empty results', async () => {
  const id = await raw('float32', '0,5', Buffer.alloc(0));
  const info = (await app.inject({ method: 'GET', url: `/v1/datasets/${id}` })).json();
  expect(info).toMatchObject({ shape: [0, 5], rows: 0, rowLength: 5, bytes: 0 });
  const file = (await app.inject({ method: 'GET', url: `/v1/datasets/${id}/data` })).rawPayload;
  expect(file.toString('latin1')).toContain("'shape': (0, 5)");
  expect((await result(id, { op: 'sum' })).data).toEqual([]);
  expect((await result(id, { op: 'max', top: { k: 3 } })).indices).toEqual([]);
});

test('a 1-D dataset has rows of length 1', async () => {
  const id = await raw('int16', '4', Buffer.from(new Int16Array([3, -1, 0, 7]).buffer));
  expect((await result(id, { op: 'sum' })).data).toEqual([3, -1, 0, 7]);
  expect((await result(id, { op: 'count_nonzero' })).data).toEqual([1, 1, 0, 1]);
  expect((await result(id, { op: 'var' })).data).toEqual([0, 0, 0, 0]);
  expect((await result(id, { op: 'var', params: { ddof: 1 } })).data).toEqual(['NaN', 'NaN', 'NaN', 'NaN']);
  // strided_mean reads the whole array: row i is the mean of every (i+1)-th element.
  expect((await result(id, { op: 'strided_mean' })).data).toEqual([9 / 4, 3 / 2, 10 / 2, 3]);
});

test('4-D rows are flattened in C order', async () => {
  const values = Float64Array.from({ length: 2 * 2 * 3 * 2 }, (_, i) => i);
  const id = await raw('float64', '2,2,3,2', Buffer.from(values.buffer));
  expect((await result(id, { op: 'argmax' })).data).toEqual([11, 11]);
  expect((await result(id, { op: 'sum' })).data).toEqual([66, 210]);
  expect((await result(id, { op: 'quantile', params: { q: 0.5 } })).data).toEqual([5.5, 17.5]);
});

test('uint64 values above 2^53 convert to float64 as NumPy does', async () => {
  const id = await raw(
    'uint64',
    '1,2',
    Buffer.from(new BigUint64Array([2n ** 64n - 1n, 2n ** 53n + 1n]).buffer),
  );
  expect((await result(id, { op: 'max' })).data).toEqual([2 ** 64]);
  expect((await result(id, { op: 'min' })).data).toEqual([2 ** 53]);
});
