/**
 * A 5 GiB float64 dataset, past what one wasm32 memory holds: only with ROWPOOL_BIG_TESTS=1, on a
 * machine with some 12 GiB to spare. It is uploaded over loopback, then summed, averaged,
 * strided and downloaded in two segments.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { testApp } from '../helpers/app.js';

const N = 1024;
const ROWS = 655360;
const BYTES = ROWS * N * 8;
/** Small integers: every sum of a row is exact, whatever its order. */
const value = (r: number, c: number) => ((r * 7 + c) % 13) - 6;
/** The values repeat every 13 rows: one block of whole periods is sent again and again. */
const BLOCK_ROWS = 13 * 64;

let app: FastifyInstance;
let port: number;
let id: string;

function request(method: string, path: string, body?: string | (() => Iterable<Uint8Array>)) {
  return new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
    const headers: Record<string, string> =
      typeof body === 'function'
        ? { 'content-type': 'application/octet-stream', 'content-length': String(BYTES) }
        : { 'content-type': 'application/json' };
    const req = http.request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (typeof body !== 'function') {
      req.end(body);
      return;
    }
    void (async () => {
      for (const chunk of body()) if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
      req.end();
    })();
  });
}

/** Streams a download, keeping its first 64 KiB and its last row's bytes. */
function download(path: string) {
  return new Promise<{ status: number; length: number; head: Buffer; tail: Buffer }>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path }, (res) => {
        let head = Buffer.alloc(0);
        let tail = Buffer.alloc(0);
        let length = 0;
        res.on('data', (d: Buffer) => {
          length += d.length;
          if (head.length < 65536) head = Buffer.concat([head, d]).subarray(0, 65536);
          tail = Buffer.concat([tail, d]).subarray(-8 * N);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, length, head, tail: Buffer.from(tail) }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

function* rows(): Generator<Uint8Array> {
  const block = new Float64Array(BLOCK_ROWS * N);
  for (let r = 0; r < BLOCK_ROWS; r++) for (let c = 0; c < N; c++) block[r * N + c] = value(r, c);
  const bytes = new Uint8Array(block.buffer);
  for (let r = 0; r < ROWS; r += BLOCK_ROWS) yield bytes.subarray(0, Math.min(BLOCK_ROWS, ROWS - r) * N * 8);
}

async function run(spec: object): Promise<Float64Array> {
  const started = performance.now();
  const job = await request('POST', `/v1/datasets/${id}/jobs?wait=60`, JSON.stringify(spec));
  expect(JSON.parse(job.body.toString()).status, job.body.toString()).toBe('succeeded');
  const jobId = JSON.parse(job.body.toString()).id;
  console.log(`${JSON.stringify(spec)}: ${((performance.now() - started) / 1000).toFixed(2)} s`);
  const res = await request('GET', `/v1/jobs/${jobId}/result?format=npy`);
  const total = JSON.parse(job.body.toString()).progress.rowsTotal;
  const data = res.body.subarray(res.body.length - total * 8);
  return new Float64Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.length));
}

describe.skipIf(process.env.ROWPOOL_BIG_TESTS !== '1')('a 5 GiB float64 dataset', () => {
  beforeAll(async () => {
    app = await testApp({ memoryLimit: 12 * 2 ** 30, threads: 2 });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
    const started = performance.now();
    const res = await request('POST', `/v1/datasets?dtype=float64&shape=${ROWS},${N}`, rows);
    expect(res.status, res.body.toString()).toBe(201);
    id = JSON.parse(res.body.toString()).id;
    console.log(`upload of 5 GiB: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }, 600_000);

  afterAll(async () => {
    await app?.close();
  });

  test('lies in two segments, each a WebAssembly memory', () => {
    const dataset = app.rowpool.store.get(id);
    expect(dataset.segments.map((s) => s.rows)).toEqual([516096, ROWS - 516096]);
    expect(dataset.segments.every((s) => s.memory !== null)).toBe(true);
  });

  test('sums and means every row as the reference does', async () => {
    const want = new Float64Array(13);
    for (let r = 0; r < 13; r++) for (let c = 0; c < N; c++) want[r] += value(r, c);
    for (const op of ['sum', 'mean'] as const) {
      const got = await run({ op });
      let wrong = 0;
      for (let r = 0; r < ROWS; r++) if (got[r] !== (op === 'sum' ? want[r % 13] : want[r % 13] / N)) wrong++;
      expect(wrong, op).toBe(0);
    }
  }, 600_000);

  test('strided_mean reads the whole dataset across the segment boundary', async () => {
    const total = ROWS * N;
    for (const start of [0, 1, 4095]) {
      const got = await run({ op: 'strided_mean', rows: { start, end: start + 1 } });
      const stride = start + 1;
      let sum = 0;
      let count = 0;
      for (let j = 0; j < total; j += stride, count++) sum += value(Math.floor(j / N), j % N);
      expect(got[0], `row ${start}`).toBe(sum / count);
    }
  }, 600_000);

  test('downloads head and tail bytes as uploaded', async () => {
    const started = performance.now();
    const { status, length, head, tail } = await download(`/v1/datasets/${id}/data`);
    console.log(`download of 5 GiB: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    expect(status).toBe(200);
    const header = length - BYTES;
    expect(header).toBeGreaterThan(0);
    const first = new Float64Array(
      head.buffer.slice(head.byteOffset + header, head.byteOffset + header + 8 * N),
    );
    const last = new Float64Array(tail.buffer.slice(tail.byteOffset, tail.byteOffset + tail.length));
    for (let c = 0; c < N; c++) {
      expect(first[c]).toBe(value(0, c));
      expect(last[c]).toBe(value(ROWS - 1, c));
    }
  }, 600_000);
});
