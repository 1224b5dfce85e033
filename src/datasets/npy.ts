/**
 * The `.npy` format (NumPy's `format.py`, versions 1.0, 2.0 and 3.0), as a pure codec: it reads and
 * writes headers and never touches a stream. The header is a Python dict literal; it is parsed here
 * as data by a small literal parser, never evaluated. No npm package reads `.npy` headers properly
 * (byte order, Fortran order and v2/v3 lengths are commonly ignored), so this is written by hand.
 */

import { InvalidNpy, UnsupportedDtype } from '../errors.js';
import {
  DTYPE_INFO,
  type DType,
  descrOf,
  elementCount,
  parseDescr,
  SUPPORTED_DTYPES_TEXT,
} from './dtypes.js';

export const NPY_MAGIC = Uint8Array.of(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59); // \x93NUMPY
/** NumPy refuses headers over 10 000 bytes by default; allow more, but bound what is buffered. */
export const MAX_HEADER_BYTES = 65536;
/** NumPy's limit on an array's dimensions (NPY_MAXDIMS). */
export const MAX_DIMS = 64;
/** How deep the header's literal may nest; a shape tuple in the dict is at depth 2. */
const MAX_LITERAL_DEPTH = 64;
const PREAMBLE_V1 = 10;
const PREAMBLE_V2 = 12;

export interface NpyHeader {
  readonly dtype: DType;
  readonly bigEndian: boolean;
  readonly fortranOrder: boolean;
  readonly shape: number[];
  /** Offset of the first data byte in the file. */
  readonly dataOffset: number;
}

export function startsWithMagic(bytes: Uint8Array): boolean {
  if (bytes.length < NPY_MAGIC.length) return false;
  for (let i = 0; i < NPY_MAGIC.length; i++) if (bytes[i] !== NPY_MAGIC[i]) return false;
  return true;
}

/**
 * How many bytes the magic, version, length field and header take, read from the first bytes of a
 * file; undefined while fewer bytes than the length field needs have arrived.
 */
export function npyDataOffset(prefix: Uint8Array): number | undefined {
  const magicLength = Math.min(prefix.length, NPY_MAGIC.length);
  for (let i = 0; i < magicLength; i++) {
    if (prefix[i] !== NPY_MAGIC[i])
      throw new InvalidNpy('the body does not start with the NPY magic \\x93NUMPY');
  }
  if (prefix.length < 8) return undefined;
  const major = prefix[6];
  if (major !== 1 && major !== 2 && major !== 3) {
    throw new InvalidNpy(`format version ${major}.${prefix[7]} is not supported (1.0, 2.0 and 3.0 are)`);
  }
  if (prefix[7] !== 0) {
    throw new InvalidNpy(
      `format version ${major}.${prefix[7]} is not supported (1.0, 2.0 and 3.0 are; NumPy writes no other minor version)`,
    );
  }
  const preamble = major === 1 ? PREAMBLE_V1 : PREAMBLE_V2;
  if (prefix.length < preamble) return undefined;
  const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (headerLength > MAX_HEADER_BYTES) {
    throw new InvalidNpy(`the header is ${headerLength} bytes; at most ${MAX_HEADER_BYTES} are accepted`);
  }
  return preamble + headerLength;
}

/** Parses magic, version and header dict; `bytes` must hold at least `npyDataOffset(bytes)` bytes. */
export function parseNpyHeader(bytes: Uint8Array): NpyHeader {
  const dataOffset = npyDataOffset(bytes);
  if (dataOffset === undefined || bytes.length < dataOffset) throw new InvalidNpy('the header is truncated');
  const dict = headerDict(bytes, dataOffset);
  const keys = [...dict.keys()].sort().join(',');
  if (keys !== 'descr,fortran_order,shape') {
    throw new InvalidNpy(
      `the header must have exactly the keys descr, fortran_order and shape, not ${keys || 'none'}`,
    );
  }
  const descr = dict.get('descr');
  if (typeof descr !== 'string') {
    throw new UnsupportedDtype(
      `${descr instanceof PyList ? 'structured' : String(descr)} (descr ${literalText(descr)})`,
      SUPPORTED_DTYPES_TEXT,
    );
  }
  const parsed = parseDescr(descr);
  if (parsed === undefined) throw new UnsupportedDtype(`'${descr}'`, SUPPORTED_DTYPES_TEXT);
  const fortranOrder = dict.get('fortran_order');
  if (typeof fortranOrder !== 'boolean') throw new InvalidNpy('fortran_order must be True or False');
  const shape = dict.get('shape');
  if (!Array.isArray(shape)) {
    throw new InvalidNpy(
      `shape ${literalText(shape)} is not a tuple; it must be a tuple of non-negative integers such as (5,) or (2, 3)`,
    );
  }
  if (shape.length > MAX_DIMS) {
    throw new InvalidNpy(
      `shape has ${shape.length} dimensions; at most ${MAX_DIMS} are accepted, as in NumPy`,
    );
  }
  const dims = dimensions(shape);
  if (dims === undefined) throw new InvalidNpy(`shape ${literalText(shape)} must hold non-negative integers`);
  if (dims.length === 0)
    throw new InvalidNpy('0-d arrays (shape ()) are not datasets; send at least 1 dimension');
  return { dtype: parsed.dtype, bigEndian: parsed.bigEndian, fortranOrder, shape: dims, dataOffset };
}

/** A shape's dimensions as numbers, or undefined unless every one is a non-negative safe integer. */
function dimensions(shape: Literal | undefined): number[] | undefined {
  if (!Array.isArray(shape)) return undefined;
  const dims: number[] = [];
  for (const dim of shape) {
    if (typeof dim !== 'bigint' || dim < 0n || dim > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
    dims.push(Number(dim));
  }
  return dims;
}

function headerDict(bytes: Uint8Array, dataOffset: number): Map<string, Literal> {
  const preamble = bytes[6] === 1 ? PREAMBLE_V1 : PREAMBLE_V2;
  const encoding = bytes[6] === 3 ? 'utf-8' : 'latin1';
  const text = Buffer.from(bytes.buffer, bytes.byteOffset + preamble, dataOffset - preamble).toString(
    encoding,
  );
  const dict = parseLiteral(text);
  if (!(dict instanceof Map)) throw new InvalidNpy('the header is not a dict literal');
  return dict;
}

/**
 * The data bytes a header declares when its descr and shape alone are readable, whatever else is
 * wrong with it: the memory check comes before every other complaint about an upload.
 */
export function npyDeclaredBytes(bytes: Uint8Array): number | undefined {
  try {
    const dataOffset = npyDataOffset(bytes);
    if (dataOffset === undefined || bytes.length < dataOffset) return undefined;
    const dict = headerDict(bytes, dataOffset);
    const descr = dict.get('descr');
    const parsed = typeof descr === 'string' ? parseDescr(descr) : undefined;
    const dims = dimensions(dict.get('shape'));
    if (parsed === undefined || dims === undefined) return undefined;
    return elementCount(dims) * DTYPE_INFO[parsed.dtype].itemsize;
  } catch {
    return undefined;
  }
}

/**
 * A version 1.0 header (2.0 when it does not fit in 65535 bytes) for a little-endian C-order array,
 * padded with spaces so the data starts at a multiple of 64 bytes, as NumPy writes it.
 */
export function formatNpyHeader(descr: string, shape: readonly number[]): Buffer {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': ${descr.startsWith('[') ? descr : `'${descr}'`}, 'fortran_order': False, 'shape': ${shapeText}, }`;
  let preamble = PREAMBLE_V1;
  let total = Math.ceil((preamble + dict.length + 1) / 64) * 64;
  if (total - preamble > 0xffff) {
    preamble = PREAMBLE_V2;
    total = Math.ceil((preamble + dict.length + 1) / 64) * 64;
  }
  const out = Buffer.alloc(total, 0x20);
  out.set(NPY_MAGIC, 0);
  out[6] = preamble === PREAMBLE_V1 ? 1 : 2;
  out[7] = 0;
  if (preamble === PREAMBLE_V1) out.writeUInt16LE(total - preamble, 8);
  else out.writeUInt32LE(total - preamble, 8);
  out.write(dict, preamble, 'latin1');
  out[total - 1] = 0x0a;
  return out;
}

export function npyHeaderFor(dtype: DType, shape: readonly number[]): Buffer {
  return formatNpyHeader(descrOf(dtype), shape);
}

/** A Python list; a tuple is a plain array, since a shape must be a tuple and not a list. */
class PyList {
  constructor(readonly items: Literal[]) {}
}

type Literal = string | bigint | number | boolean | null | Literal[] | PyList | Map<string, Literal>;

function literalText(value: Literal | undefined): string {
  if (Array.isArray(value)) return `(${value.map(literalText).join(', ')}${value.length === 1 ? ',' : ''})`;
  if (value instanceof PyList) return `[${value.items.map(literalText).join(', ')}]`;
  if (typeof value === 'string') return `'${value}'`;
  return String(value);
}

/** A parser for the Python literals a header may hold: dicts, tuples, lists, strings, numbers, bools, None. */
function parseLiteral(text: string): Literal {
  let pos = 0;
  let depth = 0;
  const fail = (what: string): never => {
    throw new InvalidNpy(`the header is not a plain dict literal (${what} at offset ${pos})`);
  };
  const skipSpace = () => {
    while (pos < text.length && /\s/.test(text[pos])) pos++;
  };
  /** The items, and whether a comma came after the last one (what makes `(5,)` a tuple). */
  const parseSequence = (close: string): [Literal[], boolean] => {
    const items: Literal[] = [];
    let trailingComma = false;
    for (;;) {
      skipSpace();
      if (text[pos] === close) {
        pos++;
        return [items, trailingComma];
      }
      items.push(parseValue());
      skipSpace();
      trailingComma = text[pos] === ',';
      if (trailingComma) pos++;
      else if (text[pos] !== close) fail(`expected ',' or '${close}'`);
    }
  };
  /** `()` and `(a,)` and `(a, b)` are tuples; `(a)` is just `a`, as in Python. */
  const parseParenthesized = (): Literal => {
    const [items, trailingComma] = parseSequence(')');
    return items.length === 1 && !trailingComma ? items[0] : items;
  };
  const parseDict = (): Map<string, Literal> => {
    const dict = new Map<string, Literal>();
    for (;;) {
      skipSpace();
      if (text[pos] === '}') {
        pos++;
        return dict;
      }
      const key = parseValue();
      if (typeof key !== 'string') return fail('a dict key that is not a string');
      skipSpace();
      if (text[pos] !== ':') fail("expected ':'");
      pos++;
      if (dict.has(key)) fail(`a repeated key '${key}'`);
      dict.set(key, parseValue());
      skipSpace();
      if (text[pos] === ',') pos++;
      else if (text[pos] !== '}') fail("expected ',' or '}'");
    }
  };
  const parseString = (quote: string): string => {
    let out = '';
    for (;;) {
      if (pos >= text.length) fail('an unterminated string');
      const ch = text[pos++];
      if (ch === quote) return out;
      if (ch === '\\') {
        out += text[pos++] ?? '';
      } else {
        out += ch;
      }
    }
  };
  const parseValue = (): Literal => {
    if (++depth > MAX_LITERAL_DEPTH) fail(`nesting deeper than ${MAX_LITERAL_DEPTH} levels`);
    try {
      return parseNested();
    } finally {
      depth--;
    }
  };
  const parseNested = (): Literal => {
    skipSpace();
    // A unicode literal, u'<f8', is a plain string in Python 3 (NumPy's reader accepts it).
    if ((text[pos] === 'u' || text[pos] === 'U') && (text[pos + 1] === "'" || text[pos + 1] === '"')) pos++;
    const ch = text[pos];
    if (ch === '{') {
      pos++;
      return parseDict();
    }
    if (ch === '(') {
      pos++;
      return parseParenthesized();
    }
    if (ch === '[') {
      pos++;
      return new PyList(parseSequence(']')[0]);
    }
    if (ch === "'" || ch === '"') {
      pos++;
      return parseString(ch);
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(pos));
    if (word) {
      pos += word[0].length;
      if (word[0] === 'True') return true;
      if (word[0] === 'False') return false;
      if (word[0] === 'None') return null;
      return fail(`the name ${word[0]}, which is not a literal`);
    }
    const num = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?L?/.exec(text.slice(pos));
    if (num) {
      pos += num[0].length;
      const digits = num[0].replace(/L$/, '');
      return /^[-+]?\d+$/.test(digits) ? BigInt(digits) : Number(digits);
    }
    return fail(ch === undefined ? 'the end of the header' : `the character '${ch}'`);
  };
  const value = parseValue();
  skipSpace();
  if (pos !== text.length) fail('text after the literal');
  return value;
}
