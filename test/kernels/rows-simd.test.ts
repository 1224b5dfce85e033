import { describe, expect, it } from 'vitest';
import { type SimdKernels, simdKernels } from '../../src/jobs/kernels/simd.js';
import { runRows, type TestParams } from '../helpers/run-rows.js';

let wasmCalls = 0;

/** The kernels over `memory`, counting the calls into WebAssembly. */
function counted(memory: WebAssembly.Memory): SimdKernels {
  const k = simdKernels(memory) as unknown as Record<string, (...args: number[]) => number>;
  const wrapped: Record<string, (...args: number[]) => number> = {};
  for (const name of Object.keys(k)) {
    wrapped[name] = (...args) => {
      wasmCalls++;
      return k[name](...args);
    };
  }
  return wrapped as unknown as SimdKernels;
}

const OPS_WITH_SIMD: readonly [string, TestParams][] = [
  ['sum', {}],
  ['mean', {}],
  ['var', { ddof: 1 }],
  ['std', {}],
  ['norm', { ord: 1 }],
  ['norm', { ord: 2 }],
  ['norm', { ord: Number.POSITIVE_INFINITY }],
  ['dot', {}],
  ['cosine', {}],
  ['euclidean', {}],
];

/** Rows of varied magnitude, with a NaN and an infinity in some rows. */
function rows(count: number, n: number): Float64Array {
  const data = Float64Array.from({ length: count * n }, (_, k) => Math.sin(k * 1.7) * 10 ** ((k % 9) - 4));
  data[3 * n + 5] = Number.NaN;
  data[5 * n + 1] = Number.POSITIVE_INFINITY;
  return data;
}

/** Runs one op over all rows in blocks of 3, with or without the SIMD kernels, and the vector in the memory. */
function run(op: string, extra: TestParams, data: Float64Array, n: number, simd: boolean): number[] {
  const vector = Float64Array.from({ length: n }, (_, i) => Math.cos(i * 0.3));
  const params = op === 'dot' || op === 'cosine' || op === 'euclidean' ? { ...extra, vector } : extra;
  return Array.from(
    runRows({
      op,
      dtype: 'float64',
      data: new Uint8Array(data.buffer),
      rows: data.length / n,
      rowLength: n,
      params,
      blockSizes: [3],
      simd,
      wrapSimd: simd ? counted : undefined,
    }),
  );
}

describe('SIMD block kernels', () => {
  for (const n of [127, 128, 1000, 1001]) {
    const data = rows(8, n);
    it.each(OPS_WITH_SIMD)(`%s %o over rows of ${n} gives the bits of the JS kernels`, (op, extra) => {
      const js = run(op, extra, data, n, false);
      expect(js.filter(Number.isFinite).length).toBeGreaterThan(4);
      wasmCalls = 0;
      expect(run(op, extra, data, n, true)).toEqual(js);
      // Rows shorter than 128 and norm's max stay in JS; the rest really ran in WebAssembly.
      expect(wasmCalls > 0).toBe(n >= 128 && extra.ord !== Number.POSITIVE_INFINITY);
    });
  }
});
