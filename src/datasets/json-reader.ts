import { InvalidDatasetRequest } from '../errors.js';
import { Yielder } from '../event-loop.js';
import type { MemoryBudget } from '../memory.js';
import type { ArraySink, StreamedArray } from './array-sink.js';
import { type DType, isDType, SUPPORTED_DTYPES_TEXT } from './dtypes.js';
import { GrowingArray } from './growing-array.js';
import { JsonDataShape } from './json-shape.js';
import { SinkValues } from './sink-values.js';
import type { FilledArray } from './store.js';
import { MAX_NAME_LENGTH, TEXT_LIMITS } from './text-limits.js';
import type { ValueTarget } from './value-target.js';
import type { Scalar } from './values.js';

/*
 * The streaming reader of JSON uploads. This module is long because its state machine is one unit:
 * every state reads and writes the same private fields. What is not the machine is elsewhere: the
 * shape of nested lists in json-shape.ts, the token limits in text-limits.ts.
 */

const JSON_NON_FINITE: Record<string, number> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  '-Infinity': Number.NEGATIVE_INFINITY,
};
const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?$/;
const ESCAPES: Record<string, string> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

export interface JsonUploaded {
  readonly filled: FilledArray;
  readonly name: string | undefined;
}

export interface JsonStreamed extends StreamedArray {
  readonly name: string | undefined;
}

type Field = 'dtype' | 'name';
type Mode =
  | 'start' // before the body's '{'
  | 'key-or-end' // after '{'
  | 'key' // after ','
  | 'colon'
  | 'value'
  | 'after-value' // ',' or '}'
  | 'done'
  | 'data-value' // an element or a nested list
  | 'data-value-or-end' // after '['
  | 'data-after' // ',' or ']'
  | 'string' // in a key, "dtype" or "name"
  | 'data-string' // a string element ("NaN", …)
  | 'number'
  | 'word'; // true, false, null

/**
 * The JSON upload body `{"data": nested lists, "dtype"?, "name"?}`, read as it arrives by a small
 * state machine: no tree is ever built, numbers go straight into shared memory, and every token
 * (key, string, number, nesting depth) has a stated maximum, so no body can exhaust the heap or the
 * stack. Values that come before "dtype" are held as float64 and converted when the body ends;
 * values handed to a sink as they arrive cannot be, so then a late "dtype" must be float64.
 */
export class JsonUploadReader {
  readonly #budget: MemoryBudget;
  #mode: Mode = 'start';
  #token = '';
  #stringTarget: 'key' | Field = 'key';
  #escape = false;
  /** Hex digits still to read of a \u escape, and their value so far. */
  #hexLeft = 0;
  #hex = 0;
  #key = '';
  #seen = new Set<string>();
  #dtype: DType | undefined;
  #name: string | undefined;
  #values: ValueTarget | undefined;
  #rowLengthTold = false;
  #shape: JsonDataShape | undefined;
  #offset = 0;
  readonly #describe = (index: number) => (this.#shape as JsonDataShape).describe(index);

  /** The dtype query parameter: the dtype when the body gives none. */
  readonly #queryDtype: DType | undefined;
  /** Where values go when they are not held in shared memory here. */
  readonly #target: ((dtype: DType) => ValueTarget) | undefined;

  constructor(budget: MemoryBudget, queryDtype?: DType, target?: (dtype: DType) => ValueTarget) {
    this.#budget = budget;
    this.#queryDtype = queryDtype;
    this.#target = target;
  }

  write(text: string): void {
    const n = text.length;
    let i = 0;
    while (i < n) {
      const mode = this.#mode;
      if (mode === 'number' || mode === 'word') {
        const start = i;
        while (i < n && isTokenChar(text.charCodeAt(i))) i++;
        this.#offset += i - start;
        this.#token += text.slice(start, i);
        this.#checkTokenLength();
        if (i < n) this.#endToken();
        continue;
      }
      if (mode === 'string' || mode === 'data-string') {
        i = this.#readString(text, i);
        continue;
      }
      const ch = text[i++];
      this.#offset++;
      if (ch === ' ' || ch === '\n' || ch === '\r' || ch === '\t') continue;
      this.#structural(ch);
    }
  }

  /** The shape, dtype and name once the whole body has been written to the target. */
  endStreamed(): JsonStreamed {
    const shape = this.#close();
    return { shape, dtype: (this.#values as ValueTarget).dtype, name: this.#name };
  }

  /** The stored dataset and its name, once the whole body has been written. */
  end(): JsonUploaded {
    const shape = this.#close();
    let values = this.#values as GrowingArray;
    const dtype = this.#dtype ?? this.#queryDtype ?? 'float64';
    if (values.dtype !== dtype) {
      values.trimReservation();
      const converted = new GrowingArray(dtype, this.#budget);
      this.#values = converted;
      try {
        for (let i = 0; i < values.length; i++) converted.push(values.at(i), this.#describe);
      } finally {
        values.discard();
      }
      values = converted;
    }
    return { filled: values.finish(shape), name: this.#name };
  }

  discard(): void {
    this.#values?.discard();
  }

  #close(): number[] {
    if (this.#mode === 'number' || this.#mode === 'word') this.#endToken();
    if (this.#mode === 'start') throw this.#fail('the JSON body is empty');
    if (this.#mode !== 'done') throw this.#fail('the JSON body ends before its closing }');
    if (this.#shape === undefined || this.#values === undefined) {
      throw new InvalidDatasetRequest("body must have required property 'data'");
    }
    return this.#shape.final();
  }

  /** Tells the target the row length as soon as the first row has closed (or the data is 1-D). */
  #tellRowLength(shape: JsonDataShape): void {
    if (this.#rowLengthTold) return;
    const elements = shape.rowLength();
    if (elements === undefined) return;
    this.#rowLengthTold = true;
    this.#values?.rowLength?.(elements);
  }

  #structural(ch: string): void {
    switch (this.#mode) {
      case 'start':
        if (ch !== '{')
          throw this.#fail('the JSON body must be an object such as {"data": [[1, 2], [3, 4]]}');
        this.#mode = 'key-or-end';
        return;
      case 'key-or-end':
      case 'key':
        if (ch === '}' && this.#mode === 'key-or-end') {
          this.#mode = 'done';
          return;
        }
        if (ch !== '"') throw this.#syntax(ch, 'a quoted field name');
        this.#startString('key');
        return;
      case 'colon':
        if (ch !== ':') throw this.#syntax(ch, "':'");
        this.#mode = 'value';
        return;
      case 'value':
        this.#fieldValue(ch);
        return;
      case 'after-value':
        if (ch === ',') this.#mode = 'key';
        else if (ch === '}') this.#mode = 'done';
        else throw this.#syntax(ch, "',' or '}'");
        return;
      case 'done':
        throw this.#syntax(ch, 'the end of the body');
      case 'data-value-or-end':
        if (ch === ']') {
          this.#closeList();
          return;
        }
        this.#dataValue(ch);
        return;
      case 'data-value':
        this.#dataValue(ch);
        return;
      case 'data-after':
        if (ch === ',') this.#mode = 'data-value';
        else if (ch === ']') this.#closeList();
        else throw this.#syntax(ch, "',' or ']'");
        return;
    }
  }

  #fieldValue(ch: string): void {
    const key = this.#key;
    if (key === 'data') {
      if (ch !== '[') throw new InvalidDatasetRequest('"data" must be a list (nested lists for 2-D and up)');
      this.#shape = new JsonDataShape(TEXT_LIMITS.depth);
      const dtype = this.#dtype ?? this.#queryDtype ?? 'float64';
      this.#values = this.#target?.(dtype) ?? new GrowingArray(dtype, this.#budget);
      this.#shape.open();
      this.#mode = 'data-value-or-end';
      return;
    }
    if (ch !== '"') throw new InvalidDatasetRequest(`body.${key} must be string`);
    this.#startString(key as Field);
  }

  #dataValue(ch: string): void {
    const shape = this.#shape as JsonDataShape;
    if (ch === '[') {
      shape.open();
      this.#mode = 'data-value-or-end';
      return;
    }
    if (ch === '"') {
      this.#startString('key');
      this.#mode = 'data-string';
      return;
    }
    if (ch === '{') throw new InvalidDatasetRequest(`${shape.nextHere()} is an object; ${ELEMENT_RULE}`);
    if (ch === '-' || (ch >= '0' && ch <= '9')) this.#mode = 'number';
    else if (ch >= 'a' && ch <= 'z') this.#mode = 'word';
    else throw this.#syntax(ch, 'a number, a list or ]');
    this.#token = ch;
  }

  #closeList(): void {
    const shape = this.#shape as JsonDataShape;
    const closedAll = shape.close();
    this.#tellRowLength(shape);
    this.#mode = closedAll ? 'after-value' : 'data-after';
  }

  #leaf(value: Scalar | undefined, text: string): void {
    const shape = this.#shape as JsonDataShape;
    if (value === undefined)
      throw new InvalidDatasetRequest(`${shape.nextHere()} is ${text}; ${ELEMENT_RULE}`);
    shape.leaf();
    this.#tellRowLength(shape);
    (this.#values as ValueTarget).push(value, this.#describe);
    this.#mode = 'data-after';
  }

  #endToken(): void {
    const token = this.#token;
    this.#token = '';
    if (this.#mode === 'word') {
      this.#leaf(token === 'true' ? true : token === 'false' ? false : undefined, token);
      return;
    }
    if (!JSON_NUMBER.test(token)) throw this.#fail(`${token} is not a JSON number`);
    this.#leaf(Number(token), token);
  }

  #checkTokenLength(): void {
    if (this.#token.length > TEXT_LIMITS.field) {
      throw new InvalidDatasetRequest(
        `${(this.#shape as JsonDataShape).nextHere()} is a number of more than ${TEXT_LIMITS.field} characters, the most one may have`,
      );
    }
  }

  #startString(target: 'key' | Field): void {
    this.#mode = 'string';
    this.#stringTarget = target;
    this.#token = '';
    this.#escape = false;
    this.#hexLeft = 0;
  }

  /** Reads string characters from `i`; returns where it stopped. */
  #readString(text: string, i: number): number {
    const max = this.#stringTarget === 'name' ? MAX_NAME_LENGTH : TEXT_LIMITS.key;
    while (i < text.length) {
      const ch = text[i++];
      this.#offset++;
      if (this.#hexLeft > 0) {
        const digit = Number.parseInt(ch, 16);
        if (Number.isNaN(digit)) throw this.#fail(`${JSON.stringify(ch)} in a \\u escape is not a hex digit`);
        this.#hex = this.#hex * 16 + digit;
        if (--this.#hexLeft === 0) this.#token += String.fromCharCode(this.#hex);
      } else if (this.#escape) {
        this.#escape = false;
        if (ch === 'u') {
          this.#hexLeft = 4;
          this.#hex = 0;
        } else {
          const escaped = ESCAPES[ch];
          if (escaped === undefined) throw this.#fail(`\\${ch} is not a JSON escape`);
          this.#token += escaped;
        }
      } else if (ch === '\\') {
        this.#escape = true;
      } else if (ch === '"') {
        this.#endString();
        return i;
      } else {
        this.#token += ch;
      }
      if (this.#token.length > max) this.#tooLong(max);
    }
    return i;
  }

  #endString(): void {
    const value = this.#token;
    this.#token = '';
    if (this.#mode === 'data-string') {
      this.#leaf(
        Object.hasOwn(JSON_NON_FINITE, value) ? JSON_NON_FINITE[value] : undefined,
        JSON.stringify(value),
      );
      return;
    }
    const target = this.#stringTarget;
    if (target === 'key') {
      if (value !== 'data' && value !== 'dtype' && value !== 'name') {
        throw new InvalidDatasetRequest(`body has an unknown field "${value}"`);
      }
      if (this.#seen.has(value)) throw new InvalidDatasetRequest(`body has the field "${value}" twice`);
      this.#seen.add(value);
      this.#key = value;
      this.#mode = 'colon';
      return;
    }
    if (target === 'dtype') {
      if (!isDType(value)) {
        throw new InvalidDatasetRequest(
          `unknown dtype "${value}"; supported dtypes are ${SUPPORTED_DTYPES_TEXT}`,
        );
      }
      if (this.#queryDtype !== undefined && this.#queryDtype !== value) {
        throw new InvalidDatasetRequest(
          `the dtype query parameter says ${this.#queryDtype} but the body's "dtype" says ${value}; give one of them`,
        );
      }
      if (this.#target !== undefined && this.#values !== undefined && this.#values.dtype !== value) {
        throw new InvalidDatasetRequest(
          `"dtype" comes after "data", whose values were already stored as ${this.#values.dtype} as they arrived; give the dtype before "data" or as the dtype query parameter`,
        );
      }
      this.#dtype = value;
    } else {
      this.#name = value;
    }
    this.#mode = 'after-value';
  }

  #tooLong(max: number): never {
    if (this.#mode === 'data-string') {
      throw new InvalidDatasetRequest(
        `${(this.#shape as JsonDataShape).nextHere()} is a long string; ${ELEMENT_RULE}`,
      );
    }
    const what = this.#stringTarget === 'key' ? 'a field name' : `body.${this.#stringTarget}`;
    throw new InvalidDatasetRequest(`${what} must NOT have more than ${max} characters`);
  }

  #syntax(ch: string, expected: string): Error {
    return this.#fail(`unexpected ${JSON.stringify(ch)} where ${expected} belongs`);
  }

  #fail(what: string): Error {
    return new InvalidDatasetRequest(`the JSON body is not valid at character ${this.#offset}: ${what}`);
  }
}

const ELEMENT_RULE = 'every element must be a number, true/false, "NaN", "Infinity" or "-Infinity"';

/** Digits, signs, exponent and decimal point of a number, and the letters of true/false/null. */
function isTokenChar(code: number): boolean {
  return (
    (code >= 48 && code <= 57) ||
    code === 45 ||
    code === 43 ||
    code === 46 ||
    (code >= 97 && code <= 122) ||
    (code >= 65 && code <= 90)
  );
}

/** Reads a JSON upload from a byte stream. */
export async function readJsonStream(
  body: AsyncIterable<Uint8Array>,
  budget: MemoryBudget,
  queryDtype?: DType,
): Promise<JsonUploaded> {
  const reader = new JsonUploadReader(budget, queryDtype);
  const decoder = new TextDecoder('utf-8');
  const yielder = new Yielder();
  try {
    for await (const chunk of body) {
      reader.write(decoder.decode(chunk, { stream: true }));
      await yielder.maybeYield();
    }
    reader.write(decoder.decode());
    return reader.end();
  } catch (err) {
    reader.discard();
    throw err;
  }
}

/** Characters of a JSON body parsed between waits for the sink. */
const TEXT_PIECE = 16 * 1024;

/** Reads a JSON upload into a sink as it arrives: the row length is known once the first row closes. */
export async function streamJson(
  body: AsyncIterable<Uint8Array>,
  sink: ArraySink,
  budget: MemoryBudget,
  queryDtype?: DType,
): Promise<JsonStreamed> {
  let values: SinkValues | undefined;
  const reader = new JsonUploadReader(budget, queryDtype, (dtype) => {
    values = new SinkValues(dtype, sink);
    return values;
  });
  const decoder = new TextDecoder('utf-8');
  const yielder = new Yielder();
  for await (const chunk of body) {
    // A piece of text at a time, so the values it holds reach the sink before more are parsed.
    const text = decoder.decode(chunk, { stream: true });
    for (let at = 0; at < text.length; at += TEXT_PIECE) {
      reader.write(text.slice(at, at + TEXT_PIECE));
      values?.flush();
      await sink.ready();
      await yielder.maybeYield();
    }
  }
  reader.write(decoder.decode());
  const streamed = reader.endStreamed();
  values?.flush();
  return streamed;
}
