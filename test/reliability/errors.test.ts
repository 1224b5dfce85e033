import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { buildApp } from '../../src/app.js';
import { testConfig } from '../helpers/app.js';
import { multipartBody, npyFile } from '../helpers/npy.js';

// Finding 4, second half: server errors were answered 400 and logged as client disconnects.
let app: FastifyInstance;
const lines: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  app = await buildApp(testConfig(), { logger: { level: 'info', stream } });
  await app.ready();
  await app.rowpool.start();
});
afterAll(async () => {
  await app.close();
});

test('a failure after the body was read is a 500, logged at error with its stack and request id', async () => {
  const add = app.rowpool.store.add;
  app.rowpool.store.add = () => {
    throw new Error('forced failure while storing');
  };
  try {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/datasets',
      headers: { 'x-request-id': 'forced-1' },
      payload: {
        data: [
          [1, 2],
          [3, 4],
        ],
      },
    });
    expect(res.statusCode).toBe(500);
    expect(res.json().message).toBe('an internal error occurred; see the server log');
  } finally {
    app.rowpool.store.add = add;
  }
  const logged = lines.find((l) => l.reqId === 'forced-1' && l.level === 50);
  expect(logged?.msg).toBe('request failed');
  expect((logged?.err as { stack?: string } | undefined)?.stack).toMatch(
    /forced failure while storing\n\s+at /,
  );
  expect(lines.some((l) => l.reqId === 'forced-1' && l.msg === 'client disconnected')).toBe(false);
  expect((await app.inject({ method: 'GET', url: '/v1/datasets' })).json().memory.usedBytes).toBe(0);
});

test('a multipart name over 256 characters is a 400, as for ?name=', async () => {
  const { body, contentType } = multipartBody([
    { name: 'name', value: 'n'.repeat(257) },
    { name: 'file', filename: 'a.npy', content: npyFile('<f8', [2], new Uint8Array(16)) },
  ]);
  const res = await app.inject({
    method: 'POST',
    url: '/v1/datasets',
    headers: { 'content-type': contentType },
    payload: body,
  });
  expect(res.statusCode).toBe(400);
  expect(res.json().message).toMatch(/"name" must NOT have more than 256 characters/);
  expect((await app.inject({ method: 'GET', url: '/v1/datasets' })).json().memory.usedBytes).toBe(0);
});

test.each([
  ['longer than 128 characters', 'r'.repeat(129)],
  ['with unsafe characters', 'id with spaces\tand tabs'],
  ['with a newline-like escape', 'abc%0d%0aSet-Cookie:x'],
])('an X-Request-Id %s is replaced by a fresh id', async (_name, given) => {
  const res = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': given } });
  expect(res.headers['x-request-id']).not.toBe(given);
  expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
});

test('a plain X-Request-Id of up to 128 characters is kept', async () => {
  const given = `trace-${'a'.repeat(122)}`;
  const res = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': given } });
  expect(res.headers['x-request-id']).toBe(given);
});
