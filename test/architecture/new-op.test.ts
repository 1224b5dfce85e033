import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { registerOp } from '../../src/ops/registry.js';
import { SCALED_SUM } from '../fixtures/workers/scaled-sum-op.js';
import { testApp } from '../helpers/app.js';

/*
 * Adding an op is one registry entry and one kernel. This test adds one from outside src/, in the
 * main thread and (through its worker module) in the pool's threads, and checks that every layer
 * takes it: the request schema validates its params, the document lists it, the pool runs it.
 */

interface OpenApiOperation {
  requestBody: { content: { 'application/json': { schema: Record<string, unknown> } } };
}

let app: FastifyInstance;
let datasetId: string;

beforeAll(async () => {
  // Before the app is built: its schemas are made from the registry then.
  registerOp(SCALED_SUM);
  app = await testApp(
    {},
    { workerFile: new URL('../fixtures/workers/scaled-sum-worker.ts', import.meta.url) },
  );
  const upload = await app.inject({
    method: 'POST',
    url: '/v1/datasets',
    payload: {
      data: [
        [1, 2, 3],
        [4, 5, 6],
        [-1, 0.5, 0.25],
      ],
    },
  });
  expect(upload.statusCode, upload.body).toBe(201);
  datasetId = upload.json().id;
});

afterAll(async () => {
  await app.close();
});

const submit = (body: object) =>
  app.inject({ method: 'POST', url: `/v1/datasets/${datasetId}/jobs?wait=10`, payload: body });

describe('an op added through the registry alone', () => {
  test('runs on the pool, its params reaching the kernel', async () => {
    const job = await submit({ op: 'scaled_sum', params: { scale: 2 } });
    expect(job.statusCode, job.body).toBe(200);
    expect(job.json()).toMatchObject({ op: 'scaled_sum', status: 'succeeded', params: { scale: 2 } });
    const result = await app.inject({ method: 'GET', url: `/v1/jobs/${job.json().id}/result` });
    expect(result.json()).toMatchObject({ dtype: 'float64', shape: [3], data: [12, 30, -0.5] });
  });

  test('takes the default its schema gives', async () => {
    const job = await submit({ op: 'scaled_sum' });
    expect(job.json()).toMatchObject({ status: 'succeeded', params: { scale: 1 } });
    const result = await app.inject({ method: 'GET', url: `/v1/jobs/${job.json().id}/result` });
    expect(result.json().data).toEqual([6, 15, -0.25]);
  });

  test.each([
    ['a scale out of range', { scale: 0 }],
    ['a scale that is not a number', { scale: 'big' }],
    ['an unknown param', { scale: 1, shift: 3 }],
  ])('refuses %s with 400', async (_what, params) => {
    const res = await submit({ op: 'scaled_sum', params });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().message).toMatch(/params/);
  });

  test('is in the OpenAPI document: the op enum, its summary and its param', () => {
    const doc = app.swagger() as unknown as { paths: Record<string, Record<string, OpenApiOperation>> };
    const body = doc.paths['/v1/datasets/{id}/jobs'].post.requestBody.content['application/json'].schema;
    const op = (body.properties as Record<string, { enum: string[]; description: string }>).op;
    expect(op.enum).toContain('scaled_sum');
    expect(op.description).toContain('`scaled_sum` (scale): Sum of the row times scale');
    expect(JSON.stringify(body.properties)).toContain('What each row sum is multiplied by');
  });
});
