import { InvalidDatasetRequest } from '../errors.js';
import type { ArraySink } from './array-sink.js';
import { DTYPE_INFO, type DType } from './dtypes.js';
import type { ValueTarget } from './value-target.js';
import { type ElementView, type Encoder, encodeProblemText, encoderFor, viewFor } from './values.js';

/** Values encoded before they are handed to the sink at once: one write per batch, not per value. */
const BATCH_ELEMENTS = 8192;

/** A text upload's values, encoded in the dtype and written to a sink in batches, in order. */
export class SinkValues implements ValueTarget {
  readonly dtype: DType;
  readonly #sink: ArraySink;
  readonly #itemsize: number;
  readonly #encode: Encoder;
  readonly #view: ElementView;
  readonly #bytes: Uint8Array;
  #batched = 0;
  #length = 0;

  constructor(dtype: DType, sink: ArraySink) {
    this.dtype = dtype;
    this.#sink = sink;
    this.#itemsize = DTYPE_INFO[dtype].itemsize;
    this.#encode = encoderFor(dtype);
    const buffer = new SharedArrayBuffer(BATCH_ELEMENTS * this.#itemsize);
    this.#view = viewFor(dtype, buffer);
    this.#bytes = new Uint8Array(buffer);
  }

  get length(): number {
    return this.#length;
  }

  push(value: Parameters<ValueTarget['push']>[0], where: (index: number) => string): void {
    const problem = this.#encode(this.#view, this.#batched, value);
    if (problem !== undefined) {
      throw new InvalidDatasetRequest(encodeProblemText(problem, where(this.#length), value, this.dtype));
    }
    this.#batched++;
    this.#length++;
    if (this.#batched === BATCH_ELEMENTS) this.flush();
  }

  rowLength(elements: number): void {
    this.#sink.setRowBytes(elements * this.#itemsize);
  }

  /** Hands the values encoded so far to the sink; the reader calls it before awaiting the sink. */
  flush(): void {
    if (this.#batched === 0) return;
    this.#sink.write(this.#bytes.subarray(0, this.#batched * this.#itemsize));
    this.#batched = 0;
  }

  discard(): void {
    this.#batched = 0;
  }
}
