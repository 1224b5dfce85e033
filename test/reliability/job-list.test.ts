import { afterAll, beforeAll, expect, test } from 'vitest';
import { client, MiB } from './client.js';
import { type LiveServer, liveServer } from './server.js';

// Finding 3: GET /v1/jobs with 400 jobs of 100k-value vectors answered 500 after 14.3 s.
let server: LiveServer;
let api: ReturnType<typeof client>;

beforeAll(async () => {
  server = await liveServer({ memoryLimit: 1024 * MiB });
  api = client(server.port);
});
afterAll(async () => {
  await server.close();
});

test('GET /v1/jobs with 400 jobs of 100k-value vectors answers a small page quickly', async () => {
  const length = 100_000;
  const datasetId = await api.uploadRaw(new Float64Array(2 * length).fill(1), 'float64', [2, length]);
  // Submitted in-process: the finding is the list, and 400 bodies of 100k numbers take long to send.
  const vector = new Array(length).fill(1);
  const ids: string[] = [];
  for (let i = 0; i < 400; i++) {
    ids.push(server.app.rowpool.engine.submit(datasetId, { op: 'dot', params: { vector } }).id);
  }
  const started = performance.now();
  const res = await fetch(`http://127.0.0.1:${server.port}/v1/jobs`);
  const text = await res.text();
  const ms = performance.now() - started;
  console.log(
    `GET /v1/jobs with 400 jobs of 100k-value vectors: ${res.status}, ${text.length} bytes in ${ms.toFixed(0)} ms`,
  );
  expect(res.status).toBe(200);
  expect(ms).toBeLessThan(2000);
  expect(text.length).toBeLessThan(256 * 1024);
  const page = JSON.parse(text) as { jobs: Array<{ vectorLength: number }>; nextCursor: string | null };
  expect(page.jobs).toHaveLength(100);
  expect(page.jobs[0].vectorLength).toBe(length);
  expect(page.nextCursor).not.toBeNull();
  for (const id of ids) await api.call('DELETE', `/v1/jobs/${id}`);
  await api.call('DELETE', `/v1/datasets/${datasetId}`);
  expect(await server.used()).toBe(0);
}, 90_000);
