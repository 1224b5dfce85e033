/**
 * Kernel jobs over HTTP with real modules: results equal a JS reference (with args, top, every
 * result format and metrics), a trap fails only its job, a kernel that never returns fails at its
 * timeoutMs while another job finishes right and the pool is whole again, and deleting a kernel
 * cancels its running job.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildExample } from '../../scripts/kernels.js';
import { testApp } from '../helpers/app.js';
import { until } from '../helpers/wait.js';
import { buildKernel, FAULTS } from '../user-kernels/wat-modules.js';
import { float64Dataset, kernelId, longestRuns, submit } from './helpers.js';

let app: FastifyInstance;
let longestRun: string;
let countAbove: string;
/** 3000 x 64 float64 values, increasing runs of many lengths. */
let big: { id: string; values: Float64Array };
/** One row, for jobs that must keep to one thread. */
let single: { id: string; values: Float64Array };

const ROW = 64;

async function resultOf(jobId: string): Promise<number[]> {
  return (await app.inject({ method: 'GET', url: `/v1/jobs/${jobId}/result` })).json().data;
}

async function jobOf(jobId: string) {
  return (await app.inject({ method: 'GET', url: `/v1/jobs/${jobId}` })).json();
}

beforeAll(async () => {
  app = await testApp({ threads: 2, maxRunningJobs: 2, memoryLimit: 128 * 2 ** 20 });
  longestRun = await kernelId(app, 'longest-run', await buildExample('longest-run.ts'));
  countAbove = await kernelId(app, 'count-above', await buildExample('count-above.wat'));
  // A sine hash: increasing runs of 3 to 8 in the rows.
  big = await float64Dataset(app, 3000, ROW, (i) => {
    const x = Math.sin(i + 1) * 43758.5453;
    return x - Math.floor(x);
  });
  single = await float64Dataset(app, 1, 4, (i) => i);
});

afterAll(async () => {
  await app.close();
});

describe('kernel jobs', () => {
  it('longest-run gives the same values as a JS reference, in JSON, CSV and .npy', async () => {
    const res = await submit(app, big.id, { op: 'kernel', params: { kernel: longestRun } });
    expect(res.statusCode, res.body).toBe(200);
    const job = res.json();
    expect(job).toMatchObject({
      op: 'kernel',
      status: 'succeeded',
      params: { kernel: longestRun, args: [] },
      progress: { rowsDone: 3000, rowsTotal: 3000 },
    });
    const expected = longestRuns(big.values, ROW);
    expect(new Set(expected).size).toBeGreaterThan(2);
    expect(await resultOf(job.id)).toEqual(expected);

    const csv = await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/result?format=csv` });
    expect(csv.body).toBe(`${expected.join('\n')}\n`);
    const npy = await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}/result?format=npy` });
    const body = npy.rawPayload;
    const headerEnd = body.indexOf(0x0a) + 1;
    expect(
      Array.from(
        new Float64Array(body.buffer.slice(body.byteOffset + headerEnd, body.byteOffset + body.length)),
      ),
    ).toEqual(expected);
  });

  it('takes rows, args and top like every op, on a dataset of another dtype too', async () => {
    const rows = { start: 100, end: 900 };
    const counted = await submit(app, big.id, {
      op: 'kernel',
      params: { kernel: countAbove, args: [6.5] },
      rows,
    });
    expect(counted.json().status).toBe('succeeded');
    const expected = Array.from({ length: 800 }, (_, r) => {
      const row = big.values.subarray((100 + r) * ROW, (101 + r) * ROW);
      return row.filter((v) => v > 6.5).length;
    });
    expect(await resultOf(counted.json().id)).toEqual(expected);

    const top = await submit(app, big.id, { op: 'kernel', params: { kernel: longestRun }, top: { k: 5 } });
    expect(top.json()).toMatchObject({ status: 'succeeded', top: { k: 5, largest: true } });
    const all = longestRuns(big.values, ROW).map((value, index) => ({ index, value }));
    all.sort((a, b) => b.value - a.value || a.index - b.index);
    const ranked = (await app.inject({ method: 'GET', url: `/v1/jobs/${top.json().id}/result` })).json();
    expect(ranked).toMatchObject({
      indices: all.slice(0, 5).map((e) => e.index),
      values: all.slice(0, 5).map((e) => e.value),
    });

    const int16 = await app.inject({
      method: 'POST',
      url: '/v1/datasets',
      payload: {
        dtype: 'int16',
        data: [
          [1, 2, 3, -1, 5],
          [5, 4, 3, 2, 1],
        ],
      },
    });
    const converted = await submit(app, int16.json().id, { op: 'kernel', params: { kernel: longestRun } });
    expect(await resultOf(converted.json().id)).toEqual([3, 1]);

    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/rowpool_jobs_total\{op="kernel",status="succeeded"\} [3-9]/);
    expect(metrics.body).toMatch(/rowpool_rows_processed_total\{op="kernel"\} \d+/);
  });

  it('refuses an unknown kernel and rows too long for its memory with a 400 naming them', async () => {
    const unknown = await submit(app, big.id, { op: 'kernel', params: { kernel: 'no-such-kernel' } });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().message).toMatch(/^kernel "no-such-kernel" not found/);
    const wide = await float64Dataset(app, 1, 5 * 2 ** 20, () => 1);
    const tooLong = await submit(app, wide.id, { op: 'kernel', params: { kernel: longestRun } });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json().message).toMatch(
      /more than half of a kernel's memory \(ROWPOOL_KERNEL_MEMORY is 64 MiB\)/,
    );
    expect((await app.inject({ method: 'DELETE', url: `/v1/datasets/${wide.id}` })).statusCode).toBe(204);
    const badArgs = await submit(app, big.id, {
      op: 'kernel',
      params: { kernel: longestRun, args: { a: 1 } },
    });
    expect(badArgs.statusCode).toBe(400);
  });

  it('a trapping kernel fails its job naming the kernel, the trap and the rows; the next job runs', async () => {
    const divide = await kernelId(app, 'divide', await buildKernel(FAULTS.divideByZero));
    const res = await submit(app, single.id, { op: 'kernel', params: { kernel: divide } });
    expect(res.json()).toMatchObject({
      status: 'failed',
      error: { message: `kernel "divide" (${divide}) trapped: divide by zero on row 0` },
    });
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    const next = await submit(app, big.id, { op: 'kernel', params: { kernel: longestRun } });
    expect(next.json().status).toBe('succeeded');
    expect(await resultOf(next.json().id)).toEqual(longestRuns(big.values, ROW));
  });

  it('a kernel that never returns fails at timeoutMs; another job finishes right; the pool is whole again', async () => {
    const spinner = await kernelId(app, 'spinner', await buildKernel(FAULTS.infiniteLoop));
    const started = performance.now();
    const stuck = submit(app, single.id, { op: 'kernel', params: { kernel: spinner, timeoutMs: 500 } });
    const other = await submit(app, big.id, { op: 'kernel', params: { kernel: longestRun } });
    expect(other.json().status).toBe('succeeded');
    expect(await resultOf(other.json().id)).toEqual(longestRuns(big.values, ROW));

    const failed = (await stuck).json();
    const failedAfter = performance.now() - started;
    expect(failed).toMatchObject({
      status: 'failed',
      error: { message: `kernel "spinner" (${spinner}) ran longer than timeoutMs (500 ms)` },
    });
    expect(failedAfter).toBeGreaterThanOrEqual(495);
    expect(Date.parse(failed.finishedAt) - Date.parse(failed.startedAt)).toBeLessThan(3000);

    // Both threads at work again: a job of several chunks on two threads.
    const recovered = performance.now();
    const after = await submit(app, big.id, { op: 'kernel', params: { kernel: longestRun } });
    const fullStrengthMs = performance.now() - recovered;
    expect(after.json().status).toBe('succeeded');
    expect(await resultOf(after.json().id)).toEqual(longestRuns(big.values, ROW));
    console.log(
      `timed out after ${failedAfter.toFixed(0)} ms; the next two-thread job took ${fullStrengthMs.toFixed(0)} ms`,
    );
    // The new thread loads the worker from TypeScript source here; on a shared, loaded machine that
    // alone can take seconds, so the bound is loose and the figure is logged.
    expect(fullStrengthMs).toBeLessThan(20_000);
  });

  it('deleting a kernel cancels its running job; the pool carries on', async () => {
    const spinner = await kernelId(app, 'spinner-deleted', await buildKernel(FAULTS.infiniteLoop));
    const submitted = (await submit(app, single.id, { op: 'kernel', params: { kernel: spinner } }, 0)).json();
    await until(
      () => jobOf(submitted.id),
      (job) => job.status === 'running' && job.startedAt !== null,
    );
    expect((await app.inject({ method: 'DELETE', url: `/v1/kernels/${spinner}` })).statusCode).toBe(204);
    expect(await jobOf(submitted.id)).toMatchObject({
      status: 'cancelled',
      error: { message: `cancelled: kernel ${spinner} was deleted` },
    });
    const next = await submit(app, big.id, { op: 'kernel', params: { kernel: longestRun } });
    expect(next.json().status).toBe('succeeded');
    const again = await submit(app, single.id, { op: 'kernel', params: { kernel: spinner } });
    expect(again.statusCode).toBe(400);
  });
});
