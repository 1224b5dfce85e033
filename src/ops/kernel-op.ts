/**
 * The `kernel` op: the user's own per-row function as an uploaded WebAssembly module
 * (src/user-kernels). The main thread looks the kernel up when the job is checked and puts its
 * compiled module in the task params; workers instantiate it once per thread and copy rows in a
 * block at a time. A kernel may never return, so its jobs carry a time limit.
 */
import { type Static, Type } from 'typebox';
import { KernelRowsTooLong, kernelBuffers } from '../user-kernels/blocks.js';
import { kernelInstance } from '../user-kernels/instances.js';
import type { KernelRef } from '../user-kernels/runner.js';
import type { RowOp } from './op.js';

/** The longest params.timeoutMs: AbortSignal.timeout takes at most 2^31 - 1 ms. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

const KernelParams = Type.Object(
  {
    kernel: Type.String({ description: 'The id POST /v1/kernels gave the kernel' }),
    args: Type.Optional(
      Type.Array(Type.Number(), {
        default: [],
        description: "Numbers handed to the kernel as float64 (its rowpool_rows' args and nArgs)",
      }),
    ),
    timeoutMs: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_TIMEOUT_MS,
        description: 'Milliseconds the job may run before it fails (default ROWPOOL_KERNEL_TIMEOUT)',
      }),
    ),
  },
  { additionalProperties: false },
);

type Params = Static<typeof KernelParams>;

/** What every task of a kernel job reads; the module is shared with the workers, never recompiled. */
export interface KernelTask {
  readonly kernel: KernelRef;
  readonly args: Float64Array;
  readonly memoryCapBytes: number;
  readonly timeoutMs: number;
}

const OFF = 'op kernel is turned off on this server (ROWPOOL_KERNELS=off)';

export const kernelOp: RowOp<Params, KernelTask> = {
  name: 'kernel',
  summary: 'Your own function of the row: an uploaded WebAssembly kernel (see POST /v1/kernels)',
  numpy: 'f(x, args) for each row x, f your own code',
  scope: 'rows',
  result: 'float64',
  params: KernelParams,
  vector: 'none',
  largestFirst: true,
  needsNonEmptyRows: () => false,
  check(params, dataset, context) {
    const kernels = context?.kernels;
    if (kernels === undefined) return OFF;
    if (kernels.find(params.kernel) === undefined) {
      return `kernel "${params.kernel}" not found; upload one with POST /v1/kernels, list them with GET /v1/kernels`;
    }
    try {
      kernelBuffers(dataset.rowLength, params.args?.length ?? 0, kernels.memoryCapBytes);
      return undefined;
    } catch (err) {
      if (err instanceof KernelRowsTooLong) return err.message;
      throw err;
    }
  },
  prepare(params, _dataset, context) {
    const kernels = context?.kernels;
    const kernel = kernels?.find(params.kernel);
    // check() has refused the job unless both are there.
    if (kernels === undefined || kernel === undefined)
      throw new RangeError(`kernel ${params.kernel} is not available`);
    return {
      kernel,
      args: Float64Array.from(params.args ?? []),
      memoryCapBytes: kernels.memoryCapBytes,
      timeoutMs: params.timeoutMs ?? kernels.defaultTimeoutMs,
    };
  },
  timeLimit: (task) => ({
    ms: task.timeoutMs,
    message: `kernel "${task.kernel.name}" (${task.kernel.id}) ran longer than timeoutMs (${task.timeoutMs} ms)`,
  }),
  js(src, off, rows, n, task, out, slot, firstRow) {
    const instance = kernelInstance(task.kernel, n, task.args.length, task.memoryCapBytes);
    const step = instance.blockRows(n);
    for (let r = 0; r < rows; r += step) {
      const count = Math.min(step, rows - r);
      instance.runBlock(src, off + r * n, count, n, firstRow + r, task.args, out, slot + r);
    }
  },
};
