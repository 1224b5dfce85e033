import { readNpy, readTopK } from './npy.js';
import type { JobResult } from './types.js';

/**
 * A job's result, read from whichever format it was fetched in. JSON and CSV spell NaN and the
 * infinities as words; all three formats give the same typed values, except that CSV carries no
 * dtype, so an int64 result read from CSV comes back as float64 (exact: they are row indices and
 * counts, far below 2^53).
 */

type JsonValue = number | 'NaN' | 'Infinity' | '-Infinity';
type JsonResult =
  | { jobId: string; dtype: 'float64' | 'int64'; shape: number[]; data: JsonValue[] }
  | { jobId: string; indices: number[]; values: JsonValue[] };

const WORDS: Record<string, number> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  '-Infinity': Number.NEGATIVE_INFINITY,
  nan: Number.NaN,
  inf: Number.POSITIVE_INFINITY,
  '-inf': Number.NEGATIVE_INFINITY,
};

function numberOf(value: JsonValue | string): number {
  return typeof value === 'number' ? value : (WORDS[value] ?? Number(value));
}

export function parseJsonResult(body: JsonResult): JobResult {
  if ('indices' in body) return { indices: body.indices, values: Float64Array.from(body.values, numberOf) };
  if (body.dtype === 'int64') return BigInt64Array.from(body.data, (v) => BigInt(v as number));
  return Float64Array.from(body.data, numberOf);
}

export function parseCsvResult(text: string): JobResult {
  const lines = text.split('\n').filter((line) => line !== '');
  if (lines[0] === 'index,value') {
    const pairs = lines.slice(1).map((line) => line.split(','));
    return {
      indices: pairs.map(([index]) => Number(index)),
      values: Float64Array.from(pairs, ([, v]) => numberOf(v)),
    };
  }
  return Float64Array.from(lines, numberOf);
}

export function parseNpyResult(bytes: Uint8Array): JobResult {
  const top = readTopK(bytes);
  if (top !== undefined) return top;
  const { dtype, data } = readNpy(bytes);
  if (data instanceof Float64Array || data instanceof BigInt64Array) return data;
  throw new Error(`a job result is float64 or int64, not ${dtype}`);
}
