import { threadId } from 'node:worker_threads';
import { loadKernels, loadSimd } from './dist.js';

/**
 * The ceiling's worker: one flat pass over its share of the dataset, with the service's JS `flatSum`
 * or with the SIMD module's (which reads faster than any JS loop can). No top-level await: on Node
 * 20 tsx reaches a worker only through its require hook, which cannot load a module that has one.
 */
export interface ShareTask {
  readonly data: SharedArrayBuffer;
  /** The memory behind `data`, for the SIMD pass. */
  readonly memory: WebAssembly.Memory | null;
  readonly start: number;
  readonly end: number;
}

export interface ShareOutcome {
  readonly sum: number;
  readonly threadId: number;
}

let flatSum: Awaited<ReturnType<typeof loadKernels>>['flatSum'] | undefined;
let simdKernels: Awaited<ReturnType<typeof loadSimd>>['simdKernels'] | undefined;

export default async function sumShare({ data, memory, start, end }: ShareTask): Promise<ShareOutcome> {
  if (memory !== null) {
    simdKernels ??= (await loadSimd()).simdKernels;
    return { sum: simdKernels(memory).flatSum(start * 8, end - start), threadId };
  }
  flatSum ??= (await loadKernels()).flatSum;
  return { sum: flatSum(new Float64Array(data), start, end), threadId };
}
