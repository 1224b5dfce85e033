/**
 * Runs a batch of queries (`params.vectors`) over blocks of rows in one pass: each block of rows is
 * copied next to the queries in a WebAssembly memory of the worker's own (a SIMD kernel addresses
 * one memory only, and a dataset's memory has no room for a batch), scored against every query while
 * it sits in cache, and offered to the task's per-query heaps. The copy costs one read of the block
 * against `queries` reads by the kernels, and it lets every dataset run the SIMD kernels, in a
 * WebAssembly memory of its own or not.
 */
import { DTYPE_INFO, type DType } from '../datasets/dtypes.js';
import { MAX_WASM_PAGES, pagesFor } from '../datasets/shared-array.js';
import type { BatchParams } from './batch-params.js';
import type { BlockRun, TaskDataset } from './block-runner.js';
import type { BatchScorer } from './kernels/batch-simd.js';
import { type SimdKernels, simdKernelsFor } from './kernels/simd.js';
import type { QueryHeaps } from './query-heaps.js';

/** Rows copied at a time: small enough to stay in L1 while every query reads them. */
const ROW_BLOCK_BYTES = 1 << 14;
/** The most scores computed at a time, so a large batch keeps its scores in L2. */
const SCORE_BLOCK_BYTES = 1 << 17;

let area: WebAssembly.Memory | undefined;
const kernelsByDtype = new Map<DType, SimdKernels>();

/** The worker's memory, grown to at least `bytes` (it never shrinks: batches are capped in size). */
function areaOf(bytes: number): WebAssembly.Memory {
  area ??= new WebAssembly.Memory({ initial: 1, maximum: MAX_WASM_PAGES, shared: true });
  const have = area.buffer.byteLength;
  if (have < bytes) area.grow(pagesFor(bytes - have));
  return area;
}

function kernelsOf(memory: WebAssembly.Memory, dtype: DType): SimdKernels {
  let kernels = kernelsByDtype.get(dtype);
  if (kernels === undefined) {
    kernels = simdKernelsFor(memory, dtype);
    kernelsByDtype.set(dtype, kernels);
  }
  return kernels;
}

export function batchRunner(
  scorer: BatchScorer,
  params: BatchParams,
  dataset: TaskDataset,
  heaps: QueryHeaps,
): BlockRun {
  const n = dataset.rowLength;
  const itemsize = DTYPE_INFO[dataset.dtype].itemsize;
  const rowBytes = n * itemsize;
  const nq = params.queries;
  const { norms } = params;
  const blockRows = Math.max(
    1,
    Math.min(Math.floor(ROW_BLOCK_BYTES / Math.max(1, rowBytes)), Math.floor(SCORE_BLOCK_BYTES / (nq * 8))),
  );
  // Layout: the queries from 0, the block's scores, then the block's rows (every part 8-aligned).
  const outAt = nq * n * 8;
  const rowsAt = outAt + blockRows * nq * 8;
  const memory = areaOf(rowsAt + blockRows * rowBytes);
  const kernels = kernelsOf(memory, dataset.dtype);
  const buffer = memory.buffer;
  new Float64Array(buffer, 0, nq * n).set(params.vectors);
  const out = new Float64Array(buffer, outAt, blockRows * nq);
  const into = new Uint8Array(buffer, rowsAt, blockRows * rowBytes);
  const { segments, segmentRows } = dataset;
  const { bars, largest } = heaps;
  return (r0, r1) => {
    for (let r = r0; r < r1; ) {
      // A block stays inside one segment, so its rows are copied from one buffer.
      const segment = Math.floor(r / segmentRows);
      const rows = Math.min(blockRows, r1 - r, (segment + 1) * segmentRows - r);
      const from = (r - segment * segmentRows) * rowBytes;
      into.set(new Uint8Array(segments[segment].buffer, from, rows * rowBytes));
      scorer(kernels, rowsAt, rows, n, itemsize, 0, nq, norms, outAt, out);
      // Most scores cannot enter their query's heap: one comparison with its bar rules them out.
      if (largest) {
        for (let i = 0, at = 0; i < rows; i++, at += nq) {
          for (let j = 0; j < nq; j++) {
            const value = out[at + j];
            if (!(value <= bars[j])) heaps.offer(j, value, r + i);
          }
        }
      } else {
        for (let i = 0, at = 0; i < rows; i++, at += nq) {
          for (let j = 0; j < nq; j++) {
            const value = out[at + j];
            if (!(value >= bars[j])) heaps.offer(j, value, r + i);
          }
        }
      }
      r += rows;
    }
  };
}
