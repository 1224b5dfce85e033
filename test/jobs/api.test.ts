import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { testApp } from '../helpers/app.js';

let app: FastifyInstance;
let ds: string;

beforeAll(async () => {
  app = await testApp();
  // 6 rows x 3: row r is [r, -r, NaN when r == 4, +inf when r == 5].
  const data = [
    [0, 0, 0],
    [1, -1, 2],
    [2, -2, 4],
    [3, -3, 6],
    [4, 'NaN', 8],
    [5, 'Infinity', 10],
  ];
  const res = await app.inject({ method: 'POST', url: '/v1/datasets', payload: { data, name: 'api' } });
  ds = res.json().id;
});
afterAll(async () => {
  await app.close();
});

const submit = (body: unknown, query = '?wait=10') =>
  app.inject({ method: 'POST', url: `/v1/datasets/${ds}/jobs${query}`, payload: body as object });

describe('bad job specs are 400 with a clear message', () => {
  test.each([
    ['unknown op', { op: 'frobnicate' }, /body\.op must be one of "sum", "mean"/],
    ['missing op', {}, /must have required property 'op'/],
    ['unknown top-level field', { op: 'sum', priority: 1 }, /unknown field "priority"/],
    ['unknown param name', { op: 'sum', params: { foo: 1 } }, /unknown field "foo"/],
    ['param the op does not take', { op: 'mean', params: { ddof: 1 } }, /unknown param "ddof" for op mean/],
    ['quantile without q', { op: 'quantile' }, /needs params\.q/],
    ['q above 1', { op: 'quantile', params: { q: 1.5 } }, /params\.q must be <= 1/],
    ['q below 0', { op: 'quantile', params: { q: -0.1 } }, /params\.q must be >= 0/],
    ['q as a string', { op: 'quantile', params: { q: '0.5' } }, /params\.q must be number/],
    ['dot without a vector', { op: 'dot' }, /needs params\.vector, a list of 3 numbers/],
    [
      'vector of the wrong length',
      { op: 'cosine', params: { vector: [1, 2] } },
      /has 2 numbers but the dataset's rows have 3/,
    ],
    [
      'non-numeric vector',
      { op: 'euclidean', params: { vector: [1, 'x', 3] } },
      /params\.vector\.1 must be number/,
    ],
    ['bad ord', { op: 'norm', params: { ord: 3 } }, /body\.params\.ord must be one of 1, 2, "inf"/],
    ['ord as a string', { op: 'norm', params: { ord: '2' } }, /body\.params\.ord must be one of 1, 2, "inf"/],
    ['negative ddof', { op: 'var', params: { ddof: -1 } }, /params\.ddof must be >= 0/],
    ['fractional ddof', { op: 'std', params: { ddof: 0.5 } }, /params\.ddof must be integer/],
    ['k below 1', { op: 'sum', top: { k: 0 } }, /top\.k must be >= 1/],
    ['rows past the end', { op: 'sum', rows: { start: 0, end: 7 } }, /outside the dataset, which has 6 rows/],
    [
      'reversed rows',
      { op: 'sum', rows: { start: 4, end: 2 } },
      /rows\.start \(4\) is after rows\.end \(2\)/,
    ],
    ['negative start', { op: 'sum', rows: { start: -1 } }, /rows\.start must be >= 0/],
  ])('%s', async (_name, body, message) => {
    const before = (await app.inject({ method: 'GET', url: '/v1/jobs' })).json().jobs.length;
    const res = await submit(body);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(res.json().message).toMatch(message);
    expect((await app.inject({ method: 'GET', url: '/v1/jobs' })).json().jobs.length).toBe(before);
  });

  test.each([['-1'], ['61'], ['soon']])('wait=%s is refused', async (wait) => {
    const res = await submit({ op: 'sum' }, `?wait=${wait}`);
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/querystring\.wait/);
  });
});

describe('params at the edges', () => {
  test('a vector value JSON cannot hold (1e400 overflows to infinity) is refused', async () => {
    const res = await app.inject({
      method: 'POST',
      url: `/v1/datasets/${ds}/jobs`,
      headers: { 'content-type': 'application/json' },
      payload: '{"op":"dot","params":{"vector":[1e400,1,1]}}',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/finite numbers/);
  });

  test('a ddof past the row length gives infinity or NaN, as NumPy does, however large', async () => {
    for (const ddof of [3, 2 ** 40, 1e20]) {
      const res = await submit({ op: 'var', params: { ddof }, rows: { start: 0, end: 2 } });
      expect(res.json().status).toBe('succeeded');
      const data = (await app.inject({ method: 'GET', url: `/v1/jobs/${res.json().id}/result` })).json().data;
      expect(data).toEqual(['NaN', 'Infinity']);
    }
  });
});

describe('results', () => {
  test('JSON spells NaN and infinities as strings; CSV and .npy carry the same values', async () => {
    const job = (await submit({ op: 'sum' })).json();
    expect(job).toMatchObject({ op: 'sum', params: {}, rows: { start: 0, end: 6 }, status: 'succeeded' });
    expect(job.progress).toEqual({ rowsDone: 6, rowsTotal: 6 });
    const json = await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/result` });
    expect(json.headers['content-type']).toMatch(/^application\/json/);
    expect(json.json()).toEqual({
      jobId: job.id,
      dtype: 'float64',
      shape: [6],
      data: [0, 2, 4, 6, 'NaN', 'Infinity'],
    });
    const csv = await app.inject({
      method: 'GET',
      url: `/v1/jobs/${job.id}/result`,
      headers: { accept: 'text/csv' },
    });
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.body).toBe('0\n2\n4\n6\nnan\ninf\n');
    const npy = await app.inject({
      method: 'GET',
      url: `/v1/jobs/${job.id}/result`,
      headers: { accept: 'application/x-npy' },
    });
    const file = npy.rawPayload;
    expect(file.subarray(0, 6).toString('latin1')).toBe('\x93NUMPY');
    expect(file.toString('latin1')).toContain("'descr': '<f8'");
    const values = new Float64Array(
      file.buffer.slice(file.byteOffset + file.length - 48, file.byteOffset + file.length),
    );
    expect(Array.from(values)).toEqual([0, 2, 4, 6, Number.NaN, Number.POSITIVE_INFINITY]);
  });

  test('an Accept the service cannot serve is 406', async () => {
    const job = (await submit({ op: 'max' })).json();
    const res = await app.inject({
      method: 'GET',
      url: `/v1/jobs/${job.id}/result`,
      headers: { accept: 'image/png' },
    });
    expect(res.statusCode).toBe(406);
  });

  test('a plain result over a row range holds rows start..end-1 in order; int64 ops answer int64', async () => {
    const job = (await submit({ op: 'argmax', rows: { start: 2, end: 5 } })).json();
    const res = (await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/result` })).json();
    expect(res).toEqual({ jobId: job.id, dtype: 'int64', shape: [3], data: [2, 2, 1] });
  });

  test('top-k uses dataset row indices, puts NaN last and returns all rows when k is larger', async () => {
    const job = (await submit({ op: 'sum', rows: { start: 1, end: 6 }, top: { k: 10 } })).json();
    expect(job.top).toEqual({ k: 10, largest: true });
    const res = (await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/result` })).json();
    expect(res).toEqual({ jobId: job.id, indices: [5, 3, 2, 1, 4], values: ['Infinity', 6, 4, 2, 'NaN'] });
    for (const k of [2 ** 53, 1e20]) {
      const huge = (await submit({ op: 'sum', top: { k } })).json();
      expect(huge.status).toBe('succeeded');
      expect(huge.top).toEqual({ k, largest: true });
      const all = (await app.inject({ method: 'GET', url: `/v1/jobs/${huge.id}/result` })).json();
      expect(all.indices).toEqual([5, 3, 2, 1, 0, 4]);
    }
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    const smallest = (await submit({ op: 'min', top: { k: 2, largest: false } })).json();
    const low = (await app.inject({ method: 'GET', url: `/v1/jobs/${smallest.id}/result` })).json();
    expect(low).toEqual({ jobId: smallest.id, indices: [3, 2], values: [-3, -2] });
  });

  test('an empty row range succeeds with an empty result', async () => {
    const job = (await submit({ op: 'mean', rows: { start: 3, end: 3 } })).json();
    expect(job.status).toBe('succeeded');
    const res = (await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/result` })).json();
    expect(res).toEqual({ jobId: job.id, dtype: 'float64', shape: [0], data: [] });
  });
});

describe('listing and deleting jobs', () => {
  test('jobs are listed newest first and filtered by status; delete forgets a job', async () => {
    const first = (await submit({ op: 'mean' })).json();
    const second = (await submit({ op: 'max' })).json();
    const all = (await app.inject({ method: 'GET', url: '/v1/jobs' })).json().jobs;
    expect(all[0].id).toBe(second.id);
    expect(all[1].id).toBe(first.id);
    const succeeded = (await app.inject({ method: 'GET', url: '/v1/jobs?status=succeeded' })).json().jobs;
    expect(succeeded.every((j: { status: string }) => j.status === 'succeeded')).toBe(true);
    expect((await app.inject({ method: 'GET', url: '/v1/jobs?status=failed' })).json().jobs).toEqual([]);
    expect((await app.inject({ method: 'GET', url: '/v1/jobs?status=bogus' })).statusCode).toBe(400);
    expect((await app.inject({ method: 'DELETE', url: `/v1/jobs/${first.id}` })).statusCode).toBe(204);
    expect((await app.inject({ method: 'GET', url: `/v1/jobs/${first.id}` })).statusCode).toBe(404);
    expect((await app.inject({ method: 'DELETE', url: `/v1/jobs/${first.id}` })).statusCode).toBe(404);
  });

  test.each([
    ['GET', '/v1/jobs/nope'],
    ['GET', '/v1/jobs/00000000-0000-4000-8000-000000000000/result'],
    ['DELETE', '/v1/jobs/nope'],
  ] as const)('%s %s is 404', async (method, url) => {
    const res = await app.inject({ method, url });
    expect(res.statusCode).toBe(404);
    expect(res.json().message).toMatch(/job .* not found/);
  });
});

describe('memory', () => {
  test("a job's result and query vector count against the limit until the job is deleted", async () => {
    const used = async () =>
      (await app.inject({ method: 'GET', url: '/v1/datasets' })).json().memory.usedBytes;
    const before = await used();
    const job = (await submit({ op: 'dot', params: { vector: [1, 2, 3] } })).json();
    expect(job.params).toEqual({ vector: [1, 2, 3] });
    expect(await used()).toBe(before + 6 * 8 + 3 * 8);
    const top = (await submit({ op: 'euclidean', params: { vector: [0, 0, 0] }, top: { k: 1 } })).json();
    // A top-k job keeps its k best rows (16 bytes each), not the full result; the vector stays too.
    expect(await used()).toBe(before + 6 * 8 + 3 * 8 + 3 * 8 + 16);
    expect((await app.inject({ method: 'DELETE', url: `/v1/jobs/${job.id}` })).statusCode).toBe(204);
    expect((await app.inject({ method: 'DELETE', url: `/v1/jobs/${top.id}` })).statusCode).toBe(204);
    expect(await used()).toBe(before);
  });

  test('results count against the limit and the oldest finished results are evicted when memory is needed', async () => {
    const small = await testApp({ memoryLimit: 4096 });
    try {
      const data = Array.from({ length: 200 }, (_, i) => i);
      const id = (
        await small.inject({ method: 'POST', url: '/v1/datasets', payload: { data, dtype: 'uint8' } })
      ).json().id;
      const run = () =>
        small.inject({ method: 'POST', url: `/v1/datasets/${id}/jobs?wait=10`, payload: { op: 'sum' } });
      const jobs = [];
      for (let i = 0; i < 12; i++) jobs.push((await run()).json());
      expect(jobs.every((j) => j.status === 'succeeded')).toBe(true);
      const used = (await small.inject({ method: 'GET', url: '/v1/datasets' })).json().memory.usedBytes;
      expect(used).toBeLessThanOrEqual(4096);
      // 200 + 1600 bytes per result: only the newest results fit beside the dataset.
      expect((await small.inject({ method: 'GET', url: `/v1/jobs/${jobs[0].id}` })).statusCode).toBe(404);
      expect((await small.inject({ method: 'GET', url: `/v1/jobs/${jobs[11].id}/result` })).statusCode).toBe(
        200,
      );
    } finally {
      await small.close();
    }
  });
});
