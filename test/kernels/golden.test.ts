import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { topK } from '../../src/jobs/topk.js';
import { allOps } from '../../src/ops/registry.js';
import {
  caseName,
  FIXTURES_DIR,
  type FixtureParams,
  loadManifest,
  mismatches,
  type NpyArray,
  readNpy,
  readNumbers,
} from '../helpers/fixtures.js';
import { runRows } from '../helpers/run-rows.js';

/**
 * Runs the op over every row of `input` in blocks of the given sizes taken in turn. With `simd`, the
 * dataset (and the vector after it) is in a WebAssembly memory and the SIMD kernels run where they can.
 */
function compute(
  input: NpyArray,
  op: string,
  params: FixtureParams,
  blockSizes: readonly number[],
  simd = false,
): Float64Array {
  return runRows({
    op,
    dtype: input.dtype,
    data: new Uint8Array(input.data),
    rows: input.rows,
    rowLength: input.rowLength,
    params,
    blockSizes,
    simd,
  });
}

const manifest = loadManifest();

describe('golden NumPy fixtures', () => {
  it('covers every op and every input', () => {
    // The ops users write themselves (expressions, WebAssembly kernels) have goldens of their own.
    const fixed = allOps().filter((op) => op.name !== 'expr' && op.name !== 'kernel');
    expect(new Set(manifest.cases.map((c) => c.op))).toEqual(new Set(fixed.map((op) => op.name)));
    const inputs = readdirSync(join(FIXTURES_DIR, 'inputs')).map((file) => `inputs/${file}`);
    expect(new Set(manifest.cases.map((c) => c.input))).toEqual(new Set(inputs));
  });

  for (const c of manifest.cases) {
    it(caseName(c), () => {
      const input = readNpy(c.input);
      const params = c.params;
      const inBlocks = compute(input, c.op, params, [1, 3, 2]);
      const inOneCall = compute(input, c.op, params, [input.rows]);
      expect(Array.from(inBlocks)).toEqual(Array.from(inOneCall));
      // The SIMD kernels give the same bits as the JS ones, so a result never depends on which ran.
      expect(Array.from(compute(input, c.op, params, [1, 3, 2], true))).toEqual(Array.from(inBlocks));
      if (typeof c.expected === 'string') {
        expect(mismatches(inBlocks, readNumbers(c.expected))).toEqual([]);
      } else {
        const top = topK(inBlocks, 0, c.top!.k, c.top!.largest);
        expect(top.indices).toEqual(Array.from(readNumbers(c.expected.indices)));
        expect(mismatches(top.values, readNumbers(c.expected.values))).toEqual([]);
      }
    });
  }
});
