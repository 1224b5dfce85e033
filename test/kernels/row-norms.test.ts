import { describe, expect, it } from 'vitest';
import type { DType } from '../../src/datasets/dtypes.js';
import { runRows } from '../helpers/run-rows.js';

/** Rows of varied magnitude, with a NaN, an infinity and a row of zeros. */
function dataset(dtype: 'float64' | 'float32', rows: number, n: number): Uint8Array {
  const values = Float64Array.from({ length: rows * n }, (_, k) => Math.sin(k * 1.3) * 10 ** ((k % 7) - 3));
  values[2 * n + 4] = Number.NaN;
  values[4 * n + 1] = Number.POSITIVE_INFINITY;
  values.fill(0, 6 * n, 7 * n);
  const typed = dtype === 'float64' ? values : Float32Array.from(values);
  return new Uint8Array(typed.buffer);
}

const ROWS = 11;

describe('cosine with the dataset row norms cached', () => {
  for (const dtype of ['float64', 'float32'] as const satisfies readonly DType[]) {
    for (const n of [100, 128, 300]) {
      for (const simd of [false, true]) {
        it(`${dtype}, rows of ${n}, ${simd ? 'SIMD where it runs' : 'JS'}: filling and reading them gives the bits of computing them`, () => {
          const data = dataset(dtype, ROWS, n);
          const vector = Array.from({ length: n }, (_, i) => Math.cos(i * 0.7) - 0.2);
          const base = { op: 'cosine', dtype, data, rows: ROWS, rowLength: n, params: { vector }, simd };
          const plain = Array.from(runRows({ ...base, blockSizes: [3] }));
          expect(plain.filter(Number.isFinite).length).toBeGreaterThan(5);

          const values = new Float64Array(ROWS).fill(-1);
          const filled = Array.from(runRows({ ...base, blockSizes: [4], norms: { values, fill: true } }));
          expect(filled).toEqual(plain);
          // The norms are norm's own values, bit for bit.
          const norms = runRows({ ...base, op: 'norm', params: { ord: 2 } });
          expect(Array.from(values)).toEqual(Array.from(norms));

          // Rows 2..9 in blocks of 3 read the norms of their own dataset rows.
          const read = runRows({ ...base, r0: 2, r1: 9, blockSizes: [3], norms: { values, fill: false } });
          expect(Array.from(read)).toEqual(plain.slice(2, 9));
        });
      }
    }
  }

  it('reads the cached norms rather than computing them', () => {
    const n = 256;
    const data = dataset('float64', ROWS, n);
    const vector = Array.from({ length: n }, (_, i) => (i % 5) - 2);
    const base = {
      op: 'cosine',
      dtype: 'float64' as const,
      data,
      rows: ROWS,
      rowLength: n,
      params: { vector },
    };
    const dots = Array.from(runRows({ ...base, op: 'dot', simd: true }));
    const vNorm = Math.sqrt(vector.reduce((s, v) => s + v * v, 0));
    const ones = { values: new Float64Array(ROWS).fill(1), fill: false };
    for (const simd of [false, true]) {
      const read = Array.from(runRows({ ...base, simd, norms: ones }));
      expect(read).toEqual(dots.map((d) => d / vNorm));
    }
  });
});
