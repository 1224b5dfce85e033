import { CsvError, parse } from 'csv-parse';
import { InvalidDatasetRequest } from '../errors.js';
import type { MemoryBudget } from '../memory.js';
import type { DType } from './dtypes.js';
import { GrowingArray } from './growing-array.js';
import type { FilledArray } from './store.js';
import { TEXT_LIMITS, Yielder } from './text-limits.js';
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

/**
 * Numeric CSV, parsed as it arrives: one dataset row per line, the same number of columns on each.
 * A first line in which no field is a number is a header of column names, skipped when a data line
 * follows it. Trailing blank lines are ignored; a blank line between rows is an error.
 */
export async function readCsvStream(
  body: AsyncIterable<Uint8Array>,
  budget: MemoryBudget,
  dtype: DType,
): Promise<FilledArray> {
  const parser = parse({
    bom: true,
    relax_column_count: true,
    skip_empty_lines: false,
    max_record_size: TEXT_LIMITS.line,
  });
  const feeding = feed(body, parser);
  const values = new GrowingArray(dtype, budget);
  const yielder = new Yielder();
  let line = 0;
  let columns = 0;
  let header: string[] | undefined;
  let blankLine = 0;
  const where = (index: number) => `CSV line ${line}, column ${(index % columns) + 1}`;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      line++;
      if (isBlank(record)) {
        blankLine ||= line;
        continue;
      }
      if (blankLine > 0) {
        throw new InvalidDatasetRequest(
          `CSV line ${blankLine} is empty; every row needs ${columns || 'the same number of'} numbers`,
        );
      }
      if (line === 1 && record.every((f) => f.length > TEXT_LIMITS.field || parseCsvField(f) === undefined)) {
        header = record;
        continue;
      }
      if (columns === 0) columns = record.length;
      else if (record.length !== columns) {
        throw new InvalidDatasetRequest(
          `CSV line ${line} has ${record.length} columns but the first data row has ${columns}; rows must not be ragged`,
        );
      }
      for (let c = 0; c < columns; c++) values.push(fieldValue(record[c], line, c), where);
      await yielder.maybeYield();
    }
    await feeding;
  } catch (err) {
    values.discard();
    parser.destroy();
    await feeding.catch(() => {});
    throw err instanceof CsvError ? csvProblem(err, line + 1) : err;
  }
  if (columns === 0) {
    values.discard();
    throw new InvalidDatasetRequest(
      header === undefined
        ? 'the CSV body has no data rows'
        : `the CSV body has no data rows: line 1 ("${header.join(',').slice(0, 80)}") has no numeric field, and a header is only taken as one when a data line follows it`,
    );
  }
  return values.finish([values.length / columns, columns]);
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

/** Writes the body into the parser with backpressure; a failing body fails the parser's reader. */
async function feed(body: AsyncIterable<Uint8Array>, parser: ReturnType<typeof parse>): Promise<void> {
  try {
    for await (const chunk of body) {
      if (parser.destroyed) return;
      if (!parser.write(chunk)) await drainedOrClosed(parser);
    }
    parser.end();
  } catch (err) {
    parser.destroy(err as Error);
    throw err;
  }
}

function drainedOrClosed(parser: ReturnType<typeof parse>): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      parser.off('drain', done);
      parser.off('close', done);
      resolve();
    };
    parser.on('drain', done);
    parser.on('close', done);
  });
}
