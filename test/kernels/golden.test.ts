import { describe, expect, it } from 'vitest';
import { type KernelParams, type OpName, RESULT_DTYPE, runRows } from '../../src/jobs/kernels/index.js';
import { simdKernels } from '../../src/jobs/kernels/simd.js';
import { readInt64, topK } from '../../src/jobs/topk.js';
import {
  caseName,
  type FixtureParams,
  loadManifest,
  mismatches,
  type NpyArray,
  readNpy,
  readNumbers,
} from '../helpers/fixtures.js';

function kernelParams(params: FixtureParams): KernelParams {
  return {
    ddof: params.ddof ?? 0,
    ord: params.ord === 'inf' ? Number.POSITIVE_INFINITY : (params.ord ?? 2),
    q: params.q ?? 0.5,
    vector: params.vector === undefined ? undefined : Float64Array.from(params.vector),
  };
}

const DATA_OFFSET = 64;

/**
 * Runs `op` over every row of `input`, in blocks of the given sizes taken in turn, with the dataset
 * placed past the start of a SharedArrayBuffer as the worker sees it. With `simd`, the buffer is a
 * WebAssembly memory holding the vector after the rows, and the SIMD kernels run where they can.
 */
function compute(
  input: NpyArray,
  op: OpName,
  params: KernelParams,
  blockSizes: readonly number[],
  simd = false,
): Float64Array {
  const vectorAt = DATA_OFFSET + Math.ceil(input.data.byteLength / 8) * 8;
  const bytes = vectorAt + (params.vector?.byteLength ?? 0);
  const memory = simd
    ? new WebAssembly.Memory({ initial: Math.ceil(bytes / 65536), maximum: 65536, shared: true })
    : null;
  const data =
    memory === null ? new SharedArrayBuffer(bytes) : (memory.buffer as unknown as SharedArrayBuffer);
  new Uint8Array(data, DATA_OFFSET).set(new Uint8Array(input.data));
  if (params.vector !== undefined) new Float64Array(data, vectorAt, params.vector.length).set(params.vector);
  const result = new SharedArrayBuffer(input.rows * 8);
  for (let r0 = 0, block = 0; r0 < input.rows; block++) {
    const r1 = Math.min(input.rows, r0 + blockSizes[block % blockSizes.length]);
    runRows({
      op,
      dtype: input.dtype,
      data,
      dataByteOffset: DATA_OFFSET,
      rows: input.rows,
      rowLength: input.rowLength,
      params,
      r0,
      r1,
      result,
      resultIndex: r0,
      simd: memory === null ? null : simdKernels(memory),
      vectorAt: memory === null || params.vector === undefined ? -1 : vectorAt,
    });
    r0 = r1;
  }
  return RESULT_DTYPE[op] === 'int64' ? readInt64(result, input.rows) : new Float64Array(result);
}

const manifest = loadManifest();

describe('golden NumPy fixtures', () => {
  it('covers every op and every input', () => {
    expect(new Set(manifest.cases.map((c) => c.op)).size).toBe(16);
    expect(new Set(manifest.cases.map((c) => c.input)).size).toBe(23);
  });

  for (const c of manifest.cases) {
    it(caseName(c), () => {
      const input = readNpy(c.input);
      const params = kernelParams(c.params);
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
