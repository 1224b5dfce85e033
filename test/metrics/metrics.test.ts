import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { testApp } from '../helpers/app.js';
import { bytesOf, npyFile } from '../helpers/npy.js';

const MEMORY_LIMIT = 48 * 2 ** 20;
const THREADS = 3;

let app: FastifyInstance;
beforeAll(async () => {
  app = await testApp({ memoryLimit: MEMORY_LIMIT, threads: THREADS });
});
afterAll(async () => {
  await app.close();
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of the text exposition format; enough of it for prom-client's output. */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) throw new Error(`unparsable metrics line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key] = value.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

async function scrape(): Promise<{ text: string; samples: Sample[] }> {
  const res = await app.inject({ method: 'GET', url: '/metrics' });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return { text: res.body, samples: parseMetrics(res.body) };
}

/** The samples of `name` whose labels include `labels`. */
function find(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
}

/** The one value of `name` with exactly these labels, 0 when the series does not exist yet. */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const matches = find(samples, name, labels).filter(
    (s) => Object.keys(s.labels).length === Object.keys(labels).length,
  );
  expect(matches.length, `${name}${JSON.stringify(labels)}`).toBeLessThanOrEqual(1);
  return matches[0]?.value ?? 0;
}

async function uploadJson(data: unknown, dtype = 'float64'): Promise<{ id: string; bytes: number }> {
  const res = await app.inject({ method: 'POST', url: '/v1/datasets', payload: { data, dtype } });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

async function upload(
  payload: Buffer | string,
  type: string,
  query = '',
): Promise<{ id: string; bytes: number }> {
  const res = await app.inject({
    method: 'POST',
    url: `/v1/datasets${query}`,
    headers: { 'content-type': type },
    payload,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

describe('job metrics', () => {
  test('three mean jobs count 3 jobs, 3 x rows rows and 3 durations', async () => {
    const rows = 37;
    const { id } = await uploadJson(Array.from({ length: rows }, (_, r) => [r, r + 1, r + 2, r + 3]));
    const before = (await scrape()).samples;
    for (let i = 0; i < 3; i++) {
      const res = await app.inject({
        method: 'POST',
        url: `/v1/datasets/${id}/jobs?wait=5`,
        payload: { op: 'mean' },
      });
      expect(res.statusCode).toBe(200);
      expect(res.json().status).toBe('succeeded');
    }
    const after = (await scrape()).samples;
    const mean = { op: 'mean' };
    expect(value(after, 'rowpool_jobs_total', { op: 'mean', status: 'succeeded' })).toBe(3);
    expect(
      value(after, 'rowpool_rows_processed_total', mean) -
        value(before, 'rowpool_rows_processed_total', mean),
    ).toBe(3 * rows);
    expect(value(after, 'rowpool_job_duration_seconds_count', mean)).toBe(3);
    expect(value(after, 'rowpool_job_duration_seconds_bucket', { op: 'mean', le: '+Inf' })).toBe(3);
    expect(value(after, 'rowpool_job_duration_seconds_sum', mean)).toBeGreaterThan(0);
    expect(value(after, 'rowpool_jobs_active', { status: 'running' })).toBe(0);
    expect(value(after, 'rowpool_jobs_active', { status: 'queued' })).toBe(0);
    // Each job ran at least one task on the pool.
    expect(value(after, 'rowpool_task_run_seconds_count')).toBeGreaterThanOrEqual(3);
  });
});

describe('job duration buckets', () => {
  test('rowpool_job_duration_seconds has buckets from 1 ms up to an hour', async () => {
    const { id } = await uploadJson([[1, 2, 3]]);
    const res = await app.inject({
      method: 'POST',
      url: `/v1/datasets/${id}/jobs?wait=5`,
      payload: { op: 'sum' },
    });
    expect(res.json().status).toBe('succeeded');
    const bounds = find((await scrape()).samples, 'rowpool_job_duration_seconds_bucket', { op: 'sum' })
      .map((s) => s.labels.le)
      .filter((le) => le !== '+Inf')
      .map(Number);
    expect(bounds[0]).toBe(0.001);
    expect(Math.max(...bounds)).toBe(3600);
    // Minutes-long jobs get buckets of their own rather than one gap from 60 s to an hour.
    expect(bounds).toEqual(expect.arrayContaining([60, 300, 600, 1800, 3600]));
  });
});

describe('event loop lag', () => {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const lagOf = (samples: Sample[], stat: 'p99' | 'max') =>
    value(samples, 'rowpool_event_loop_lag_seconds', { stat });

  test('rowpool_event_loop_lag_seconds shows a block in the interval it happened in, then forgets it', async () => {
    await scrape();
    // The monitor's first sample after a scrape only starts its clock, so let it tick before blocking.
    await sleep(50);
    const blockedUntil = Date.now() + 400;
    while (Date.now() < blockedUntil) {
      // Busy on purpose: the event loop cannot run while this spins.
    }
    await sleep(50);
    const during = (await scrape()).samples;
    expect(lagOf(during, 'max')).toBeGreaterThanOrEqual(0.35);
    expect(lagOf(during, 'max')).toBeLessThan(5);
    // About ten samples in the interval: the 99th percentile's rank is the last one, the block.
    expect(lagOf(during, 'p99')).toBeGreaterThanOrEqual(0.35);
    expect(lagOf(during, 'p99')).toBeLessThanOrEqual(lagOf(during, 'max'));

    await sleep(100);
    const after = (await scrape()).samples;
    expect(lagOf(after, 'max')).toBeLessThan(0.3);
  });
});

describe('dataset metrics', () => {
  test('deleting a dataset lowers rowpool_dataset_bytes by its size and rowpool_datasets by 1', async () => {
    const kept = await uploadJson(
      [
        [1, 2],
        [3, 4],
      ],
      'int8',
    );
    const doomed = await uploadJson(
      Array.from({ length: 1000 }, (_, i) => i),
      'float32',
    );
    expect(doomed.bytes).toBe(4000);
    const before = (await scrape()).samples;
    const listed = (await app.inject({ method: 'GET', url: '/v1/datasets' })).json().datasets as {
      bytes: number;
    }[];
    expect(value(before, 'rowpool_datasets')).toBe(listed.length);
    expect(value(before, 'rowpool_dataset_bytes')).toBe(listed.reduce((sum, d) => sum + d.bytes, 0));

    expect((await app.inject({ method: 'DELETE', url: `/v1/datasets/${doomed.id}` })).statusCode).toBe(204);
    const after = (await scrape()).samples;
    expect(value(before, 'rowpool_datasets') - value(after, 'rowpool_datasets')).toBe(1);
    expect(value(before, 'rowpool_dataset_bytes') - value(after, 'rowpool_dataset_bytes')).toBe(doomed.bytes);
    expect((await app.inject({ method: 'DELETE', url: `/v1/datasets/${kept.id}` })).statusCode).toBe(204);
  });

  test('rowpool_ingested_bytes_total counts the bytes stored, by upload format', async () => {
    const before = (await scrape()).samples;
    const f64 = bytesOf(new Float64Array([1, 2, 3, 4, 5, 6]));
    const stored = {
      npy: (await upload(npyFile('<f8', [2, 3], f64), 'application/x-npy')).bytes,
      raw: (await upload(Buffer.from(f64), 'application/octet-stream', '?dtype=uint16&shape=4,6')).bytes,
      csv: (await upload('1,2\n3,4\n5,6\n', 'text/csv', '?dtype=int32')).bytes,
      json: (await uploadJson([1, 2, 3, 4, 5], 'int64')).bytes,
    };
    // A second .npy, sent as application/octet-stream, counts as npy too.
    stored.npy += (
      await upload(npyFile('<i2', [3], bytesOf(new Int16Array([1, 2, 3]))), 'application/octet-stream')
    ).bytes;
    expect(stored).toEqual({ npy: 48 + 6, raw: 48, csv: 24, json: 40 });
    const after = (await scrape()).samples;
    for (const [format, bytes] of Object.entries(stored)) {
      const key = 'rowpool_ingested_bytes_total';
      expect(value(after, key, { format }) - value(before, key, { format }), format).toBe(bytes);
    }
  });

  test('the configured memory limit and pool size are exported', async () => {
    const { samples } = await scrape();
    expect(value(samples, 'rowpool_memory_limit_bytes')).toBe(MEMORY_LIMIT);
    expect(value(samples, 'rowpool_pool_threads')).toBe(THREADS);
    expect(value(samples, 'rowpool_pool_queue_size')).toBe(0);
    const utilization = value(samples, 'rowpool_pool_utilization');
    expect(utilization).toBeGreaterThan(0);
    expect(utilization).toBeLessThanOrEqual(1);
  });
});

describe('http metrics', () => {
  test('http_request_duration_seconds is labelled by route template and status code', async () => {
    const { id } = await uploadJson([1, 2, 3]);
    expect((await app.inject({ method: 'GET', url: `/v1/datasets/${id}` })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/v1/datasets/no-such-id' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/no/such/route' })).statusCode).toBe(404);
    const { samples } = await scrape();
    const count = 'http_request_duration_seconds_count';
    expect(
      value(samples, count, { method: 'GET', route: '/v1/datasets/:id', status_code: '200' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      value(samples, count, { method: 'GET', route: '/v1/datasets/:id', status_code: '404' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      value(samples, count, { method: 'POST', route: '/v1/datasets', status_code: '201' }),
    ).toBeGreaterThanOrEqual(1);
    // Raw URLs would make a series per id: unmatched requests share one label value.
    const routes = new Set(find(samples, count).map((s) => s.labels.route));
    expect([...routes].filter((r) => r.includes(id) || r.includes('no-such'))).toEqual([]);
    expect(value(samples, count, { method: 'GET', route: 'unmatched', status_code: '404' })).toBe(1);
  });
});

describe('default metrics', () => {
  test('the gauges promtool rejects are gone; process and heap metrics stay', async () => {
    const { text, samples } = await scrape();
    for (const name of [
      'nodejs_active_handles_total',
      'nodejs_active_requests_total',
      'nodejs_active_resources_total',
    ]) {
      expect(text).not.toContain(name);
    }
    expect(value(samples, 'process_resident_memory_bytes')).toBeGreaterThan(10 * 2 ** 20);
    expect(value(samples, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(2 ** 20);
  });
});

/** The path of an executable on PATH, or undefined. */
function which(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return undefined;
}

describe('promtool', () => {
  const promtool = which('promtool');

  test('promtool check metrics finds no problems in /metrics', async (context) => {
    if (promtool === undefined) {
      // CI installs it, so missing there is a broken setup, not a reason to skip.
      if (process.env.CI) throw new Error('promtool is not on PATH; install Debian package prometheus');
      context.skip('promtool is not installed (apt-get install prometheus) and CI is not set');
    }
    // Every kind of series present: a job, an upload, an error, a histogram with observations.
    const { id } = await uploadJson([[1, 2]]);
    await app.inject({ method: 'POST', url: `/v1/datasets/${id}/jobs?wait=5`, payload: { op: 'sum' } });
    await app.inject({ method: 'GET', url: '/v1/jobs/nope' });
    const { text } = await scrape();
    const run = spawnSync(promtool!, ['check', 'metrics'], {
      input: text,
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.error).toBeUndefined();
    expect(`${run.stdout}${run.stderr}`).toBe('');
    expect(run.status).toBe(0);
  });

  test('promtool check metrics does report a broken exposition', (context) => {
    if (promtool === undefined) {
      if (process.env.CI) throw new Error('promtool is not on PATH; install Debian package prometheus');
      context.skip('promtool is not installed (apt-get install prometheus) and CI is not set');
    }
    const broken =
      '# HELP bad_total a counter without the counter type\n# TYPE bad_total gauge\nbad_total 1\n';
    const run = spawnSync(promtool!, ['check', 'metrics'], {
      input: broken,
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.status).not.toBe(0);
    expect(`${run.stdout}${run.stderr}`).toMatch(/bad_total/);
  });
});
