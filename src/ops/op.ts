/**
 * What an op is: everything the service needs to know about one per-row computation, in one entry
 * of the registry (registry.ts). Validation, the OpenAPI document, the engine and the workers read
 * entries of this shape and nothing else, so adding an op is an entry, a kernel and golden cases.
 */
import type { TObject } from 'typebox';
import type { DType } from '../datasets/dtypes.js';
import type { ShardPlace } from '../datasets/store.js';
import type { BatchScorer } from '../jobs/kernels/batch-simd.js';
import type { Codec, RawView } from '../jobs/kernels/convert.js';
import type { SimdBlockKernel } from '../jobs/kernels/rows-simd.js';
import type { KernelLookup } from '../user-kernels/lookup.js';

/** What an op may look at when it checks or prepares its params. */
export interface DatasetShape {
  readonly dtype: DType;
  readonly rows: number;
  readonly rowLength: number;
  /** Set when these rows are a cluster shard of a larger dataset. */
  readonly shardOf?: ShardPlace;
  /** Rows in each segment but the last, for a dataset split into segments (shared-array.ts). */
  readonly segmentRows?: number;
}

/**
 * What the app lends the ops when a job is checked and prepared on the main thread: state that
 * lives in the app rather than in the op registry, which every thread has its own copy of.
 */
export interface OpContext {
  /** The uploaded WebAssembly kernels; undefined when ROWPOOL_KERNELS is off. */
  readonly kernels?: KernelLookup;
}

/** A limit on how long a job may run, and what its error says when it is reached. */
export interface JobTimeLimit {
  readonly ms: number;
  readonly message: string;
}

/**
 * The whole dataset, flattened in C order, in its stored dtype: for ops that read across rows.
 * Element j is element `j - s * segmentElements` of `segments[s]`, s = floor(j / segmentElements).
 */
export interface WholeDataset {
  readonly codec: Codec<RawView>;
  /** The first segment's view: every element, for a dataset in one segment. */
  readonly raw: RawView;
  /** Elements in the dataset. */
  readonly total: number;
  readonly rows: number;
  readonly segments: readonly RawView[];
  /** Elements in each segment but the last. */
  readonly segmentElements: number;
}

/**
 * Computes rows [0, rows) of a block. Row r is `src[off + r * n .. off + (r + 1) * n)` as float64,
 * dataset row `firstRow + r`; its result goes to `out[slot + r]` (for int64 results `out` views the
 * cells as Int32 pairs: see int64.ts).
 */
export type RowKernel<T, O> = (
  src: Float64Array,
  off: number,
  rows: number,
  n: number,
  params: T,
  out: O,
  slot: number,
  firstRow: number,
  whole: WholeDataset,
) => void;

/** Computes dataset rows [firstRow, firstRow + rows) from the whole dataset, into `out[slot..]`. */
export type DatasetKernel<T> = (
  whole: WholeDataset,
  firstRow: number,
  rows: number,
  params: T,
  out: Float64Array,
  slot: number,
) => void;

/**
 * `P` is the op's params as validated from the request (TypeBox, defaults filled in); `T` what its
 * kernels read, made from P once per job by `prepare` on the main thread and sent to every task.
 * Methods, not function properties, so entries with different params share one table type.
 */
interface OpCommon<P, T> {
  readonly name: string;
  /** One line for the README's op table and the OpenAPI description. */
  readonly summary: string;
  /** The NumPy expression it equals, for the same table. */
  readonly numpy: string;
  /** The params object's schema: every key documented, defaults given, unknown keys refused. */
  readonly params: TObject;
  /**
   * 'row': params.vector (one number per row element) or params.vectors (a batch of such queries,
   * scored by `batch`) is required; 'any': params.vector is optional, any length; 'none': the op
   * takes no vector.
   */
  readonly vector: 'row' | 'any' | 'none';
  /** Which end of the ranking `top` keeps unless the request says (`largest`). */
  readonly largestFirst: boolean;
  /** Whether NumPy refuses the op on rows of length 0 ("zero-size array to reduction operation"). */
  needsNonEmptyRows(params: P): boolean;
  /** Why these params cannot run on this dataset (answered as a 400), or undefined. */
  check?(params: P, dataset: DatasetShape, context?: OpContext): string | undefined;
  prepare(params: P, dataset: DatasetShape, context?: OpContext): T;
  /**
   * How long a job may run, for ops whose kernels may never return: at the limit the engine aborts
   * the job's chunks (Piscina replaces the threads running them) and fails the job with the message.
   */
  timeLimit?(params: T): JobTimeLimit | undefined;
  /** Whether the kernels read across rows (WholeDataset), not only the block's own rows. */
  readsWholeDataset?(params: T): boolean;
  /** Elements a worker reads for dataset row `row`, when rows cost unequal amounts. */
  rowCost?(params: P, dataset: DatasetShape): ((row: number) => number) | undefined;
}

export interface RowOp<P = unknown, T = unknown> extends OpCommon<P, T> {
  readonly scope: 'rows';
  readonly result: 'float64';
  /** Whether the kernel reads row `x` at all (an expression over `data` alone does not). */
  readsRows?(params: T): boolean;
  /**
   * Whether `js` takes float32 rows as stored (`src` a Float32Array) instead of a float64 copy made a
   * block at a time; such a kernel must keep each element type on code of its own (monomorphic).
   */
  readsFloat32?(params: T): boolean;
  js(...args: Parameters<RowKernel<T, Float64Array>>): void;
  /** The SIMD kernel for these params on rows of length n, if it has one that pays there. */
  simd?(params: T, n: number): SimdBlockKernel<T> | undefined;
  /** Scores a block of rows against a batch of queries, for ops that take `params.vectors`. */
  readonly batch?: BatchScorer;
  /**
   * Whether the kernels take the dataset's row 2-norms as `params.norms` (RowNorms), which the
   * engine caches per dataset (jobs/norm-cache.ts) for one-query jobs.
   */
  readonly usesRowNorms?: boolean;
}

export interface IndexRowOp<P = unknown, T = unknown> extends OpCommon<P, T> {
  readonly scope: 'rows';
  readonly result: 'int64';
  readsRows?: undefined;
  readsFloat32?: undefined;
  js(...args: Parameters<RowKernel<T, Int32Array>>): void;
  simd?: undefined;
  readonly batch?: undefined;
  readonly usesRowNorms?: undefined;
}

export interface DatasetOp<P = unknown, T = unknown> extends OpCommon<P, T> {
  readonly scope: 'dataset';
  readonly result: 'float64';
  run(...args: Parameters<DatasetKernel<T>>): void;
}

export type OpDefinition<P = unknown, T = unknown> = RowOp<P, T> | IndexRowOp<P, T> | DatasetOp<P, T>;
