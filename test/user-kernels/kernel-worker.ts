/**
 * A pool worker for the timeout tests: runs a kernel over every row of a task, a block at a time,
 * into a shared result, as the engine's worker does for `op: "kernel"` chunks.
 */
import { threadId } from 'node:worker_threads';
import { kernelInstance } from '../../src/user-kernels/instances.js';
import type { KernelRef } from '../../src/user-kernels/runner.js';

export interface KernelTask {
  readonly kernel: KernelRef;
  readonly data: SharedArrayBuffer;
  readonly rowLength: number;
  readonly args: readonly number[];
  readonly result: SharedArrayBuffer;
}

const MEMORY_CAP = 64 * 1024 * 1024;

/** Returns the worker's thread id, so the tests see which thread ran what. */
export default function run(task: KernelTask): number {
  const src = new Float64Array(task.data);
  const out = new Float64Array(task.result);
  const args = Float64Array.from(task.args);
  const rows = out.length;
  const instance = kernelInstance(task.kernel, task.rowLength, args.length, MEMORY_CAP);
  const step = instance.blockRows(task.rowLength);
  for (let r = 0; r < rows; r += step) {
    const count = Math.min(step, rows - r);
    instance.runBlock(src, r * task.rowLength, count, task.rowLength, r, args, out, r);
  }
  return threadId;
}
