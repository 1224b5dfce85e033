import { describe, expect, it } from 'vitest';
import { compileExpr, ExprError, ExprRowError, exprKernel } from '../../src/expr/index.js';
import { close, type GoldenDataset, loadGoldens } from './goldens.js';

const manifest = loadGoldens();
const byName = new Map(manifest.datasets.map((d) => [d.name, d]));
const argNames = Object.keys(manifest.args);
const env = (d: GoldenDataset) => ({
  data: {
    raw: d.raw,
    length: d.rows * d.rowLength,
    segments: [d.raw],
    segmentElements: d.rows * d.rowLength,
  },
  v: Float64Array.from(manifest.vector),
  args: Float64Array.from(argNames.map((k) => manifest.args[k])),
  rows: d.rows,
});
const shapeOf = (d: GoldenDataset) => ({
  rowLength: d.rowLength,
  rows: d.rows,
  dtype: d.dtype,
  vectorLength: manifest.vector.length,
  argNames,
});

describe(`expressions against NumPy ${manifest.numpy} goldens`, () => {
  it('covers at least 100 expressions over every dtype', () => {
    expect(manifest.expressions.length).toBeGreaterThanOrEqual(100);
    expect(new Set(manifest.datasets.map((d) => d.dtype)).size).toBeGreaterThanOrEqual(10);
  });

  for (const d of manifest.datasets) {
    it(`${d.name} ${JSON.stringify(d.shape)}: every row of every expression`, () => {
      const failures: string[] = [];
      for (const c of manifest.cases.filter((k) => k.dataset === d.name)) {
        const dataset = byName.get(c.dataset)!;
        let source: string;
        try {
          source = compileExpr(c.expr, shapeOf(dataset)).source;
        } catch (error) {
          // A refusal from the shape alone is right only where NumPy raises on every row.
          if (!(error instanceof ExprError) || c.results.some((r) => typeof r === 'number')) {
            failures.push(`${c.expr}: refused: ${(error as Error).message}`);
          }
          continue;
        }
        const kernel = exprKernel(source);
        const out = new Float64Array(1);
        c.results.forEach((expected, row) => {
          const n = dataset.rowLength;
          let thrown: unknown;
          out[0] = -12345;
          try {
            kernel(dataset.float64, row * n, 1, n, row, env(dataset), out, 0);
          } catch (error) {
            thrown = error;
          }
          if (typeof expected === 'number') {
            if (thrown !== undefined)
              failures.push(`${c.expr} row ${row}: threw ${(thrown as Error).message}`);
            else if (!close(out[0], expected))
              failures.push(`${c.expr} row ${row}: ${out[0]} != ${expected}`);
          } else if (!(thrown instanceof ExprRowError) || !thrown.message.startsWith(`row ${row}: `)) {
            failures.push(`${c.expr} row ${row}: expected ${expected.message}, got ${thrown ?? out[0]}`);
          }
        });
      }
      expect(failures).toEqual([]);
    });
  }

  it('reads float32 rows as stored with the same bits as their float64 copy, errors alike', () => {
    const d = byName.get('float32')!;
    const stored = Float32Array.from(d.float64);
    let checked = 0;
    for (const c of manifest.cases.filter((k) => k.dataset === d.name)) {
      let source: string;
      try {
        source = compileExpr(c.expr, shapeOf(d)).source;
      } catch {
        continue;
      }
      const outcome = (src: Float64Array | Float32Array, rows: 'float64' | 'float32') => {
        const out = new Float64Array(d.rows);
        try {
          exprKernel(source, rows)(src, 0, d.rows, d.rowLength, 0, env(d), out, 0);
          return Array.from(out);
        } catch (error) {
          return (error as Error).message;
        }
      };
      expect(outcome(stored, 'float32'), c.expr).toEqual(outcome(d.float64, 'float64'));
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(100);
  });

  it('gives the same answers for a whole block at an offset as row by row', () => {
    const d = byName.get('float64')!;
    const src = new Float64Array(d.float64.length + 5);
    src.set(d.float64, 5);
    for (const c of manifest.cases.filter((k) => k.dataset === 'float64')) {
      if (c.results.some((r) => typeof r !== 'number')) continue;
      const kernel = exprKernel(compileExpr(c.expr, shapeOf(d)).source);
      const out = new Float64Array(d.rows + 1);
      kernel(src, 5 + d.rowLength, d.rows - 1, d.rowLength, 1, env(d), out, 2);
      const expected = c.results.slice(1) as number[];
      expect(
        Array.from(out.subarray(2)).every((v, j) => close(v, expected[j])),
        c.expr,
      ).toBe(true);
    }
  });
});
