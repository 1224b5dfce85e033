import { readFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import { assemble } from '../scripts/wasm.js';
import { flatSum } from './flat-sum.js';

/**
 * The ceiling's worker: one flat pass over its share of the dataset's bytes, with the service's JS
 * `flatSum` (float64 values) or with bench/ceiling.wat's `flatRead`, which reads faster than any JS
 * loop can. No top-level await: on Node 20 tsx reaches a worker only through its require hook,
 * which cannot load a module that has one.
 */
export interface ShareTask {
  readonly data: SharedArrayBuffer;
  /** The memory behind `data`, for the SIMD pass. */
  readonly memory: WebAssembly.Memory | null;
  /** Byte offsets; the JS pass reads the float64 values in between. */
  readonly start: number;
  readonly end: number;
}

export interface ShareOutcome {
  readonly sum: number;
  readonly threadId: number;
}

/**
 * The read goes a block at a time. V8 runs a WebAssembly function in its baseline compiler until
 * it has run enough to be optimised, and a call already under way never switches: one call over a
 * whole share would run baseline code throughout (measured: a third of the optimised speed).
 */
const BLOCK_BYTES = 1 << 18;

type FlatRead = (p: number, bytes: number) => number;

let compiled: WebAssembly.Module | undefined;
const instances = new WeakMap<WebAssembly.Memory, FlatRead>();

/** `flatRead` over `memory`, from bench/ceiling.wat; one instance per memory and thread. */
export async function ceilingKernel(memory: WebAssembly.Memory): Promise<FlatRead> {
  compiled ??= new WebAssembly.Module(
    await assemble(readFileSync(new URL('./ceiling.wat', import.meta.url), 'utf8'), 'ceiling.wat'),
  );
  let flatRead = instances.get(memory);
  if (flatRead === undefined) {
    flatRead = new WebAssembly.Instance(compiled, { env: { memory } }).exports.flatRead as FlatRead;
    instances.set(memory, flatRead);
  }
  return flatRead;
}

/** Reads `[start, end)` a block at a time; the sum of the blocks' results. */
export function readInBlocks(flatRead: FlatRead, start: number, end: number): number {
  let sum = 0;
  for (let p = start; p < end; p += BLOCK_BYTES) sum += flatRead(p, Math.min(BLOCK_BYTES, end - p));
  return sum;
}

export default async function sumShare({ data, memory, start, end }: ShareTask): Promise<ShareOutcome> {
  if (memory !== null) return { sum: readInBlocks(await ceilingKernel(memory), start, end), threadId };
  return { sum: flatSum(new Float64Array(data), Math.ceil(start / 8), Math.floor(end / 8)), threadId };
}
