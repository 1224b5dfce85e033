/**
 * Order statistics for median and quantile. A row is copied into a module-level scratch (the
 * source may be the shared dataset, which must not be reordered) and partially ordered by
 * quickselect, so a row costs O(n) rather than a sort.
 */

let scratch = new Float64Array(1024);

/**
 * Copies `src[off..off+n)` into the scratch; false when the row holds a NaN, which makes NumPy's
 * median and quantile NaN whatever else the row holds.
 */
function copyRow(src: Float64Array, off: number, n: number): boolean {
  if (scratch.length < n) scratch = new Float64Array(Math.max(n, scratch.length * 2));
  const a = scratch;
  let clean = true;
  for (let i = 0; i < n; i++) {
    const v = src[off + i];
    if (Number.isNaN(v)) clean = false;
    a[i] = v;
  }
  return clean;
}

/**
 * Reorders `a[0..n)` so that `a[k]` holds the value a sort would put there and nothing after it
 * is smaller (Hoare's FIND with a median-of-three pivot). Inputs that defeat the pivot choice
 * exhaust the step budget and the remaining range is sorted instead, bounding the cost at
 * O(n log n).
 */
function select(a: Float64Array, n: number, k: number): void {
  let lo = 0;
  let hi = n - 1;
  let budget = 2 * Math.ceil(Math.log2(n + 1)) + 8;
  while (lo < hi) {
    if (budget-- === 0) {
      a.subarray(lo, hi + 1).sort();
      return;
    }
    const mid = lo + Math.floor((hi - lo) / 2);
    let t: number;
    if (a[mid] < a[lo]) {
      t = a[mid];
      a[mid] = a[lo];
      a[lo] = t;
    }
    if (a[hi] < a[lo]) {
      t = a[hi];
      a[hi] = a[lo];
      a[lo] = t;
    }
    if (a[hi] < a[mid]) {
      t = a[hi];
      a[hi] = a[mid];
      a[mid] = t;
    }
    const pivot = a[mid];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    // a[lo..j] <= pivot <= a[i..hi], and everything strictly between j and i equals the pivot.
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

/** The smallest of `a[from..n)`; after `select(a, n, k)` that is the (k+1)-th order statistic. */
function minFrom(a: Float64Array, from: number, n: number): number {
  let m = a[from];
  for (let i = from + 1; i < n; i++) if (a[i] < m) m = a[i];
  return m;
}

export function rowMedian(src: Float64Array, off: number, n: number): number {
  if (n === 0 || !copyRow(src, off, n)) return Number.NaN;
  const a = scratch;
  const k = Math.floor((n - 1) / 2);
  select(a, n, k);
  // NumPy takes np.mean of the middle one or two values: a pairwise sum started at 0, then a division.
  if (n % 2 === 1) return 0 + a[k];
  return (0 + a[k] + minFrom(a, k + 1, n)) / 2;
}

/** NumPy's default ("linear") quantile, including its two-sided interpolation formula. */
export function rowQuantile(src: Float64Array, off: number, n: number, q: number): number {
  if (n === 0 || !copyRow(src, off, n)) return Number.NaN;
  const a = scratch;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const t = h - lo;
  select(a, n, lo);
  const below = a[lo];
  const above = lo + 1 < n ? minFrom(a, lo + 1, n) : below;
  const diff = above - below;
  return t < 0.5 ? below + diff * t : above - diff * (1 - t);
}
