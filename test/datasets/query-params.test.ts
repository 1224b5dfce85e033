import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from '../helpers/app.js';
import { npyFile } from '../helpers/npy.js';

/** Query parameters an upload way would not read are refused, not ignored; datasets are found by name. */

let app: FastifyInstance;

beforeAll(async () => {
  app = await testApp();
});

afterAll(async () => {
  await app.close();
});

const used = async () => (await app.inject({ method: 'GET', url: '/v1/datasets' })).json().memory.usedBytes;

describe('upload query parameters', () => {
  it('a JSON upload takes its dtype from the query when the body gives none', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/datasets?dtype=int8',
      payload: { data: [[1, 2]] },
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ dtype: 'int8', shape: [1, 2], bytes: 2 });
  });

  it('a JSON upload whose body and query disagree on the dtype is refused', async () => {
    const before = await used();
    const res = await app.inject({
      method: 'POST',
      url: '/v1/datasets?dtype=int8',
      payload: { data: [[1, 2]], dtype: 'float32' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toBe(
      `the dtype query parameter says int8 but the body's "dtype" says float32; give one of them`,
    );
    expect(await used()).toBe(before);
  });

  it.each([
    ['dtype', '?dtype=int8', 'application/x-npy'],
    ['shape', '?shape=2', 'application/x-npy'],
    ['shape', '?shape=2', 'application/json'],
    ['shape', '?shape=2,2', 'text/csv'],
  ])('refuses ?%s on a %s upload, naming the parameter', async (key, query, type) => {
    const payload =
      type === 'application/x-npy'
        ? npyFile('<f8', [2], new Uint8Array(16))
        : type === 'text/csv'
          ? '1,2\n'
          : '{"data":[1]}';
    const res = await app.inject({
      method: 'POST',
      url: `/v1/datasets${query}`,
      headers: { 'content-type': type },
      payload,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toContain(`the ${key} query parameter does not apply to ${type} uploads`);
  });
});

describe('finding datasets by name', () => {
  it('GET /v1/datasets?name= lists only the datasets with that name', async () => {
    const a = (
      await app.inject({ method: 'POST', url: '/v1/datasets?name=alpha', payload: { data: [1] } })
    ).json();
    await app.inject({ method: 'POST', url: '/v1/datasets?name=beta', payload: { data: [2] } });
    const res = await app.inject({ method: 'GET', url: '/v1/datasets?name=alpha' });
    expect(res.json().datasets.map((d: { id: string }) => d.id)).toEqual([a.id]);
    const none = await app.inject({ method: 'GET', url: '/v1/datasets?name=gamma' });
    expect(none.json().datasets).toEqual([]);
  });
});
