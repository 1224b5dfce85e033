/**
 * Datasets split into segments (shared-array.ts), with a 64 KiB segment limit so that small
 * datasets span many segments of many rows: every op gives the bits it gives on the same dataset
 * in one segment, and every reader of the bytes sees them whole and in order.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { DType } from '../../src/datasets/dtypes.js';
import { allocateSharedArray, arraySlices, copyBytes, setBytes } from '../../src/datasets/shared-array.js';
import { DatasetStore } from '../../src/datasets/store.js';
import { planChunks } from '../../src/jobs/chunks.js';
import { VectorSlotAreas } from '../../src/jobs/vector-slots.js';
import { MemoryBudget } from '../../src/memory.js';
import { collectGarbage } from '../../src/reclaim.js';
import { testApp } from '../helpers/app.js';
import { sampleBytes } from '../helpers/arrays.js';
import { npyFile } from '../helpers/npy.js';
import { buildKernel, ROW_INDEX_BODY } from '../user-kernels/wat-modules.js';

const SEGMENT = 64 * 1024;

interface Sample {
  readonly dtype: DType;
  readonly shape: readonly [number, number];
  readonly descr: string;
  readonly itemsize: number;
}

// Rows of 128 values or more run the SIMD kernels; the uint8 rows are short and run in JS.
const SAMPLES: readonly Sample[] = [
  { dtype: 'float64', shape: [300, 200], descr: '<f8', itemsize: 8 },
  { dtype: 'float32', shape: [500, 130], descr: '<f4', itemsize: 4 },
  { dtype: 'int64', shape: [120, 300], descr: '<i8', itemsize: 8 },
  { dtype: 'float16', shape: [400, 150], descr: '<f2', itemsize: 2 },
  { dtype: 'uint8', shape: [2500, 64], descr: '|u1', itemsize: 1 },
];

let plain: FastifyInstance;
let segmented: FastifyInstance;
const ids = new Map<string, { plain: string; segmented: string; bytes: Uint8Array }>();
let kernelIds: { plain: string; segmented: string };

async function upload(app: FastifyInstance, sample: Sample, bytes: Uint8Array): Promise<string> {
  const res = await app.inject({
    method: 'POST',
    url: `/v1/datasets?dtype=${sample.dtype}&shape=${sample.shape.join(',')}`,
    headers: { 'content-type': 'application/octet-stream' },
    payload: Buffer.from(bytes),
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id;
}

async function uploadKernel(app: FastifyInstance): Promise<string> {
  const res = await app.inject({
    method: 'POST',
    url: '/v1/kernels?name=row-index',
    headers: { 'content-type': 'application/wasm' },
    payload: Buffer.from(await buildKernel({ rows: ROW_INDEX_BODY })),
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id;
}

/** The job's result: the .npy bytes, or the JSON of a top-k result. */
async function resultOf(app: FastifyInstance, id: string, spec: Record<string, unknown>): Promise<string> {
  const job = await app.inject({ method: 'POST', url: `/v1/datasets/${id}/jobs?wait=30`, payload: spec });
  expect(job.json().status, job.body).toBe('succeeded');
  const format = spec.top === undefined ? 'npy' : 'json';
  const res = await app.inject({ method: 'GET', url: `/v1/jobs/${job.json().id}/result?format=${format}` });
  expect(res.statusCode).toBe(200);
  return format === 'npy'
    ? res.rawPayload.toString('base64')
    : JSON.stringify(res.json().indices ?? res.json());
}

function specsFor(sample: Sample): Record<string, unknown>[] {
  const n = sample.shape[1];
  const vector = Array.from({ length: n }, (_, i) => ((i * 37) % 11) - 5 + i / 7);
  const other = Array.from({ length: n }, (_, i) => Math.sin(i));
  return [
    { op: 'sum' },
    { op: 'mean' },
    { op: 'min' },
    { op: 'max' },
    { op: 'argmin' },
    { op: 'argmax' },
    { op: 'var', params: { ddof: 1 } },
    { op: 'std' },
    { op: 'norm' },
    { op: 'norm', params: { ord: 1 } },
    { op: 'norm', params: { ord: 'inf' } },
    { op: 'count_nonzero' },
    { op: 'median' },
    { op: 'quantile', params: { q: 0.3 } },
    { op: 'dot', params: { vector } },
    { op: 'cosine', params: { vector } },
    { op: 'euclidean', params: { vector } },
    { op: 'euclidean', params: { vector }, top: { k: 7 } },
    { op: 'cosine', params: { vectors: [vector, other] }, top: { k: 5 } },
    { op: 'sum', rows: { start: 17, end: sample.shape[0] - 3 } },
    { op: 'strided_mean' },
    { op: 'expr', params: { expr: 'sum(x)' } },
    { op: 'expr', params: { expr: 'mean(data[::i+1])' } },
    { op: 'expr', params: { expr: 'x[0] + data[(i * 7919) % (rows * n)] + data[rows * n - 1 - i]' } },
    { op: 'expr', params: { expr: 'sum(x * x) - max(data[i * n:(i + 2) * n])' } },
    { op: 'expr', params: { expr: 'sum(data[i::rows])' } },
    { op: 'kernel', params: { args: [0.5] } },
  ];
}

beforeAll(async () => {
  plain = await testApp();
  segmented = await testApp({}, { segmentLimit: SEGMENT });
  for (const [i, sample] of SAMPLES.entries()) {
    const bytes = sampleBytes(sample.dtype, sample.shape[0] * sample.shape[1], 11 + i);
    ids.set(sample.dtype, {
      plain: await upload(plain, sample, bytes),
      segmented: await upload(segmented, sample, bytes),
      bytes,
    });
  }
  kernelIds = { plain: await uploadKernel(plain), segmented: await uploadKernel(segmented) };
}, 60_000);

afterAll(async () => {
  await plain?.close();
  await segmented?.close();
});

describe('a dataset past the segment limit', () => {
  test.each(SAMPLES)('$dtype: row-aligned segments of at most the limit, each its own memory', (sample) => {
    const rowBytes = sample.shape[1] * sample.itemsize;
    const dataset = segmented.rowpool.store.get(ids.get(sample.dtype)!.segmented);
    expect(dataset.segmentRows).toBe(Math.floor(SEGMENT / rowBytes));
    expect(dataset.segments.length).toBe(Math.ceil(sample.shape[0] / dataset.segmentRows));
    dataset.segments.forEach((s, i) => {
      expect(s.firstRow).toBe(i * dataset.segmentRows);
      expect(s.bytes).toBe(s.rows * rowBytes);
      expect(s.bytes).toBeLessThanOrEqual(SEGMENT);
      expect(s.memory).not.toBeNull();
    });
    expect(dataset.segments.reduce((sum, s) => sum + s.rows, 0)).toBe(sample.shape[0]);
    expect(plain.rowpool.store.get(ids.get(sample.dtype)!.plain).segments).toHaveLength(1);
  });

  test.each(SAMPLES)('$dtype: every op gives the bits of the same dataset in one segment', async (sample) => {
    const { plain: plainId, segmented: segmentedId } = ids.get(sample.dtype)!;
    for (const spec of specsFor(sample)) {
      const withKernel = (kernel: string) =>
        spec.op === 'kernel' ? { ...spec, params: { ...(spec.params as object), kernel } } : spec;
      const want = await resultOf(plain, plainId, withKernel(kernelIds.plain));
      const got = await resultOf(segmented, segmentedId, withKernel(kernelIds.segmented));
      expect(got, JSON.stringify(spec)).toBe(want);
    }
  });

  test.each(SAMPLES)('$dtype: downloads byte for byte what was uploaded', async (sample) => {
    const { segmented: id, bytes } = ids.get(sample.dtype)!;
    const res = await segmented.inject({ method: 'GET', url: `/v1/datasets/${id}/data` });
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.equals(Buffer.from(npyFile(sample.descr, [...sample.shape], bytes)))).toBe(true);
  });
});

describe('uploads into segments', () => {
  const sample = SAMPLES[0];
  const [rows, n] = sample.shape;
  const values = new Float64Array(sampleBytes('float64', rows * n, 5).buffer);
  const expected = Buffer.from(npyFile('<f8', [rows, n], new Uint8Array(values.buffer)));

  async function roundTrip(payload: Buffer | Readable, contentType: string, query = ''): Promise<Buffer> {
    const res = await segmented.inject({
      method: 'POST',
      url: `/v1/datasets${query}`,
      headers: { 'content-type': contentType },
      payload,
    });
    expect(res.statusCode, res.body).toBe(201);
    const id = res.json().id;
    expect(segmented.rowpool.store.get(id).segments.length).toBeGreaterThan(1);
    const data = await segmented.inject({ method: 'GET', url: `/v1/datasets/${id}/data` });
    await segmented.inject({ method: 'DELETE', url: `/v1/datasets/${id}` });
    return data.rawPayload;
  }

  test('an .npy streamed in odd-sized chunks that straddle segment boundaries', async () => {
    const file = Buffer.from(expected);
    const chunks: Buffer[] = [];
    for (let at = 0; at < file.length; at += 999) chunks.push(file.subarray(at, at + 999));
    expect((await roundTrip(Readable.from(chunks), 'application/x-npy')).equals(expected)).toBe(true);
  });

  test('a big-endian .npy is swapped in place in every segment', async () => {
    const swapped = Buffer.from(new Uint8Array(values.buffer.slice(0)));
    swapped.swap64();
    const file = Buffer.from(npyFile('>f8', [rows, n], swapped));
    expect((await roundTrip(file, 'application/x-npy')).equals(expected)).toBe(true);
  });

  test('a Fortran-order .npy is scattered to its C-order place across segments', async () => {
    const fortran = new Float64Array(rows * n);
    for (let r = 0; r < rows; r++) for (let c = 0; c < n; c++) fortran[c * rows + r] = values[r * n + c];
    const file = Buffer.from(npyFile('<f8', [rows, n], new Uint8Array(fortran.buffer), true));
    expect((await roundTrip(file, 'application/x-npy')).equals(expected)).toBe(true);
  });

  test('a CSV upload is laid into segments when its rows are known', async () => {
    const lines: string[] = [];
    for (let r = 0; r < rows; r++) lines.push(Array.from(values.subarray(r * n, (r + 1) * n)).join(','));
    const csv = Buffer.from(`${lines.join('\n')}\n`);
    expect((await roundTrip(csv, 'text/csv')).equals(expected)).toBe(true);
  });
});

describe('segment readers', () => {
  const rows = 50;
  const rowBytes = 24 * 8;
  const data = sampleBytes('float64', rows * 24, 3);
  const array = allocateSharedArray('float64', rows, rowBytes, 1000);

  test('slices, copies and writes cross segment boundaries in order', () => {
    setBytes(array, data);
    expect(array.segmentRows).toBe(5);
    expect(array.segments).toHaveLength(10);
    const sliced = Buffer.concat([...arraySlices(array, 700)].map((s) => Buffer.from(s)));
    expect(sliced.equals(Buffer.from(data))).toBe(true);
    expect([...arraySlices(array, 700)].every((s) => s.byteLength <= 700)).toBe(true);
    expect(Buffer.from(copyBytes(array, 900, 4321)).equals(Buffer.from(data.subarray(900, 4321)))).toBe(true);
    expect(Buffer.concat([...arraySlices(array, 64, 1000, 1900)].map((s) => Buffer.from(s))).length).toBe(
      900,
    );
  });

  test('a row longer than the limit is a segment by itself', () => {
    const wide = allocateSharedArray('float64', 3, 4096, 1000);
    expect(wide.segmentRows).toBe(1);
    expect(wide.segments.map((s) => [s.firstRow, s.rows, s.bytes])).toEqual([
      [0, 1, 4096],
      [1, 1, 4096],
      [2, 1, 4096],
    ]);
  });

  test('chunks never cross a segment boundary', () => {
    for (const [start, end] of [
      [0, 1000],
      [37, 512],
      [250, 251],
    ]) {
      const bounds = planChunks(start, end, 2, 1000, 100);
      expect(bounds[0]).toBe(start);
      expect(bounds[bounds.length - 1]).toBe(end);
      for (let i = 1; i < bounds.length; i++) {
        expect(bounds[i]).toBeGreaterThan(bounds[i - 1]);
        expect(Math.floor(bounds[i - 1] / 100)).toBe(Math.floor((bounds[i] - 1) / 100));
      }
    }
    expect(planChunks(0, 1000, 2, 1000)).toEqual(planChunks(0, 1000, 2, 1000, 5000));
  });

  test('vector slots go in every segment memory, counted, and come back with the dataset', () => {
    const store = new DatasetStore();
    const budget = new MemoryBudget(64 * 2 ** 20);
    const areas = new VectorSlotAreas(store, budget, 2);
    const big = allocateSharedArray('float64', 300, 200 * 8, SEGMENT);
    const dataset = store.add(
      { ...big, dtype: 'float64', shape: [300, 200], reservation: budget.reserve(big.bytes) },
      null,
    );
    const before = dataset.segments.map((s) => s.memory!.buffer.byteLength);
    const slots = areas.slotsFor(dataset)!;
    expect(slots).toHaveLength(dataset.segments.length);
    slots.forEach((s, i) => {
      expect(s).toEqual({ offset: before[i], stride: 16 + 1600, count: 2 });
      expect(dataset.segments[i].memory!.buffer.byteLength).toBe(before[i] + 65536);
    });
    expect(budget.used - big.bytes).toBe(slots.length * 2 * 1616);
    store.delete(dataset.id);
    expect(budget.used).toBe(0);
  });
});

test('deleting a dataset in segments returns the memory of every segment', async () => {
  const ROWS = 512;
  const COLS = 32768;
  const BYTES = ROWS * COLS * 8;
  const app = await testApp({ memoryLimit: 2 * BYTES, threads: 2 }, { segmentLimit: 16 * 2 ** 20 });
  try {
    const created = await app.inject({
      method: 'POST',
      url: `/v1/datasets?dtype=float64&shape=${ROWS},${COLS}`,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(BYTES) },
      payload: Readable.from(
        (function* () {
          for (let r = 0; r < ROWS; r++) yield Buffer.from(new Float64Array(COLS).fill(r).buffer);
        })(),
      ),
    });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id;
    expect(app.rowpool.store.get(id).segments).toHaveLength(8);
    for (const [spec, row, value] of [
      [{ op: 'sum' }, 300, 300 * COLS],
      [{ op: 'dot', params: { vector: Array(COLS).fill(2) } }, 450, 900 * COLS],
    ] as const) {
      const job = await app.inject({ method: 'POST', url: `/v1/datasets/${id}/jobs?wait=30`, payload: spec });
      expect(job.json().status).toBe('succeeded');
      const data = (await app.inject({ method: 'GET', url: `/v1/jobs/${job.json().id}/result` })).json().data;
      expect(data[row]).toBe(value);
      await app.inject({ method: 'DELETE', url: `/v1/jobs/${job.json().id}` });
    }
    collectGarbage();
    const held = process.memoryUsage.rss();
    expect((await app.inject({ method: 'DELETE', url: `/v1/datasets/${id}` })).statusCode).toBe(204);
    expect(app.rowpool.budget.used).toBe(0);
    const deadline = Date.now() + 2000;
    let released = held - process.memoryUsage.rss();
    while (released < 0.8 * BYTES && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      released = held - process.memoryUsage.rss();
    }
    expect(released).toBeGreaterThan(0.8 * BYTES);
  } finally {
    await app.close();
  }
});
