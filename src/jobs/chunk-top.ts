/**
 * Where the chunks of a top job put their best rows, and how the engine merges them. Chunk c keeps
 * min(k, its rows) rows per query (query-heaps.ts), so a job holds at most min(k * chunks, rows)
 * candidates per query, never a score per row and query. A batch (`params.vectors`) has one list of
 * rows per query; any other top job is a batch of one.
 */
import { ahead } from './query-heaps.js';
import type { TopK } from './topk.js';

export class ChunkTop {
  readonly queries: number;
  readonly k: number;
  /** Float64 cells the candidates take: two (row, value) per candidate. */
  readonly cells: number;
  readonly #at = new Map<number, number>();
  readonly #bounds: readonly number[];

  /** `bounds` are the job's chunk boundaries (chunks.ts). */
  constructor(bounds: readonly number[], queries: number, k: number) {
    this.queries = queries;
    this.k = k;
    this.#bounds = bounds;
    let cells = 0;
    for (let c = 0; c + 1 < bounds.length; c++) {
      this.#at.set(bounds[c], cells);
      cells += 2 * queries * Math.min(k, bounds[c + 1] - bounds[c]);
    }
    this.cells = cells;
  }

  /** The float64 index of the result buffer where the chunk starting at row `r0` writes. */
  slotOf(r0: number): number {
    return this.#at.get(r0)!;
  }

  /** Each query's k best rows of all chunks, best first, ties to the lower row, NaN last. */
  merge(buffer: SharedArrayBuffer, largest: boolean): TopK[] {
    const cells = new Float64Array(buffer, 0, this.cells);
    const bounds = this.#bounds;
    const out: TopK[] = [];
    for (let j = 0; j < this.queries; j++) {
      const rows: number[] = [];
      const values: number[] = [];
      for (let c = 0; c + 1 < bounds.length; c++) {
        const cap = Math.min(this.k, bounds[c + 1] - bounds[c]);
        const at = this.#at.get(bounds[c])! + 2 * j * cap;
        for (let i = 0; i < cap; i++) {
          rows.push(cells[at + 2 * i]);
          values.push(cells[at + 2 * i + 1]);
        }
      }
      const order = rows.map((_, i) => i);
      order.sort((a, b) => (ahead(values[a], rows[a], values[b], rows[b], largest) ? -1 : 1));
      order.length = Math.min(order.length, this.k);
      out.push({ indices: order.map((i) => rows[i]), values: order.map((i) => values[i]) });
    }
    return out;
  }
}
