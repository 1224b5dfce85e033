/**
 * The op registry: one entry per op, saying everything about it (see op.ts). Request validation,
 * the OpenAPI document, the job engine, the workers and the README's op table all read this table.
 */
import { type Static, Type } from 'typebox';
import { DTYPE_INFO } from '../datasets/dtypes.js';
import { prepareBatch } from '../jobs/batch-params.js';
import { batchCosine, batchDot, batchEuclidean } from '../jobs/kernels/batch-simd.js';
import { CODECS } from '../jobs/kernels/convert.js';
import { ROW_KERNELS } from '../jobs/kernels/rows.js';
import {
  MIN_SIMD_ROW_LENGTH,
  type SimdBlockKernel,
  simdCosine,
  simdDot,
  simdEuclidean,
  simdMean,
  simdNorm,
  simdStd,
  simdSum,
  simdVar,
} from '../jobs/kernels/rows-simd.js';
import { stridedMeans, stridedRowCost } from '../jobs/kernels/strided.js';
import { exprOp } from './expr-op.js';
import { kernelOp } from './kernel-op.js';
import type { OpDefinition } from './op.js';

const NoParamsSchema = Type.Object({}, { additionalProperties: false });
const DdofParamsSchema = Type.Object(
  {
    ddof: Type.Optional(
      Type.Integer({
        minimum: 0,
        default: 0,
        description: 'Delta degrees of freedom: the divisor is n - ddof',
      }),
    ),
  },
  { additionalProperties: false },
);
const OrdParamsSchema = Type.Object(
  { ord: Type.Optional(Type.Enum([1, 2, 'inf'], { default: 2, description: 'The norm: 1, 2 or "inf"' })) },
  { additionalProperties: false },
);
const QuantileParamsSchema = Type.Object(
  { q: Type.Number({ minimum: 0, maximum: 1, description: 'The quantile, a number in [0, 1]' }) },
  { additionalProperties: false },
);
export const VectorSchema = Type.Array(Type.Number(), {
  description: 'The query vector, one number per row element',
});
const VectorParamsSchema = Type.Object(
  {
    vector: Type.Optional(VectorSchema),
    vectors: Type.Optional(
      Type.Array(VectorSchema, {
        minItems: 1,
        description:
          'A batch of query vectors, each one number per row element, instead of vector; needs top (k rows per query)',
      }),
    ),
  },
  { additionalProperties: false },
);

/** The most elements a typed array may have. */
const MAX_VIEW_LENGTH = 2 ** 32 - 1;

const never = () => false;
const always = () => true;
const same = <P>(params: P): P => params;
const shortRowsInJs =
  <T>(kernel: SimdBlockKernel<T>) =>
  (_params: T, n: number) =>
    n >= MIN_SIMD_ROW_LENGTH ? kernel : undefined;

function sharedFloat64(values: readonly number[]): Float64Array {
  const out = new Float64Array(new SharedArrayBuffer(values.length * 8));
  out.set(values);
  return out;
}

// Validation has made sure exactly one of vector and vectors is there.
const prepareVector = (params: Static<typeof VectorParamsSchema>) =>
  params.vectors === undefined ? { vector: sharedFloat64(params.vector!) } : prepareBatch(params.vectors);
// Any ddof at or past the row length gives the same answer (inf or NaN), so huge ones are capped.
const prepareDdof = (params: Static<typeof DdofParamsSchema>) => ({
  ddof: Math.min(params.ddof ?? 0, 2 ** 32),
});
// Validation has filled in the default; the kernels' type says so.
const prepareOrd = (params: Static<typeof OrdParamsSchema>) => ({ ord: params.ord ?? 2 });

const reduction = {
  scope: 'rows',
  vector: 'none',
  largestFirst: true,
  needsNonEmptyRows: never,
  prepare: same,
} as const;

const BUILTIN_OPS: readonly OpDefinition[] = [
  {
    ...reduction,
    name: 'sum',
    summary: 'Sum of the row',
    numpy: 'x.sum(1)',
    params: NoParamsSchema,
    result: 'float64',
    js: ROW_KERNELS.sum,
    simd: shortRowsInJs(simdSum),
  },
  {
    ...reduction,
    name: 'mean',
    summary: 'Mean of the row',
    numpy: 'x.mean(1)',
    params: NoParamsSchema,
    result: 'float64',
    js: ROW_KERNELS.mean,
    simd: shortRowsInJs(simdMean),
  },
  {
    ...reduction,
    name: 'min',
    summary: 'Smallest value (NaN if the row has one)',
    numpy: 'x.min(1)',
    params: NoParamsSchema,
    result: 'float64',
    needsNonEmptyRows: always,
    js: ROW_KERNELS.min,
  },
  {
    ...reduction,
    name: 'max',
    summary: 'Largest value (NaN if the row has one)',
    numpy: 'x.max(1)',
    params: NoParamsSchema,
    result: 'float64',
    needsNonEmptyRows: always,
    js: ROW_KERNELS.max,
  },
  {
    ...reduction,
    name: 'argmin',
    summary: 'Index of the smallest value (the first NaN wins)',
    numpy: 'x.argmin(1)',
    params: NoParamsSchema,
    result: 'int64',
    needsNonEmptyRows: always,
    js: ROW_KERNELS.argmin,
  },
  {
    ...reduction,
    name: 'argmax',
    summary: 'Index of the largest value (the first NaN wins)',
    numpy: 'x.argmax(1)',
    params: NoParamsSchema,
    result: 'int64',
    needsNonEmptyRows: always,
    js: ROW_KERNELS.argmax,
  },
  {
    ...reduction,
    name: 'var',
    summary: 'Variance',
    numpy: 'x.var(1, ddof=ddof)',
    params: DdofParamsSchema,
    result: 'float64',
    prepare: prepareDdof,
    js: ROW_KERNELS.var,
    simd: shortRowsInJs(simdVar),
  },
  {
    ...reduction,
    name: 'std',
    summary: 'Standard deviation',
    numpy: 'x.std(1, ddof=ddof)',
    params: DdofParamsSchema,
    result: 'float64',
    prepare: prepareDdof,
    js: ROW_KERNELS.std,
    simd: shortRowsInJs(simdStd),
  },
  {
    ...reduction,
    name: 'norm',
    summary: 'Vector norm',
    numpy: 'np.linalg.norm(x, ord, axis=1)',
    params: OrdParamsSchema,
    result: 'float64',
    needsNonEmptyRows: (params: Static<typeof OrdParamsSchema>) => params.ord === 'inf',
    prepare: prepareOrd,
    js: ROW_KERNELS.norm,
    simd: (params: ReturnType<typeof prepareOrd>, n: number) =>
      n >= MIN_SIMD_ROW_LENGTH ? simdNorm(params) : undefined,
  },
  {
    ...reduction,
    name: 'count_nonzero',
    summary: 'Number of values that are not 0 (NaN counts)',
    numpy: 'np.count_nonzero(x, axis=1)',
    params: NoParamsSchema,
    result: 'int64',
    js: ROW_KERNELS.count_nonzero,
  },
  {
    ...reduction,
    name: 'median',
    summary: 'Median',
    numpy: 'np.median(x, axis=1)',
    params: NoParamsSchema,
    result: 'float64',
    js: ROW_KERNELS.median,
  },
  {
    ...reduction,
    name: 'quantile',
    summary: 'Quantile q, linear interpolation',
    numpy: 'np.quantile(x, q, axis=1)',
    params: QuantileParamsSchema,
    result: 'float64',
    needsNonEmptyRows: always,
    js: ROW_KERNELS.quantile,
  },
  {
    ...reduction,
    name: 'dot',
    summary: 'Dot product with the query vector',
    numpy: 'x @ v',
    params: VectorParamsSchema,
    vector: 'row',
    result: 'float64',
    prepare: prepareVector,
    js: ROW_KERNELS.dot,
    simd: shortRowsInJs(simdDot),
    batch: batchDot,
  },
  {
    ...reduction,
    name: 'cosine',
    summary: 'Cosine similarity with the query vector',
    numpy: '(x @ v) / (np.linalg.norm(x, axis=1) * np.linalg.norm(v))',
    params: VectorParamsSchema,
    vector: 'row',
    result: 'float64',
    prepare: prepareVector,
    js: ROW_KERNELS.cosine,
    simd: shortRowsInJs(simdCosine),
    batch: batchCosine,
    usesRowNorms: true,
  },
  {
    ...reduction,
    name: 'euclidean',
    summary: 'Euclidean distance to the query vector (top keeps the nearest unless largest is true)',
    numpy: 'np.linalg.norm(x - v, axis=1)',
    params: VectorParamsSchema,
    vector: 'row',
    largestFirst: false,
    result: 'float64',
    prepare: prepareVector,
    js: ROW_KERNELS.euclidean,
    simd: shortRowsInJs(simdEuclidean),
    batch: batchEuclidean,
  },
  {
    ...reduction,
    name: 'strided_mean',
    scope: 'dataset',
    summary: 'Mean of every (i+1)-th element of the whole dataset, for dataset row i',
    numpy: 'data.ravel()[::i+1].mean()',
    params: NoParamsSchema,
    result: 'float64',
    check(_params, dataset) {
      // Each segment is read through a view of its own.
      const rows = Math.min(dataset.rows, dataset.segmentRows ?? dataset.rows);
      const needed = rows * dataset.rowLength * CODECS[dataset.dtype].lanes;
      return needed > MAX_VIEW_LENGTH
        ? `strided_mean reads each segment of the dataset through one typed-array view, which holds at most ${MAX_VIEW_LENGTH} elements; this ${dataset.dtype} dataset needs ${needed}`
        : undefined;
    },
    rowCost: (_params, dataset) =>
      stridedRowCost(dataset.rows * dataset.rowLength, DTYPE_INFO[dataset.dtype].itemsize),
    run: (whole, firstRow, rows, _params, out, slot) => stridedMeans(whole, firstRow, rows, out, slot),
  },
  exprOp,
  kernelOp,
];

const BY_NAME = new Map<string, OpDefinition>(BUILTIN_OPS.map((op) => [op.name, op]));

/** Every op, in the order the README and the OpenAPI document list them. */
export function allOps(): readonly OpDefinition[] {
  return [...BY_NAME.values()];
}

/** The op called `name`; the request schema has already refused any other name. */
export function opNamed(name: string): OpDefinition {
  const op = BY_NAME.get(name);
  if (op === undefined) throw new RangeError(`no op is called ${name}`);
  return op;
}

/**
 * Adds an op. Each thread has its own registry, so an op added at run time must be added in the
 * main thread before the app is built (its schemas are made then) and in every worker module too.
 */
export function registerOp(op: OpDefinition): void {
  if (BY_NAME.has(op.name)) throw new RangeError(`an op called ${op.name} exists already`);
  BY_NAME.set(op.name, op);
}
