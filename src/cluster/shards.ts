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
 * A dataset with no rows, or rows of no bytes, is one shard, so it still has an owner.
 */
export function planShards(rows: number, rowBytes: number, maxShardBytes: number): Shard[] {
  if (!Number.isSafeInteger(maxShardBytes) || maxShardBytes <= 0) {
    throw new RangeError(`the shard size must be a positive integer, got ${maxShardBytes}`);
  }
  const rowsPerShard = rowBytes === 0 ? Math.max(rows, 1) : Math.max(1, Math.floor(maxShardBytes / rowBytes));
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
