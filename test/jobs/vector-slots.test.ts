import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allocateSharedArray, WASM_PAGE } from '../../src/datasets/shared-array.js';
import { DatasetStore } from '../../src/datasets/store.js';
import { dotInLanes } from '../../src/jobs/kernels/pairwise.js';
import { VectorSlotAreas } from '../../src/jobs/vector-slots.js';
import { MemoryBudget } from '../../src/memory.js';
import { testApp } from '../helpers/app.js';
import { npyFile } from '../helpers/npy.js';

function addDataset(store: DatasetStore, budget: MemoryBudget, dtype: 'float64' | 'int32', shape: number[]) {
  const rowBytes = shape[1] * (dtype === 'float64' ? 8 : 4);
  const bytes = shape[0] * rowBytes;
  const array = allocateSharedArray(dtype, shape[0], rowBytes);
  return store.add({ ...array, dtype, shape, reservation: budget.reserve(bytes) }, null);
}

describe('vector slots in a dataset memory', () => {
  it('grows the memory once by one slot per thread, counts it, and gives it back with the dataset', () => {
    const store = new DatasetStore();
    const budget = new MemoryBudget(64 * 2 ** 20);
    const areas = new VectorSlotAreas(store, budget, 3);
    const dataset = addDataset(store, budget, 'float64', [2000, 100]);
    const usedBefore = budget.used;
    const { memory } = dataset.segments[0];
    const pagesBefore = memory!.buffer.byteLength / WASM_PAGE;

    const slots = areas.slotsFor(dataset)!;
    expect(slots).toEqual([{ offset: pagesBefore * WASM_PAGE, stride: 16 + 800, count: 3 }]);
    expect(memory!.buffer.byteLength).toBe((pagesBefore + 1) * WASM_PAGE);
    expect(budget.used - usedBefore).toBe(3 * 816);
    expect(areas.slotsFor(dataset)).toBe(slots);
    expect(memory!.buffer.byteLength).toBe((pagesBefore + 1) * WASM_PAGE);

    store.delete(dataset.id);
    expect(budget.used).toBe(0);
  });

  it('gives none to a dataset outside a WebAssembly memory, one too wide for them, or when memory is short', () => {
    const store = new DatasetStore();
    const budget = new MemoryBudget(16 * 2 ** 20);
    const areas = new VectorSlotAreas(store, budget, 2);
    const int32 = addDataset(store, budget, 'int32', [100, 100]);
    const tiny = addDataset(store, budget, 'float64', [10, 10]);
    expect([int32.segments[0].memory, tiny.segments[0].memory]).toEqual([null, null]);
    expect(areas.slotsFor(int32)).toBeNull();
    expect(areas.slotsFor(tiny)).toBeNull();
    // Two 2 MiB slots for a 2 MiB dataset would more than double it.
    const wide = addDataset(store, budget, 'float64', [1, 262144]);
    expect(areas.slotsFor(wide)).toBeNull();
    expect(wide.segments[0].memory!.buffer.byteLength).toBe(2 * 2 ** 20);
    const small = addDataset(store, budget, 'float64', [20000, 10]);
    const filler = budget.reserve(budget.free - 2 * (16 + 80) + 1);
    const pages = small.segments[0].memory!.buffer.byteLength;
    expect(areas.slotsFor(small)).toBeNull();
    expect(small.segments[0].memory!.buffer.byteLength).toBe(pages);
    filler.release();
    expect(areas.slotsFor(small)).not.toBeNull();
  });
});

describe('vector jobs over HTTP', () => {
  let app: FastifyInstance;
  const rows = 64;
  const n = 3001;
  const data = Float64Array.from({ length: rows * n }, (_, k) => Math.sin(k * 0.37) * 10 ** ((k % 7) - 3));
  const vectors = [0, 1, 2].map((s) => Array.from({ length: n }, (_, k) => Math.cos(k * 0.11 + s) * (s + 1)));

  beforeAll(async () => {
    app = await testApp({ threads: 2 });
  });
  afterAll(async () => {
    await app.close();
  });

  async function upload(values: Float64Array, shape: number[]): Promise<string> {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/datasets',
      headers: { 'content-type': 'application/x-npy' },
      payload: npyFile('<f8', shape, new Uint8Array(values.buffer)),
    });
    expect(res.statusCode).toBe(201);
    return res.json().id;
  }

  async function run(id: string, body: object): Promise<number[]> {
    const job = await app.inject({ method: 'POST', url: `/v1/datasets/${id}/jobs?wait=30`, payload: body });
    expect(job.statusCode).toBe(200);
    expect(job.json().status).toBe('succeeded');
    const res = await app.inject({ method: 'GET', url: `/v1/jobs/${job.json().id}/result` });
    return res.json().data;
  }

  it('runs concurrent jobs with different vectors on one dataset, each with its own vector', async () => {
    const id = await upload(data, [rows, n]);
    const ops = ['dot', 'cosine', 'euclidean', 'dot', 'dot', 'euclidean'] as const;
    const results = await Promise.all(
      ops.map((op, j) => run(id, { op, params: { vector: vectors[j % 3] } })),
    );
    ops.forEach((op, j) => {
      const v = Float64Array.from(vectors[j % 3]);
      for (let r = 0; r < rows; r++) {
        let dot = 0;
        let xx = 0;
        let vv = 0;
        let dd = 0;
        for (let i = 0; i < n; i++) {
          const x = data[r * n + i];
          dot += x * v[i];
          xx += x * x;
          vv += v[i] * v[i];
          dd += (x - v[i]) ** 2;
        }
        const expected = op === 'dot' ? dot : op === 'cosine' ? dot / Math.sqrt(xx * vv) : Math.sqrt(dd);
        expect(Math.abs(results[j][r] - expected)).toBeLessThanOrEqual(1e-9 * Math.abs(expected));
        if (op === 'dot') expect(results[j][r]).toBe(dotInLanes(data, r * n, v, 0, n));
      }
    });
  });

  it('gives the same bits for a dataset too wide for vector slots, where the JS kernels run', async () => {
    const wide = 262144;
    const row = Float64Array.from({ length: wide }, (_, k) => Math.sin(k * 0.001) * 1e3);
    const v = Array.from({ length: wide }, (_, k) => Math.cos(k * 0.002));
    const many = new Float64Array(20 * wide);
    for (let r = 0; r < 20; r++) many.set(row, r * wide);
    const alone = await upload(row, [1, wide]);
    const withSlots = await upload(many, [20, wide]);
    const { budget } = app.rowpool;
    let used = budget.used;
    const a = await run(alone, { op: 'dot', params: { vector: v } });
    expect(budget.used - used).toBe(8 + wide * 8);
    used = budget.used;
    const b = await run(withSlots, { op: 'dot', params: { vector: v } });
    // The result, the job's vector, and two slots of 16 + 2 MiB.
    expect(budget.used - used).toBe(20 * 8 + wide * 8 + 2 * (16 + wide * 8));
    expect(b).toEqual(Array(20).fill(a[0]));
    expect(a[0]).toBe(dotInLanes(row, 0, Float64Array.from(v), 0, wide));
  });
});
