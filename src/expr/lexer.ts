/**
 * Splits expression text into tokens with 1-based columns. Only what the expression language uses
 * is a token; anything else (strings, unknown characters) is refused here, where its column is known.
 */
import { ExprError } from './errors.js';

export type TokenKind = 'num' | 'name' | 'op' | 'end';

export interface Token {
  readonly kind: TokenKind;
  /** The operator or name as written; for numbers the literal text. */
  readonly text: string;
  readonly column: number;
  /** Numbers only: the parsed value, and whether it was written as an integer. */
  readonly value: number;
  readonly integer: boolean;
}

// Longest first, so `**` is not read as two `*`.
const OPERATORS = [
  '**',
  '//',
  '==',
  '!=',
  '<=',
  '>=',
  ':=',
  '<<',
  '>>',
  '->',
  '+',
  '-',
  '*',
  '/',
  '%',
  '<',
  '>',
  '(',
  ')',
  '[',
  ']',
  ',',
  ':',
  '.',
  '&',
  '|',
  '~',
  '^',
  '@',
  '=',
  ';',
  '{',
  '}',
];

const NUMBER = /^(?:(?:\d(?:_?\d)*)?\.\d(?:_?\d)*|\d(?:_?\d)*\.?)(?:[eE][+-]?\d(?:_?\d)*)?/;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;
const STRING_START = /^[rRbBuUfF]{0,2}['"]/;

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  while (pos < text.length) {
    const ch = text[pos];
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      pos++;
      continue;
    }
    const rest = text.slice(pos);
    const column = pos + 1;
    if (STRING_START.test(rest)) {
      throw new ExprError(
        'strings are not allowed: an expression takes only numbers, names and operators',
        column,
      );
    }
    const num = NUMBER.exec(rest);
    if (num !== null && /^[.\d]/.test(rest)) {
      const literal = num[0];
      if (/^[A-Za-z_]/.test(rest.slice(literal.length))) {
        throw new ExprError('a number must be written in decimal, as 12, 0.5 or 1e-3', column);
      }
      const clean = literal.replaceAll('_', '');
      tokens.push({ kind: 'num', text: literal, column, value: Number(clean), integer: /^\d+$/.test(clean) });
      pos += literal.length;
      continue;
    }
    const name = NAME.exec(rest);
    if (name !== null) {
      tokens.push({ kind: 'name', text: name[0], column, value: 0, integer: false });
      pos += name[0].length;
      continue;
    }
    const op = OPERATORS.find((o) => rest.startsWith(o));
    if (op === undefined) {
      throw new ExprError(
        `unexpected character ${JSON.stringify(ch)}: an expression takes numbers, names, ` +
          'the operators + - * / // % ** < <= > >= == != & | ~, parentheses, brackets, commas and dots',
        column,
      );
    }
    tokens.push({ kind: 'op', text: op, column, value: 0, integer: false });
    pos += op.length;
  }
  tokens.push({ kind: 'end', text: '', column: text.length + 1, value: 0, integer: false });
  return tokens;
}
