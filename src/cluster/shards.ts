/** A run of whole rows of a dataset, stored and owned as one unit. */
export interface Shard {
  readonly index: number;
  /** First row, inclusive. */
  readonly start: number;
  /** Last row, exclusive. */
  readonly end: number;
  /** Where the shard's bytes begin in the dataset's data. */
  readonly byteOffset: number;
  readonly bytes: number;
}

/**
 * Splits `rows` rows of `rowBytes` bytes into shards of at most `maxShardBytes`, never splitting a
 * row, so every shard can be computed on its own. A row larger than the bound is a shard by itself.
 * A dataset with no rows is one shard, so it still has an owner. At most `maxShardRows` rows go in
 * a shard, so its per-row answer (8 bytes a row) fits in one NATS message.
 */
/** Bytes of a reply's message left for what is not the values: headers and protocol. */
const REPLY_HEADROOM = 4096;

/** The most rows whose per-row float64 values fit in one message of `maxPayload` bytes. */
export function shardRowsFor(maxPayload: number): number {
  return Math.max(1, Math.floor((maxPayload - REPLY_HEADROOM) / 8));
}

export function planShards(
  rows: number,
  rowBytes: number,
  maxShardBytes: number,
  maxShardRows = Number.POSITIVE_INFINITY,
): Shard[] {
  if (!Number.isSafeInteger(maxShardBytes) || maxShardBytes <= 0) {
    throw new RangeError(`the shard size must be a positive integer, got ${maxShardBytes}`);
  }
  const byBytes = rowBytes === 0 ? Math.max(rows, 1) : Math.max(1, Math.floor(maxShardBytes / rowBytes));
  const rowsPerShard = Math.max(1, Math.min(byBytes, maxShardRows));
  const shards: Shard[] = [];
  for (let start = 0; start < rows || shards.length === 0; start += rowsPerShard) {
    const end = Math.min(rows, start + rowsPerShard);
    shards.push({
      index: shards.length,
      start,
      end,
      byteOffset: start * rowBytes,
      bytes: (end - start) * rowBytes,
    });
  }
  return shards;
}
