import { type TopK, topK } from '../jobs/topk.js';

/** The shards' per-row values, 8 bytes a row, one after the other in row order. */
export function assemble(
  replies: readonly Uint8Array[],
  rows: readonly { start: number; end: number }[],
): SharedArrayBuffer {
  const total = rows.reduce((n, r) => n + (r.end - r.start) * 8, 0);
  const buffer = new SharedArrayBuffer(total);
  const out = new Uint8Array(buffer);
  let at = 0;
  replies.forEach((reply, i) => {
    const want = (rows[i].end - rows[i].start) * 8;
    if (reply.byteLength !== want) {
      throw new Error(`shard part ${i} answered ${reply.byteLength} bytes for ${want / 8} rows`);
    }
    out.set(reply, at);
    at += want;
  });
  return buffer;
}

/**
 * The k best of the shards' own top-k: the best k of a dataset are among the best k of its shards.
 * The candidates go in row order, so topK's rule (ties to the lower row, NaN last) holds across shards.
 */
export function merge(
  tops: readonly TopK[],
  parts: readonly { shard: { start: number } }[],
  top: { k: number; largest: boolean },
): TopK {
  const candidates = tops
    .flatMap((t, i) => t.indices.map((row, j) => ({ row: row + parts[i].shard.start, value: t.values[j] })))
    .sort((a, b) => a.row - b.row);
  const best = topK(
    candidates.map((c) => c.value),
    0,
    Math.min(top.k, candidates.length),
    top.largest,
  );
  return { indices: best.indices.map((i) => candidates[i].row), values: best.values };
}
