/**
 * Splits a job's rows into pool tasks: enough of them to keep every thread busy and even out the
 * tail, each big enough that the ~0.1 ms cost of a task is small beside its work.
 */
const TASKS_PER_THREAD = 16;
const MIN_TASK_ELEMENTS = 1 << 16;

/** Row boundaries [b0 = start, b1, …, bn = end]; task i covers rows b_i..b_{i+1}-1. */
export function planChunks(
  start: number,
  end: number,
  threads: number,
  rowCost: (row: number) => number,
  uniformCost: number | undefined,
): number[] {
  const rows = end - start;
  if (rows === 0) return [start];
  const tasks = threads * TASKS_PER_THREAD;
  if (uniformCost !== undefined) {
    const minRows = Math.ceil(MIN_TASK_ELEMENTS / Math.max(1, uniformCost));
    const size = Math.max(minRows, Math.ceil(rows / tasks));
    const bounds: number[] = [];
    for (let r = start; r < end; r += size) bounds.push(r);
    bounds.push(end);
    return bounds;
  }
  let total = 0;
  for (let r = start; r < end; r++) total += rowCost(r);
  const target = Math.max(MIN_TASK_ELEMENTS, total / tasks);
  const bounds = [start];
  let acc = 0;
  for (let r = start; r < end; r++) {
    acc += rowCost(r);
    if (acc >= target && r + 1 < end) {
      bounds.push(r + 1);
      acc = 0;
    }
  }
  bounds.push(end);
  return bounds;
}

/**
 * strided_mean row r reads every (r+1)-th element of the whole dataset. Once the stride passes a
 * cache line each element costs a line of its own, measured at about 4-5x a sequential element.
 */
export function stridedRowCost(totalElements: number, itemsize: number): (row: number) => number {
  return (row) => Math.ceil(totalElements / (row + 1)) * (1 + (4 * Math.min((row + 1) * itemsize, 64)) / 64);
}
