import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import request from 'supertest';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { testApp } from '../helpers/app.js';
import { npyWithHeader } from '../helpers/npy.js';
import { until } from '../helpers/wait.js';

let app: FastifyInstance;
let port: number;

beforeAll(async () => {
  app = await testApp({ memoryLimit: 64 * 2 ** 20 });
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await app.close();
});

async function memoryUsed(): Promise<number> {
  const res = await request(app.server).get('/v1/datasets').expect(200);
  return res.body.memory.usedBytes;
}

test('a large upload is refused with 413 from its header, before the body is sent', async () => {
  const header = npyWithHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (100000000,), }");
  const response = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/v1/datasets',
      headers: { 'content-type': 'application/x-npy', 'content-length': header.length + 800_000_000 },
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    // Only the header is ever written: the answer must not wait for the 800 MB that would follow.
    req.write(header);
  });
  expect(response.status).toBe(413);
  expect(JSON.parse(response.body).message).toMatch(/needs 800000000 bytes/);
  expect(await memoryUsed()).toBe(0);
});

test('a client that disconnects halfway through an upload leaves nothing behind', async () => {
  const total = 8 * 2 ** 20;
  const header = npyWithHeader(`{'descr': '<f8', 'fortran_order': False, 'shape': (${total / 8},), }`);
  let reserved = false;
  await new Promise<void>((resolve) => {
    const req = http.request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/v1/datasets',
      headers: { 'content-type': 'application/x-npy', 'content-length': header.length + total },
    });
    req.on('error', () => resolve());
    req.write(header);
    req.write(Buffer.alloc(total / 2), async () => {
      reserved = (await until(memoryUsed, (used) => used === total, 5000)) === total;
      req.destroy();
      resolve();
    });
  });
  expect(reserved).toBe(true);
  expect(await until(memoryUsed, (used) => used === 0, 5000)).toBe(0);
  const list = await request(app.server).get('/v1/datasets').expect(200);
  expect(list.body.datasets).toEqual([]);
  await request(app.server).get('/healthz').expect(200, { status: 'ok' });
});

test('an upload streamed in many small chunks over a socket is stored whole', async () => {
  const values = new Float64Array(50_000).map((_, i) => i * 0.5);
  const bytes = Buffer.from(values.buffer);
  const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/v1/datasets?dtype=float64&shape=50000&name=chunked',
      headers: { 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' },
    });
    req.on('response', (r) => {
      let body = '';
      r.on('data', (c) => {
        body += c;
      });
      r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    for (let at = 0; at < bytes.length; at += 999) req.write(bytes.subarray(at, at + 999));
    req.end();
  });
  expect(res.status, res.body).toBe(201);
  const id = JSON.parse(res.body).id;
  const data = await request(app.server)
    .get(`/v1/datasets/${id}/data`)
    .buffer(true)
    .parse((r, done) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => done(null, Buffer.concat(chunks)));
    })
    .expect(200);
  const file = data.body as Buffer;
  expect(Buffer.compare(file.subarray(file.length - bytes.length), bytes)).toBe(0);
  await request(app.server).delete(`/v1/datasets/${id}`).expect(204);
});
