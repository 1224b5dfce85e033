import { describe, expect, it } from 'vitest';
import {
  compileExpr,
  EXPR_CACHE_SIZE,
  type ExprEnv,
  ExprRowError,
  type ExprShape,
  exprCacheSize,
  exprKernel,
} from '../../src/expr/index.js';
import { CODECS } from '../../src/jobs/kernels/convert.js';
import { pairwiseSum } from '../../src/jobs/kernels/pairwise.js';
import { stridedMeans } from '../../src/jobs/kernels/strided.js';
import { loadGoldens } from './goldens.js';

function run(
  text: string,
  src: Float64Array,
  shape: ExprShape,
  env: ExprEnv,
  firstRow = 0,
  count = shape.rows,
) {
  const out = new Float64Array(count);
  const n = shape.rowLength;
  exprKernel(compileExpr(text, shape).source)(src, firstRow * n, count, n, firstRow, env, out, 0);
  return out;
}

function random(count: number, seed: number): Float64Array {
  const a = new Float64Array(count);
  let s = seed;
  for (let k = 0; k < count; k++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    a[k] = (s / 2147483648) * 4 - 2;
  }
  return a;
}

describe('expression kernels', () => {
  const rows = 3;
  const rowLength = 1000;
  const src = random(rows * rowLength, 7);
  const shape: ExprShape = { rowLength, rows, dtype: 'float64', vectorLength: undefined, argNames: [] };
  const env: ExprEnv = {
    data: { raw: src, length: src.length, segments: [src], segmentElements: src.length },
    v: new Float64Array(0),
    args: new Float64Array(0),
    rows,
  };

  it('sum(x) gives the exact bits of pairwiseSum, as the sum op does', () => {
    const out = run('sum(x)', src, shape, env);
    for (let r = 0; r < rows; r++) expect(out[r]).toBe(0 + pairwiseSum(src, r * rowLength, rowLength));
  });

  it("the recipe's line gives strided_mean's bits on float16, float64 and int64 data", () => {
    for (const dtype of ['float16', 'float64', 'int64'] as const) {
      const total = 50_000;
      const codec = CODECS[dtype];
      const buffer = new ArrayBuffer(total * 8);
      const bytes = new Uint8Array(buffer);
      for (let k = 0; k < bytes.length; k++) bytes[k] = (k * 2654435761) >>> 24;
      const raw = codec.view(buffer, 0, total);
      // Keep float16 finite: clear the exponent's top bit of every element.
      if (dtype === 'float16') for (let k = 0; k < total; k++) raw[k] &= 0xbfff;
      if (dtype === 'float64') for (let k = 0; k < total; k++) raw[k] = Math.sin(k);
      const dataRows = 100;
      const s: ExprShape = {
        rowLength: total / dataRows,
        rows: dataRows,
        dtype,
        vectorLength: undefined,
        argNames: [],
      };
      const x = new Float64Array(total);
      codec.gather(raw, 0, 1, total, x);
      const e: ExprEnv = {
        data: { raw, length: total, segments: [raw], segmentElements: total },
        v: new Float64Array(0),
        args: new Float64Array(0),
        rows: dataRows,
      };
      const expected = new Float64Array(dataRows);
      stridedMeans({ codec, segments: [raw], segmentElements: total, total }, 0, dataRows, expected, 0);
      const out = run('dataset.ravel()[::i+1].mean()', x, s, e);
      expect(Array.from(out)).toEqual(Array.from(expected));
    }
  });

  it('hoists the inner mean: sum((x - mean(x))**2) matches the two-pass variance sum', () => {
    const out = run('sum((x - mean(x))**2) / n', src, shape, env);
    const variance = run('var(x)', src, shape, env);
    expect(Array.from(out)).toEqual(Array.from(variance));
    const source = compileExpr('sum((x - mean(x))**2)', shape).source;
    // Two pairwise sums (the mean's, then the squares'), no array allocated per row.
    expect(source.match(/pairwisePlan\(/g)).toHaveLength(2);
    expect(source).not.toMatch(/grow\(/);
  });

  it('materialises only sort, cumsum and order statistics of computed arrays', () => {
    expect(compileExpr('max(abs(diff(x)))', shape).source).not.toMatch(/grow\(/);
    expect(compileExpr('count_nonzero((x > 1) & (x < 2))', shape).source).not.toMatch(/grow\(/);
    expect(compileExpr('median(x)', shape).source).not.toMatch(/grow\(/);
    expect(compileExpr('median(x * 2)', shape).source).toMatch(/grow\(/);
    expect(compileExpr('sort(x)[0]', shape).source).toMatch(/grow\(/);
  });

  it('throws a row error naming the dataset row, and reports usesData', () => {
    const s: ExprShape = { ...shape, rowLength: 4, rows: 6 };
    const x = Float64Array.from({ length: 24 }, (_, k) => k);
    const e: ExprEnv = { ...env, rows: 6 };
    expect(() => run('x[i]', x, s, e, 2, 4)).toThrow(ExprRowError);
    expect(() => run('x[i]', x, s, e, 2, 4)).toThrow(
      /^row 4: index 4 is out of bounds for an axis of size 4$/,
    );
    expect(() => run('min(x[i:3])', x, s, e, 3, 1)).toThrow(
      /^row 3: zero-size array to reduction operation min/,
    );
    expect(() => run('quantile(x, i / 2)', x, s, e, 3, 1)).toThrow(/^row 3: quantiles must be in the range/);
    expect(() => run('x[::i - 2].sum()', x, s, e, 2, 1)).toThrow(/^row 2: slice step cannot be zero/);
    expect(() => run('sum(x[:i] + x[:2])', x, s, e, 3, 1)).toThrow(/^row 3: operands of lengths 3 and 2/);
    expect(compileExpr('sum(data)', s).usesData).toBe(true);
    expect(compileExpr('sum(x)', s).usesData).toBe(false);
  });

  it('counts, selects and combines booleans as NumPy does with NaN, infinities and -0', () => {
    const values = [
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      -0,
      0,
      1.5,
      -1.5,
      1,
      2,
      3,
    ];
    const x = Float64Array.from(values);
    const s: ExprShape = { ...shape, rowLength: values.length, rows: 1 };
    const e: ExprEnv = { ...env, rows: 1 };
    const one = (text: string) => run(text, x, s, e)[0];
    // Each value is NumPy 2.4's for the same expression on the same ten values.
    expect(one('count_nonzero(x)')).toBe(8);
    expect(one('count_nonzero((x > 1) & (x < 2))')).toBe(1);
    expect(one('count_nonzero((x < 1) | (x > 2))')).toBe(6);
    expect(one('sum((x > 0) * (x < 3))')).toBe(3);
    expect(one('sum((x > 0) + (x < 0))')).toBe(7);
    expect(one('sum(~(x > 0) & ~isnan(x))')).toBe(4);
    // where picks its side even where the other is not finite: x*x of -inf is inf, not 0 * inf.
    expect(one('sum(where(x > 0, x*x, 0))')).toBe(Number.POSITIVE_INFINITY);
    expect(one('sum(where(x < 0, 0, x*x))')).toBe(Number.NaN);
    expect(one('sum(where(isfinite(x), x, 100))')).toBe(306);
    expect(Object.is(one('where(x == 0, x, 7)[3]'), -0)).toBe(true);
    expect(one('count_nonzero(where(x > 1, x < 2, x > -2))')).toBe(5);
    expect(one('sum(where(x > 1, 10, 1))')).toBe(46);
  });

  it('reads args in argNames order and v', () => {
    const s: ExprShape = { ...shape, rowLength: 2, rows: 1, vectorLength: 2, argNames: ['alpha', 'beta'] };
    const e: ExprEnv = { ...env, v: Float64Array.from([10, 20]), args: Float64Array.from([2, 3]), rows: 1 };
    expect(run('alpha * x[0] + beta * dot(x, v)', Float64Array.from([1, 2]), s, e)[0]).toBe(2 + 3 * 50);
  });

  it('caches kernels by source, bounded', () => {
    const source = compileExpr('sum(x) + 1', shape).source;
    expect(exprKernel(source)).toBe(exprKernel(source));
    for (let k = 0; k < EXPR_CACHE_SIZE + 10; k++) exprKernel(compileExpr(`sum(x) + ${k + 2}`, shape).source);
    expect(exprCacheSize()).toBe(EXPR_CACHE_SIZE);
  });
});

// The generator's own vocabulary: fixed words of its templates, and names of the forms it makes.
const KEYWORDS = new Set(
  (
    'use strict const let return function kernel for if else break continue true false new Float64Array ' +
    'src off count n firstRow env out slot rows r o i D DL V VL ST data raw length v args rt ' +
    'Math sqrt exp expm1 log log1p log2 log10 sin cos tan asin acos atan atan2 sinh cosh tanh floor ceil ' +
    'abs min max hypot Number isNaN isFinite NaN Infinity fail floorDiv remainder power roundHalfEven sign ' +
    'square isInf sliceBound sliceLength broadcast pairwisePlan grow sortPrefix median quantile F16 ' +
    'SK sk sum sumSquares sumAbs sumSquaredDeviations'
  ).split(' '),
);
const GENERATED = /^(?:[tkmpzycerwa]\d+|[SW]\d+)$/;
const TOKEN =
  /\s+|'use strict'|[A-Za-z_$][\w$]*|\d+(?:\.\d+)?(?:e[+-]?\d+)?|\.\d+(?:e[+-]?\d+)?|===|!==|>>>|<=|>=|&&|\|\||\+\+|--|\+=|-=|\*=|[-+*/%<>=!?:;,.(){}[\]|&~]/y;

function foreignTokens(source: string): string[] {
  const foreign: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < source.length) {
    const start = TOKEN.lastIndex;
    const match = TOKEN.exec(source);
    if (match === null) {
      foreign.push(source.slice(start, start + 10));
      break;
    }
    const t = match[0];
    if (/^[A-Za-z_$]/.test(t) && !KEYWORDS.has(t) && !GENERATED.test(t)) foreign.push(t);
  }
  return foreign;
}

describe('generated source', () => {
  const manifest = loadGoldens();
  it('holds only the generator’s own tokens for every golden expression on every dataset', () => {
    const argNames = Object.keys(manifest.args);
    let checked = 0;
    for (const d of manifest.datasets) {
      const shape: ExprShape = {
        rowLength: d.rowLength,
        rows: d.rows,
        dtype: d.dtype,
        vectorLength: 12,
        argNames,
      };
      for (const text of manifest.expressions) {
        for (const simd of [false, true]) {
          let source: string;
          try {
            source = compileExpr(text, { ...shape, simd }).source;
          } catch {
            continue;
          }
          expect(foreignTokens(source), text).toEqual([]);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(2000);
  });

  it('never carries an identifier from the text', () => {
    const shape: ExprShape = {
      rowLength: 4,
      rows: 2,
      dtype: 'float64',
      vectorLength: undefined,
      argNames: ['zeta'],
    };
    expect(compileExpr('sum(x) * zeta', shape).source).not.toMatch(/zeta/);
    expect(foreignTokens('const t1 = process.exit;')).toEqual(['process', 'exit']);
  });
});
