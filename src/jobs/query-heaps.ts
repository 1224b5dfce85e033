/**
 * The k best rows of one task for each query of a batch: one bounded heap per query, whose root is
 * the worst row kept, so most rows cost one comparison. Ranking as in topk.ts: better values first,
 * ties to the lower row, NaN behind every number. Rows must be offered in increasing order, so a
 * newcomer never wins a tie against a row already kept.
 *
 * The buffers are grown, never shrunk, and reused from task to task: a worker allocates nothing per
 * row.
 */
let values = new Float64Array(0);
let rows = new Float64Array(0);
let sizes = new Int32Array(0);
let bars = new Float64Array(0);

/** Whether (va, ra) ranks ahead of (vb, rb). */
export function ahead(va: number, ra: number, vb: number, rb: number, largest: boolean): boolean {
  if (Number.isNaN(va)) return Number.isNaN(vb) && ra < rb;
  if (Number.isNaN(vb)) return true;
  if (va === vb) return ra < rb;
  return largest ? va > vb : va < vb;
}

export class QueryHeaps {
  readonly queries: number;
  readonly capacity: number;
  readonly largest: boolean;
  /**
   * Per query, the value a newcomer must beat: the root's once the heap is full, NaN before that
   * (and while the root is NaN). A value v that `largest ? v <= bar : v >= bar` cannot enter, so a
   * caller skips its offer with one comparison; any other value (NaN included) goes to `offer`.
   */
  readonly bars: Float64Array;

  constructor(queries: number, capacity: number, largest: boolean) {
    this.queries = queries;
    this.capacity = capacity;
    this.largest = largest;
    const cells = queries * capacity;
    if (values.length < cells) {
      values = new Float64Array(cells);
      rows = new Float64Array(cells);
    }
    if (sizes.length < queries) {
      sizes = new Int32Array(queries);
      bars = new Float64Array(queries);
    }
    sizes.fill(0, 0, queries);
    bars.fill(Number.NaN, 0, queries);
    this.bars = bars;
  }

  /** Offers row `row`'s value for query `j`. */
  offer(j: number, value: number, row: number): void {
    const cap = this.capacity;
    const base = j * cap;
    const largest = this.largest;
    const size = sizes[j];
    if (size < cap) {
      let child = size;
      sizes[j] = size + 1;
      while (child > 0) {
        const parent = (child - 1) >> 1;
        if (!ahead(values[base + parent], rows[base + parent], value, row, largest)) break;
        values[base + child] = values[base + parent];
        rows[base + child] = rows[base + parent];
        child = parent;
      }
      values[base + child] = value;
      rows[base + child] = row;
      if (size + 1 === cap) bars[j] = values[base];
      return;
    }
    const root = values[base];
    // The newcomer's row is the highest yet, so only a strictly better value (or a number against a
    // NaN root) displaces the root.
    if (!(largest ? value > root : value < root) && !(Number.isNaN(root) && !Number.isNaN(value))) return;
    let parent = 0;
    for (;;) {
      let worst = 2 * parent + 1;
      if (worst >= cap) break;
      if (
        worst + 1 < cap &&
        ahead(
          values[base + worst],
          rows[base + worst],
          values[base + worst + 1],
          rows[base + worst + 1],
          largest,
        )
      ) {
        worst++;
      }
      if (!ahead(value, row, values[base + worst], rows[base + worst], largest)) break;
      values[base + parent] = values[base + worst];
      rows[base + parent] = rows[base + worst];
      parent = worst;
    }
    values[base + parent] = value;
    rows[base + parent] = row;
    bars[j] = values[base];
  }

  /**
   * Writes each query's kept rows, unordered, as (row, value) pairs of float64 from `out[at]` on:
   * query j's `capacity` pairs first at `at + 2 * j * capacity`. Every heap is full once the task
   * has offered at least `capacity` rows, which the engine's plan makes sure of.
   */
  write(out: Float64Array, at: number): void {
    const cells = this.queries * this.capacity;
    for (let c = 0; c < cells; c++) {
      out[at + 2 * c] = rows[c];
      out[at + 2 * c + 1] = values[c];
    }
  }
}
