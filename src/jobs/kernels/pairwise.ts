/**
 * NumPy's pairwise summation (numpy/_core/src/umath/loops_utils.h.src, `pairwise_sum`), repeated
 * once per summand so each loop stays monomorphic and inlines its transform: NumPy materialises
 * `x - mean`, `x * x` or `abs(x)` and then sums them pairwise, and summing the transformed values
 * in the same tree gives the same bits without the temporary array.
 *
 * Shape of the tree, which must match NumPy's for bit-identical results: fewer than 8 values are
 * added in order to 0; up to 128 go through 8 strided accumulators combined as
 * ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7)), then the tail in order; longer runs split at half the
 * length rounded down to a multiple of 8.
 */

const LEAF = 128;

/** Where NumPy splits a run longer than 128: half, rounded down to a multiple of 8. */
export function split(n: number): number {
  const half = Math.floor(n / 2);
  return half - (half % 8);
}

/** Sums `a[off..off+n)` for n <= 128. */
export function sumLeaf(a: Float64Array, off: number, n: number): number {
  if (n < 8) {
    let res = 0;
    for (let i = off; i < off + n; i++) res += a[i];
    return res;
  }
  let r0 = a[off];
  let r1 = a[off + 1];
  let r2 = a[off + 2];
  let r3 = a[off + 3];
  let r4 = a[off + 4];
  let r5 = a[off + 5];
  let r6 = a[off + 6];
  let r7 = a[off + 7];
  const end = off + n;
  const blocksEnd = end - (n % 8);
  let i = off + 8;
  for (; i < blocksEnd; i += 8) {
    r0 += a[i];
    r1 += a[i + 1];
    r2 += a[i + 2];
    r3 += a[i + 3];
    r4 += a[i + 4];
    r5 += a[i + 5];
    r6 += a[i + 6];
    r7 += a[i + 7];
  }
  let res = r0 + r1 + (r2 + r3) + (r4 + r5 + (r6 + r7));
  for (; i < end; i++) res += a[i];
  return res;
}

export function pairwiseSum(a: Float64Array, off: number, n: number): number {
  if (n <= LEAF) return sumLeaf(a, off, n);
  const n2 = split(n);
  return pairwiseSum(a, off, n2) + pairwiseSum(a, off + n2, n - n2);
}

export function pairwiseSumSquares(a: Float64Array, off: number, n: number): number {
  if (n > LEAF) {
    const n2 = split(n);
    return pairwiseSumSquares(a, off, n2) + pairwiseSumSquares(a, off + n2, n - n2);
  }
  if (n < 8) {
    let res = 0;
    for (let i = off; i < off + n; i++) res += a[i] * a[i];
    return res;
  }
  let r0 = a[off] * a[off];
  let r1 = a[off + 1] * a[off + 1];
  let r2 = a[off + 2] * a[off + 2];
  let r3 = a[off + 3] * a[off + 3];
  let r4 = a[off + 4] * a[off + 4];
  let r5 = a[off + 5] * a[off + 5];
  let r6 = a[off + 6] * a[off + 6];
  let r7 = a[off + 7] * a[off + 7];
  const end = off + n;
  const blocksEnd = end - (n % 8);
  let i = off + 8;
  for (; i < blocksEnd; i += 8) {
    r0 += a[i] * a[i];
    r1 += a[i + 1] * a[i + 1];
    r2 += a[i + 2] * a[i + 2];
    r3 += a[i + 3] * a[i + 3];
    r4 += a[i + 4] * a[i + 4];
    r5 += a[i + 5] * a[i + 5];
    r6 += a[i + 6] * a[i + 6];
    r7 += a[i + 7] * a[i + 7];
  }
  let res = r0 + r1 + (r2 + r3) + (r4 + r5 + (r6 + r7));
  for (; i < end; i++) res += a[i] * a[i];
  return res;
}

export function pairwiseSumAbs(a: Float64Array, off: number, n: number): number {
  if (n > LEAF) {
    const n2 = split(n);
    return pairwiseSumAbs(a, off, n2) + pairwiseSumAbs(a, off + n2, n - n2);
  }
  if (n < 8) {
    let res = 0;
    for (let i = off; i < off + n; i++) res += Math.abs(a[i]);
    return res;
  }
  let r0 = Math.abs(a[off]);
  let r1 = Math.abs(a[off + 1]);
  let r2 = Math.abs(a[off + 2]);
  let r3 = Math.abs(a[off + 3]);
  let r4 = Math.abs(a[off + 4]);
  let r5 = Math.abs(a[off + 5]);
  let r6 = Math.abs(a[off + 6]);
  let r7 = Math.abs(a[off + 7]);
  const end = off + n;
  const blocksEnd = end - (n % 8);
  let i = off + 8;
  for (; i < blocksEnd; i += 8) {
    r0 += Math.abs(a[i]);
    r1 += Math.abs(a[i + 1]);
    r2 += Math.abs(a[i + 2]);
    r3 += Math.abs(a[i + 3]);
    r4 += Math.abs(a[i + 4]);
    r5 += Math.abs(a[i + 5]);
    r6 += Math.abs(a[i + 6]);
    r7 += Math.abs(a[i + 7]);
  }
  let res = r0 + r1 + (r2 + r3) + (r4 + r5 + (r6 + r7));
  for (; i < end; i++) res += Math.abs(a[i]);
  return res;
}

/** Sums `(a[i] - mean)²`, as NumPy's var does after subtracting the mean and squaring. */
export function pairwiseSumSquaredDeviations(a: Float64Array, off: number, n: number, mean: number): number {
  if (n > LEAF) {
    const n2 = split(n);
    return (
      pairwiseSumSquaredDeviations(a, off, n2, mean) + pairwiseSumSquaredDeviations(a, off + n2, n - n2, mean)
    );
  }
  let d: number;
  if (n < 8) {
    let res = 0;
    for (let i = off; i < off + n; i++) {
      d = a[i] - mean;
      res += d * d;
    }
    return res;
  }
  d = a[off] - mean;
  let r0 = d * d;
  d = a[off + 1] - mean;
  let r1 = d * d;
  d = a[off + 2] - mean;
  let r2 = d * d;
  d = a[off + 3] - mean;
  let r3 = d * d;
  d = a[off + 4] - mean;
  let r4 = d * d;
  d = a[off + 5] - mean;
  let r5 = d * d;
  d = a[off + 6] - mean;
  let r6 = d * d;
  d = a[off + 7] - mean;
  let r7 = d * d;
  const end = off + n;
  const blocksEnd = end - (n % 8);
  let i = off + 8;
  for (; i < blocksEnd; i += 8) {
    d = a[i] - mean;
    r0 += d * d;
    d = a[i + 1] - mean;
    r1 += d * d;
    d = a[i + 2] - mean;
    r2 += d * d;
    d = a[i + 3] - mean;
    r3 += d * d;
    d = a[i + 4] - mean;
    r4 += d * d;
    d = a[i + 5] - mean;
    r5 += d * d;
    d = a[i + 6] - mean;
    r6 += d * d;
    d = a[i + 7] - mean;
    r7 += d * d;
  }
  let res = r0 + r1 + (r2 + r3) + (r4 + r5 + (r6 + r7));
  for (; i < end; i++) {
    d = a[i] - mean;
    res += d * d;
  }
  return res;
}

/** Sums `(a[off + i] - v[voff + i])²` for i < n. */
export function pairwiseSumSquaredDifferences(
  a: Float64Array,
  off: number,
  v: Float64Array,
  voff: number,
  n: number,
): number {
  if (n > LEAF) {
    const n2 = split(n);
    return (
      pairwiseSumSquaredDifferences(a, off, v, voff, n2) +
      pairwiseSumSquaredDifferences(a, off + n2, v, voff + n2, n - n2)
    );
  }
  const shift = voff - off;
  let d: number;
  if (n < 8) {
    let res = 0;
    for (let i = off; i < off + n; i++) {
      d = a[i] - v[i + shift];
      res += d * d;
    }
    return res;
  }
  d = a[off] - v[voff];
  let r0 = d * d;
  d = a[off + 1] - v[voff + 1];
  let r1 = d * d;
  d = a[off + 2] - v[voff + 2];
  let r2 = d * d;
  d = a[off + 3] - v[voff + 3];
  let r3 = d * d;
  d = a[off + 4] - v[voff + 4];
  let r4 = d * d;
  d = a[off + 5] - v[voff + 5];
  let r5 = d * d;
  d = a[off + 6] - v[voff + 6];
  let r6 = d * d;
  d = a[off + 7] - v[voff + 7];
  let r7 = d * d;
  const end = off + n;
  const blocksEnd = end - (n % 8);
  let i = off + 8;
  for (; i < blocksEnd; i += 8) {
    const j = i + shift;
    d = a[i] - v[j];
    r0 += d * d;
    d = a[i + 1] - v[j + 1];
    r1 += d * d;
    d = a[i + 2] - v[j + 2];
    r2 += d * d;
    d = a[i + 3] - v[j + 3];
    r3 += d * d;
    d = a[i + 4] - v[j + 4];
    r4 += d * d;
    d = a[i + 5] - v[j + 5];
    r5 += d * d;
    d = a[i + 6] - v[j + 6];
    r6 += d * d;
    d = a[i + 7] - v[j + 7];
    r7 += d * d;
  }
  let res = r0 + r1 + (r2 + r3) + (r4 + r5 + (r6 + r7));
  for (; i < end; i++) {
    d = a[i] - v[i + shift];
    res += d * d;
  }
  return res;
}

/**
 * Sums `a[off + i] * v[voff + i]` for i < n in the order of the wasm `dot`: eight accumulators
 * starting at +0 take element 8j+k of each whole block into s_k, combine as
 * ((s0+s2)+(s4+s6)) + ((s1+s3)+(s5+s7)) (the f64x2 lanes (s0,s1)..(s6,s7) added lane-wise, then
 * the two lanes), then the n%8 tail is added in order.
 */
export function dotInLanes(a: Float64Array, off: number, v: Float64Array, voff: number, n: number): number {
  const shift = voff - off;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let s4 = 0;
  let s5 = 0;
  let s6 = 0;
  let s7 = 0;
  const end = off + n;
  const blocksEnd = end - (n % 8);
  let i = off;
  for (; i < blocksEnd; i += 8) {
    const j = i + shift;
    s0 += a[i] * v[j];
    s1 += a[i + 1] * v[j + 1];
    s2 += a[i + 2] * v[j + 2];
    s3 += a[i + 3] * v[j + 3];
    s4 += a[i + 4] * v[j + 4];
    s5 += a[i + 5] * v[j + 5];
    s6 += a[i + 6] * v[j + 6];
    s7 += a[i + 7] * v[j + 7];
  }
  let res = s0 + s2 + (s4 + s6) + (s1 + s3 + (s5 + s7));
  for (; i < end; i++) res += a[i] * v[i + shift];
  return res;
}
