import type { DType } from '../../src/datasets/dtypes.js';
import { readInt64 } from '../../src/int64.js';
import { blockRunner } from '../../src/jobs/block-runner.js';
import type { RowNorms } from '../../src/jobs/kernels/rows.js';
import { type SimdKernels, simdKernelsFor } from '../../src/jobs/kernels/simd.js';
import { validateParams } from '../../src/ops/params.js';
import { opNamed } from '../../src/ops/registry.js';

/** Request params as a test gives them (norm's ord may be Infinity for "inf"). */
export interface TestParams {
  readonly ddof?: number;
  readonly ord?: number | 'inf';
  readonly q?: number;
  readonly vector?: ArrayLike<number>;
}

export interface RowsRun {
  readonly op: string;
  readonly dtype: DType;
  /** The dataset's bytes, rows x rowLength elements, little-endian, C order. */
  readonly data: Uint8Array;
  readonly rows: number;
  readonly rowLength: number;
  readonly params?: TestParams;
  /** Rows to compute (default all), in blocks of these sizes taken in turn (default one block). */
  readonly r0?: number;
  readonly r1?: number;
  readonly blockSizes?: readonly number[];
  /** Put the dataset (and the vector after it) in a WebAssembly memory and let SIMD run where it can. */
  readonly simd?: boolean;
  /** Wraps the SIMD kernels, e.g. to count the calls into WebAssembly. */
  readonly wrapSimd?: (memory: WebAssembly.Memory) => SimdKernels;
  /** The dataset's cached row norms, for the ops that take them (cosine), as the engine adds them. */
  readonly norms?: RowNorms;
}

/** Only the keys the op takes: tests pass one bag of params to every op. */
function paramsFor(op: string, params: TestParams): Record<string, unknown> {
  const taken = Object.keys(opNamed(op).params.properties);
  const given: Record<string, unknown> = {
    ...params,
    ord: params.ord === Number.POSITIVE_INFINITY ? 'inf' : params.ord,
    vector: params.vector === undefined ? undefined : Array.from(params.vector),
  };
  return Object.fromEntries(Object.entries(given).filter(([k, v]) => taken.includes(k) && v !== undefined));
}

/**
 * Runs an op over rows of a dataset the way a worker does (validated and prepared params, the block
 * runner), without threads, and returns the results of rows [r0, r1) as numbers.
 */
export function runRows(run: RowsRun): Float64Array {
  const { op: name, dtype, rows, rowLength, r0 = 0, r1 = rows } = run;
  const op = opNamed(name);
  const shape = { dtype, rows, rowLength };
  const params = validateParams(op, paramsFor(name, run.params ?? {}), shape);
  const prepared = op.prepare(params, shape) as { vector?: Float64Array };
  const vectorAt = Math.ceil(run.data.byteLength / 16) * 16;
  const bytes = vectorAt + (prepared.vector?.byteLength ?? 0);
  const memory = run.simd
    ? new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(bytes / 65536)), maximum: 65536, shared: true })
    : null;
  const buffer =
    memory === null ? new SharedArrayBuffer(bytes) : (memory.buffer as unknown as SharedArrayBuffer);
  new Uint8Array(buffer).set(run.data);
  if (prepared.vector !== undefined)
    new Float64Array(buffer, vectorAt, prepared.vector.length).set(prepared.vector);
  const result = new SharedArrayBuffer((r1 - r0) * 8);
  const segment = { buffer, memory, firstRow: 0, rows, bytes: run.data.byteLength };
  const dataset = { id: 'test', dtype, segments: [segment], segmentRows: Math.max(rows, 1), rows, rowLength };
  const place =
    memory === null
      ? null
      : {
          kernels: run.wrapSimd?.(memory) ?? simdKernelsFor(memory, dtype),
          firstRow: 0,
          vectorAt: prepared.vector === undefined ? -1 : vectorAt,
        };
  const taskParams = run.norms === undefined ? prepared : { ...prepared, norms: run.norms };
  const block = blockRunner(op, taskParams, dataset, result, place);
  const sizes = run.blockSizes ?? [Math.max(1, r1 - r0)];
  for (let r = r0, b = 0; r < r1; b++) {
    const end = Math.min(r1, r + sizes[b % sizes.length]);
    block(r, end, r - r0);
    r = end;
  }
  return op.result === 'int64' ? readInt64(result, r1 - r0) : new Float64Array(result);
}
