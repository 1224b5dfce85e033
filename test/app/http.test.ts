import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { testApp } from '../helpers/app.js';

describe('with ROWPOOL_API_TOKEN and ROWPOOL_METRICS_TOKEN set', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await testApp({ apiToken: 's3cret-api', metricsToken: 'm3trics' });
  });
  afterAll(async () => {
    await app.close();
  });

  test.each([
    ['no Authorization header', undefined],
    ['a wrong token', 'Bearer wrong'],
    ['a token of another length', 'Bearer s3cret-api-and-more'],
    ['the metrics token', 'Bearer m3trics'],
    ['another scheme', 'Basic czNjcmV0LWFwaQ=='],
  ])('/v1 routes answer 401 with %s', async (_name, authorization) => {
    for (const [method, url] of [
      ['GET', '/v1/datasets'],
      ['GET', '/v1/jobs'],
      ['GET', '/v1/datasets/x'],
      ['DELETE', '/v1/jobs/x'],
    ] as const) {
      const res = await app.inject({ method, url, headers: authorization ? { authorization } : {} });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect(res.json()).toMatchObject({
        statusCode: 401,
        error: 'Unauthorized',
        message: expect.stringMatching(/bearer token/),
      });
    }
  });

  test('an upload without the token is refused before its body is read or validated', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/datasets',
      headers: { 'content-type': 'application/json' },
      payload: '{"this is": not even json',
    });
    expect(res.statusCode).toBe(401);
    expect(
      (
        await app.inject({
          method: 'GET',
          url: '/v1/datasets',
          headers: { authorization: 'Bearer s3cret-api' },
        })
      ).json().datasets,
    ).toEqual([]);
  });

  test('the right token opens /v1', async () => {
    const headers = { authorization: 'Bearer s3cret-api' };
    const created = await app.inject({
      method: 'POST',
      url: '/v1/datasets',
      headers,
      payload: { data: [[1, 2]] },
    });
    expect(created.statusCode).toBe(201);
    const listed = await app.inject({
      method: 'GET',
      url: '/v1/datasets',
      headers: { authorization: 'bearer   s3cret-api' },
    });
    expect(listed.statusCode).toBe(200);
    expect(listed.json().datasets).toHaveLength(1);
  });

  test('/metrics needs the metrics token; /healthz and /readyz stay open', async () => {
    expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    expect(
      (await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer s3cret-api' } }))
        .statusCode,
    ).toBe(401);
    const metrics = await app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: 'Bearer m3trics' },
    });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toContain('rowpool_datasets');
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
  });
});

describe('with only ROWPOOL_API_TOKEN set', () => {
  test('/metrics is open and /v1 is not', async () => {
    const app = await testApp({ apiToken: 'only-api' });
    try {
      expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/v1/jobs' })).statusCode).toBe(401);
    } finally {
      await app.close();
    }
  });
});

describe('with no tokens set', () => {
  test('everything is open', async () => {
    const app = await testApp();
    try {
      expect((await app.inject({ method: 'GET', url: '/v1/jobs' })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});

describe('request ids', () => {
  test('each response carries a request id, the caller’s own when it sends X-Request-Id', async () => {
    const app = await testApp();
    try {
      const fresh = await app.inject({ method: 'GET', url: '/healthz' });
      expect(fresh.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      const other = await app.inject({ method: 'GET', url: '/healthz' });
      expect(other.headers['x-request-id']).not.toBe(fresh.headers['x-request-id']);
      const given = await app.inject({
        method: 'GET',
        url: '/v1/jobs/nope',
        headers: { 'x-request-id': 'trace-42' },
      });
      expect(given.statusCode).toBe(404);
      expect(given.headers['x-request-id']).toBe('trace-42');
    } finally {
      await app.close();
    }
  });
});
