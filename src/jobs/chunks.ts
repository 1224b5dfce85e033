/**
 * Splits a job's rows into pool tasks: enough of them to keep every thread busy and even out the
 * tail, each big enough that the ~0.1 ms cost of a task is small beside its work. No task crosses
 * a segment boundary of the dataset, so each reads one memory with the SIMD kernels.
 */
const TASKS_PER_THREAD = 16;
const MIN_TASK_ELEMENTS = 1 << 16;

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
  const tasks = threads * TASKS_PER_THREAD;
  if (typeof cost === 'number') {
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
    rows <= tasks * 4 && total / rows >= MIN_TASK_ELEMENTS ? 0 : Math.max(MIN_TASK_ELEMENTS, total / tasks);
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
