import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/jobs/job.js';
import { Scheduler, SMALL_JOB_BYTES } from '../../src/jobs/scheduler.js';
import { CONTROL_BYTES, NEXT_CHUNK } from '../../src/jobs/task.js';
import { Gate } from '../fixtures/workers/gate.js';
import { testApp } from '../helpers/app.js';
import { until } from '../helpers/wait.js';

/** A job as far as the scheduler looks: its chunks, those claimed, its tasks out, whether it is small. */
function fakeJob(name: string, chunks: number, small = false): Job {
  return {
    id: name,
    small,
    bounds: Array.from({ length: chunks + 1 }, (_, i) => i),
    control: new Int32Array(new SharedArrayBuffer(CONTROL_BYTES)),
    inFlight: 0,
  } as unknown as Job;
}

/** Sends the scheduler's next task, as the engine does, and names its job. */
function take(scheduler: Scheduler): string | undefined {
  const job = scheduler.next(true);
  if (job === undefined) return undefined;
  job.inFlight++;
  scheduler.sent(job);
  return job.id;
}

/** One of the job's tasks comes back, having claimed `chunks` of its chunks. */
function back(scheduler: Scheduler, job: Job, chunks: number): void {
  Atomics.add(job.control, NEXT_CHUNK, chunks);
  job.inFlight--;
  scheduler.returned(job);
}

describe('Scheduler', () => {
  it('runs at most maxRunning jobs, first come first served, and starts the next when one ends', () => {
    const s = new Scheduler(1, 2);
    const a = fakeJob('a', 2);
    const b = fakeJob('b', 1);
    expect(s.add(a)).toBe(true);
    expect(s.add(b)).toBe(false);
    expect(s.queuedCount).toBe(1);
    expect([take(s), take(s), take(s)]).toEqual(['a', 'a', undefined]);
    expect(s.remove(a)).toEqual([b]);
    expect(take(s)).toBe('b');
  });

  it("sends the oldest running job's tasks first, one per thread", () => {
    const s = new Scheduler(2, 2);
    const a = fakeJob('a', 2);
    const b = fakeJob('b', 5);
    s.add(a);
    s.add(b);
    expect([take(s), take(s), take(s), take(s), take(s)]).toEqual(['a', 'a', 'b', 'b', undefined]);
  });

  it('sends a job no more tasks than it has chunks left to claim', () => {
    const s = new Scheduler(1, 2);
    const a = fakeJob('a', 3);
    s.add(a);
    expect([take(s), take(s)]).toEqual(['a', 'a']);
    back(s, a, 2);
    // One chunk is left and one task is still out, which will claim it.
    expect(take(s)).toBeUndefined();
    back(s, a, 1);
    expect(take(s)).toBeUndefined();
  });

  it("lets small jobs skip the queue with tasks of their own, up to the lane's share", () => {
    const s = new Scheduler(1, 1);
    const big = fakeJob('big', 5);
    const small1 = fakeJob('s1', 1, true);
    const small2 = fakeJob('s2', 1, true);
    s.add(big);
    expect(take(s)).toBe('big');
    expect(s.add(small1)).toBe(true);
    expect(s.add(small2)).toBe(true);
    expect(s.pressed).toBe(true);
    // The large jobs' share is full; the small lane still sends one.
    expect(s.next(false)?.id).toBe('s1');
    small1.inFlight++;
    s.sent(small1);
    // One small task is in flight, the lane's share: nothing more goes out until one returns.
    expect(s.next(false)).toBeUndefined();
    // The large job's task gave its thread back after a chunk; it goes out again beside the small one.
    back(s, big, 1);
    expect(take(s)).toBe('big');
    back(s, small1, 1);
    expect(s.next(false)?.id).toBe('s2');
    take(s);
    back(s, small2, 1);
    s.remove(small1);
    s.remove(small2);
    expect(s.pressed).toBe(false);
  });
});

describe('scheduling over HTTP', () => {
  const gate = new Gate();
  let app: FastifyInstance;

  beforeAll(async () => {
    app = await testApp({ threads: 2, maxRunningJobs: 1 }, gate.appOptions());
  });

  afterAll(async () => {
    gate.release(1_000_000);
    await app.close();
  });

  const submit = async (id: string, body: object) =>
    (await app.inject({ method: 'POST', url: `/v1/datasets/${id}/jobs`, payload: body })).json();
  const status = async (jobId: string) =>
    (await app.inject({ method: 'GET', url: `/v1/jobs/${jobId}` })).json();

  it('queues jobs past ROWPOOL_MAX_RUNNING_JOBS and lets a small job skip the queue', async () => {
    gate.close();
    // 2000 x 1000 float64 is 16 MB: a large job. Its median chunks wait at the gate.
    const up = await app.inject({
      method: 'POST',
      url: '/v1/datasets?dtype=float64&shape=2000,1000',
      headers: { 'content-type': 'application/octet-stream' },
      payload: Buffer.alloc(2000 * 1000 * 8),
    });
    expect(up.statusCode, up.body).toBe(201);
    const id = up.json().id;
    expect(2000 * 1000 * 8).toBeGreaterThan(SMALL_JOB_BYTES);
    const first = await submit(id, { op: 'median' });
    const second = await submit(id, { op: 'median' });
    expect(first.status).toBe('running');
    expect(second.status).toBe('queued');
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/rowpool_jobs_active\{status="queued"\} 1/);

    // A small job (one row) skips the queue: it runs at once, in a lane of its own.
    const small = await submit(id, { op: 'sum', rows: { start: 0, end: 1 } });
    expect(small.status).toBe('running');
    expect((await status(second.id)).status).toBe('queued');

    gate.release(1_000_000);
    const done = await app.inject({
      method: 'POST',
      url: `/v1/datasets/${id}/jobs?wait=30`,
      payload: { op: 'sum' },
    });
    expect(done.json().status).toBe('succeeded');
    // The small job's last chunk may still be on its way back while the others have ended.
    await until(
      () => status(small.id),
      (s) => s.status === 'succeeded',
    );
    const [a, b, c] = [await status(first.id), await status(second.id), await status(small.id)];
    expect([a.status, b.status, c.status]).toEqual(['succeeded', 'succeeded', 'succeeded']);
    // First come, first served, and the small job ahead of the queued one.
    expect(Date.parse(a.finishedAt)).toBeLessThanOrEqual(Date.parse(b.finishedAt));
    expect(Date.parse(c.finishedAt)).toBeLessThanOrEqual(Date.parse(b.finishedAt));
  });
});
