import { threadId } from 'node:worker_threads';
import { loadKernels } from './dist.js';

/** The ceiling's worker: one flat pass over its share of the dataset with the service's own `flatSum`. */
const { flatSum } = await loadKernels();

export interface ShareTask {
  readonly data: SharedArrayBuffer;
  readonly start: number;
  readonly end: number;
}

export interface ShareOutcome {
  readonly sum: number;
  readonly threadId: number;
}

export default function sumShare({ data, start, end }: ShareTask): ShareOutcome {
  return { sum: flatSum(new Float64Array(data), start, end), threadId };
}
