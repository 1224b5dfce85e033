import { afterAll, beforeAll, expect, test } from 'vitest';
import { npyFile } from '../helpers/npy.js';
import { until } from '../helpers/wait.js';
import { MiB } from './client.js';
import { type LiveServer, liveServer, sleep, worstHealthz } from './server.js';

// Concurrency soak: clients racing uploads, jobs, result reads, cancels and deletes against one
// server for SOAK_SECONDS (30 by default), with every result read checked against a reference.
const SECONDS = Number(process.env.SOAK_SECONDS ?? 30);
const CLIENTS = 8;
const SEED = Number(process.env.SOAK_SEED ?? Date.now() % 2 ** 31);
let server: LiveServer;

beforeAll(async () => {
  server = await liveServer({ memoryLimit: 256 * MiB, threads: 2, maxRunningJobs: 2 });
});
afterAll(async () => {
  await server.close();
});

function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  return { next, int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)) };
}

/** Small integers: every op below gives the same float64 whatever order a kernel adds them in. */
interface Local {
  readonly id: string;
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

const OPS: Record<string, { request: object; row: (row: Float64Array) => number }> = {
  sum: { request: { op: 'sum' }, row: (r) => r.reduce((a, b) => a + b, 0) },
  max: { request: { op: 'max' }, row: (r) => r.reduce((a, b) => Math.max(a, b), -Infinity) },
  mean: { request: { op: 'mean' }, row: (r) => r.reduce((a, b) => a + b, 0) / r.length },
  expr: {
    request: { op: 'expr', params: { expr: 'sum(x*x)' } },
    row: (r) => r.reduce((a, b) => a + b * b, 0),
  },
};

test(`${CLIENTS} clients for ${SECONDS} s: no 5xx, right results, memory back to idle`, async () => {
  console.log(`soak seed ${SEED} (SOAK_SEED=${SEED} repeats it)`);
  const base = `http://127.0.0.1:${server.port}`;
  const statuses = new Map<number, number>();
  const failures: string[] = [];
  let requests = 0;
  let checked = 0;
  async function call(method: string, path: string, body?: string | Uint8Array, type?: string) {
    const res = await fetch(base + path, {
      method,
      body,
      headers: type === undefined ? {} : { 'content-type': type },
    });
    const buffer = Buffer.from(await res.arrayBuffer());
    requests++;
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    if (res.status >= 500)
      failures.push(`${method} ${path}: ${res.status} ${buffer.toString().slice(0, 300)}`);
    return { status: res.status, buffer, json: () => JSON.parse(buffer.toString()) };
  }

  async function upload(rng: ReturnType<typeof random>): Promise<Local | undefined> {
    const big = rng.next() < 0.1;
    const rows = big ? rng.int(50_000, 200_000) : rng.int(1, 3000);
    const cols = rng.int(1, big ? 8 : 12);
    const data = new Float64Array(rows * cols);
    for (let i = 0; i < data.length; i++) data[i] = rng.int(-50, 50);
    const kind = big ? 'npy' : (['npy', 'csv', 'json', 'raw'] as const)[rng.int(0, 3)];
    const matrix = () =>
      Array.from({ length: rows }, (_, r) => Array.from(data.subarray(r * cols, (r + 1) * cols)));
    const bytes = new Uint8Array(data.buffer);
    const res =
      kind === 'npy'
        ? await call('POST', '/v1/datasets', npyFile('<f8', [rows, cols], bytes), 'application/x-npy')
        : kind === 'raw'
          ? await call(
              'POST',
              `/v1/datasets?dtype=float64&shape=${rows},${cols}`,
              bytes,
              'application/octet-stream',
            )
          : kind === 'csv'
            ? await call(
                'POST',
                '/v1/datasets',
                `${matrix()
                  .map((r) => r.join(','))
                  .join('\n')}\n`,
                'text/csv',
              )
            : await call('POST', '/v1/datasets', JSON.stringify({ data: matrix() }), 'application/json');
    if (res.status !== 201) return undefined;
    return { id: res.json().id, rows, cols, data };
  }

  function parseResult(format: string, buffer: Buffer): number[] {
    if (format === 'json') return (JSON.parse(buffer.toString()).data as unknown[]).map(Number);
    if (format === 'csv') return buffer.toString().split('\n').filter(Boolean).map(Number);
    const start = 10 + buffer.readUInt16LE(8);
    const body = buffer.subarray(start);
    return Array.from(new Float64Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.length)));
  }

  async function checkResult(jobId: string, local: Local, opName: string) {
    const format = (['json', 'csv', 'npy'] as const)[checked % 3];
    const res = await call('GET', `/v1/jobs/${jobId}/result?format=${format}`);
    // The job may have been evicted for memory or deleted by a racing client meanwhile.
    if (res.status !== 200) return;
    const got = parseResult(format, res.buffer);
    const op = OPS[opName];
    checked++;
    if (got.length !== local.rows) {
      failures.push(`${opName} on ${local.rows}x${local.cols} as ${format}: ${got.length} values`);
      return;
    }
    for (let r = 0; r < local.rows; r++) {
      const want = op.row(local.data.subarray(r * local.cols, (r + 1) * local.cols));
      if (got[r] !== want) {
        failures.push(
          `${opName} row ${r} of ${local.rows}x${local.cols} as ${format}: ${got[r]}, want ${want}`,
        );
        return;
      }
    }
  }

  async function runClient(index: number, deadline: number) {
    const rng = random(SEED + index);
    const mine: Local[] = [];
    while (Date.now() < deadline) {
      const roll = rng.next();
      if (mine.length === 0 || roll < 0.2) {
        const local = await upload(rng);
        if (local !== undefined) mine.push(local);
        continue;
      }
      const local = mine[rng.int(0, mine.length - 1)];
      const opName = Object.keys(OPS)[rng.int(0, 3)];
      if (roll < 0.65) {
        const res = await call(
          'POST',
          `/v1/datasets/${local.id}/jobs?wait=20`,
          JSON.stringify(OPS[opName].request),
          'application/json',
        );
        if (res.status !== 200) continue;
        const job = res.json();
        if (job.status === 'succeeded' && rng.next() < 0.7) await checkResult(job.id, local, opName);
        if (rng.next() < 0.8) await call('DELETE', `/v1/jobs/${job.id}`);
      } else if (roll < 0.8) {
        const res = await call(
          'POST',
          `/v1/datasets/${local.id}/jobs`,
          JSON.stringify(OPS[opName].request),
          'application/json',
        );
        if (res.status !== 202) continue;
        const job = res.json();
        await sleep(rng.int(0, 20));
        const cancelled = await call('POST', `/v1/jobs/${job.id}/cancel`);
        const status = cancelled.status === 200 ? cancelled.json().status : undefined;
        if (status === 'succeeded') await checkResult(job.id, local, opName);
        else if (status !== 'cancelled') failures.push(`cancel answered ${cancelled.status} ${status}`);
        await call('DELETE', `/v1/jobs/${job.id}`);
      } else {
        // A delete racing a job on the dataset: the job ends cancelled, or succeeded with the right values.
        const res = await call(
          'POST',
          `/v1/datasets/${local.id}/jobs`,
          JSON.stringify(OPS[opName].request),
          'application/json',
        );
        mine.splice(mine.indexOf(local), 1);
        await sleep(rng.int(0, 10));
        await call('DELETE', `/v1/datasets/${local.id}`);
        if (res.status !== 202) continue;
        const job = res.json();
        const ended = await call('GET', `/v1/jobs/${job.id}`);
        const status = ended.status === 200 ? ended.json().status : undefined;
        if (status === 'succeeded') await checkResult(job.id, local, opName);
        await call('DELETE', `/v1/jobs/${job.id}`);
      }
    }
    for (const local of mine) await call('DELETE', `/v1/datasets/${local.id}`);
  }

  await fetch(`${base}/healthz`);
  const idle = process.memoryUsage.rss();
  const deadline = Date.now() + SECONDS * 1000;
  const clients = Promise.all(Array.from({ length: CLIENTS }, (_, i) => runClient(i, deadline)));
  const worst = await worstHealthz(server.port, clients);
  await clients;

  // Whatever is left (jobs kept by a client that lost a race): deleted, then nothing is counted.
  for (;;) {
    const page = (await (await fetch(`${base}/v1/jobs?limit=500`)).json()) as { jobs: Array<{ id: string }> };
    if (page.jobs.length === 0) break;
    for (const job of page.jobs) await fetch(`${base}/v1/jobs/${job.id}`, { method: 'DELETE' });
  }
  const used = await until(server.used, (u) => u === 0, 5000);
  const after = await until(
    () => process.memoryUsage.rss(),
    (rss) => rss - idle < 160 * MiB,
    10_000,
  );
  const counts = [...statuses]
    .sort(([a], [b]) => a - b)
    .map(([s, n]) => `${s}:${n}`)
    .join(' ');
  console.log(
    `soak: ${requests} requests (${counts}), ${checked} results checked, slowest /healthz ${worst.toFixed(0)} ms, ` +
      `RSS idle ${(idle / MiB).toFixed(0)} MiB, after ${(after / MiB).toFixed(0)} MiB`,
  );
  expect(failures).toEqual([]);
  expect(checked).toBeGreaterThan(20);
  expect(used).toBe(0);
  expect(after - idle).toBeLessThan(160 * MiB);
  // Each request's work is short (text parsed 16 KiB a turn, results formatted a piece a turn), but the
  // clients share this process and a loaded machine preempts it: the bound is a second, not 100 ms.
  expect(worst).toBeLessThan(1500);
}, 85_000);
