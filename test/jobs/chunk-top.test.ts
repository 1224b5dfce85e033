import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topK } from '../../src/jobs/topk.js';
import { testApp } from '../helpers/app.js';
import { npyFile } from '../helpers/npy.js';

// 5 million elements: a job over every row goes out as five chunks, each ranking its own rows.
const ROWS = 40000;
const N = 128;
const PATTERNS = 7;

/** Row r repeats pattern r % 7, so equal values sit in every chunk; pattern 3 holds a NaN. */
function dataset(): Float32Array {
  const data = new Float32Array(ROWS * N);
  for (let r = 0; r < ROWS; r++) {
    const p = r % PATTERNS;
    for (let i = 0; i < N; i++) data[r * N + i] = Math.sin((p + 1) * (i + 1) * 0.7) * (p + 1);
  }
  for (let r = 3; r < ROWS; r += PATTERNS) data[r * N + 9] = Number.NaN;
  return data;
}

const fromJson = (v: number | string) => (v === 'NaN' ? Number.NaN : (v as number));

describe('a one-query top job ranks its rows in the workers', () => {
  let app: FastifyInstance;
  let id: string;

  beforeAll(async () => {
    app = await testApp({ threads: 2 });
    const data = dataset();
    const res = await app.inject({
      method: 'POST',
      url: '/v1/datasets',
      headers: { 'content-type': 'application/x-npy' },
      payload: npyFile('<f4', [ROWS, N], new Uint8Array(data.buffer)),
    });
    expect(res.statusCode).toBe(201);
    id = res.json().id;
  });
  afterAll(async () => {
    await app.close();
  });

  async function run(body: object) {
    const job = await app.inject({ method: 'POST', url: `/v1/datasets/${id}/jobs?wait=30`, payload: body });
    expect(job.json().status).toBe('succeeded');
    return (await app.inject({ method: 'GET', url: `/v1/jobs/${job.json().id}/result` })).json();
  }

  const vector = Array.from({ length: N }, (_, i) => Math.cos(i * 0.3));
  it.each([
    ['dot', 1, true],
    ['dot', 10, true],
    ['dot', 25, false],
    ['euclidean', 10, false],
    ['euclidean', 12, true],
    ['sum', 9, true],
    ['max', 30, false],
  ] as const)(
    '%s, k %d, largest %s: the rows topK picks from every value, ties to the lower row, NaN last',
    async (op, k, largest) => {
      const params = op === 'dot' || op === 'euclidean' ? { vector } : {};
      const all = await run({ op, params, rows: { start: 5, end: ROWS } });
      const expected = topK(Float64Array.from(all.data, fromJson), 5, k, largest);
      const top = await run({ op, params, rows: { start: 5, end: ROWS }, top: { k, largest } });
      expect(top.indices).toEqual(expected.indices);
      expect(top.values.map(fromJson)).toEqual(expected.values);
      // Every pattern repeats thousands of times, so the k best are ties of one or two values.
      expect(new Set(top.values).size).toBeLessThanOrEqual(Math.ceil(k / (ROWS / PATTERNS)) + 1);
    },
  );
});
