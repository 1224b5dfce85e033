/**
 * Expressions: NumPy-flavoured Python expressions compiled into fused per-row kernels.
 * compileExpr runs where the request is checked (its ExprError is a 400); exprKernel runs in the
 * worker that computes rows.
 */
export { type CompiledExpr, compileExpr } from './compile.js';
export { ExprError, ExprRowError } from './errors.js';
export type { ExprShape } from './generator.js';
export {
  type DataReader,
  EXPR_CACHE_SIZE,
  type ExprBlockKernel,
  type ExprEnv,
  exprCacheSize,
  exprKernel,
} from './kernel.js';
export { EXPR_LIMITS } from './limits.js';
