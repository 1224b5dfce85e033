import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileExpr, type ExprEnv, type ExprShape, exprKernel } from '../../src/expr/index.js';
import { simdKernelsFor } from '../../src/jobs/kernels/simd.js';
import { testApp } from '../helpers/app.js';
import { npyFile } from '../helpers/npy.js';
import { loadGoldens } from './goldens.js';

/**
 * Expressions compiled for rows in a WebAssembly memory (ExprShape.simd) hand their whole-row sums
 * to the SIMD kernels: they must give the JS loop's bits, and row errors alike.
 */

type Rows = Float64Array | Float32Array;

/** The rows copied into a WebAssembly memory from byte 0, and the SIMD kernels over it. */
function inMemory(rows: Rows) {
  const bytes = rows.length * rows.BYTES_PER_ELEMENT;
  const pages = Math.ceil((bytes + 1) / 65536);
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  const view =
    rows instanceof Float32Array ? new Float32Array(memory.buffer) : new Float64Array(memory.buffer);
  view.set(rows);
  return { view, kernels: simdKernelsFor(memory, rows instanceof Float32Array ? 'float32' : 'float64') };
}

/** Each row's value as bits (NaN as one), or the row error's message. */
function outcome(source: string, src: Rows, rows: number, n: number, env: ExprEnv): (number | string)[] {
  const out = new Float64Array(rows);
  const kernel = exprKernel(source, src instanceof Float32Array ? 'float32' : 'float64');
  const results: (number | string)[] = [];
  for (let r = 0; r < rows; r++) {
    try {
      kernel(src, r * n, 1, n, r, env, out, r);
      results.push(Number.isNaN(out[r]) ? Number.NaN : out[r]);
    } catch (error) {
      results.push((error as Error).message);
    }
  }
  return results;
}

/** Compares the two compilations on `rows`; returns whether the SIMD one called the kernels. */
function compareModes(text: string, shape: ExprShape, rows: Rows, env: ExprEnv): boolean {
  let js: string;
  try {
    js = compileExpr(text, shape).source;
  } catch {
    expect(() => compileExpr(text, { ...shape, simd: true }), text).toThrow();
    return false;
  }
  const simd = compileExpr(text, { ...shape, simd: true });
  if (!simd.usesSimd) {
    expect(simd.source, text).toBe(js);
    return false;
  }
  const { view, kernels } = inMemory(rows);
  const expected = outcome(js, rows, shape.rows, shape.rowLength, env);
  const got = outcome(simd.source, view, shape.rows, shape.rowLength, { ...env, sk: kernels });
  // Object.is tells -0 from 0, so the comparison is of bits (NaN aside).
  expect(
    got.every((g, r) => Object.is(g, expected[r])),
    `${text}: ${JSON.stringify(got)} != ${JSON.stringify(expected)}`,
  ).toBe(true);
  return true;
}

const manifest = loadGoldens();
const argNames = Object.keys(manifest.args);
const baseEnv = (rows: number): ExprEnv => ({
  data: undefined,
  v: Float64Array.from(manifest.vector),
  args: Float64Array.from(argNames.map((k) => manifest.args[k])),
  rows,
});

describe('expressions with their sums on the SIMD kernels', () => {
  for (const name of ['float64', 'float32'] as const) {
    it(`gives the JS loop's bits for every golden expression on the ${name} goldens`, () => {
      const d = manifest.datasets.find((k) => k.name === name)!;
      const shape: ExprShape = {
        rowLength: d.rowLength,
        rows: d.rows,
        dtype: d.dtype,
        vectorLength: manifest.vector.length,
        argNames,
      };
      const rows = name === 'float32' ? Float32Array.from(d.float64) : d.float64;
      let lowered = 0;
      for (const text of manifest.expressions) {
        if (/\bdata(set)?\b/.test(text)) continue;
        if (compareModes(text, shape, rows, baseEnv(d.rows))) lowered++;
      }
      expect(lowered).toBeGreaterThanOrEqual(20);
    });
  }

  // Long rows with NaN, infinities, -0 and huge values, through every leaf and tree level of the sums.
  const EXPRESSIONS = [
    'sum(x)',
    'x.sum() + 1',
    'mean(x) * 2',
    'sqrt(mean((x - mean(x))**2))',
    'std(x, ddof=1)',
    'x.var()',
    'norm(x)',
    'norm(x, ord=1)',
    'sum(x**2)',
    'sum(x*x)',
    'sum(abs(x))',
    'sum((x - x[0])**2)',
    'mean((x - 0.5) * (x - 0.5))',
    'x.mean() - x.std() + x.max()',
  ];
  const ROW_LENGTHS = [1000, 257, 128, 9];

  function longRows(n: number, rows: number, corners: boolean): Float64Array {
    let seed = 7 + n;
    const next = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const out = new Float64Array(n * rows);
    for (let j = 0; j < out.length; j++) out[j] = (next() - 0.5) * 10 ** Math.floor(next() * 6);
    if (corners) {
      out[3] = -0;
      out[n + 5] = Number.NaN;
      out[2 * n + 1] = Number.POSITIVE_INFINITY;
      out[3 * n + 2] = Number.NEGATIVE_INFINITY;
      out[4 * n] = 1e300;
      out.fill(-0, 5 * n, 6 * n);
    }
    return out;
  }

  for (const n of ROW_LENGTHS) {
    for (const dtype of ['float64', 'float32'] as const) {
      it(`gives the JS loop's bits on ${n}-value ${dtype} rows, NaN, ±inf and -0 among them`, () => {
        const rows = 7;
        const values = longRows(n, rows, true);
        const src = dtype === 'float32' ? Float32Array.from(values) : values;
        const shape: ExprShape = { rowLength: n, rows, dtype, vectorLength: undefined, argNames: [] };
        for (const text of EXPRESSIONS) {
          expect(compareModes(text, shape, src, { ...baseEnv(rows), v: new Float64Array(0) }), text).toBe(
            true,
          );
        }
      });
    }
  }

  it('leaves sums of anything but the whole row x, x², |x| and (x - s)² to the JS loop', () => {
    const shape: ExprShape = {
      rowLength: 300,
      rows: 2,
      dtype: 'float64',
      vectorLength: 300,
      argNames: [],
      simd: true,
    };
    for (const text of ['sum(x[1:])', 'sum(x - 1)', 'sum((x - v)**2)', 'sum(x * v)', 'sum(x**3)', 'max(x)']) {
      expect(compileExpr(text, shape).usesSimd, text).toBe(false);
    }
    for (const text of ['sum(x)', 'sum(x**2)', 'sum(abs(x))', 'var(x)', 'sum((x - i)**2)']) {
      expect(compileExpr(text, shape).usesSimd, text).toBe(true);
    }
    expect(compileExpr('sum(x)', { ...shape, dtype: 'float16' }).usesSimd).toBe(false);
  });
});

describe('op expr with its sums on the SIMD kernels, over HTTP', () => {
  let app: FastifyInstance;
  let id: string;
  const ROWS = 1200;
  const COLS = 256;

  beforeAll(async () => {
    app = await testApp();
    // Over 1 MiB, so the dataset is held in a WebAssembly memory and the SIMD kernels run.
    const values = Float32Array.from(longRows32(ROWS * COLS));
    const up = await app.inject({
      method: 'POST',
      url: '/v1/datasets',
      headers: { 'content-type': 'application/x-npy' },
      payload: npyFile('<f4', [ROWS, COLS], new Uint8Array(values.buffer)),
    });
    expect(up.statusCode, up.body).toBe(201);
    id = up.json().id;
  });

  afterAll(async () => {
    await app.close();
  });

  function longRows32(count: number): number[] {
    return Array.from({ length: count }, (_, j) => Math.sin(j * 0.37) * (1 + (j % 17)));
  }

  async function run(body: object): Promise<number[]> {
    const res = await app.inject({ method: 'POST', url: `/v1/datasets/${id}/jobs?wait=20`, payload: body });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().status).toBe('succeeded');
    const result = await app.inject({ method: 'GET', url: `/v1/jobs/${res.json().id}/result` });
    return result.json().data;
  }

  it("gives the std and norm ops' values exactly, and JS-only parts alike", async () => {
    const std = await run({ op: 'std' });
    const norm = await run({ op: 'norm' });
    const rms = await run({ op: 'expr', params: { expr: 'sqrt(mean((x - mean(x))**2))' } });
    const mixed = await run({ op: 'expr', params: { expr: 'norm(x) + max(x)' } });
    const max = await run({ op: 'max' });
    expect(rms).toEqual(std);
    expect(mixed).toEqual(norm.map((v, r) => v + max[r]));
    expect(rms.length).toBe(ROWS);
  });
});
