import { InvalidDatasetRequest } from '../errors.js';

/**
 * The shape of JSON "data" as its lists open and close: the first list to close at each level fixes
 * that level's length, and every later list must match it. Ragged lists, elements where lists belong
 * (or the reverse) and nesting past the maximum depth are refused as soon as they are seen.
 */
export class JsonDataShape {
  readonly #maxDepth: number;
  /** The position of the current element in each open list (-1 before its first). */
  readonly #pos: number[] = [];
  readonly #dims: Array<number | undefined> = [];
  #ndim: number | undefined;

  constructor(maxDepth: number) {
    this.#maxDepth = maxDepth;
  }

  open(): void {
    const depth = this.#pos.length;
    if (depth > 0) {
      if (this.#ndim !== undefined && depth >= this.#ndim) {
        throw this.#ragged(`${this.nextHere()} is a list where a number belongs`);
      }
      this.#element();
    }
    if (depth >= this.#maxDepth) {
      throw new InvalidDatasetRequest(
        `"data" is nested more than ${this.#maxDepth} lists deep; at most ${this.#maxDepth} dimensions are accepted`,
      );
    }
    this.#pos.push(-1);
  }

  /** Closes the innermost list; true when that was "data" itself. */
  close(): boolean {
    const level = this.#pos.length - 1;
    const count = (this.#pos.pop() as number) + 1;
    if (count === 0) {
      if (level === 0) throw new InvalidDatasetRequest('"data" is empty; send at least one row');
      this.#ndim ??= level + 1;
      if (this.#ndim !== level + 1) throw this.#ragged(`${this.#here()} is an empty list where lists belong`);
    }
    const known = this.#dims[level];
    if (known === undefined) this.#dims[level] = count;
    else if (count !== known) {
      throw this.#ragged(`${this.#here()} has length ${count} where a list of ${known} belongs`);
    }
    return this.#pos.length === 0;
  }

  /** Counts a number (or other scalar) as the next element of the innermost list. */
  leaf(): void {
    const depth = this.#pos.length;
    this.#ndim ??= depth;
    if (depth !== this.#ndim) throw this.#ragged(`${this.nextHere()} is a number where a list belongs`);
    this.#element();
  }

  /** Where the next element goes, e.g. `data[3][1]`. */
  nextHere(): string {
    const last = this.#pos.length - 1;
    return `data${this.#pos.map((p, d) => `[${d === last ? p + 1 : p}]`).join('')}`;
  }

  /** The shape once "data" has closed. */
  final(): number[] {
    return this.#dims.map((d) => d ?? 0);
  }

  /** Elements in each row (data[i]), known once data[0] has closed, or at the first element of 1-D data. */
  rowLength(): number | undefined {
    const ndim = this.#ndim;
    if (ndim === undefined) return undefined;
    if (ndim > 1 && this.#dims[1] === undefined) return undefined;
    let elements = 1;
    for (let d = 1; d < ndim; d++) elements *= this.#dims[d] ?? 0;
    return elements;
  }

  /** Where flat element `index` came from, e.g. `data[1][0]`. */
  describe(index: number): string {
    const dims = this.final();
    const path: number[] = [];
    let rest = index;
    for (let d = dims.length - 1; d >= 0; d--) {
      path.unshift(rest % dims[d]);
      rest = Math.floor(rest / dims[d]);
    }
    return `data${path.map((p) => `[${p}]`).join('')}`;
  }

  #element(): void {
    const level = this.#pos.length - 1;
    const known = this.#dims[level];
    if (known !== undefined && this.#pos[level] + 1 >= known) {
      throw this.#ragged(`${this.#here()} has more than ${known} elements`);
    }
    this.#pos[level]++;
  }

  #here(): string {
    return `data${this.#pos.map((p) => `[${p}]`).join('')}`;
  }

  #ragged(what: string): Error {
    const shape = this.#dims.map((d) => d ?? '?').join(', ');
    return new InvalidDatasetRequest(`${what} (the shape so far is (${shape})): the lists are ragged`);
  }
}
