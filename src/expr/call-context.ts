import type { Node } from './ast.js';
import type { Emitter } from './emitter.js';
import type { ArrayValue, Kind, RowForm, Scalar, Value } from './values.js';

export interface Argument {
  readonly value: Value;
  readonly column: number;
}

export interface KeywordArgument {
  readonly name: string;
  readonly node: Node;
  readonly column: number;
}

/**
 * What a function call needs from the tree walk that meets it: the generator implements it, and
 * functions.ts reads only this, so the two do not import each other.
 */
export interface CallContext {
  readonly em: Emitter;
  /** Generates code for an argument's expression. */
  gen(node: Node): Value;
  /** A scalar computed into a fresh name now, so loops that use it read one local. */
  temp(kind: Kind, js: string, known?: number): Scalar;
  /** The name of the SIMD kernels' pairwise sum of a whole-row form, or undefined to emit the loop. */
  simdSum(form: RowForm | undefined): string | undefined;
  /** A scalar as a one-element array, as NumPy reduces a 0-d value. */
  toArray(value: Value): ArrayValue;
  expectScalar(value: Value, column: number, what: string): Scalar;
  /** Applies `combine` elementwise with NumPy broadcasting. */
  elementwise(column: number, kind: Kind, operands: Value[], combine: (js: string[]) => string): Value;
  /** Elementwise over the numbers of the operands (bools as 0 and 1). */
  numeric(column: number, kind: Kind, operands: Value[], combine: (js: string[]) => string): Value;
}
