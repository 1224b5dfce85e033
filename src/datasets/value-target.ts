import type { DType } from './dtypes.js';
import type { Scalar } from './values.js';

/** Where a text upload's values go one by one: shared memory that grows, or a sink's pieces. */
export interface ValueTarget {
  readonly dtype: DType;
  readonly length: number;
  /** Appends one value; `where` names it in the error when it does not fit the dtype. */
  push(value: Scalar, where: (index: number) => string): void;
  /** Told once the elements of a row are known, before or after the first row's values. */
  rowLength?(elements: number): void;
  /** Drops the values and gives back their memory. */
  discard(): void;
}
