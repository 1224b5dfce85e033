import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from '../helpers/app.js';
import { sampleBytes } from '../helpers/arrays.js';
import { FIXTURES_DIR } from '../helpers/fixtures.js';
import { npyFile } from '../helpers/npy.js';

/** The expression op over HTTP: the recipe's line, refusals, row errors, ranking and metrics. */

interface Hostile {
  readonly expr: string;
  readonly column: number;
  readonly says: string;
}

const HOSTILE = JSON.parse(readFileSync(`${FIXTURES_DIR}expr/hostile.json`, 'utf8')) as Hostile[];

let app: FastifyInstance;
let f16: string;
let f64: string;

async function job(datasetId: string, body: object) {
  return app.inject({ method: 'POST', url: `/v1/datasets/${datasetId}/jobs?wait=20`, payload: body });
}

async function values(jobId: string): Promise<number[]> {
  return (await app.inject({ method: 'GET', url: `/v1/jobs/${jobId}/result` })).json().data;
}

beforeAll(async () => {
  app = await testApp({ memoryLimit: 64 * 2 ** 20 });
  const up = await app.inject({
    method: 'POST',
    url: '/v1/datasets?name=f16',
    headers: { 'content-type': 'application/x-npy' },
    payload: npyFile('<f2', [40, 300], sampleBytes('float16', 40 * 300)),
  });
  expect(up.statusCode, up.body).toBe(201);
  f16 = up.json().id;
  const rows = Array.from({ length: 6 }, (_, r) =>
    Array.from({ length: 5 }, (_, c) => (r - 2) * (c + 1) - 0.5),
  );
  f64 = (await app.inject({ method: 'POST', url: '/v1/datasets', payload: { data: rows } })).json().id;
});

afterAll(async () => {
  await app.close();
});

describe('op expr', () => {
  it("runs the recipe's line verbatim and gives strided_mean's values exactly", async () => {
    const recipe = await job(f16, { op: 'expr', params: { expr: 'dataset.ravel()[::i+1].mean()' } });
    expect(recipe.statusCode, recipe.body).toBe(200);
    expect(recipe.json()).toMatchObject({
      op: 'expr',
      status: 'succeeded',
      params: { expr: 'dataset.ravel()[::i+1].mean()' },
    });
    const strided = await job(f16, { op: 'strided_mean' });
    expect(await values(recipe.json().id)).toEqual(await values(strided.json().id));
  });

  it('gives the sum op its bits for sum(x), and uses args and the vector', async () => {
    const sum = await job(f16, { op: 'sum' });
    const same = await job(f16, { op: 'expr', params: { expr: 'sum(x)' } });
    expect(await values(same.json().id)).toEqual(await values(sum.json().id));
    const res = await job(f64, {
      op: 'expr',
      params: { expr: 'alpha * x[0] + dot(x, v)', vector: [1, 0, 0, 0, 2], args: { alpha: 0.5 } },
    });
    expect(res.statusCode, res.body).toBe(200);
    const expected = Array.from({ length: 6 }, (_, r) => {
      const x = Array.from({ length: 5 }, (_, c) => (r - 2) * (c + 1) - 0.5);
      return 0.5 * x[0] + x[0] + 2 * x[4];
    });
    expect(await values(res.json().id)).toEqual(expected);
  });

  it('ranks rows by the expression with top', async () => {
    // Row r is (r - 2) * (c + 1) - 0.5 for c in 0..4: the largest |value| is in the last row, then the first.
    const res = await job(f64, { op: 'expr', params: { expr: 'max(abs(x))' }, top: { k: 2 } });
    const result = (await app.inject({ method: 'GET', url: `/v1/jobs/${res.json().id}/result` })).json();
    expect(result).toMatchObject({ indices: [5, 0], values: [14.5, 10.5] });
  });

  it('fails a job where NumPy would raise, naming the row', async () => {
    const res = await job(f64, { op: 'expr', params: { expr: 'min(x[i:])' } });
    expect(res.json().status).toBe('failed');
    expect(res.json().error.message).toMatch(/row 5/);
  });

  // The refusals that depend on the row length were written for rows of 12; these rows have 5.
  const anyShape = HOSTILE.filter((h) => !h.says.includes('for length'));

  it('has a table of at least 40 hostile expressions', () => {
    expect(anyShape.length).toBeGreaterThanOrEqual(40);
  });

  it.each(anyShape)('refuses $expr with 400 at its column', async ({ expr, column, says }) => {
    const res = await job(f64, { op: 'expr', params: { expr } });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().code).toBe('ROWPOOL_INVALID_JOB');
    expect(res.json().message).toContain(says);
    if (column > 0) expect(res.json().message).toContain(`(column ${column})`);
  });

  it('refuses an index out of range for the row length at submit', async () => {
    const res = await job(f64, { op: 'expr', params: { expr: 'x[100]' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toBe('params.expr: index 100 is out of range for length 5 (column 3)');
  });

  it('refuses an array-valued expression, saying to reduce it, and stays healthy', async () => {
    const res = await job(f64, { op: 'expr', params: { expr: 'x * 2' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/reduce it to one number/);
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('counts its jobs under op="expr"', async () => {
    const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).toMatch(/rowpool_jobs_total\{op="expr",status="succeeded"\} [1-9]/);
  });
});
