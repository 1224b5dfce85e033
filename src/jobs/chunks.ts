/**
 * Splits a job's rows into the chunks its tasks claim (task.ts). A chunk costs its claim and a few
 * microseconds of setup in the worker, and a top job merges k candidates a chunk, so a job gets one
 * chunk per TASK_ELEMENTS it reads, at least one per thread to use them all, and at most
 * TASKS_PER_THREAD per thread, which evens out the tail when the threads run at unequal speeds.
 * Every chunk reads at least MIN_TASK_ELEMENTS, unless a row alone reads more. No chunk
 * crosses a segment boundary of the dataset, so each reads one memory with the SIMD kernels.
 */
const TASKS_PER_THREAD = 16;
const TASK_ELEMENTS = 1 << 20;
const MIN_TASK_ELEMENTS = 1 << 16;

function taskCount(elements: number, threads: number): number {
  return Math.min(threads * TASKS_PER_THREAD, Math.max(threads, Math.ceil(elements / TASK_ELEMENTS)));
}

/** Row boundaries [b0 = start, b1, …, bn = end]; task i covers rows b_i..b_{i+1}-1. */
export function planChunks(
  start: number,
  end: number,
  threads: number,
  /** Elements each row reads: the same number for every row, or a function of the row. */
  cost: number | ((row: number) => number),
  /** Rows in each of the dataset's segments but the last (shared-array.ts). */
  segmentRows = Number.POSITIVE_INFINITY,
): number[] {
  const bounds = planBounds(start, end, threads, cost);
  return end - start > 0 && Math.ceil(end / segmentRows) > Math.floor(start / segmentRows) + 1
    ? splitAtSegments(bounds, segmentRows)
    : bounds;
}

/** The bounds with every segment boundary strictly inside the rows added. */
function splitAtSegments(bounds: number[], segmentRows: number): number[] {
  const out = [bounds[0]];
  for (let i = 1; i < bounds.length; i++) {
    const from = bounds[i - 1];
    const to = bounds[i];
    for (let b = (Math.floor(from / segmentRows) + 1) * segmentRows; b < to; b += segmentRows) out.push(b);
    out.push(to);
  }
  return out;
}

function planBounds(
  start: number,
  end: number,
  threads: number,
  cost: number | ((row: number) => number),
): number[] {
  const rows = end - start;
  if (rows === 0) return [start];
  if (typeof cost === 'number') {
    const tasks = taskCount(rows * cost, threads);
    const minRows = Math.ceil(MIN_TASK_ELEMENTS / Math.max(1, cost));
    const size = Math.max(minRows, Math.ceil(rows / tasks));
    const bounds: number[] = [];
    for (let r = start; r < end; r += size) bounds.push(r);
    bounds.push(end);
    return bounds;
  }
  let total = 0;
  for (let r = start; r < end; r++) total += cost(r);
  // A few rows that each cost a task's worth go out one a task, so the pool balances them as it goes.
  const target =
    rows <= threads * TASKS_PER_THREAD * 4 && total / rows >= MIN_TASK_ELEMENTS
      ? 0
      : Math.max(MIN_TASK_ELEMENTS, total / taskCount(total, threads));
  const bounds = [start];
  let acc = 0;
  for (let r = start; r < end; r++) {
    acc += cost(r);
    if (acc >= target && r + 1 < end) {
      bounds.push(r + 1);
      acc = 0;
    }
  }
  bounds.push(end);
  return bounds;
}
