import { parse } from 'csv-parse/sync';
import { InvalidDatasetRequest } from '../errors.js';
import type { Scalar } from './values.js';

export interface ParsedValues {
  readonly shape: number[];
  readonly values: Scalar[];
  /** Where flat element i came from, for error messages. */
  readonly describe: (flatIndex: number) => string;
}

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
function csvNumber(field: string): Scalar | undefined {
  const text = field.trim();
  const lower = text.toLowerCase();
  if (lower in NON_FINITE) return NON_FINITE[lower];
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  // Past 15 digits a double may lose digits that int64 and uint64 can hold.
  if (/^[-+]?\d{16,}$/.test(text)) return BigInt(text);
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}

/**
 * Numeric CSV: one dataset row per line, the same number of columns on each. A first line in which no
 * field is a number is a header of column names and is skipped.
 */
export function parseCsv(text: string): ParsedValues {
  let records: string[][];
  try {
    records = parse(text, { relax_column_count: true, skip_empty_lines: false, bom: true });
  } catch (err) {
    throw new InvalidDatasetRequest(`the CSV body could not be parsed: ${(err as Error).message}`);
  }
  while (records.length > 0 && isBlank(records[records.length - 1])) records.pop();
  let first = 0;
  // A header is a line of names: none of its fields reads as a number.
  if (records.length > 0 && records[0].every((f) => csvNumber(f) === undefined)) first = 1;
  const rows = records.length - first;
  if (rows === 0) throw new InvalidDatasetRequest('the CSV body has no data rows');
  const columns = records[first].length;
  const values: Scalar[] = new Array(rows * columns);
  for (let r = 0; r < rows; r++) {
    const record = records[first + r];
    const line = first + r + 1;
    if (isBlank(record))
      throw new InvalidDatasetRequest(`CSV line ${line} is empty; every row needs ${columns} numbers`);
    if (record.length !== columns) {
      throw new InvalidDatasetRequest(
        `CSV line ${line} has ${record.length} columns but the first data row has ${columns}; rows must not be ragged`,
      );
    }
    for (let c = 0; c < columns; c++) {
      const value = csvNumber(record[c]);
      if (value === undefined) {
        throw new InvalidDatasetRequest(
          `CSV line ${line}, column ${c + 1} is "${record[c]}", which is not a number`,
        );
      }
      values[r * columns + c] = value;
    }
  }
  return {
    shape: [rows, columns],
    values,
    describe: (i) => `CSV line ${first + Math.floor(i / columns) + 1}, column ${(i % columns) + 1}`,
  };
}

function isBlank(record: string[]): boolean {
  return record.length === 0 || (record.length === 1 && record[0].trim() === '');
}

const JSON_NON_FINITE: Record<string, number> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  '-Infinity': Number.NEGATIVE_INFINITY,
};

/**
 * Nested JSON lists of a regular shape (any depth >= 1). Numbers, true/false, and the strings "NaN",
 * "Infinity", "-Infinity" (which rowpool also writes, since JSON has no such numbers).
 */
export function parseJsonArray(data: unknown): ParsedValues {
  if (!Array.isArray(data))
    throw new InvalidDatasetRequest('"data" must be a list (nested lists for 2-D and up)');
  const shape: number[] = [];
  for (let level: unknown = data; Array.isArray(level); level = level[0]) {
    shape.push(level.length);
    if (level.length === 0) break;
  }
  if (shape[0] === 0) throw new InvalidDatasetRequest('"data" is empty; send at least one row');
  const values: Scalar[] = [];
  const path: number[] = [];
  const walk = (node: unknown, depth: number): void => {
    if (depth === shape.length) {
      const value = jsonScalar(node);
      if (value === undefined) {
        throw new InvalidDatasetRequest(
          `data${path.map((p) => `[${p}]`).join('')} is ${JSON.stringify(node)}; every element must be a number, true/false, "NaN", "Infinity" or "-Infinity"`,
        );
      }
      values.push(value);
      return;
    }
    if (!Array.isArray(node) || node.length !== shape[depth]) {
      throw new InvalidDatasetRequest(
        `data${path.map((p) => `[${p}]`).join('')} ${Array.isArray(node) ? `has length ${node.length}` : 'is not a list'} where the shape (${shape.join(', ')}) needs a list of ${shape[depth]}: the lists are ragged`,
      );
    }
    for (let i = 0; i < node.length; i++) {
      path.push(i);
      walk(node[i], depth + 1);
      path.pop();
    }
  };
  walk(data, 0);
  return {
    shape,
    values,
    describe: (i) => {
      const index: number[] = [];
      for (let d = shape.length - 1; d >= 0; d--) {
        index.unshift(i % shape[d]);
        i = Math.floor(i / shape[d]);
      }
      return `data${index.map((p) => `[${p}]`).join('')}`;
    },
  };
}

function jsonScalar(node: unknown): Scalar | undefined {
  if (typeof node === 'number' || typeof node === 'boolean') return node;
  if (typeof node === 'string' && node in JSON_NON_FINITE) return JSON_NON_FINITE[node];
  return undefined;
}
