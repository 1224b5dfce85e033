/**
 * compileExpr: text and dataset shape in, the source of a kernel factory out. The source is made
 * only of the generator's fixed templates, generated names and numbers it formatted itself.
 */
import { ExprError } from './errors.js';
import { DATA_READ, type ExprShape, Generator } from './generator.js';
import { parse } from './parser.js';
import { RUNTIME } from './runtime.js';
import { asNumber } from './values.js';

export interface CompiledExpr {
  /** Body of `function (rt) { … }` that returns the block kernel; give it to exprKernel. */
  readonly source: string;
  /** True when the expression reads `data`/`dataset`, so the runner must supply `env.data`. */
  readonly usesData: boolean;
  /** True when the expression reads `v`. */
  readonly usesVector: boolean;
  /** True when the expression reads the row itself (`x`); `data[::i+1].mean()` does not. */
  readonly usesRow: boolean;
  /** True when some of its sums call the SIMD kernels (`ExprShape.simd`), which `env.sk` must hold. */
  readonly usesSimd: boolean;
}

const RUNTIME_NAMES = Object.keys(RUNTIME);

/**
 * The kernel's names for `data`: D, the one view, or DR(j), which reads element j from its segment
 * (every segment's view is of one class, so DR stays monomorphic).
 */
function dataLines(shape: ExprShape): string[] {
  if (shape.segmentElements === undefined) return ['const D = env.data.raw;', 'const DL = env.data.length;'];
  return [
    'const DS = env.data.segments;',
    'const SE = env.data.segmentElements;',
    'const DL = env.data.length;',
    `const DR = (j) => { const s = Math.floor(j / SE); const D = DS[s]; const k = j - s * SE; return ${DATA_READ[shape.dtype]('k')}; };`,
  ];
}

export function compileExpr(text: string, shape: ExprShape): CompiledExpr {
  const tree = parse(text);
  const g = new Generator(shape);
  const result = g.gen(tree);
  if (result.shape === 'array') {
    throw new ExprError(
      'the expression gives an array for each row; reduce it to one number, e.g. with sum(...), mean(...), max(...) or x[0]',
      1,
    );
  }
  const body = g.em.body();
  const usesVector = body.some((line) => /\bV\b|\bVL\b/.test(line)) || result.js === 'VL';
  const lines = [
    "'use strict';",
    `const { ${RUNTIME_NAMES.join(', ')} } = rt;`,
    'const ST = new Float64Array(64);',
    ...g.em.scratch.map((s) => `let ${s} = new Float64Array(16);`),
    ...g.em.selects.map((s) => `const ${s} = new Float64Array(2);`),
    'return function kernel(src, off, count, n, firstRow, env, out, slot) {',
    'const rows = env.rows;',
    ...(g.usesData ? dataLines(shape) : []),
    ...(g.usesSimd ? ['const SK = env.sk;'] : []),
    'const V = env.v;',
    'const VL = V.length;',
    ...shape.argNames.map((_, j) => `const a${j} = env.args[${j}];`),
    'for (let r = 0; r < count; r++) {',
    'const o = off + r * n;',
    'const i = firstRow + r;',
    ...body,
    `out[slot + r] = ${asNumber(result.kind, result.js)};`,
    '}',
    '};',
  ];
  const usesRow = g.usesSimd || body.some((line) => /\bsrc\b/.test(line)) || /\bsrc\b/.test(result.js);
  return { source: lines.join('\n'), usesData: g.usesData, usesVector, usesRow, usesSimd: g.usesSimd };
}
