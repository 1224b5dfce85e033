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
  readonly v: Float64Array;
  readonly args: Float64Array;
}

function compile(params: Params, dataset: DatasetShape): CompiledExpr {
  return compileExpr(params.expr, {
    rowLength: dataset.rowLength,
    rows: dataset.rows,
    dtype: dataset.dtype,
    vectorLength: params.vector?.length,
    argNames: Object.keys(params.args ?? {}),
  });
}

function shared(values: readonly number[]): Float64Array {
  const out = new Float64Array(new SharedArrayBuffer(values.length * 8));
  out.set(values);
  return out;
}

const NO_VECTOR = new Float64Array(0);

/** The env of the last task's params, so a block costs no allocation. */
let last: { readonly task: ExprTask; readonly whole: WholeDataset; readonly env: ExprEnv } | undefined;

function envOf(task: ExprTask, whole: WholeDataset): ExprEnv {
  if (last?.task !== task || last.whole !== whole) {
    const data = task.usesData ? { raw: whole.raw, length: whole.total } : undefined;
    last = { task, whole, env: { data, v: task.v, args: task.args, rows: whole.rows } };
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
    return {
      source: compiled.source,
      usesData: compiled.usesData,
      usesRow: compiled.usesRow,
      v: params.vector === undefined ? NO_VECTOR : shared(params.vector),
      args: Float64Array.from(Object.values(params.args ?? {})),
    };
  },
  rowCost(params, dataset) {
    // What an expression reads across rows is its own business; cost each row as a whole pass.
    if (!compile(params, dataset).usesData) return undefined;
    const total = dataset.rows * dataset.rowLength;
    return () => Math.max(total, 1);
  },
  readsRows: (task) => task.usesRow,
  readsWholeDataset: (task) => task.usesData,
  js(src, off, rows, n, task, out, slot, firstRow, whole) {
    exprKernel(task.source)(src, off, rows, n, firstRow, envOf(task, whole), out, slot);
  },
};
