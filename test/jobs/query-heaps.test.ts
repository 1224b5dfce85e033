import { describe, expect, it } from 'vitest';
import { ahead, QueryHeaps } from '../../src/jobs/query-heaps.js';
import { topK } from '../../src/jobs/topk.js';
import { mulberry32 } from '../helpers/random.js';

/** Few distinct values, so ties are common, with NaN and both infinities among them. */
function values(rng: () => number, count: number): number[] {
  const pool = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 0, 1, -1, 2, 3, 0.5];
  return Array.from({ length: count }, () => pool[Math.floor(rng() * pool.length)]);
}

/** Each query's kept (row, value) pairs, best first. */
function kept(heaps: QueryHeaps, rows: number): Array<Array<[number, number]>> {
  const out = new Float64Array(2 * heaps.queries * heaps.capacity);
  heaps.write(out, 0);
  return Array.from({ length: heaps.queries }, (_, j) => {
    const pairs: Array<[number, number]> = [];
    for (let c = 0; c < heaps.capacity; c++) {
      const at = 2 * (j * heaps.capacity + c);
      pairs.push([out[at], out[at + 1]]);
    }
    expect(pairs.every(([row]) => row >= 0 && row < rows)).toBe(true);
    return pairs.sort(([ra, va], [rb, vb]) => (ahead(va, ra, vb, rb, heaps.largest) ? -1 : 1));
  });
}

describe('QueryHeaps bars', () => {
  it.each([true, false])(
    'rule out only offers that cannot enter: skipping them keeps the same rows (largest: %s)',
    (largest) => {
      const rng = mulberry32(largest ? 1 : 2);
      for (const [queries, capacity, rows] of [
        [3, 4, 200],
        [1, 1, 50],
        [2, 7, 7],
        [5, 10, 400],
      ]) {
        const scores = Array.from({ length: queries }, () => values(rng, rows));
        // Every offer made, as before the bars: the rows topK picks.
        const all = new QueryHeaps(queries, capacity, largest);
        for (let r = 0; r < rows; r++) for (let j = 0; j < queries; j++) all.offer(j, scores[j][r], r);
        const expected = kept(all, rows);
        for (let j = 0; j < queries; j++) {
          const want = topK(scores[j], 0, capacity, largest);
          expect(expected[j].map(([row]) => row)).toEqual(want.indices);
        }
        const filtered = new QueryHeaps(queries, capacity, largest);
        let skipped = 0;
        for (let r = 0; r < rows; r++) {
          for (let j = 0; j < queries; j++) {
            const v = scores[j][r];
            const bar = filtered.bars[j];
            if (largest ? v <= bar : v >= bar) skipped++;
            else filtered.offer(j, v, r);
          }
        }
        expect(kept(filtered, rows)).toEqual(expected);
        if (rows > 4 * capacity) expect(skipped).toBeGreaterThan(0);
      }
    },
  );

  it('are NaN until a heap is full, then its root', () => {
    const heaps = new QueryHeaps(2, 2, true);
    expect(Array.from(heaps.bars.subarray(0, 2))).toEqual([Number.NaN, Number.NaN]);
    heaps.offer(0, 5, 0);
    expect(heaps.bars[0]).toBeNaN();
    heaps.offer(0, 3, 1);
    expect(heaps.bars[0]).toBe(3);
    heaps.offer(0, 4, 2);
    expect(heaps.bars[0]).toBe(4);
    heaps.offer(1, Number.NaN, 0);
    heaps.offer(1, 1, 1);
    // A NaN root can be displaced by any number: the bar lets every value through.
    expect(heaps.bars[1]).toBeNaN();
    heaps.offer(1, -7, 2);
    expect(heaps.bars[1]).toBe(-7);
    expect(heaps.bars[0]).toBe(4);
  });
});
