/**
 * strided_mean: row i's result is `data.ravel().astype(np.float64)[::i+1].mean()`. The sum follows
 * NumPy's pairwise tree over the logical strided sequence; each leaf of at most 128 values is
 * gathered (and converted) into a small buffer and summed there, so the strided sequence is never
 * materialised. A dataset in several segments is read in the same C order: a leaf's gather goes
 * segment by segment.
 */
import type { Codec, RawView } from './convert.js';
import { split, sumLeaf } from './pairwise.js';

const LEAF = 128;
const leaf = new Float64Array(LEAF);
/** leaf from each index on, made once, so a gather that crosses segments allocates nothing. */
const LEAF_FROM = Array.from({ length: LEAF + 1 }, (_, i) => leaf.subarray(i));

/** The dataset's elements in C order: `segments[s]` holds elements from `s * segmentElements` on. */
export interface StridedSource {
  readonly codec: Codec<RawView>;
  readonly segments: readonly RawView[];
  readonly segmentElements: number;
  /** Elements in the dataset. */
  readonly total: number;
}

/** Gathers elements `start, start + stride, …` (n of them) into leaf[0..n), crossing segments. */
function gatherAcross(source: StridedSource, start: number, stride: number, n: number): void {
  const { codec, segments, segmentElements } = source;
  for (let i = 0, j = start; i < n; ) {
    const s = Math.floor(j / segmentElements);
    const base = s * segmentElements;
    const k = Math.min(n - i, Math.ceil((base + segmentElements - j) / stride));
    codec.gather(segments[s], j - base, stride, k, LEAF_FROM[i]);
    i += k;
    j += k * stride;
  }
}

function stridedSum(source: StridedSource, start: number, n: number, stride: number): number {
  if (n <= LEAF) {
    if (source.segments.length === 1) source.codec.gather(source.segments[0], start, stride, n, leaf);
    else gatherAcross(source, start, stride, n);
    return sumLeaf(leaf, 0, n);
  }
  const n2 = split(n);
  return stridedSum(source, start, n2, stride) + stridedSum(source, start + n2 * stride, n - n2, stride);
}

/** Results for dataset rows `firstRow .. firstRow + rows - 1`, written from `out[slot]` on. */
export function stridedMeans(
  source: StridedSource,
  firstRow: number,
  rows: number,
  out: Float64Array,
  slot: number,
): void {
  const { total } = source;
  for (let r = 0; r < rows; r++) {
    const stride = firstRow + r + 1;
    const count = Math.ceil(total / stride);
    out[slot + r] = (0 + stridedSum(source, 0, count, stride)) / count;
  }
}

/**
 * strided_mean row r reads every (r+1)-th element of the whole dataset. Once the stride passes a
 * cache line each element costs a line of its own, measured at about 4-5x a sequential element.
 */
export function stridedRowCost(totalElements: number, itemsize: number): (row: number) => number {
  return (row) => Math.ceil(totalElements / (row + 1)) * (1 + (4 * Math.min((row + 1) * itemsize, 64)) / 64);
}
