import { formatNpyHeader } from '../datasets/npy.js';
import { readInt64 } from '../int64.js';
import type { JobResult } from './job.js';
import type { TopK } from './topk.js';

/**
 * A job's result as JSON, CSV or .npy, produced a piece at a time so a result of any size is sent
 * with backpressure and never held as one string. JSON has no NaN or infinities, so those are
 * written as the strings "NaN", "Infinity" and "-Infinity"; CSV writes them as nan, inf and -inf.
 */

/**
 * Values per text piece: big enough that a piece costs little, small enough to keep memory flat and
 * to hold the event loop a few ms at most: formatting takes about 0.6 µs a value on a loaded machine.
 */
const VALUES_PER_PIECE = 4096;

/** Bytes per .npy piece: views into the result, so only the socket's pace matters. */
const NPY_PIECE_BYTES = 8 * 2 ** 20;

function jsonNumber(v: number): string {
  if (Number.isFinite(v)) return String(v);
  return Number.isNaN(v) ? '"NaN"' : v > 0 ? '"Infinity"' : '"-Infinity"';
}

function formatCsvNumber(v: number): string {
  if (Number.isFinite(v)) return String(v);
  return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
}

/** The values of rows [start, end) of a per-row result. */
function valuesOf(result: JobResult, start: number, end: number): ArrayLike<number> {
  const buffer = result.buffer!;
  if (result.dtype === 'int64') {
    return readInt64(buffer.slice(start * 8, end * 8), end - start);
  }
  return new Float64Array(buffer, start * 8, end - start);
}

/** `format(v)` of every value, with `separator` between them and after the last when `trailing`. */
function* joined(
  result: JobResult,
  rows: number,
  format: (v: number) => string,
  separator: string,
  trailing: boolean,
): Generator<string> {
  for (let start = 0; start < rows; start += VALUES_PER_PIECE) {
    const end = Math.min(rows, start + VALUES_PER_PIECE);
    const values = valuesOf(result, start, end);
    const parts = new Array<string>(values.length);
    for (let i = 0; i < values.length; i++) parts[i] = format(values[i]);
    const last = end === rows;
    yield parts.join(separator) + (last && !trailing ? '' : separator);
  }
}

/** The lists of a batch, one per query, `format` giving each list's text. */
function lists(batch: TopK[], format: (top: TopK) => string): string {
  return `[${batch.map(format).join(',')}]`;
}

export function* resultJson(jobId: string, result: JobResult, rows: number): Generator<string> {
  if (result.batch !== undefined) {
    const { batch } = result;
    yield `{"jobId":${JSON.stringify(jobId)},"indices":${lists(batch, (q) => `[${q.indices.join(',')}]`)},"values":${lists(batch, (q) => `[${q.values.map(jsonNumber).join(',')}]`)}}`;
    return;
  }
  if (result.top !== undefined) {
    const { indices, values } = result.top;
    yield `{"jobId":${JSON.stringify(jobId)},"indices":[${indices.join(',')}],"values":[${values.map(jsonNumber).join(',')}]}`;
    return;
  }
  yield `{"jobId":${JSON.stringify(jobId)},"dtype":"${result.dtype}","shape":[${rows}],"data":[`;
  yield* joined(result, rows, jsonNumber, ',', false);
  yield ']}';
}

export function* resultCsv(result: JobResult, rows: number): Generator<string> {
  if (result.batch !== undefined) {
    yield 'query,rank,index,value\n';
    for (let j = 0; j < result.batch.length; j++) {
      const { indices, values } = result.batch[j];
      yield indices.map((index, i) => `${j},${i},${index},${formatCsvNumber(values[i])}\n`).join('');
    }
    return;
  }
  if (result.top !== undefined) {
    const { indices, values } = result.top;
    const lines = indices.map((index, i) => `${index},${formatCsvNumber(values[i])}\n`);
    yield `index,value\n${lines.join('')}`;
    return;
  }
  yield* joined(result, rows, formatCsvNumber, '\n', true);
}

const TOP_DESCR = "[('index', '<i8'), ('value', '<f8')]";

/** The (index <i8, value <f8) records of a top-k list. */
function topRecords({ indices, values }: TopK): Buffer {
  const body = Buffer.alloc(indices.length * 16);
  for (let i = 0; i < indices.length; i++) {
    body.writeBigInt64LE(BigInt(indices[i]), i * 16);
    body.writeDoubleLE(values[i], i * 16 + 8);
  }
  return body;
}

/**
 * `<f8`/`<i8` for a plain result; a structured array of (index <i8, value <f8) for top-k, shaped
 * (queries, k) for a batch (every query keeps the same number of rows: k, or all of them).
 */
export function* resultNpy(result: JobResult, rows: number): Generator<Buffer> {
  if (result.batch !== undefined) {
    const { batch } = result;
    yield formatNpyHeader(TOP_DESCR, [batch.length, batch[0]?.indices.length ?? 0]);
    for (const query of batch) yield topRecords(query);
    return;
  }
  if (result.top !== undefined) {
    yield formatNpyHeader(TOP_DESCR, [result.top.indices.length]);
    yield topRecords(result.top);
    return;
  }
  yield formatNpyHeader(result.dtype === 'int64' ? '<i8' : '<f8', [rows]);
  for (let at = 0; at < rows * 8; at += NPY_PIECE_BYTES) {
    yield Buffer.from(result.buffer!, at, Math.min(NPY_PIECE_BYTES, rows * 8 - at));
  }
}
