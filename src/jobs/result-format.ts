import { formatNpyHeader } from '../datasets/npy.js';
import type { JobResult } from './engine.js';
import { readInt64 } from './topk.js';

/**
 * A job's result as JSON, CSV or .npy. JSON has no NaN or infinities, so those are written as the
 * strings "NaN", "Infinity" and "-Infinity"; fast-json-stringify cannot do that (or take typed
 * arrays), so results are written here and sent as ready-made text.
 */
function jsonNumber(v: number): string {
  if (Number.isFinite(v)) return String(v);
  return Number.isNaN(v) ? '"NaN"' : v > 0 ? '"Infinity"' : '"-Infinity"';
}

function csvNumber(v: number): string {
  if (Number.isFinite(v)) return String(v);
  return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
}

function values(result: JobResult, rows: number): ArrayLike<number> {
  const buffer = result.buffer!;
  return result.dtype === 'int64' ? readInt64(buffer, rows) : new Float64Array(buffer);
}

function join(list: ArrayLike<number>, format: (v: number) => string, separator: string): string {
  const parts = new Array<string>(list.length);
  for (let i = 0; i < list.length; i++) parts[i] = format(list[i]);
  return parts.join(separator);
}

export function resultJson(jobId: string, result: JobResult, rows: number): string {
  if (result.top !== undefined) {
    const { indices, values: topValues } = result.top;
    return `{"jobId":${JSON.stringify(jobId)},"indices":[${indices.join(',')}],"values":[${join(topValues, jsonNumber, ',')}]}`;
  }
  return `{"jobId":${JSON.stringify(jobId)},"dtype":"${result.dtype}","shape":[${rows}],"data":[${join(values(result, rows), jsonNumber, ',')}]}`;
}

export function resultCsv(result: JobResult, rows: number): string {
  if (result.top !== undefined) {
    const { indices, values: topValues } = result.top;
    const lines = indices.map((index, i) => `${index},${csvNumber(topValues[i])}`);
    return `index,value\n${lines.join('\n')}${lines.length > 0 ? '\n' : ''}`;
  }
  const text = join(values(result, rows), csvNumber, '\n');
  return rows > 0 ? `${text}\n` : '';
}

/** `<f8`/`<i8` for a plain result; a structured array of (index <i8, value <f8) for top-k. */
export function resultNpy(result: JobResult, rows: number): Buffer {
  if (result.top !== undefined) {
    const { indices, values: topValues } = result.top;
    const header = formatNpyHeader("[('index', '<i8'), ('value', '<f8')]", [indices.length]);
    const body = Buffer.alloc(indices.length * 16);
    for (let i = 0; i < indices.length; i++) {
      body.writeBigInt64LE(BigInt(indices[i]), i * 16);
      body.writeDoubleLE(topValues[i], i * 16 + 8);
    }
    return Buffer.concat([header, body]);
  }
  const header = formatNpyHeader(result.dtype === 'int64' ? '<i8' : '<f8', [rows]);
  return Buffer.concat([header, Buffer.from(result.buffer!, 0, rows * 8)]);
}
