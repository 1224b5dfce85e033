import type { Dataset, DatasetStore } from '../datasets/store.js';
import type { MemoryBudget, Reservation } from '../memory.js';
import type { RowNorms } from './kernels/rows.js';

interface Entry {
  readonly values: Float64Array;
  readonly reservation: Reservation;
  /** The job filling the norms, until it succeeds; then undefined and the norms are read. */
  filler: string | undefined;
}

/**
 * Each dataset's row 2-norms, for the ops that divide by them (cosine): with the norms at hand a
 * cosine row costs a dot product instead of a dot product and a sum of squares. The first job over
 * all of a dataset's rows computes them as it goes (the SIMD sum of squares its kernel runs anyway)
 * and writes them here; once it succeeds, later jobs read them. A job that fails or is cancelled
 * takes its half-written norms with it.
 *
 * The norms are float64, 8 bytes a row, counted against the memory limit and given back when the
 * dataset is deleted. They are never made at the cost of anybody's results: when the budget has not
 * that much free, jobs compute the norms themselves as before.
 */
export class RowNormCache {
  readonly #entries = new Map<string, Entry>();
  readonly #budget: MemoryBudget;

  constructor(store: DatasetStore, budget: MemoryBudget) {
    this.#budget = budget;
    // The collection the delete asks for frees them with the dataset.
    store.onDelete((dataset) => {
      const entry = this.#entries.get(dataset.id);
      if (entry !== undefined) this.#drop(dataset.id, entry);
    });
  }

  /**
   * The norms for job `jobId` over rows [start, end) of the dataset: to read once they are complete,
   * to fill for the first job over every row, else undefined (the job computes its own).
   */
  forJob(dataset: Dataset, start: number, end: number, jobId: string): RowNorms | undefined {
    const entry = this.#entries.get(dataset.id);
    if (entry !== undefined)
      return entry.filler === undefined ? { values: entry.values, fill: false } : undefined;
    const bytes = dataset.rows * 8;
    if (start !== 0 || end !== dataset.rows || bytes === 0 || bytes > this.#budget.free) return undefined;
    const reservation = this.#budget.reserve(bytes, "the dataset's row norms");
    const values = new Float64Array(new SharedArrayBuffer(bytes));
    this.#entries.set(dataset.id, { values, reservation, filler: jobId });
    return { values, fill: true };
  }

  /** A job ended: norms it filled are complete if it succeeded, and dropped if not. */
  ended(datasetId: string, jobId: string, succeeded: boolean): void {
    const entry = this.#entries.get(datasetId);
    if (entry === undefined || entry.filler !== jobId) return;
    if (succeeded) entry.filler = undefined;
    else this.#drop(datasetId, entry);
  }

  #drop(datasetId: string, entry: Entry): void {
    entry.reservation.release();
    this.#entries.delete(datasetId);
  }
}
