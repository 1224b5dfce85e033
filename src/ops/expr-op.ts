/**
 * The `expr` op: the user's own per-row function as a NumPy expression (src/expr). The text is
 * compiled where the job is checked, so every refusal is a 400 pointing at its column; the compiled
 * source travels to the workers, which turn it into a kernel once and cache it by its source.
 */
import { type Static, Type } from 'typebox';
import {
  type CompiledExpr,
  compileExpr,
  EXPR_LIMITS,
  type ExprEnv,
  ExprError,
  exprKernel,
} from '../expr/index.js';
import { ROW_KERNELS } from '../jobs/kernels/rows.js';
import {
  MIN_SIMD_ROW_LENGTH,
  type SimdBlockKernel,
  simdMean,
  simdNorm,
  simdStd,
  simdSum,
  simdVar,
} from '../jobs/kernels/rows-simd.js';
import type { SimdKernels } from '../jobs/kernels/simd.js';
import type { DatasetShape, RowOp, WholeDataset } from './op.js';

const ExprParamsSchema = Type.Object(
  {
    expr: Type.String({
      description: `The expression: Python syntax, NumPy semantics, at most ${EXPR_LIMITS.maxTextBytes} bytes (see the README's "Your own function")`,
    }),
    vector: Type.Optional(
      Type.Array(Type.Number(), { description: 'Numbers of any length, available as v' }),
    ),
    args: Type.Optional(
      Type.Record(Type.String(), Type.Number(), {
        description: `Named numbers available by name, at most ${EXPR_LIMITS.maxArgs}`,
      }),
    ),
  },
  { additionalProperties: false },
);

type Params = Static<typeof ExprParamsSchema>;

/** What every task of an expression job reads. */
interface ExprTask {
  readonly source: string;
  readonly usesData: boolean;
  readonly usesRow: boolean;
  /** Added to the block's first row to give `i`: a cluster shard's first row in its dataset. */
  readonly rowOffset: number;
  /** What `rows` reads: the dataset's rows, all shards' together on a cluster. */
  readonly datasetRows: number;
  readonly v: Float64Array;
  readonly args: Float64Array;
  /** The built-in reduction the expression is, if it is exactly one (see BUILTIN_REDUCTIONS). */
  readonly builtin: BuiltinName | undefined;
  /**
   * The source compiled for rows in a WebAssembly memory, when some of its sums then run on the SIMD
   * kernels (ExprShape.simd); the JS source stays for rows elsewhere and rows too short for SIMD.
   */
  readonly simdSource: string | undefined;
  /** What the built-in kernels read: the expression's reductions use NumPy's defaults. */
  readonly ddof: 0;
  readonly ord: 2;
}

/**
 * Expressions that are exactly a built-in op run on that op's kernels, SIMD included: the same
 * answer (NumPy's, pairwise sums alike), and `sum(x)` is then as fast as `{"op": "sum"}`.
 */
const BUILTIN_REDUCTIONS = {
  sum: ROW_KERNELS.sum,
  mean: ROW_KERNELS.mean,
  var: ROW_KERNELS.var,
  std: ROW_KERNELS.std,
  norm: ROW_KERNELS.norm,
} as const;
type BuiltinName = keyof typeof BUILTIN_REDUCTIONS;

const BUILTIN_SIMD: Readonly<Record<BuiltinName, SimdBlockKernel<ExprTask>>> = {
  sum: simdSum,
  mean: simdMean,
  var: simdVar,
  std: simdStd,
  norm: (k, p, rows, n, stride, params, v, out, firstRow) =>
    simdNorm(params)!(k, p, rows, n, stride, params, v, out, firstRow),
};

/** `sum(x)`, `x.sum()`, `x.ravel().sum()` and the like, spaces aside; undefined for anything else. */
function builtinOf(text: string): BuiltinName | undefined {
  const match =
    /^(?:(sum|mean|var|std|norm)\(x(?:\.(?:ravel|flatten)\(\))?\)|x(?:\.(?:ravel|flatten)\(\))?\.(sum|mean|var|std)\(\))$/.exec(
      text.replace(/\s+/g, ''),
    );
  return (match?.[1] ?? match?.[2]) as BuiltinName | undefined;
}

/** Recent compilations by text and shape: a job checks, prepares and costs its expression. */
const COMPILED_CACHE_SIZE = 64;
const compiled = new Map<string, CompiledExpr>();

function compile(params: Params, dataset: DatasetShape, simd = false): CompiledExpr {
  const key = JSON.stringify([
    params.expr,
    simd,
    dataset.rowLength,
    dataset.shardOf?.rows ?? dataset.rows,
    dataset.dtype,
    params.vector?.length,
    Object.keys(params.args ?? {}),
    dataset.segmentRows,
  ]);
  const hit = compiled.get(key);
  if (hit !== undefined) return hit;
  const fresh = compileFresh(params, dataset, simd);
  compiled.set(key, fresh);
  if (compiled.size > COMPILED_CACHE_SIZE) compiled.delete(compiled.keys().next().value!);
  return fresh;
}

function compileFresh(params: Params, dataset: DatasetShape, simd: boolean): CompiledExpr {
  return compileExpr(params.expr, {
    simd,
    rowLength: dataset.rowLength,
    rows: dataset.shardOf?.rows ?? dataset.rows,
    dtype: dataset.dtype,
    vectorLength: params.vector?.length,
    argNames: Object.keys(params.args ?? {}),
    segmentElements:
      dataset.segmentRows !== undefined && dataset.segmentRows < dataset.rows
        ? dataset.segmentRows * dataset.rowLength
        : undefined,
  });
}

function shared(values: readonly number[]): Float64Array {
  const out = new Float64Array(new SharedArrayBuffer(values.length * 8));
  out.set(values);
  return out;
}

const NO_VECTOR = new Float64Array(0);

/** The in-place view and env of the last SIMD block's kernels and task, so a block costs no allocation. */
let lastInPlace:
  | {
      readonly task: ExprTask;
      readonly kernels: SimdKernels;
      readonly src: Float64Array | Float32Array;
      readonly env: ExprEnv;
    }
  | undefined;

/** Rows read in place: `src` views the whole memory, so a row's element offset is its byte offset / itemsize. */
const exprInPlace: SimdBlockKernel<ExprTask> = (k, p, rows, n, stride, task, _v, out, firstRow) => {
  const itemsize = stride / n;
  if (lastInPlace?.task !== task || lastInPlace.kernels !== k) {
    const buffer = k.memory.buffer;
    lastInPlace = {
      task,
      kernels: k,
      src: itemsize === 4 ? new Float32Array(buffer) : new Float64Array(buffer),
      env: { data: undefined, v: task.v, args: task.args, rows: task.datasetRows, sk: k },
    };
  }
  exprKernel(task.simdSource!, itemsize === 4 ? 'float32' : 'float64')(
    lastInPlace.src,
    p / itemsize,
    rows,
    n,
    firstRow + task.rowOffset,
    lastInPlace.env,
    out,
    0,
  );
};

/** The env of the last task's params, so a block costs no allocation. */
let last: { readonly task: ExprTask; readonly whole: WholeDataset; readonly env: ExprEnv } | undefined;

function envOf(task: ExprTask, whole: WholeDataset): ExprEnv {
  if (last?.task !== task || last.whole !== whole) {
    const data = task.usesData
      ? {
          raw: whole.raw,
          length: whole.total,
          segments: whole.segments,
          segmentElements: whole.segmentElements,
        }
      : undefined;
    last = { task, whole, env: { data, v: task.v, args: task.args, rows: task.datasetRows } };
  }
  return last.env;
}

export const exprOp: RowOp<Params, ExprTask> = {
  name: 'expr',
  summary: 'Your own function of the row: a NumPy expression compiled into one fused loop',
  numpy: 'eval(expr) with x = data[i].ravel().astype(np.float64)',
  scope: 'rows',
  result: 'float64',
  params: ExprParamsSchema,
  vector: 'any',
  largestFirst: true,
  needsNonEmptyRows: () => false,
  check(params, dataset) {
    try {
      compile(params, dataset);
      return undefined;
    } catch (err) {
      if (err instanceof ExprError) return `params.expr: ${err.message}`;
      throw err;
    }
  },
  prepare(params, dataset) {
    const compiled = compile(params, dataset);
    const builtin = dataset.rowLength > 0 ? builtinOf(params.expr) : undefined;
    const inPlace =
      builtin === undefined &&
      !compiled.usesData &&
      (dataset.dtype === 'float64' || dataset.dtype === 'float32') &&
      dataset.rowLength >= MIN_SIMD_ROW_LENGTH
        ? compile(params, dataset, true)
        : undefined;
    return {
      source: compiled.source,
      usesData: compiled.usesData,
      usesRow: compiled.usesRow,
      rowOffset: dataset.shardOf?.firstRow ?? 0,
      datasetRows: dataset.shardOf?.rows ?? dataset.rows,
      v: params.vector === undefined ? NO_VECTOR : shared(params.vector),
      args: Float64Array.from(Object.values(params.args ?? {})),
      builtin,
      simdSource: inPlace?.usesSimd === true ? inPlace.source : undefined,
      ddof: 0,
      ord: 2,
    };
  },
  rowCost(params, dataset) {
    // What an expression reads across rows is its own business; cost each row as a whole pass.
    if (!compile(params, dataset).usesData) return undefined;
    const total = dataset.rows * dataset.rowLength;
    return () => Math.max(total, 1);
  },
  readsRows: (task) => task.usesRow,
  // The built-in reductions' kernels are shared with the other ops and stay on float64.
  readsFloat32: (task) => task.builtin === undefined,
  readsWholeDataset: (task) => task.usesData,
  simd: (task, n) =>
    n < MIN_SIMD_ROW_LENGTH
      ? undefined
      : task.builtin !== undefined
        ? BUILTIN_SIMD[task.builtin]
        : task.simdSource !== undefined
          ? exprInPlace
          : undefined,
  js(src, off, rows, n, task, out, slot, firstRow, whole) {
    if (task.builtin !== undefined) BUILTIN_REDUCTIONS[task.builtin](src, off, rows, n, task, out, slot);
    else
      exprKernel(task.source, src instanceof Float32Array ? 'float32' : 'float64')(
        src,
        off,
        rows,
        n,
        firstRow + task.rowOffset,
        envOf(task, whole),
        out,
        slot,
      );
  },
};
