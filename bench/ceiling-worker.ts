import { threadId } from 'node:worker_threads';
import { loadKernels } from './dist.js';

/**
 * The ceiling's worker: one flat pass over its share of the dataset with the service's own `flatSum`.
 * No top-level await: on Node 20 tsx reaches a worker only through its require hook, which cannot
 * load a module that has one.
 */
export interface ShareTask {
  readonly data: SharedArrayBuffer;
  readonly start: number;
  readonly end: number;
}

export interface ShareOutcome {
  readonly sum: number;
  readonly threadId: number;
}

let flatSum: Awaited<ReturnType<typeof loadKernels>>['flatSum'] | undefined;

export default async function sumShare({ data, start, end }: ShareTask): Promise<ShareOutcome> {
  flatSum ??= (await loadKernels()).flatSum;
  return { sum: flatSum(new Float64Array(data), start, end), threadId };
}
