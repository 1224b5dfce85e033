/**
 * strided_mean: row i's result is `data.ravel().astype(np.float64)[::i+1].mean()`. The sum follows
 * NumPy's pairwise tree over the logical strided sequence; each leaf of at most 128 values is
 * gathered (and converted) into a small buffer and summed there, so the strided sequence is never
 * materialised.
 */
import type { Codec, RawView } from './convert.js';
import { split, sumLeaf } from './pairwise.js';

const LEAF = 128;
const leaf = new Float64Array(LEAF);

function stridedSum(codec: Codec<RawView>, raw: RawView, start: number, n: number, stride: number): number {
  if (n <= LEAF) {
    codec.gather(raw, start, stride, n, leaf);
    return sumLeaf(leaf, 0, n);
  }
  const n2 = split(n);
  return (
    stridedSum(codec, raw, start, n2, stride) + stridedSum(codec, raw, start + n2 * stride, n - n2, stride)
  );
}

/**
 * Results for dataset rows `firstRow .. firstRow + rows - 1`, written from `out[slot]` on; `raw`
 * views all `total` elements of the dataset.
 */
export function stridedMeans(
  codec: Codec<RawView>,
  raw: RawView,
  total: number,
  firstRow: number,
  rows: number,
  out: Float64Array,
  slot: number,
): void {
  for (let r = 0; r < rows; r++) {
    const stride = firstRow + r + 1;
    const count = Math.ceil(total / stride);
    out[slot + r] = (0 + stridedSum(codec, raw, 0, count, stride)) / count;
  }
}

/**
 * strided_mean row r reads every (r+1)-th element of the whole dataset. Once the stride passes a
 * cache line each element costs a line of its own, measured at about 4-5x a sequential element.
 */
export function stridedRowCost(totalElements: number, itemsize: number): (row: number) => number {
  return (row) => Math.ceil(totalElements / (row + 1)) * (1 + (4 * Math.min((row + 1) * itemsize, 64)) / 64);
}
