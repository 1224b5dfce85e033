/**
 * How rows are handed to a kernel: a block of whole rows at a time, copied into buffers the kernel
 * allocates once per instance. The buffers have fixed sizes whatever the dataset, so one instance
 * serves every job on a thread (only a row longer than a block, or more args than usual, needs a
 * bigger one); a block of about a MiB keeps each call's copy far from both the per-call overhead
 * and the memory cap.
 */
import { WASM_PAGE_BYTES } from './validate.js';

/** The input buffer a block fills; a longer single row gets a buffer of its own size. */
export const BLOCK_INPUT_BYTES = 1 << 20;
/** At most this many rows per call, which bounds the output buffer (64 KiB). */
export const MAX_BLOCK_ROWS = 8192;
/** Args buffers hold at least this many values, so jobs with a few args share an instance. */
export const MIN_ARGS_CAPACITY = 16;

/** The byte sizes of the three buffers an instance asks `rowpool_alloc` for. */
export interface KernelBuffers {
  readonly inputBytes: number;
  readonly argsBytes: number;
  readonly outputBytes: number;
}

/** A row that cannot fit in a kernel's memory: a 400 for the job that asks for it. */
export class KernelRowsTooLong extends Error {
  override name = 'KernelRowsTooLong';
  readonly statusCode = 400;
  readonly code = 'ROWPOOL_KERNEL_ROWS_TOO_LONG';
}

/**
 * Checks that rows of `rowLength` values and `nArgs` args fit in a kernel's memory and gives the
 * buffers for them. A block's input and args may take at most half the cap, leaving the other half
 * to the kernel's own data. Call it when a job is created, so a job that cannot run is refused then.
 */
export function kernelBuffers(rowLength: number, nArgs: number, memoryCapBytes: number): KernelBuffers {
  const rowBytes = rowLength * 8;
  const argsBytes = Math.max(nArgs, MIN_ARGS_CAPACITY) * 8;
  if (rowBytes + nArgs * 8 > memoryCapBytes / 2) {
    throw new KernelRowsTooLong(
      `rows of ${rowLength} values and ${nArgs} args take ${mib(rowBytes + nArgs * 8)} MiB as float64, ` +
        `more than half of a kernel's memory (ROWPOOL_KERNEL_MEMORY is ${mib(memoryCapBytes)} MiB)`,
    );
  }
  return { inputBytes: Math.max(BLOCK_INPUT_BYTES, rowBytes), argsBytes, outputBytes: MAX_BLOCK_ROWS * 8 };
}

/** How many rows of `rowLength` values go into one call with these buffers. */
export function blockRows(buffers: KernelBuffers, rowLength: number): number {
  if (rowLength === 0) return MAX_BLOCK_ROWS;
  return Math.max(1, Math.min(MAX_BLOCK_ROWS, Math.floor(buffers.inputBytes / (rowLength * 8))));
}

/** The cap in whole wasm pages. */
export function capPages(memoryCapBytes: number): number {
  return Math.floor(memoryCapBytes / WASM_PAGE_BYTES);
}

function mib(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(bytes < 1024 * 1024 ? 2 : 0);
}
