/**
 * The plainest loop over `view[start..end)`: four accumulators so the adds pipeline. It does not
 * round like NumPy; the benchmark uses it as the memory-bandwidth ceiling for the real kernels.
 */
export function flatSum(view: Float64Array, start: number, end: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = start;
  // The odd elements go first: a tail loop after the hot loop would have no type feedback when V8
  // compiles the hot loop on stack, and the deoptimisation there can repeat on every later call.
  for (const head = start + ((end - start) % 4); i < head; i++) s0 += view[i];
  for (; i < end; i += 4) {
    s0 += view[i];
    s1 += view[i + 1];
    s2 += view[i + 2];
    s3 += view[i + 3];
  }
  return s0 + s1 + (s2 + s3);
}
