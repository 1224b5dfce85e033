/**
 * The pool after a thread is replaced: tasks go to threads that can run them now, not to the
 * replacement while it is still loading its module (Piscina 5.3 would, piscinajs/piscina#1056).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createPool, readyThreadsBalancer } from '../../src/jobs/pool.js';
import type { ChunkTask } from '../../src/jobs/task.js';
import { Reclaimer } from '../../src/reclaim.js';

const WORKER = new URL('./slow-start-worker.ts', import.meta.url);
const REPLACEMENT_LOAD_MS = 3000;

describe('readyThreadsBalancer', () => {
  const worker = (id: number, currentUsage: number) =>
    ({ id, currentUsage, isRunningAbortableTask: false }) as never;
  const task = {} as never;

  it('picks an idle thread that is ready, never one still loading', () => {
    const balance = readyThreadsBalancer(new Set([2]));
    expect(balance(task, [worker(1, 0), worker(2, 0)])).toMatchObject({ id: 2 });
    expect(balance(task, [worker(1, 0), worker(2, 1)])).toBeNull();
  });
});

describe('a pool whose thread was terminated', () => {
  const pool = createPool(2, new Reclaimer(), WORKER, {
    started: new SharedArrayBuffer(4),
    loadMs: REPLACEMENT_LOAD_MS,
  });
  afterAll(() => pool.close());

  it('runs the next tasks on the thread it still has while the replacement loads', async () => {
    const run = (t: { spin?: boolean; ms?: number }, signal?: AbortSignal) =>
      pool.run(t as unknown as ChunkTask, { signal });
    await Promise.all([run({ ms: 1 }), run({ ms: 1 })]);
    await expect(run({ spin: true }, AbortSignal.timeout(100))).rejects.toMatchObject({ name: 'AbortError' });

    const started = performance.now();
    await Promise.all(Array.from({ length: 4 }, () => run({ ms: 20 })));
    expect(performance.now() - started).toBeLessThan(REPLACEMENT_LOAD_MS / 2);
  });
});
