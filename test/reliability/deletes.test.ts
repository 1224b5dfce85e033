import { afterAll, beforeAll, expect, test } from 'vitest';
import { until } from '../helpers/wait.js';
import { client, MiB } from './client.js';
import { type LiveServer, liveServer, sleep } from './server.js';

// Finding 7: every delete ran a full collection on every thread; 300 create+delete cycles of a tiny
// dataset used 11.5 s of CPU and 2,000 deletes of 1 MiB datasets took 44.8 s; job deletes and
// cancelled jobs collected on their own. DELETE_CYCLES=1000 measures the target (1,000
// cycles in under 20 s).
const CYCLES = Number(process.env.DELETE_CYCLES ?? 300);
let server: LiveServer;

let collections = 0;

beforeAll(async () => {
  server = await liveServer({ memoryLimit: 256 * MiB });
  const { pool } = server.app.rowpool;
  const reclaim = pool.reclaim.bind(pool);
  pool.reclaim = () => {
    collections++;
    reclaim();
  };
});
afterAll(async () => {
  await server.close();
});

test(`${CYCLES} create+delete cycles of a 1 MiB dataset are quick and give the memory back`, async () => {
  const api = client(server.port);
  const rows = MiB / 8;
  const data = new Float64Array(rows).map((_, i) => i);
  // One cycle first, so the idle figure includes what the first request loads.
  const warm = await api.uploadRaw(data, 'float64', [rows]);
  await api.call('DELETE', `/v1/datasets/${warm}`);
  await sleep(500);
  const idle = process.memoryUsage.rss();
  const cpu = process.cpuUsage();
  const collected = collections;
  const started = performance.now();
  for (let i = 0; i < CYCLES; i++) {
    const id = await api.uploadRaw(data, 'float64', [rows]);
    expect((await api.call('DELETE', `/v1/datasets/${id}`)).status).toBe(204);
  }
  const seconds = (performance.now() - started) / 1000;
  const { user, system } = process.cpuUsage(cpu);
  expect(await server.used()).toBe(0);
  // The last burst's collection runs once the deletes pause; V8 may hand pages back a little later.
  const after = await until(
    () => process.memoryUsage.rss(),
    (rss) => rss - idle < 96 * MiB,
    5000,
  );
  console.log(
    `${CYCLES} create+delete cycles of 1 MiB: ${seconds.toFixed(1)} s, ${collections - collected} collections, CPU ${((user + system) / 1e6).toFixed(1)} s ` +
      `(this process: client and server); RSS idle ${(idle / MiB).toFixed(0)} MiB, after ${(after / MiB).toFixed(0)} MiB`,
  );
  // Kept, the 300 MiB that went through would show; one collection per 16 MiB freed, not per delete.
  expect(collections - collected).toBeLessThanOrEqual(Math.ceil(CYCLES / 16) + 1);
  expect(after - idle).toBeLessThan(96 * MiB);
  // The target is 1,000 cycles in 20 s on an idle machine; this allows a loaded one 4 times that.
  expect(seconds).toBeLessThan((CYCLES / 1000) * 80);
}, 85_000);

test('a burst of job deletes costs one collection, and cancelled jobs do not collect one each', async () => {
  const api = client(server.port);
  const rows = 2 * MiB;
  const id = await api.uploadRaw(new Uint8Array(rows).fill(1), 'uint8', [rows]);
  // Each result is 16 MiB: before, each of these deletes ran a collection on every thread.
  const jobs = [];
  for (let i = 0; i < 12; i++) jobs.push(await api.job(id, { op: 'sum' }));
  const before = collections;
  for (const job of jobs) expect((await api.call('DELETE', `/v1/jobs/${job.id}`)).status).toBe(204);
  const burst = await until(
    () => collections - before,
    (n) => n > 0,
    3000,
  );
  await sleep(1200);
  console.log(`12 deletes of 16 MiB results: ${collections - before} collections`);
  expect(burst).toBeGreaterThan(0);
  expect(collections - before).toBeLessThanOrEqual(2);
  // Jobs cancelled by a dataset delete: one collection for the lot once their chunks are back.
  const big = await api.uploadRaw(new Uint8Array(32 * MiB), 'uint8', [(32 * MiB) / 64, 64]);
  for (let i = 0; i < 8; i++) await api.job(big, { op: 'median' }, 0);
  const beforeCancel = collections;
  expect((await api.call('DELETE', `/v1/datasets/${big}`)).status).toBe(204);
  await sleep(2500);
  console.log(`8 jobs cancelled by a dataset delete: ${collections - beforeCancel} collections`);
  expect(collections - beforeCancel).toBeLessThanOrEqual(3);
  await api.call('DELETE', `/v1/datasets/${id}`);
  expect(await until(server.used, (u) => u === 0, 2000)).toBe(0);
}, 60_000);
