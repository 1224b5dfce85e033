/**
 * Top-k over a job's per-row results, with a bounded heap: O(n log k) time and O(k) memory, since a
 * job may have millions of rows and k is usually small.
 *
 * Ranking: better values first (larger when `largest`, else smaller), ties to the lower row, and
 * NaN behind every number (-inf included) in both directions, as a sort that puts NaN last would.
 */
export interface TopK {
  /** Dataset row indices, best first. */
  indices: number[];
  values: number[];
}

/** Whether the value at position a ranks ahead of the one at position b. */
function ahead(values: ArrayLike<number>, a: number, b: number, largest: boolean): boolean {
  const va = values[a];
  const vb = values[b];
  if (Number.isNaN(va)) return Number.isNaN(vb) && a < b;
  if (Number.isNaN(vb)) return true;
  if (va === vb) return a < b;
  return largest ? va > vb : va < vb;
}

/**
 * The k best of `values` (`values[0]` being dataset row `firstRow`), best first. With k at least
 * the number of values, all of them come back in ranked order.
 */
export function topK(values: ArrayLike<number>, firstRow: number, k: number, largest: boolean): TopK {
  if (!Number.isSafeInteger(k) || k < 0) throw new RangeError(`k must be an integer >= 0, not ${k}`);
  const n = values.length;
  const capacity = Math.min(k, n);
  // A heap of positions whose root is the worst one kept, so each newcomer is checked against it.
  const heap = new Float64Array(capacity);
  let size = 0;
  for (let p = 0; p < n; p++) {
    if (size < capacity) {
      let child = size++;
      while (child > 0) {
        const parent = (child - 1) >> 1;
        if (!ahead(values, heap[parent], p, largest)) break;
        heap[child] = heap[parent];
        child = parent;
      }
      heap[child] = p;
    } else if (capacity > 0 && ahead(values, p, heap[0], largest)) {
      let parent = 0;
      for (;;) {
        let worst = 2 * parent + 1;
        if (worst >= size) break;
        if (worst + 1 < size && ahead(values, heap[worst], heap[worst + 1], largest)) worst++;
        if (!ahead(values, p, heap[worst], largest)) break;
        heap[parent] = heap[worst];
        parent = worst;
      }
      heap[parent] = p;
    }
  }
  const ranked = Array.from(heap).sort((a, b) => (ahead(values, a, b, largest) ? -1 : 1));
  return { indices: ranked.map((p) => firstRow + p), values: ranked.map((p) => values[p]) };
}
