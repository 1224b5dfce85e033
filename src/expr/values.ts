/**
 * What the generator knows about a value while it emits code. A scalar is a JavaScript expression
 * that is a generated name or a formatted number; an array is never stored: it is a length and a
 * function that writes the expression for element `k`, so chains of elementwise operations become
 * one expression inside one loop.
 */

/** NumPy's kinds as far as they change an answer: bool arithmetic and what may index. */
export type Kind = 'bool' | 'int' | 'float';

export interface Scalar {
  readonly shape: 'scalar';
  readonly kind: Kind;
  /** A JS boolean expression for bool, a JS number expression otherwise. */
  readonly js: string;
  /** The value when it is known from the text and the dataset's shape alone. */
  readonly known: number | undefined;
}

export interface Contiguous {
  /** A generated name of a Float64Array. */
  readonly array: string;
  /** Expression of the index of element 0. */
  readonly base: string;
}

export interface ArrayValue {
  readonly shape: 'array';
  readonly kind: Kind;
  /** A generated name or number holding the length in the current row. */
  readonly length: string;
  readonly knownLength: number | undefined;
  /** The expression of element `k`; `k` must be a name, a number or parenthesised. */
  at(k: string): string;
  /** Set when element k is `array[base + k]` of a Float64Array, which order statistics read in place. */
  readonly contiguous: Contiguous | undefined;
  /** Set when the array is one of the whole-row forms a SIMD kernel sums in place (RowForm). */
  readonly row?: RowForm;
}

/**
 * An array that is the whole row `x`, `x**2`, `abs(x)`, `x - s` or `(x - s)**2` for a scalar `s`
 * (its JS in `from`): the forms whose pairwise sums simd.wat computes with the JS loop's bits.
 */
export type RowForm =
  | { readonly of: 'x' | 'square' | 'abs' }
  | { readonly of: 'deviation' | 'squaredDeviation'; readonly from: string };

export type Value = Scalar | ArrayValue;

/** Formats a number the generator parsed or computed; the only way numbers enter the source. */
export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return 'Infinity';
  if (value === Number.NEGATIVE_INFINITY) return '(-Infinity)';
  if (Object.is(value, -0)) return '(-0)';
  const text = String(value);
  return value < 0 ? `(${text})` : text;
}

/** The value with its RowForm, when it is an array and has one. */
export function withRow(value: Value, row: RowForm | undefined): Value {
  return value.shape === 'array' && row !== undefined ? { ...value, row } : value;
}

export function scalar(kind: Kind, js: string, known?: number): Scalar {
  return { shape: 'scalar', kind, js, known };
}

/** The JS number of a value's element expression. */
export function asNumber(kind: Kind, js: string): string {
  return kind === 'bool' ? asBit(kind, js) : js;
}

/**
 * The truth of an element expression as the integer 0 or 1. V8 turns a comparison into 0 or 1
 * without a branch (`| 0`), where `c ? 1 : 0` or `if (c)` is a branch that random data mispredicts
 * half the time: counting `(x > 1) & (x < 2)` this way was 4-8x faster on this machine.
 */
export function asBit(kind: Kind, js: string): string {
  return `(${asCondition(kind, js)} | 0)`;
}

/** The JS truth of an element expression, as NumPy's: anything but 0 is true, NaN included. */
export function asCondition(kind: Kind, js: string): string {
  return kind === 'bool' ? js : `(${js} !== 0)`;
}

/** True when an expression can be repeated without recomputing anything but a load. */
export function isSimple(js: string): boolean {
  return /^[A-Za-z_$][\w$]*(\[[\w $+*()-]*\])?$/.test(js) || /^\(?-?[\d.e+-]+\)?$/.test(js);
}
