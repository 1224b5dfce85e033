import { Readable } from 'node:stream';
import { expect, test } from 'vitest';
import { collectGarbage } from '../../src/reclaim.js';
import { testApp } from '../helpers/app.js';

const ROWS = 512;
const COLS = 32768;
const BYTES = ROWS * COLS * 8;

function* chunks(): Generator<Buffer> {
  for (let r = 0; r < ROWS; r++) yield Buffer.from(new Float64Array(COLS).fill(r).buffer);
}

const rss = () => process.memoryUsage.rss();

test('deleting a dataset that workers have read returns its memory within two seconds', async () => {
  const app = await testApp({ memoryLimit: 2 * BYTES, threads: 2 });
  try {
    const created = await app.inject({
      method: 'POST',
      url: `/v1/datasets?dtype=float64&shape=${ROWS},${COLS}`,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(BYTES) },
      payload: Readable.from(chunks()),
    });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id;
    const job = await app.inject({
      method: 'POST',
      url: `/v1/datasets/${id}/jobs?wait=30`,
      payload: { op: 'sum' },
    });
    expect(job.json().status).toBe('succeeded');
    const sums = (await app.inject({ method: 'GET', url: `/v1/jobs/${job.json().id}/result` })).json().data;
    expect(sums[3]).toBe(3 * COLS);
    // A vector job grows the dataset's memory for the vectors: that must come back too.
    const dot = await app.inject({
      method: 'POST',
      url: `/v1/datasets/${id}/jobs?wait=30`,
      payload: { op: 'dot', params: { vector: Array(COLS).fill(2) } },
    });
    expect(dot.json().status).toBe('succeeded');
    const dots = (await app.inject({ method: 'GET', url: `/v1/jobs/${dot.json().id}/result` })).json().data;
    expect(dots[5]).toBe(10 * COLS);
    collectGarbage();
    const held = rss();

    expect((await app.inject({ method: 'DELETE', url: `/v1/datasets/${id}` })).statusCode).toBe(204);
    const deadline = Date.now() + 2000;
    let released = held - rss();
    while (released < 0.8 * BYTES && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      released = held - rss();
    }
    expect(released).toBeGreaterThan(0.8 * BYTES);
  } finally {
    await app.close();
  }
});
