import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { client } from './client.js';

// Finding 6, the queue: with 100 queued jobs (~20 s of work) and a 10 s grace, SIGTERM finished none,
// since every job ran a slice at a time in turn. Here the same at a smaller scale: as many jobs as
// measured ones say make three times the grace's work.
const SERVER = fileURLToPath(new URL('../../src/server.ts', import.meta.url));
const GRACE = 4;

test('SIGTERM with a queue of three times the grace: the earliest jobs succeed in order, the rest are cancelled, exit 0', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER], {
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      ROWPOOL_THREADS: '2',
      ROWPOOL_SHUTDOWN_GRACE: String(GRACE),
      ROWPOOL_MEMORY_LIMIT: '512MiB',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let out = '';
  let err = '';
  child.stderr.on('data', (c: Buffer) => {
    err += c;
  });
  const port = await new Promise<number>((resolve) => {
    child.stdout.on('data', (c: Buffer) => {
      out += c;
      const match = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (match && out.includes('"msg":"ready"')) resolve(Number(match[1]));
    });
  });
  const api = client(port);
  const rows = 262_144;
  const cols = 32;
  const data = new Float64Array(rows * cols).map((_, i) => (i % 97) / 97);
  const id = await api.uploadRaw(data, 'float64', [rows, cols]);
  const request = { op: 'expr', params: { expr: 'sum(sin(x)*exp(x))' } };
  // Jobs measured after a first one has compiled the expression set how many make three times the grace.
  await api.job(id, request);
  const started = performance.now();
  for (let i = 0; i < 3; i++) expect((await api.job(id, request)).status).toBe('succeeded');
  const seconds = (performance.now() - started) / 3000;
  // Three times the grace's work, so a machine that speeds up after the measuring still leaves some.
  const JOBS = Math.max(10, Math.min(200, Math.round((3 * GRACE) / seconds)));
  const ids: string[] = [];
  for (let i = 0; i < JOBS; i++) ids.push((await api.job(id, request, 0)).id);
  const signalled = Date.now();
  child.kill('SIGTERM');
  const code = await exited;
  clearTimeout(killer);
  const took = (Date.now() - signalled) / 1000;
  const ended = new Map<string, { status: string; error?: string }>();
  for (const line of out.split('\n')) {
    if (!line.includes('"msg":"job ended"')) continue;
    const entry = JSON.parse(line) as { jobId: string; status: string; error?: string };
    ended.set(entry.jobId, entry);
  }
  const statuses = ids.map((jobId) => ended.get(jobId)?.status ?? 'not ended');
  const done = statuses.filter((s) => s === 'succeeded').length;
  console.log(
    `SIGTERM with ${JOBS} queued jobs (one took ${seconds.toFixed(2)} s), ` +
      `grace ${GRACE} s: ${done} succeeded, exit ${code} after ${took.toFixed(1)} s`,
  );
  const lastWords = `${out.split('\n').slice(-6).join('\n')}\n${err.slice(-2000)}`;
  expect(code, lastWords).toBe(0);
  expect(took).toBeLessThan(GRACE + 5);
  // First come, first served: the succeeded jobs are the earliest ones, all of them.
  expect(statuses).toEqual([...Array(done).fill('succeeded'), ...Array(JOBS - done).fill('cancelled')]);
  expect(done).toBeGreaterThanOrEqual(JOBS / 5);
  expect(done).toBeLessThan(JOBS);
  for (const jobId of ids.slice(done)) {
    expect(ended.get(jobId)?.error).toBe('cancelled: rowpool shut down before the job could finish');
  }
}, 80_000);
