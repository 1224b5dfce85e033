import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DTYPE_INFO, type DType } from '../../src/datasets/dtypes.js';
import { testApp } from '../helpers/app.js';
import { sampleBytes } from '../helpers/arrays.js';

let app: FastifyInstance;

beforeAll(async () => {
  app = await testApp();
});
afterAll(async () => {
  await app.close();
});

/**
 * `rows` x `n` of `dtype` whose rows repeat with period `rows / 3` (exact ties across the chunks of
 * a job) and whose row 1 is all zeros (cosine NaN).
 */
async function upload(dtype: DType, rows: number, n: number): Promise<string> {
  const { itemsize } = DTYPE_INFO[dtype];
  const period = Math.ceil(rows / 3);
  const base = sampleBytes(dtype, period * n, rows + n);
  const bytes = new Uint8Array(rows * n * itemsize);
  for (let r = 0; r < rows; r++) {
    const from = (r % period) * n * itemsize;
    bytes.set(base.subarray(from, from + n * itemsize), r * n * itemsize);
  }
  bytes.fill(0, n * itemsize, 2 * n * itemsize);
  const res = await app.inject({
    method: 'POST',
    url: `/v1/datasets?dtype=${dtype}&shape=${rows},${n}`,
    headers: { 'content-type': 'application/octet-stream' },
    payload: Buffer.from(bytes),
  });
  expect(res.statusCode).toBe(201);
  return res.json().id;
}

function queries(count: number, n: number, seed: number): number[][] {
  let state = seed;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return ((state % 2001) - 1000) / 37;
  };
  return Array.from({ length: count }, () => Array.from({ length: n }, next));
}

async function run(ds: string, body: object, accept = 'application/json') {
  const job = await app.inject({ method: 'POST', url: `/v1/datasets/${ds}/jobs?wait=30`, payload: body });
  expect(job.statusCode, job.body).toBe(200);
  expect(job.json().status, job.body).toBe('succeeded');
  return app.inject({ method: 'GET', url: `/v1/jobs/${job.json().id}/result`, headers: { accept } });
}

const CASES: Array<[DType, number, number]> = [
  ['float32', 300, 37],
  ['float32', 2100, 130],
  ['float16', 4200, 130],
  ['int8', 8100, 130],
  ['float64', 1100, 130],
  ['uint64', 300, 9],
];

describe('a batch of queries answers as one job per query, bit for bit', () => {
  test.each(CASES)('%s, %i x %i', async (dtype, rows, n) => {
    const ds = await upload(dtype, rows, n);
    const vectors = queries(5, n, rows);
    for (const op of ['dot', 'cosine', 'euclidean']) {
      for (const top of [{ k: 7 }, { k: 4, largest: op === 'euclidean' }, { k: rows + 5 }]) {
        const batch = (await run(ds, { op, params: { vectors }, top })).json();
        for (let j = 0; j < vectors.length; j++) {
          const single = (await run(ds, { op, params: { vector: vectors[j] }, top })).json();
          expect(batch.indices[j], `${op} ${JSON.stringify(top)} query ${j}`).toEqual(single.indices);
          expect(batch.values[j], `${op} ${JSON.stringify(top)} query ${j}`).toEqual(single.values);
        }
      }
    }
  });
});

describe('batch results', () => {
  let ds: string;
  beforeAll(async () => {
    ds = await upload('float32', 30, 4);
  });

  test('euclidean ranks nearest first, dot largest first, ties to the lower row', async () => {
    const vectors = [
      [0, 0, 0, 0],
      [1, 2, 3, 4],
    ];
    const near = (await run(ds, { op: 'euclidean', params: { vectors }, top: { k: 3 } })).json();
    // Row 1 is all zeros, so it is the nearest to the origin; the next two are a row and its repeat.
    expect(near.indices[0][0]).toBe(1);
    expect(near.values[0][0]).toBe(0);
    expect(near.values[0][1]).toBeGreaterThan(0);
    expect(near.values[0][2]).toBe(near.values[0][1]);
    expect(near.indices[0][2] - near.indices[0][1]).toBe(10);
    const dot = (await run(ds, { op: 'dot', params: { vectors }, top: { k: 30 } })).json();
    expect(dot.values[0]).toEqual(new Array(30).fill(0));
    expect(dot.indices[0]).toEqual(Array.from({ length: 30 }, (_, i) => i));
    const v = dot.values[1] as number[];
    expect([...v].sort((a, b) => b - a)).toEqual(v);
  });

  test('.npy is a (queries, k) structured array, CSV has query,rank,index,value lines', async () => {
    const body = { op: 'dot', params: { vectors: queries(3, 4, 9) }, top: { k: 2 } };
    const json = (await run(ds, body)).json();
    const npy = (await run(ds, body, 'application/x-npy')).rawPayload;
    const headerLength = npy.readUInt16LE(8);
    const header = npy.subarray(10, 10 + headerLength).toString();
    expect(header).toContain("'descr': [('index', '<i8'), ('value', '<f8')]");
    expect(header).toContain("'shape': (3, 2)");
    const records = npy.subarray(10 + headerLength);
    expect(records.length).toBe(3 * 2 * 16);
    for (let j = 0; j < 3; j++) {
      for (let i = 0; i < 2; i++) {
        expect(Number(records.readBigInt64LE((j * 2 + i) * 16))).toBe(json.indices[j][i]);
        expect(records.readDoubleLE((j * 2 + i) * 16 + 8)).toBe(json.values[j][i]);
      }
    }
    const csv = (await run(ds, body, 'text/csv')).body.trim().split('\n');
    expect(csv[0]).toBe('query,rank,index,value');
    expect(csv.slice(1)).toEqual(
      [0, 1, 2].flatMap((j) => [0, 1].map((i) => `${j},${i},${json.indices[j][i]},${json.values[j][i]}`)),
    );
  });

  test.each([
    ['vectors without top', { op: 'dot', params: { vectors: [[1, 2, 3, 4]] } }, /params\.vectors needs top/],
    [
      'both vector and vectors',
      { op: 'dot', params: { vector: [1, 2, 3, 4], vectors: [[1, 2, 3, 4]] }, top: { k: 1 } },
      /not both/,
    ],
    [
      'neither',
      { op: 'cosine', top: { k: 1 } },
      /needs params\.vector, a list of 4 numbers .* or params\.vectors/,
    ],
    [
      'a query of the wrong length',
      { op: 'euclidean', params: { vectors: [[1, 2, 3, 4], [1]] }, top: { k: 1 } },
      /params\.vectors\[1\] has 1 numbers but the dataset's rows have 4/,
    ],
    [
      'an empty batch',
      { op: 'dot', params: { vectors: [] }, top: { k: 1 } },
      /params\.vectors must NOT have fewer than 1 items/,
    ],
    [
      'vectors for an op without queries',
      { op: 'sum', params: { vectors: [[1]] }, top: { k: 1 } },
      /unknown param "vectors" for op sum/,
    ],
  ])('%s is a 400', async (_name, body, message) => {
    const res = await app.inject({ method: 'POST', url: `/v1/datasets/${ds}/jobs`, payload: body });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().message).toMatch(message);
  });
});
