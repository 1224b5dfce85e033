import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allocateSharedArray } from '../../src/datasets/shared-array.js';
import { DatasetStore } from '../../src/datasets/store.js';
import { RowNormCache } from '../../src/jobs/norm-cache.js';
import { MemoryBudget } from '../../src/memory.js';
import { testApp } from '../helpers/app.js';
import { npyFile } from '../helpers/npy.js';

const ROWS = 3000;
const N = 256;
const data = Float64Array.from({ length: ROWS * N }, (_, k) => Math.sin(k * 0.37) * 10 ** ((k % 5) - 2));
data.fill(0, 7 * N, 8 * N);
const vectors = [0, 1, 2].map((s) => Array.from({ length: N }, (_, k) => Math.cos(k * 0.11 + s) * (s + 1)));

describe("a dataset's cached row norms for cosine", () => {
  let app: FastifyInstance;

  beforeAll(async () => {
    app = await testApp({ threads: 2 });
  });
  afterAll(async () => {
    await app.close();
  });

  async function upload(): Promise<string> {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/datasets',
      headers: { 'content-type': 'application/x-npy' },
      payload: npyFile('<f8', [ROWS, N], new Uint8Array(data.buffer)),
    });
    expect(res.statusCode).toBe(201);
    return res.json().id;
  }

  /** Runs a job to the end, deletes it, and returns its result as JSON. */
  async function run(
    id: string,
    body: object,
  ): Promise<{ data?: unknown[]; indices?: number[]; values?: unknown[] }> {
    const job = await app.inject({ method: 'POST', url: `/v1/datasets/${id}/jobs?wait=30`, payload: body });
    expect(job.statusCode).toBe(200);
    expect(job.json().status).toBe('succeeded');
    const jobId = job.json().id;
    const result = (await app.inject({ method: 'GET', url: `/v1/jobs/${jobId}/result` })).json();
    expect((await app.inject({ method: 'DELETE', url: `/v1/jobs/${jobId}` })).statusCode).toBe(204);
    return result;
  }

  it('are counted once the first cosine job over every row has run, give the same results, and go with the dataset', async () => {
    const { budget } = app.rowpool;
    const empty = budget.used;
    const id = await upload();
    // The dataset's vector slots come with its first vector job.
    await run(id, { op: 'dot', params: { vector: vectors[0] } });
    const before = budget.used;
    // A job over some of the rows does not make them.
    const part = await run(id, {
      op: 'cosine',
      params: { vector: vectors[0] },
      rows: { start: 100, end: 2000 },
    });
    expect(budget.used).toBe(before);

    const first = await run(id, { op: 'cosine', params: { vector: vectors[0] } });
    expect(budget.used - before).toBe(ROWS * 8);
    const again = await run(id, { op: 'cosine', params: { vector: vectors[0] } });
    expect(again.data).toEqual(first.data);
    expect(first.data!.slice(100, 2000)).toEqual(part.data);
    expect(first.data![7]).toBe('NaN');
    const partAgain = await run(id, {
      op: 'cosine',
      params: { vector: vectors[0] },
      rows: { start: 100, end: 2000 },
    });
    expect(partAgain.data).toEqual(part.data);
    expect(budget.used - before).toBe(ROWS * 8);

    // A top job reading them ranks the same values.
    const top = await run(id, { op: 'cosine', params: { vector: vectors[0] }, top: { k: 5 } });
    const ranked = (first.data as number[])
      .map((value, row) => ({ value, row }))
      .filter((r) => typeof r.value === 'number')
      .sort((a, b) => b.value - a.value || a.row - b.row)
      .slice(0, 5);
    expect(top.indices).toEqual(ranked.map((r) => r.row));
    expect(top.values).toEqual(ranked.map((r) => r.value));

    expect((await app.inject({ method: 'DELETE', url: `/v1/datasets/${id}` })).statusCode).toBe(204);
    expect(budget.used).toBe(empty);
  });

  it('are not made when the memory limit has no room for them, and the results are the same', async () => {
    const { budget } = app.rowpool;
    const id = await upload();
    const withRoom = await run(id, { op: 'cosine', params: { vector: vectors[1] } });
    expect((await app.inject({ method: 'DELETE', url: `/v1/datasets/${id}` })).statusCode).toBe(204);

    const tight = await upload();
    await run(tight, { op: 'dot', params: { vector: vectors[0] } });
    // Room for the job's vector and result, and one byte short of the norms besides.
    const filler = budget.reserve(budget.free - (N * 8 + ROWS * 8 + ROWS * 8 - 1));
    try {
      const used = budget.used;
      const without = await run(tight, { op: 'cosine', params: { vector: vectors[1] } });
      expect(budget.used).toBe(used);
      expect(without.data).toEqual(withRoom.data);
    } finally {
      filler.release();
    }
    const used = budget.used;
    await run(tight, { op: 'cosine', params: { vector: vectors[1] } });
    expect(budget.used - used).toBe(ROWS * 8);
    expect((await app.inject({ method: 'DELETE', url: `/v1/datasets/${tight}` })).statusCode).toBe(204);
  });
});

describe('the row norm cache', () => {
  function setup(limit: number) {
    const store = new DatasetStore();
    const budget = new MemoryBudget(limit);
    const cache = new RowNormCache(store, budget);
    const bytes = 1000 * 16 * 8;
    const array = allocateSharedArray('float64', 1000, 16 * 8);
    const dataset = store.add(
      { ...array, dtype: 'float64', shape: [1000, 16], reservation: budget.reserve(bytes) },
      null,
    );
    return { store, budget, cache, dataset, datasetBytes: bytes };
  }

  it('is filled by the first job over every row, read once it succeeded, and dropped when it did not', () => {
    const { store, budget, cache, dataset, datasetBytes } = setup(2 ** 20);
    expect(cache.forJob(dataset, 1, 1000, 'part')).toBeUndefined();
    expect(budget.used).toBe(datasetBytes);

    const failing = cache.forJob(dataset, 0, 1000, 'a')!;
    expect(failing.fill).toBe(true);
    expect(failing.values.length).toBe(1000);
    expect(budget.used).toBe(datasetBytes + 8000);
    // While one job fills them, others compute their own.
    expect(cache.forJob(dataset, 0, 1000, 'b')).toBeUndefined();
    cache.ended(dataset.id, 'b', true);
    cache.ended(dataset.id, 'a', false);
    expect(budget.used).toBe(datasetBytes);

    const filling = cache.forJob(dataset, 0, 1000, 'c')!;
    expect(filling.fill).toBe(true);
    expect(filling.values).not.toBe(failing.values);
    cache.ended(dataset.id, 'c', true);
    for (const [start, end] of [
      [0, 1000],
      [5, 10],
    ]) {
      const read = cache.forJob(dataset, start, end, 'd')!;
      expect(read.fill).toBe(false);
      expect(read.values).toBe(filling.values);
    }
    cache.ended(dataset.id, 'd', false);
    expect(budget.used).toBe(datasetBytes + 8000);

    store.delete(dataset.id);
    expect(budget.used).toBe(0);
  });

  it('is not made when the budget has not that much free', () => {
    const { budget, cache, dataset, datasetBytes } = setup(1000 * 16 * 8 + 7999);
    expect(cache.forJob(dataset, 0, 1000, 'a')).toBeUndefined();
    expect(budget.used).toBe(datasetBytes);
  });
});
