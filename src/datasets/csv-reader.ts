import { CsvError, Parser } from 'csv-parse';
import { InvalidDatasetRequest } from '../errors.js';
import { Yielder } from '../event-loop.js';
import type { MemoryBudget } from '../memory.js';
import type { ArraySink, StreamedArray } from './array-sink.js';
import type { DType } from './dtypes.js';
import { GrowingArray } from './growing-array.js';
import { SinkValues } from './sink-values.js';
import type { FilledArray } from './store.js';
import { TEXT_LIMITS } from './text-limits.js';
import type { ValueTarget } from './value-target.js';
import type { Scalar } from './values.js';

const NON_FINITE: Record<string, number> = {
  nan: Number.NaN,
  inf: Number.POSITIVE_INFINITY,
  '+inf': Number.POSITIVE_INFINITY,
  '-inf': Number.NEGATIVE_INFINITY,
  infinity: Number.POSITIVE_INFINITY,
  '+infinity': Number.POSITIVE_INFINITY,
  '-infinity': Number.NEGATIVE_INFINITY,
};

/** A CSV field as a number: decimal or exponent notation, nan/inf in any case, true/false. */
export function parseCsvField(field: string): Scalar | undefined {
  const text = field.trim();
  const lower = text.toLowerCase();
  if (Object.hasOwn(NON_FINITE, lower)) return NON_FINITE[lower];
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  // Past 15 digits a double may lose digits that int64 and uint64 can hold.
  if (/^[-+]?\d{16,}$/.test(text)) return BigInt(text);
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}

function isBlank(record: string[]): boolean {
  return record.length === 0 || (record.length === 1 && record[0].trim() === '');
}

/** The most bytes parsed in one go, so the event loop is never held for long. */
const PIECE = 16 * 1024;

/** csv-parse's push parser, the engine inside its stream, driven here without per-record streams. */
interface PushParser {
  parse(
    chunk: Uint8Array | undefined,
    end: boolean,
    onRecord: (record: string[]) => void,
    onClose: () => void,
  ): Error | undefined;
}

/**
 * Numeric CSV, parsed as it arrives: one dataset row per line, the same number of columns on each.
 * A first line in which no field is a number is a header of column names, skipped when a data line
 * follows it. Trailing blank lines are ignored; a blank line between rows is an error.
 */
export async function readCsvStream(
  body: AsyncIterable<Uint8Array>,
  budget: MemoryBudget,
  dtype: DType,
  segmentLimit?: number,
): Promise<FilledArray> {
  const values = new GrowingArray(dtype, budget, segmentLimit);
  const yielder = new Yielder();
  const shape = await parseCsv(body, values, () => yielder.maybeYield());
  try {
    return values.finish(shape);
  } catch (err) {
    values.discard();
    throw err;
  }
}

/** CSV into a sink, as its rows arrive: the row length is known from the first data row. */
export async function streamCsv(
  body: AsyncIterable<Uint8Array>,
  sink: ArraySink,
  dtype: DType,
): Promise<StreamedArray> {
  const values = new SinkValues(dtype, sink);
  const yielder = new Yielder();
  const shape = await parseCsv(body, values, async () => {
    values.flush();
    await sink.ready();
    await yielder.maybeYield();
  });
  values.flush();
  return { dtype, shape };
}

/**
 * Parses the body into `values` a piece at a time, awaiting `between` after each piece, and gives
 * the shape; the values are discarded when it throws.
 */
async function parseCsv(
  body: AsyncIterable<Uint8Array>,
  values: ValueTarget,
  between: () => Promise<void>,
): Promise<number[]> {
  const csv = new CsvRows(values);
  const parser = (
    new Parser({
      bom: true,
      relax_column_count: true,
      skip_empty_lines: false,
      max_record_size: TEXT_LIMITS.line,
    }) as unknown as { api: PushParser }
  ).api;
  const onRecord = (record: string[]) => csv.record(record);
  const noop = () => {};
  try {
    for await (const chunk of body) {
      for (let at = 0; at < chunk.length; at += PIECE) {
        const problem = parser.parse(chunk.subarray(at, at + PIECE), false, onRecord, noop);
        csv.check(problem);
        await between();
      }
    }
    csv.check(parser.parse(undefined, true, onRecord, noop));
    return csv.shape();
  } catch (err) {
    values.discard();
    throw err;
  }
}

/** The rows as csv-parse hands them over, checked and stored. */
class CsvRows {
  readonly #values: ValueTarget;
  #line = 0;
  #columns = 0;
  #header: string[] | undefined;
  #blankLine = 0;
  /** The first error met inside csv-parse's callback, which must not throw through it. */
  #error: unknown;
  readonly #where = (index: number) => `CSV line ${this.#line}, column ${(index % this.#columns) + 1}`;

  constructor(values: ValueTarget) {
    this.#values = values;
  }

  record(record: string[]): void {
    if (this.#error !== undefined) return;
    try {
      this.#take(record);
    } catch (err) {
      this.#error = err;
    }
  }

  /** Throws what went wrong in the last piece, if anything. */
  check(parseError: Error | undefined): void {
    if (this.#error !== undefined) throw this.#error;
    if (parseError !== undefined) {
      throw parseError instanceof CsvError ? csvProblem(parseError, this.#line + 1) : parseError;
    }
  }

  shape(): number[] {
    if (this.#columns === 0) {
      throw new InvalidDatasetRequest(
        this.#header === undefined
          ? 'the CSV body has no data rows'
          : `the CSV body has no data rows: line 1 ("${this.#header.join(',').slice(0, 80)}") has no numeric field, and a header is only taken as one when a data line follows it`,
      );
    }
    return [this.#values.length / this.#columns, this.#columns];
  }

  #take(record: string[]): void {
    const line = ++this.#line;
    if (isBlank(record)) {
      this.#blankLine ||= line;
      return;
    }
    if (this.#blankLine > 0) {
      throw new InvalidDatasetRequest(
        `CSV line ${this.#blankLine} is empty; every row needs ${this.#columns || 'the same number of'} numbers`,
      );
    }
    if (line === 1 && record.every((f) => f.length > TEXT_LIMITS.field || parseCsvField(f) === undefined)) {
      this.#header = record;
      return;
    }
    if (this.#columns === 0) {
      this.#columns = record.length;
      this.#values.rowLength?.(this.#columns);
    } else if (record.length !== this.#columns) {
      throw new InvalidDatasetRequest(
        `CSV line ${line} has ${record.length} columns but the first data row has ${this.#columns}; rows must not be ragged`,
      );
    }
    for (let c = 0; c < record.length; c++) this.#values.push(fieldValue(record[c], line, c), this.#where);
  }
}

function fieldValue(field: string, line: number, column: number): Scalar {
  if (field.length > TEXT_LIMITS.field) {
    throw new InvalidDatasetRequest(
      `CSV line ${line}, column ${column + 1} is ${field.length} characters long; a field may have at most ${TEXT_LIMITS.field}`,
    );
  }
  const value = parseCsvField(field);
  if (value === undefined) {
    throw new InvalidDatasetRequest(
      `CSV line ${line}, column ${column + 1} is "${field}", which is not a number`,
    );
  }
  return value;
}

function csvProblem(err: CsvError, line: number): Error {
  if (err.code === 'CSV_MAX_RECORD_SIZE') {
    return new InvalidDatasetRequest(
      `CSV line ${line} is longer than ${TEXT_LIMITS.line} characters, the most a line may have`,
    );
  }
  return new InvalidDatasetRequest(`the CSV body could not be parsed: ${err.message}`);
}
