import { parentPort } from 'node:worker_threads';
import type { DType } from '../src/datasets/dtypes.js';
import { type SimdKernels, simdKernelsFor } from '../src/jobs/kernels/simd.js';
import { ceilingKernel, readInBlocks } from './ceiling-worker.js';

/**
 * One thread of bench/ceiling-kernels.ts: runs one pass of an op over rows [r0, r1) of the matrix
 * at byte 0 of `memory` and answers with the sum of the pass's per-row results, so nothing is
 * optimised away and the sum can be checked against NumPy's.
 */
export interface PassRequest {
  readonly memory: WebAssembly.Memory;
  readonly dtype: DType;
  readonly itemsize: number;
  readonly cols: number;
  readonly r0: number;
  readonly r1: number;
  readonly op: 'ceiling' | 'sum' | 'dot' | 'norm';
  /** Byte offset of the float64 vector for dot. */
  readonly q: number;
}

let current: { memory: WebAssembly.Memory; dtype: DType; kernels: SimdKernels } | undefined;

async function pass(request: PassRequest): Promise<number> {
  const { memory, dtype, itemsize, cols, r0, r1, op, q } = request;
  if (current?.memory !== memory || current.dtype !== dtype)
    current = { memory, dtype, kernels: simdKernelsFor(memory, dtype) };
  const k = current.kernels;
  const stride = cols * itemsize;
  let total = 0;
  switch (op) {
    case 'ceiling':
      return readInBlocks(await ceilingKernel(memory), r0 * stride, r1 * stride);
    case 'sum':
      for (let r = r0, p = r0 * stride; r < r1; r++, p += stride) total += k.sum(p, cols);
      return total;
    case 'dot':
      for (let r = r0, p = r0 * stride; r < r1; r++, p += stride) total += k.dot(p, q, cols);
      return total;
    case 'norm':
      // What the norm op runs on each row (rows-simd.ts).
      for (let r = r0, p = r0 * stride; r < r1; r++, p += stride) total += Math.sqrt(k.sumSquares(p, cols));
      return total;
  }
}

parentPort!.on('message', (request: PassRequest) => {
  pass(request).then((result) => parentPort!.postMessage(result));
});
