import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileExpr, EXPR_LIMITS, ExprError, type ExprShape } from '../../src/expr/index.js';

const hostile: { expr: string; column: number; says: string }[] = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', 'fixtures', 'expr', 'hostile.json'), 'utf8'),
);
const shape: ExprShape = {
  rowLength: 12,
  rows: 6,
  dtype: 'float64' as const,
  vectorLength: 12,
  argNames: ['alpha'],
};

function refusal(text: string, s: ExprShape = shape): ExprError {
  try {
    compileExpr(text, s);
  } catch (error) {
    if (error instanceof ExprError) return error;
    throw error;
  }
  throw new Error(`${text} was accepted`);
}

describe('refusals', () => {
  it('has at least 40 hostile expressions', () => {
    expect(hostile.length).toBeGreaterThanOrEqual(40);
  });

  for (const h of hostile) {
    it(`refuses ${JSON.stringify(h.expr)} at column ${h.column}`, () => {
      const error = refusal(h.expr);
      expect(error.message).toContain(h.says);
      expect(error.column).toBe(h.column);
      expect(error.message).toContain(`(column ${h.column})`);
    });
  }

  it('says what is allowed for an unknown name', () => {
    const message = refusal('process.exit()').message;
    expect(message).toContain('the names are x, i, n, rows, data, dataset, v');
    expect(message).toContain('the args alpha');
    expect(message).toContain('the functions are abs, sqrt');
  });

  it('refuses v when the job has no vector', () => {
    expect(refusal('dot(x, v)', { ...shape, vectorLength: undefined }).message).toContain(
      'pass params.vector',
    );
  });

  it('refuses text over the byte limit, saying the limit', () => {
    const long = `x[0]${' + 1'.repeat(EXPR_LIMITS.maxTextBytes / 4)}`;
    expect(refusal(long).message).toContain(`limit is ${EXPR_LIMITS.maxTextBytes}`);
  });

  it('refuses more nodes than the limit, saying the limit', () => {
    const many = Array.from({ length: 130 }, (_, k) => `x[${k % 12}]`).join(' + ');
    expect(refusal(many).message).toContain(`more than ${EXPR_LIMITS.maxNodes} nodes`);
  });

  it('refuses nesting deeper than the limit, by parentheses or by functions', () => {
    const depth = EXPR_LIMITS.maxDepth + 1;
    expect(refusal(`${'('.repeat(depth)}x[0]${')'.repeat(depth)}`).message).toContain(
      `deeper than ${EXPR_LIMITS.maxDepth}`,
    );
    expect(refusal(`${'abs('.repeat(depth)}x[0]${')'.repeat(depth)}`).message).toContain(
      `deeper than ${EXPR_LIMITS.maxDepth}`,
    );
    expect(() => compileExpr(`${'abs('.repeat(20)}x[0]${')'.repeat(20)}`, shape)).not.toThrow();
  });

  it('refuses more args than the limit, and args keys that are not names or clash', () => {
    const argNames = Array.from({ length: EXPR_LIMITS.maxArgs + 1 }, (_, k) => `a${k}`);
    expect(refusal('x[0]', { ...shape, argNames }).message).toContain(`at most ${EXPR_LIMITS.maxArgs} args`);
    expect(refusal('x[0]', { ...shape, argNames: ['x'] }).message).toContain('clashes');
    expect(refusal('x[0]', { ...shape, argNames: ['a b'] }).message).toContain('is not a name');
    expect(refusal('x[0]', { ...shape, argNames: ['lambda'] }).message).toContain('is not a name');
  });

  it('leaves certain errors to the row when they sit in a branch that may not run', () => {
    expect(() => compileExpr('x[100] if i > 100 else 0', shape)).not.toThrow();
    expect(() => compileExpr('x[0] > 0 and min(x[3:1]) > 0', shape)).not.toThrow();
  });
});
