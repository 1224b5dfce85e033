import { describe, expect, it } from 'vitest';
import { readInt64 } from '../src/int64.js';
import { topK } from '../src/jobs/topk.js';

const { NaN: nan, POSITIVE_INFINITY: inf, NEGATIVE_INFINITY: ninf } = Number;

/** The ranking by a full stable sort: numbers by value (NaN last), ties kept in row order. */
function sortedReference(values: number[], firstRow: number, k: number, largest: boolean) {
  const order = values
    .map((value, position) => ({ value, position }))
    .sort((a, b) => {
      if (Number.isNaN(a.value) || Number.isNaN(b.value))
        return Number(Number.isNaN(a.value)) - Number(Number.isNaN(b.value));
      return largest ? b.value - a.value || 0 : a.value - b.value || 0;
    })
    .slice(0, k);
  return { indices: order.map((o) => firstRow + o.position), values: order.map((o) => o.value) };
}

describe('topK', () => {
  it('keeps the k largest or smallest, best first, with dataset row indices', () => {
    const values = Float64Array.of(5, 1, 9, 3, 7);
    expect(topK(values, 100, 3, true)).toEqual({ indices: [102, 104, 100], values: [9, 7, 5] });
    expect(topK(values, 100, 2, false)).toEqual({ indices: [101, 103], values: [1, 3] });
  });

  it('breaks ties by the lower row index', () => {
    const values = [2, 4, 4, 1, 4, 2];
    expect(topK(values, 0, 2, true)).toEqual({ indices: [1, 2], values: [4, 4] });
    expect(topK(values, 0, 4, true)).toEqual({ indices: [1, 2, 4, 0], values: [4, 4, 4, 2] });
    expect(topK(values, 0, 2, false)).toEqual({ indices: [3, 0], values: [1, 2] });
    expect(topK([0, -0, 0], 0, 2, true).indices).toEqual([0, 1]);
  });

  it('ranks NaN behind every number, -inf included, in both directions', () => {
    const values = [nan, ninf, 3, nan, inf, -2];
    expect(topK(values, 0, 6, true)).toEqual({
      indices: [4, 2, 5, 1, 0, 3],
      values: [inf, 3, -2, ninf, nan, nan],
    });
    expect(topK(values, 0, 6, false)).toEqual({
      indices: [1, 5, 2, 4, 0, 3],
      values: [ninf, -2, 3, inf, nan, nan],
    });
    expect(topK(values, 0, 4, true).indices).toEqual([4, 2, 5, 1]);
    expect(topK([nan, nan, ninf], 0, 2, true)).toEqual({ indices: [2, 0], values: [ninf, nan] });
  });

  it('returns everything, ranked, when k exceeds the count', () => {
    expect(topK([3, 1, 2], 10, 10, true)).toEqual({ indices: [10, 12, 11], values: [3, 2, 1] });
    expect(topK([], 0, 5, false)).toEqual({ indices: [], values: [] });
  });

  it('returns nothing for k = 0 and refuses a negative or fractional k', () => {
    expect(topK([1, 2], 0, 0, true)).toEqual({ indices: [], values: [] });
    expect(() => topK([1, 2], 0, -1, true)).toThrow(RangeError);
    expect(() => topK([1, 2], 0, 1.5, true)).toThrow(RangeError);
  });

  it('agrees with a full sort on many repeated values and NaNs', () => {
    let seed = 12345;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const pool = [nan, inf, ninf, 0, 1, -1, 2.5];
    for (const n of [1, 10, 100, 2000]) {
      const values = Array.from({ length: n }, () =>
        next() < 0.5 ? pool[Math.floor(next() * pool.length)] : next(),
      );
      for (const k of [1, 3, 17, n, n + 5]) {
        for (const largest of [true, false]) {
          expect(topK(values, 7, k, largest)).toEqual(sortedReference(values, 7, k, largest));
        }
      }
    }
  });
});

describe('readInt64', () => {
  it('reads little-endian int64 values as numbers', () => {
    const buffer = new ArrayBuffer(4 * 8);
    new BigInt64Array(buffer).set([0n, 7n, 2n ** 40n + 3n, -5n]);
    expect(Array.from(readInt64(buffer, 4))).toEqual([0, 7, 2 ** 40 + 3, -5]);
    expect(Array.from(readInt64(buffer, 2))).toEqual([0, 7]);
  });
});
