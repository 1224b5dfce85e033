/**
 * A kernel that never returns cannot be stopped from inside its thread; Piscina's `signal` option
 * is the way out. When the signal of a running task aborts, Piscina rejects the task's promise with
 * an AbortError, terminates the worker running it (`worker.terminate()`), and starts a new one to
 * keep `minThreads`. These tests run real infinite-loop modules on a real pool.
 */
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildExample } from '../../scripts/kernels.js';
import type { KernelRef } from '../../src/user-kernels/runner.js';
import { checkKernelModule } from '../../src/user-kernels/validate.js';
import { workerExecArgv } from '../../src/worker-file.js';
import type { KernelTask } from './kernel-worker.js';
import { buildKernel, FAULTS, type KernelParts } from './wat-modules.js';

const WORKER = new URL('./kernel-worker.ts', import.meta.url);
const TIMEOUT_MS = 400;

function refOf(id: string, bytes: Uint8Array): KernelRef {
  const { module, memory } = checkKernelModule(bytes);
  return { id, name: id, module, memory };
}

function task(kernel: KernelRef, rows: number, rowLength: number): KernelTask {
  const data = new SharedArrayBuffer(rows * rowLength * 8);
  const values = new Float64Array(data);
  for (let i = 0; i < values.length; i++) values[i] = (i * 7919) % 13;
  return { kernel, data, rowLength, args: [], result: new SharedArrayBuffer(rows * 8) };
}

/** The longest strictly increasing run of each row, in plain JS, to check the kernel's results. */
function longestRuns(t: KernelTask): number[] {
  const values = new Float64Array(t.data);
  return Array.from({ length: t.result.byteLength / 8 }, (_, r) => {
    let best = 1;
    let run = 1;
    for (let i = r * t.rowLength + 1; i < (r + 1) * t.rowLength; i++) {
      run = values[i] > values[i - 1] ? run + 1 : 1;
      best = Math.max(best, run);
    }
    return best;
  });
}

describe('a kernel that never returns, on a Piscina pool', () => {
  let pool: Piscina<KernelTask, number>;
  let longestRun: KernelRef;

  beforeAll(async () => {
    longestRun = refOf('longest-run', await buildExample('longest-run.ts'));
    pool = new Piscina<KernelTask, number>({
      filename: fileURLToPath(WORKER),
      minThreads: 2,
      maxThreads: 2,
      idleTimeout: Number.POSITIVE_INFINITY,
      atomics: 'disabled',
      execArgv: workerExecArgv(WORKER),
    });
    // Both threads up and the worker module loaded before the clock matters.
    await Promise.all([pool.run(task(longestRun, 1, 4)), pool.run(task(longestRun, 1, 4))]);
  });

  afterAll(() => pool.destroy());

  it.each<[string, KernelParts]>([
    ['in rowpool_rows', FAULTS.infiniteLoop],
    ['in its start function', FAULTS.infiniteStart],
  ])(
    'is stopped at the timeout %s; the thread is replaced and the other thread finishes its task',
    async (_, parts) => {
      const spinner = refOf('spinner', await buildKernel(parts));
      const before = pool.threads.map((worker) => worker.threadId);
      expect(before).toHaveLength(2);

      const good = task(longestRun, 20_000, 100);
      const started = performance.now();
      const stuck = pool.run(task(spinner, 10, 4), { signal: AbortSignal.timeout(TIMEOUT_MS) }).then(
        () => 'returned',
        (error: Error) => ({ name: error.name, message: error.message, ms: performance.now() - started }),
      );
      const goodThread = await pool.run(good);
      expect(Array.from(new Float64Array(good.result))).toEqual(longestRuns(good));
      expect(before).toContain(goodThread);

      const outcome = await stuck;
      expect(outcome).toMatchObject({ name: 'AbortError', message: 'The task has been aborted' });
      const abortedAfter = (outcome as { ms: number }).ms;
      expect(abortedAfter).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
      expect(abortedAfter).toBeLessThan(TIMEOUT_MS + 2000);

      // The stuck thread is gone and a new one takes its place at once. Full strength means two tasks
      // at once again, one of them on the new thread once it has started; both must be right.
      const again = [task(longestRun, 2000, 50), task(longestRun, 2000, 50)];
      const threads = await Promise.all(again.map((t) => pool.run(t)));
      const fullStrengthMs = performance.now() - started - abortedAfter;
      for (const t of again) expect(Array.from(new Float64Array(t.result))).toEqual(longestRuns(t));
      expect(new Set(threads).size).toBe(2);
      expect(threads).toContain(goodThread);
      expect(before).not.toEqual(expect.arrayContaining(threads));
      expect(pool.threads.map((worker) => worker.threadId).sort()).toEqual([...threads].sort());
      expect(fullStrengthMs).toBeLessThan(5000);
      console.log(
        `aborted after ${abortedAfter.toFixed(0)} ms; two tasks done at once ${fullStrengthMs.toFixed(0)} ms later`,
      );
    },
  );

  it.each<[string, KernelParts, string]>([
    ['divide-by-zero', FAULTS.divideByZero, 'trapped: divide by zero on rows 0-2'],
    ['stack-overflow', FAULTS.stackOverflow, 'trapped: stack overflow on rows 0-2'],
  ])(
    'a fault in a worker (%s) reaches the caller with its whole message, and the thread stays',
    async (id, parts, what) => {
      const trapping = refOf(id, await buildKernel(parts));
      const before = pool.threads.map((worker) => worker.threadId).sort();
      await expect(pool.run(task(trapping, 3, 4))).rejects.toThrow(`kernel "${id}" (${id}) ${what}`);
      expect(pool.threads.map((worker) => worker.threadId).sort()).toEqual(before);
    },
  );

  it('a task still queued when its signal aborts is removed without costing a thread', async () => {
    const spinner = refOf('spinner-queued', await buildKernel(FAULTS.infiniteLoop));
    const before = pool.threads.map((worker) => worker.threadId).sort();
    const busy = [task(longestRun, 20_000, 200), task(longestRun, 20_000, 200)].map((t) => pool.run(t));
    const controller = new AbortController();
    const queued = pool.run(task(spinner, 1, 4), { signal: controller.signal });
    controller.abort();
    await expect(queued).rejects.toMatchObject({ name: 'AbortError' });
    await Promise.all(busy);
    expect(pool.threads.map((worker) => worker.threadId).sort()).toEqual(before);
  });
});
