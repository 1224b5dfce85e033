/**
 * A hand-written precedence-climbing (Pratt) parser for the subset of Python expressions the
 * language takes. Hand-written rather than a grammar package because the subset is tiny, every
 * refusal must name its exact column and what is allowed instead, it adds no dependency, and only
 * expressions (never statements) are ever parsed. Precedence follows Python's grammar:
 * `if-else` < `or` < `and` < `not` < comparisons < `|` < `&` < `+ -` < `* / // %` < unary < `**` <
 * calls, subscripts and methods.
 *
 * This module is long because each precedence level is a method of its own, read top to bottom in
 * that order, and each refusal is written where it is detected.
 */
import type { BinaryOp, CompareOp, Keyword, Node } from './ast.js';
import { own } from './catalog.js';
import { ExprError } from './errors.js';
import { type Token, tokenize } from './lexer.js';
import { EXPR_LIMITS } from './limits.js';

const BINARY_POWER: Readonly<Record<string, number>> = {
  '|': 1,
  '&': 3,
  '+': 5,
  '-': 5,
  '*': 6,
  '/': 6,
  '//': 6,
  '%': 6,
};
const COMPARE: ReadonlySet<string> = new Set(['<', '<=', '>', '>=', '==', '!=']);

const REFUSED_KEYWORDS: Readonly<Record<string, string>> = {
  lambda: 'lambdas are not allowed: write the expression itself',
  for: 'comprehensions and loops are not allowed: use the array functions (sum, where, cumsum, …)',
  in: 'the in operator is not allowed: compare with == and combine with |',
  is: 'the is operator is not allowed: compare with == or !=',
  None: 'None is not a value here: use numbers, True, False or nan',
  import: 'statements are not allowed: write one expression',
  def: 'statements are not allowed: write one expression',
  class: 'statements are not allowed: write one expression',
  return: 'statements are not allowed: write one expression',
  del: 'statements are not allowed: write one expression',
  global: 'statements are not allowed: write one expression',
  yield: 'yield is not allowed: write one expression',
  await: 'await is not allowed: write one expression',
  async: 'async is not allowed: write one expression',
  with: 'statements are not allowed: write one expression',
  while: 'statements are not allowed: write one expression',
  try: 'statements are not allowed: write one expression',
  raise: 'statements are not allowed: write one expression',
  assert: 'statements are not allowed: write one expression',
  pass: 'statements are not allowed: write one expression',
};

const REFUSED_OPERATORS: Readonly<Record<string, string>> = {
  '=': 'assignment is not allowed: write one expression (use == to compare)',
  ':=': 'assignment is not allowed: write one expression',
  ';': 'only one expression is allowed: remove what follows ;',
  '^': 'the ^ operator is not allowed: use &, | and ~ on booleans',
  '<<': 'shift operators are not allowed: use * or // by powers of 2',
  '>>': 'shift operators are not allowed: use * or // by powers of 2',
  '@': 'the @ operator is not allowed: use dot(a, b)',
  '{': 'dicts and sets are not allowed: write one numeric expression',
  '->': 'annotations are not allowed: write one expression',
};

class Parser {
  private readonly tokens: Token[];
  private pos = 0;
  private nodes = 0;
  private nesting = 0;

  constructor(text: string) {
    this.tokens = tokenize(text);
  }

  parse(): Node {
    const node = this.expression();
    const next = this.peek();
    if (next.kind !== 'end') this.unexpected(next, 'an operator or the end of the expression');
    return node;
  }

  private peek(): Token {
    return this.tokens[this.pos];
  }

  private next(): Token {
    return this.tokens[this.pos++];
  }

  private isOp(text: string): boolean {
    const t = this.peek();
    return t.kind === 'op' && t.text === text;
  }

  private isWord(text: string): boolean {
    const t = this.peek();
    return t.kind === 'name' && t.text === text;
  }

  private expect(text: string, what: string): Token {
    const t = this.peek();
    if (t.kind !== 'op' || t.text !== text) this.unexpected(t, what);
    return this.next();
  }

  private unexpected(t: Token, wanted: string): never {
    if (t.kind === 'op' && own(REFUSED_OPERATORS, t.text))
      throw new ExprError(own(REFUSED_OPERATORS, t.text)!, t.column);
    if (t.kind === 'name' && own(REFUSED_KEYWORDS, t.text))
      throw new ExprError(own(REFUSED_KEYWORDS, t.text)!, t.column);
    const seen = t.kind === 'end' ? 'the end of the expression' : `'${t.text}'`;
    throw new ExprError(`expected ${wanted}, found ${seen}`, t.column);
  }

  /** Every node goes through here, so the node and depth limits hold for the whole tree. */
  private node<T extends Node>(node: T, depth: number): T {
    if (++this.nodes > EXPR_LIMITS.maxNodes) {
      throw new ExprError(`the expression has more than ${EXPR_LIMITS.maxNodes} nodes`, node.column);
    }
    if (depth > EXPR_LIMITS.maxDepth) {
      throw new ExprError(`the expression nests deeper than ${EXPR_LIMITS.maxDepth} levels`, node.column);
    }
    this.depths.set(node, depth);
    return node;
  }

  private readonly depths = new WeakMap<Node, number>();

  private depth(...children: (Node | undefined)[]): number {
    let d = 0;
    for (const c of children) if (c !== undefined) d = Math.max(d, this.depths.get(c) ?? 0);
    return d + 1;
  }

  /**
   * A left-associative chain (`a + b + c`) is a loop, not nesting: only the right operand adds a
   * level, so long sums stay within the depth limit and parentheses or calls still count.
   */
  private chainDepth(left: Node, right: Node): number {
    return Math.max(this.depths.get(left) ?? 0, (this.depths.get(right) ?? 0) + 1);
  }

  /** Guards recursion that builds no node of its own (parentheses, unary chains). */
  private enter(t: Token): void {
    if (++this.nesting > EXPR_LIMITS.maxDepth) {
      throw new ExprError(`the expression nests deeper than ${EXPR_LIMITS.maxDepth} levels`, t.column);
    }
  }

  private expression(): Node {
    const first = this.peek();
    this.enter(first);
    if (first.kind === 'name' && first.text === 'lambda') this.unexpected(first, 'an expression');
    const body = this.or();
    let result = body;
    if (this.isWord('if')) {
      this.next();
      const test = this.or();
      if (!this.isWord('else')) this.unexpected(this.peek(), "'else' (a conditional is `a if c else b`)");
      this.next();
      const orelse = this.expression();
      result = this.node(
        { type: 'ifexp', column: body.column, body, test, orelse },
        this.depth(body, test, orelse),
      );
    } else if (this.isWord('for')) {
      this.unexpected(this.peek(), 'an expression');
    }
    this.nesting--;
    return result;
  }

  private or(): Node {
    let left = this.and();
    while (this.isWord('or')) {
      this.next();
      const right = this.and();
      left = this.node(
        { type: 'logic', column: left.column, op: 'or', left, right },
        this.chainDepth(left, right),
      );
    }
    return left;
  }

  private and(): Node {
    let left = this.not();
    while (this.isWord('and')) {
      this.next();
      const right = this.not();
      left = this.node(
        { type: 'logic', column: left.column, op: 'and', left, right },
        this.chainDepth(left, right),
      );
    }
    return left;
  }

  private not(): Node {
    if (this.isWord('not')) {
      const t = this.next();
      this.enter(t);
      const operand = this.not();
      this.nesting--;
      return this.node({ type: 'unary', column: t.column, op: 'not', operand }, this.depth(operand));
    }
    return this.comparison();
  }

  private comparison(): Node {
    const first = this.binary(0);
    const ops: CompareOp[] = [];
    const operands: Node[] = [first];
    for (;;) {
      const t = this.peek();
      if (t.kind === 'name' && (t.text === 'in' || t.text === 'is')) this.unexpected(t, 'an operator');
      if (t.kind === 'name' && t.text === 'not' && this.tokens[this.pos + 1].text === 'in') {
        this.unexpected(this.tokens[this.pos + 1], 'an operator');
      }
      if (t.kind !== 'op' || !COMPARE.has(t.text)) break;
      this.next();
      ops.push(t.text as CompareOp);
      operands.push(this.binary(0));
    }
    if (ops.length === 0) return first;
    return this.node({ type: 'compare', column: first.column, ops, operands }, this.depth(...operands));
  }

  private binary(minPower: number): Node {
    let left = this.unary();
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'op') break;
      const power = own(BINARY_POWER, t.text);
      if (power === undefined || power <= minPower) {
        if (own(REFUSED_OPERATORS, t.text) && t.text !== '=' && t.text !== ';')
          this.unexpected(t, 'an operator');
        break;
      }
      this.next();
      const right = this.binary(power);
      left = this.node(
        { type: 'binary', column: left.column, opColumn: t.column, op: t.text as BinaryOp, left, right },
        this.chainDepth(left, right),
      );
    }
    return left;
  }

  private unary(): Node {
    const t = this.peek();
    if (t.kind === 'op' && (t.text === '-' || t.text === '+' || t.text === '~')) {
      this.next();
      this.enter(t);
      const operand = this.unary();
      this.nesting--;
      return this.node({ type: 'unary', column: t.column, op: t.text, operand }, this.depth(operand));
    }
    return this.power();
  }

  private power(): Node {
    const base = this.postfix();
    if (!this.isOp('**')) return base;
    // Python binds `2 ** -1` and is right-associative: the exponent is a whole unary expression.
    const op = this.next();
    const exponent = this.unary();
    return this.node(
      { type: 'binary', column: base.column, opColumn: op.column, op: '**', left: base, right: exponent },
      this.depth(base, exponent),
    );
  }

  private postfix(): Node {
    let node = this.atom();
    for (;;) {
      if (this.isOp('(')) {
        this.next();
        const { args, keywords } = this.callArguments();
        node = this.node(
          { type: 'call', column: node.column, callee: node, args, keywords },
          this.depth(node, ...args, ...keywords.map((k) => k.value)),
        );
      } else if (this.isOp('[')) {
        this.next();
        node = this.subscript(node);
      } else if (this.isOp('.')) {
        this.next();
        const name = this.peek();
        if (name.kind !== 'name') this.unexpected(name, 'a method name after .');
        this.next();
        if (!this.isOp('(')) {
          throw new ExprError(
            `attribute .${name.text} is not allowed: the only attributes are the methods ` +
              '.sum() .mean() .prod() .min() .max() .argmin() .argmax() .std() .var() .any() .all() ' +
              '.cumsum() .dot(b) .clip(lo, hi) .round() .ravel() .flatten(), each called with ()',
            name.column,
          );
        }
        this.next();
        const { args, keywords } = this.callArguments();
        node = this.node(
          { type: 'method', column: name.column, object: node, name: name.text, args, keywords },
          this.depth(node, ...args, ...keywords.map((k) => k.value)),
        );
      } else {
        return node;
      }
    }
  }

  private callArguments(): { args: Node[]; keywords: Keyword[] } {
    const args: Node[] = [];
    const keywords: Keyword[] = [];
    while (!this.isOp(')')) {
      const t = this.peek();
      if (t.kind === 'op' && (t.text === '*' || t.text === '**')) {
        throw new ExprError('argument unpacking (* and **) is not allowed', t.column);
      }
      if (
        t.kind === 'name' &&
        this.tokens[this.pos + 1].text === '=' &&
        this.tokens[this.pos + 1].kind === 'op'
      ) {
        this.next();
        this.next();
        keywords.push({ name: t.text, value: this.expression(), column: t.column });
      } else {
        if (keywords.length > 0)
          throw new ExprError('a positional argument cannot follow a keyword argument', t.column);
        args.push(this.expression());
      }
      if (!this.isOp(',')) break;
      this.next();
    }
    this.expect(')', "',' or ')' to close the call");
    return { args, keywords };
  }

  private subscript(object: Node): Node {
    const open = this.tokens[this.pos - 1];
    const parts: (Node | undefined)[] = [];
    let colons = 0;
    let current: Node | undefined;
    for (;;) {
      if (this.isOp(':')) {
        this.next();
        parts.push(current);
        current = undefined;
        if (++colons > 2) this.unexpected(this.tokens[this.pos - 1], "']' (a slice is [start:stop:step])");
        continue;
      }
      if (this.isOp(']')) break;
      if (this.isOp(',')) {
        throw new ExprError('only one index or slice is allowed: the values are 1-D', this.peek().column);
      }
      if (current !== undefined) this.unexpected(this.peek(), "':' or ']'");
      current = this.expression();
    }
    this.next();
    parts.push(current);
    if (colons === 0) {
      if (current === undefined) throw new ExprError('an index is needed between [ and ]', open.column);
      return this.node(
        { type: 'index', column: object.column, object, index: current },
        this.depth(object, current),
      );
    }
    const [start, stop, step] = parts;
    return this.node(
      { type: 'slice', column: object.column, object, start, stop, step },
      this.depth(object, start, stop, step),
    );
  }

  private atom(): Node {
    const t = this.next();
    if (t.kind === 'num') {
      return this.node({ type: 'num', column: t.column, value: t.value, integer: t.integer }, 1);
    }
    if (t.kind === 'name') {
      if (t.text === 'True' || t.text === 'False') {
        return this.node({ type: 'bool', column: t.column, value: t.text === 'True' }, 1);
      }
      if (
        own(REFUSED_KEYWORDS, t.text) ||
        t.text === 'if' ||
        t.text === 'else' ||
        t.text === 'and' ||
        t.text === 'or'
      ) {
        this.pos--;
        this.unexpected(t, 'a number, a name or (');
      }
      return this.node({ type: 'name', column: t.column, id: t.text }, 1);
    }
    if (t.kind === 'op' && t.text === '(') {
      if (this.isOp(')'))
        throw new ExprError('tuples are not allowed: write one expression in ( )', t.column);
      const inner = this.expression();
      if (this.isOp(','))
        throw new ExprError('tuples are not allowed: write one expression in ( )', this.peek().column);
      this.expect(')', "')'");
      return inner;
    }
    if (t.kind === 'op' && t.text === '[') {
      throw new ExprError('lists are not allowed: use the row x, the vector v or slices of them', t.column);
    }
    this.pos--;
    return this.unexpected(t, 'a number, a name or (');
  }
}

/** Parses `text` into a tree, or throws ExprError at the first thing the language does not take. */
export function parse(text: string): Node {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > EXPR_LIMITS.maxTextBytes) {
    throw new ExprError(`the expression is ${bytes} bytes long; the limit is ${EXPR_LIMITS.maxTextBytes}`, 1);
  }
  if (text.trim() === '') throw new ExprError('the expression is empty', 1);
  return new Parser(text).parse();
}
