import http from 'node:http';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { npyWithHeader } from '../helpers/npy.js';
import { until } from '../helpers/wait.js';
import { type LiveServer, liveServer, sleep, streamingRequest } from './server.js';

// Finding 5: slow uploads squatted on the memory limit, and stalled downloads kept deleted bytes alive.
let server: LiveServer;

beforeAll(async () => {
  server = await liveServer(
    {
      memoryLimit: 256 * 2 ** 20,
      uploadIdleTimeoutSeconds: 1,
      uploadMinRate: 64 * 1024,
      sendIdleTimeoutSeconds: 1,
    },
    { uploadRateWindow: { graceSeconds: 1, windowSeconds: 2 } },
  );
});
afterAll(async () => {
  await server.close();
});

const BIG = 128 * 2 ** 20;
const bigHeader = npyWithHeader(`{'descr': '<f8', 'fortran_order': False, 'shape': (${BIG / 8},), }`);

test('an upload whose body stalls is ended with 408 and its reservation released', async () => {
  let heldWhileStalled = 0;
  const answer = await streamingRequest(
    server.port,
    '/v1/datasets',
    { 'content-type': 'application/x-npy', 'content-length': bigHeader.length + BIG },
    async (req) => {
      req.write(bigHeader);
      req.write(Buffer.alloc(1024));
      await sleep(300);
      heldWhileStalled = await server.used();
    },
  );
  expect(heldWhileStalled).toBe(BIG);
  expect(answer.status).toBe(408);
  expect(JSON.parse(answer.body).message).toMatch(/sent nothing for 1 s \(ROWPOOL_UPLOAD_IDLE_TIMEOUT\)/);
  expect(await until(server.used, (u) => u === 0, 2000)).toBe(0);
});

test('an upload trickling at 1 KB/s is ended with 408 by the minimum rate', async () => {
  let timer: NodeJS.Timeout | undefined;
  const started = Date.now();
  const answer = await streamingRequest(
    server.port,
    '/v1/datasets',
    { 'content-type': 'application/x-npy', 'content-length': bigHeader.length + BIG },
    (req) => {
      req.write(bigHeader);
      timer = setInterval(() => req.write(Buffer.alloc(256)), 250);
    },
  );
  clearInterval(timer);
  expect(answer.status).toBe(408);
  expect(JSON.parse(answer.body).message).toMatch(
    /under the 65536 bytes per second of ROWPOOL_UPLOAD_MIN_RATE/,
  );
  expect(Date.now() - started).toBeLessThan(6000);
  expect(await until(server.used, (u) => u === 0, 2000)).toBe(0);
});

test('a text upload that stalls is ended with 408 and what it had parsed released', async () => {
  const answer = await streamingRequest(
    server.port,
    '/v1/datasets',
    { 'content-type': 'text/csv', 'transfer-encoding': 'chunked' },
    (req) => {
      req.write('1,2\n'.repeat(100_000));
    },
  );
  expect(answer.status).toBe(408);
  expect(await until(server.used, (u) => u === 0, 2000)).toBe(0);
});

test('a download that takes nothing counts after DELETE, then is cut off and its bytes freed', async () => {
  const bytes = 64 * 2 ** 20;
  const res = await fetch(`http://127.0.0.1:${server.port}/v1/datasets?dtype=uint8&shape=${bytes}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: new Uint8Array(bytes),
  });
  const { id } = (await res.json()) as { id: string };
  // A reader that reads the headers and then nothing: the socket's buffers fill and stay full.
  const stalled = await new Promise<http.IncomingMessage>((resolve) => {
    http.get({ host: '127.0.0.1', port: server.port, path: `/v1/datasets/${id}/data` }, (r) => {
      r.pause();
      resolve(r);
    });
  });
  expect(stalled.statusCode).toBe(200);
  stalled.on('error', () => {});
  expect(
    (await fetch(`http://127.0.0.1:${server.port}/v1/datasets/${id}`, { method: 'DELETE' })).status,
  ).toBe(204);
  expect(await server.used()).toBe(bytes);
  // The paused client never reads, so only the server's side shows the cut: the bytes come back.
  expect(await until(server.used, (u) => u === 0, 4000)).toBe(0);
  stalled.destroy();
});

test('the headers timeout is set from the configuration', () => {
  expect(server.app.server.headersTimeout).toBe(30_000);
});
