/**
 * Walks the parsed tree once: checks every name, call and type against the allowlist, infers
 * shapes, and emits the statements of one row. Scalars are computed into generated names as soon
 * as they are met, so a reduction inside an elementwise chain (`x - mean(x)`) is computed before the
 * loop that uses it; arrays stay element expressions until something reduces them.
 *
 * This module is long because each kind of node is checked, shaped and emitted in one place, and
 * those three must agree; function calls are in functions.ts, the emitted loops in loops.ts.
 */
import type { DType } from '../datasets/dtypes.js';
import type { SimdKernels } from '../jobs/kernels/simd.js';
import type { BinaryOp, CompareOp, Node } from './ast.js';
import type { CallContext } from './call-context.js';
import { describeMethods, describeNames, FUNCTIONS, METHODS, own } from './catalog.js';
import { Emitter } from './emitter.js';
import { ExprError } from './errors.js';
import { callFunction } from './functions.js';
import { EXPR_LIMITS } from './limits.js';
import { FAIL, sliceBound, sliceLength } from './runtime.js';
import {
  type ArrayValue,
  asCondition,
  asNumber,
  formatNumber,
  isSimple,
  type Kind,
  type RowForm,
  type Scalar,
  scalar,
  type Value,
  withRow,
} from './values.js';

export interface ExprShape {
  /** Elements per dataset row (the length of `x`). */
  readonly rowLength: number;
  /** Rows of the dataset (`rows`). */
  readonly rows: number;
  /** The stored dtype: `data` is read in it, as the codecs read it. */
  readonly dtype: DType;
  /** Length of `params.vector`, or undefined when the job has none (then `v` is refused). */
  readonly vectorLength: number | undefined;
  /** Keys of `params.args`, in the order the kernel receives their values. */
  readonly argNames: readonly string[];
  /**
   * Elements in each segment but the last, for a dataset split into segments: `data` is then read
   * through DR, which finds an element's segment (see compile.ts). Undefined for one segment.
   */
  readonly segmentElements?: number;
  /**
   * Compile for rows read in place from a WebAssembly memory (float64 or float32, `src` a view of the
   * whole memory from byte 0): whole-row sums of the RowForms call simd.wat's kernels (`env.sk`)
   * instead of a JS loop, with the same bits.
   */
  readonly simd?: boolean;
}

const SIMD_SUMS: Readonly<Record<RowForm['of'], keyof SimdKernels | undefined>> = {
  x: 'sum',
  square: 'sumSquares',
  abs: 'sumAbs',
  deviation: undefined,
  squaredDeviation: 'sumSquaredDeviations',
};

/** Element `j` of the stored dataset as float64, per dtype; the views are those of convert.ts. */
export const DATA_READ: Readonly<Record<DType, (j: string) => string>> = {
  float64: (j) => `D[${j}]`,
  float32: (j) => `D[${j}]`,
  float16: (j) => `F16[D[${j}]]`,
  int8: (j) => `D[${j}]`,
  int16: (j) => `D[${j}]`,
  int32: (j) => `D[${j}]`,
  int64: (j) => `(D[2 * ${j} + 1] * 4294967296 + (D[2 * ${j}] >>> 0))`,
  uint8: (j) => `D[${j}]`,
  uint16: (j) => `D[${j}]`,
  uint32: (j) => `D[${j}]`,
  uint64: (j) => `(D[2 * ${j} + 1] * 4294967296 + D[2 * ${j}])`,
  bool: (j) => `(D[${j}] === 0 ? 0 : 1)`,
};

const PYTHON_KEYWORDS = new Set(
  (
    'False None True and as assert async await break class continue def del elif else except finally ' +
    'for from global if import in is lambda nonlocal not or pass raise return try while with yield'
  ).split(' '),
);

const COMPARE_JS: Readonly<Record<CompareOp, string>> = {
  '<': '<',
  '<=': '<=',
  '>': '>',
  '>=': '>=',
  '==': '===',
  '!=': '!==',
};

/** `x * x` is x², `(x - s) * (x - s)` is (x - s)²; the element expressions are the same (d * d). */
function squaredRow(row: RowForm | undefined): RowForm | undefined {
  if (row?.of === 'x') return { of: 'square' };
  if (row?.of === 'deviation') return { of: 'squaredDeviation', from: row.from };
  return undefined;
}

function arithmeticRow(op: '+' | '-' | '*', left: Value, right: Value): RowForm | undefined {
  const a = left.shape === 'array' ? left.row : undefined;
  if (op === '-' && a?.of === 'x' && right.shape === 'scalar' && right.kind !== 'bool') {
    return { of: 'deviation', from: right.js };
  }
  const b = right.shape === 'array' ? right.row : undefined;
  if (op !== '*' || a === undefined || b === undefined || a.of !== b.of) return undefined;
  if (a.of === 'x') return squaredRow(a);
  return a.of === 'deviation' && b.of === 'deviation' && a.from === b.from ? squaredRow(a) : undefined;
}

function joinKinds(a: Kind, b: Kind): Kind {
  if (a === b) return a;
  return a === 'float' || b === 'float' ? 'float' : 'int';
}

export class Generator implements CallContext {
  readonly em = new Emitter();
  usesData = false;
  /** Set once a sum is left to the SIMD kernels, so the kernel reads `env.sk`. */
  usesSimd = false;
  private readonly args = new Map<string, string>();

  constructor(readonly shape: ExprShape) {
    if (shape.argNames.length > EXPR_LIMITS.maxArgs) {
      throw new ExprError(`at most ${EXPR_LIMITS.maxArgs} args are allowed, got ${shape.argNames.length}`, 0);
    }
    shape.argNames.forEach((name, index) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || PYTHON_KEYWORDS.has(name)) {
        throw new ExprError(`args key ${JSON.stringify(name)} is not a name: use letters, digits and _`, 0);
      }
      if (this.isBuiltin(name) || this.args.has(name)) {
        throw new ExprError(
          `args key ${JSON.stringify(name)} clashes with a built-in name or another key`,
          0,
        );
      }
      this.args.set(name, `a${index}`);
    });
  }

  private isBuiltin(name: string): boolean {
    return (
      ['x', 'i', 'n', 'rows', 'data', 'dataset', 'v', 'nan', 'inf', 'pi', 'e'].includes(name) ||
      own(FUNCTIONS, name) !== undefined
    );
  }

  /** A scalar computed into a fresh name now, so loops that use it read one local. */
  temp(kind: Kind, js: string, known?: number): Scalar {
    if (known !== undefined && kind !== 'bool') return scalar(kind, formatNumber(known), known);
    if (isSimple(js)) return scalar(kind, js, known);
    const name = this.em.fresh('t');
    this.em.emit(`const ${name} = ${js};`);
    return scalar(kind, name, known);
  }

  /** The pairwise sum of a whole-row form by the SIMD kernels, or undefined where the loop must be JS. */
  simdSum(form: RowForm | undefined): string | undefined {
    const itemsize = this.shape.dtype === 'float64' ? 8 : this.shape.dtype === 'float32' ? 4 : 0;
    const kernel = form === undefined ? undefined : SIMD_SUMS[form.of];
    if (this.shape.simd !== true || itemsize === 0 || kernel === undefined) return undefined;
    this.usesSimd = true;
    const sum = this.em.fresh('t');
    const extra = form!.of === 'squaredDeviation' ? `, ${form!.from}` : '';
    this.em.emit(`const ${sum} = SK.${kernel}(o * ${itemsize}, n${extra});`);
    return sum;
  }

  /** A scalar as a one-element array, as NumPy reduces a 0-d value. */
  toArray(value: Value): ArrayValue {
    if (value.shape === 'array') return value;
    return {
      shape: 'array',
      kind: value.kind,
      length: '1',
      knownLength: 1,
      at: () => value.js,
      contiguous: undefined,
    };
  }

  expectScalar(value: Value, column: number, what: string): Scalar {
    if (value.shape === 'scalar') return value;
    throw new ExprError(
      `${what} must be a single number, not an array: reduce it first, e.g. with sum(...)`,
      column,
    );
  }

  /**
   * Applies `combine` elementwise with NumPy broadcasting: scalars with anything, and arrays of equal
   * length or of length 1. Lengths known from the shape are checked now; others in the row.
   */
  elementwise(column: number, kind: Kind, operands: Value[], combine: (js: string[]) => string): Value {
    const arrays = operands.filter((o): o is ArrayValue => o.shape === 'array');
    if (arrays.length === 0) {
      const js = combine(operands.map((o) => (o as Scalar).js));
      return this.temp(kind, js);
    }
    let length = arrays[0].length;
    let knownLength = arrays[0].knownLength;
    const index = new Map<ArrayValue, (k: string) => string>();
    index.set(arrays[0], (k) => k);
    for (const a of arrays.slice(1)) {
      if (a.length === length || (a.knownLength !== undefined && a.knownLength === knownLength)) {
        index.set(a, (k) => k);
      } else if (a.knownLength !== undefined && knownLength !== undefined) {
        if (a.knownLength === 1) {
          index.set(a, () => '0');
        } else if (knownLength === 1) {
          for (const [b] of index) index.set(b, () => '0');
          index.set(a, (k) => k);
          length = a.length;
          knownLength = a.knownLength;
        } else {
          this.em.certain(
            column,
            `operands of lengths ${knownLength} and ${a.knownLength} cannot be broadcast together`,
            FAIL.broadcast,
            knownLength,
            a.knownLength,
          );
          index.set(a, (k) => k);
        }
      } else {
        // Lengths known only in the row: NumPy broadcasts a length-1 operand, so each side keeps a
        // 0-or-1 multiplier on its index.
        const joined = this.em.fresh('t');
        this.em.emit(`const ${joined} = broadcast(i, ${length}, ${a.length});`);
        for (const [b, map] of index) {
          const keep = this.em.fresh('t');
          this.em.emit(`const ${keep} = ${b.length} === 1 ? 0 : 1;`);
          index.set(b, (k) => map(`(${k} * ${keep})`));
        }
        const keep = this.em.fresh('t');
        this.em.emit(`const ${keep} = ${a.length} === 1 ? 0 : 1;`);
        index.set(a, (k) => `(${k} * ${keep})`);
        length = joined;
        knownLength = undefined;
      }
    }
    const maps = operands.map((o) => (o.shape === 'array' ? index.get(o)! : undefined));
    return {
      shape: 'array',
      kind,
      length,
      knownLength,
      at: (k) => combine(operands.map((o, j) => (o.shape === 'array' ? o.at(maps[j]!(k)) : o.js))),
      contiguous: undefined,
    };
  }

  /** Elementwise over the numbers of the operands (bools as 0 and 1). */
  numeric(column: number, kind: Kind, operands: Value[], combine: (js: string[]) => string): Value {
    return this.elementwise(column, kind, operands, (js) =>
      combine(js.map((v, j) => asNumber(operands[j].kind, v))),
    );
  }

  gen(node: Node): Value {
    switch (node.type) {
      case 'num':
        return scalar(
          node.integer && Number.isSafeInteger(node.value) ? 'int' : 'float',
          formatNumber(node.value),
          node.value,
        );
      case 'bool':
        return scalar('bool', node.value ? 'true' : 'false', node.value ? 1 : 0);
      case 'name':
        return this.name(node.id, node.column);
      case 'unary':
        return this.unary(node.op, this.gen(node.operand), node.column);
      case 'binary':
        return this.binary(node.op, this.gen(node.left), this.gen(node.right), node.opColumn);
      case 'compare':
        return this.compare(node.ops, node.operands, node.column);
      case 'logic':
        return this.logic(node.op, node.left, node.right);
      case 'ifexp':
        return this.conditional(node.test, node.body, node.orelse);
      case 'call': {
        if (node.callee.type !== 'name') {
          throw new ExprError(
            `only functions can be called: ${describeNames(this.shape.argNames)}`,
            node.column,
          );
        }
        const id = node.callee.id;
        if (own(FUNCTIONS, id) === undefined) {
          if (this.isName(id)) {
            throw new ExprError(
              `${id} is not a function: ${describeNames(this.shape.argNames)}`,
              node.column,
            );
          }
          this.name(id, node.column);
        }
        return callFunction(
          this,
          id,
          node.column,
          node.args.map((a) => ({ value: this.gen(a), column: a.column })),
          node.keywords.map((k) => ({ name: k.name, node: k.value, column: k.column })),
        );
      }
      case 'method': {
        const object = this.gen(node.object);
        if (!METHODS.has(node.name)) {
          throw new ExprError(`.${node.name}() is not allowed: ${describeMethods()}`, node.column);
        }
        if (node.name === 'ravel' || node.name === 'flatten') {
          if (node.args.length > 0 || node.keywords.length > 0) {
            throw new ExprError(`.${node.name}() takes no arguments`, node.column);
          }
          return this.toArray(object);
        }
        return callFunction(
          this,
          node.name,
          node.column,
          [
            { value: object, column: node.object.column },
            ...node.args.map((a) => ({ value: this.gen(a), column: a.column })),
          ],
          node.keywords.map((k) => ({ name: k.name, node: k.value, column: k.column })),
        );
      }
      case 'index':
        return this.index(this.gen(node.object), node.index, node.column);
      case 'slice':
        return this.slice(this.gen(node.object), node);
    }
  }

  private isName(id: string): boolean {
    return this.isBuiltin(id) || this.args.has(id);
  }

  private name(id: string, column: number): Value {
    const { shape } = this;
    switch (id) {
      case 'x':
        return {
          shape: 'array',
          kind: 'float',
          length: 'n',
          knownLength: shape.rowLength,
          at: (k) => `src[o + ${k}]`,
          contiguous: { array: 'src', base: 'o' },
          row: { of: 'x' },
        };
      case 'i':
        return scalar('int', 'i');
      case 'n':
        return scalar('int', 'n', shape.rowLength);
      case 'rows':
        return scalar('int', 'rows', shape.rows);
      case 'data':
      case 'dataset': {
        this.usesData = true;
        const segmented = shape.segmentElements !== undefined;
        return {
          shape: 'array',
          kind: 'float',
          length: 'DL',
          knownLength: shape.rows * shape.rowLength,
          at: segmented ? (j) => `DR(${j})` : DATA_READ[shape.dtype],
          contiguous: shape.dtype === 'float64' && !segmented ? { array: 'D', base: '0' } : undefined,
        };
      }
      case 'v':
        if (shape.vectorLength === undefined) {
          throw new ExprError('v is the job vector: pass params.vector to use it', column);
        }
        return {
          shape: 'array',
          kind: 'float',
          length: 'VL',
          knownLength: shape.vectorLength,
          at: (k) => `V[${k}]`,
          contiguous: { array: 'V', base: '0' },
        };
      case 'nan':
        return scalar('float', 'NaN', Number.NaN);
      case 'inf':
        return scalar('float', 'Infinity', Number.POSITIVE_INFINITY);
      case 'pi':
        return scalar('float', formatNumber(Math.PI), Math.PI);
      case 'e':
        return scalar('float', formatNumber(Math.E), Math.E);
    }
    const arg = this.args.get(id);
    if (arg !== undefined) return scalar('float', arg);
    if (own(FUNCTIONS, id) !== undefined)
      throw new ExprError(`${id} is a function: call it, as ${id}(...)`, column);
    throw new ExprError(`unknown name '${id}': ${describeNames(this.shape.argNames)}`, column);
  }

  private unary(op: string, operand: Value, column: number): Value {
    if (op === 'not') {
      const s = this.expectScalar(operand, column, 'the operand of not (use ~ on arrays)');
      return this.temp('bool', `!${asCondition(s.kind, s.js)}`);
    }
    if (op === '~') {
      if (operand.kind !== 'bool') {
        throw new ExprError(
          '~ applies to booleans (comparisons, isnan(...), ...): use - to negate numbers',
          column,
        );
      }
      return this.elementwise(column, 'bool', [operand], ([a]) => `!${a}`);
    }
    if (operand.kind === 'bool') {
      throw new ExprError(
        `unary ${op} does not apply to booleans, as in NumPy: use ~ to negate a boolean`,
        column,
      );
    }
    if (op === '+') return operand;
    if (operand.shape === 'scalar' && operand.known !== undefined) {
      return scalar(operand.kind, formatNumber(-operand.known), -operand.known);
    }
    return this.elementwise(column, operand.kind, [operand], ([a]) => `(-${a})`);
  }

  binary(op: BinaryOp, left: Value, right: Value, column: number): Value {
    const bools = left.kind === 'bool' && right.kind === 'bool';
    if (op === '&' || op === '|') {
      if (!bools) {
        throw new ExprError(
          `${op} combines booleans (comparisons, isnan(...), ...); use and/or for single values`,
          column,
        );
      }
      return this.elementwise(column, 'bool', [left, right], ([a, b]) => `(${a} ${op} ${b})`);
    }
    // NumPy's bool arithmetic: + is or, * is and, - is refused. Bitwise on the 0/1 truths, both
    // sides computed as NumPy does, so no branch (see asBit).
    if (bools && op === '+')
      return this.elementwise(column, 'bool', [left, right], ([a, b]) => `(${a} | ${b})`);
    if (bools && op === '*')
      return this.elementwise(column, 'bool', [left, right], ([a, b]) => `(${a} & ${b})`);
    if (bools && op === '-') {
      throw new ExprError('- does not apply to two booleans, as in NumPy: use ~, & and |', column);
    }
    const intKind: Kind = left.kind !== 'float' && right.kind !== 'float' ? 'int' : 'float';
    const known = this.fold(op, left, right);
    switch (op) {
      case '+':
      case '-':
      case '*':
        return withRow(
          this.withKnown(
            this.numeric(column, intKind, [left, right], ([a, b]) => `(${a} ${op} ${b})`),
            known,
          ),
          arithmeticRow(op, left, right),
        );
      case '/':
        return this.numeric(column, 'float', [left, right], ([a, b]) => `(${a} / ${b})`);
      case '//':
        return this.withKnown(
          this.numeric(column, intKind, [left, right], ([a, b]) => `floorDiv(${a}, ${b})`),
          known,
        );
      case '%':
        return this.withKnown(
          this.numeric(column, intKind, [left, right], ([a, b]) => `remainder(${a}, ${b})`),
          known,
        );
      default:
        return this.power(left, right, column);
    }
  }

  private power(left: Value, right: Value, column: number): Value {
    const exponent = right.shape === 'scalar' ? right.known : undefined;
    const kind: Kind =
      left.kind !== 'float' && right.kind !== 'float' && exponent !== undefined && exponent >= 0
        ? 'int'
        : 'float';
    if (exponent === 2) {
      return withRow(
        this.numeric(column, kind, [left], ([a]) => (isSimple(a) ? `(${a} * ${a})` : `square(${a})`)),
        squaredRow(left.shape === 'array' ? left.row : undefined),
      );
    }
    return this.numeric(column, kind, [left, right], ([a, b]) => `power(${a}, ${b})`);
  }

  /** Integer arithmetic on values known from the shape, so lengths and indexes can be checked early. */
  private fold(op: BinaryOp, left: Value, right: Value): number | undefined {
    if (left.shape !== 'scalar' || right.shape !== 'scalar') return undefined;
    const a = left.known;
    const b = right.known;
    if (a === undefined || b === undefined || left.kind !== 'int' || right.kind !== 'int') return undefined;
    if (op === '+') return a + b;
    if (op === '-') return a - b;
    if (op === '*') return a * b;
    if (b === 0) return undefined;
    if (op === '//') return Math.floor(a / b);
    if (op === '%') return a - b * Math.floor(a / b);
    return undefined;
  }

  private withKnown(value: Value, known: number | undefined): Value {
    if (value.shape === 'array' || known === undefined || !Number.isSafeInteger(known)) return value;
    return scalar(value.kind, formatNumber(known), known);
  }

  private compare(ops: readonly CompareOp[], operands: readonly Node[], column: number): Value {
    const first = this.gen(operands[0]);
    const second = this.gen(operands[1]);
    const pair = (a: Value, b: Value, op: CompareOp): Value =>
      this.numeric(column, 'bool', [a, b], ([x, y]) => `(${x} ${COMPARE_JS[op]} ${y})`);
    if (ops.length === 1) return pair(first, second, ops[0]);
    // A chain is `a < b and b < c`, each operand computed once and only while the chain holds.
    const result = this.em.fresh('t');
    this.em.emit(`let ${result} = false;`);
    let previous = this.expectScalar(second, operands[1].column, 'an operand of a chained comparison');
    const head = pair(
      this.expectScalar(first, column, 'an operand of a chained comparison'),
      previous,
      ops[0],
    ) as Scalar;
    const chain = (from: number): string[] =>
      this.em.capture(() => {
        if (from === ops.length) {
          this.em.emit(`${result} = true;`);
          return;
        }
        const next = this.expectScalar(
          this.gen(operands[from + 1]),
          operands[from + 1].column,
          'an operand of a chained comparison',
        );
        const link = pair(previous, next, ops[from]) as Scalar;
        previous = next;
        this.em.emit(`if (${link.js}) {`);
        this.em.emitAll(chain(from + 1));
        this.em.emit('}');
      }, true);
    this.em.emit(`if (${head.js}) {`);
    this.em.emitAll(chain(1));
    this.em.emit('}');
    return scalar('bool', result);
  }

  /** Python's `and`/`or` on single values: the right side runs only when needed, and the result is an operand. */
  private logic(op: 'and' | 'or', leftNode: Node, rightNode: Node): Value {
    const left = this.expectScalar(
      this.gen(leftNode),
      leftNode.column,
      `the left side of ${op} (use & and | on arrays)`,
    );
    let right: Scalar | undefined;
    const branch = this.em.capture(() => {
      right = this.expectScalar(
        this.gen(rightNode),
        rightNode.column,
        `the right side of ${op} (use & and | on arrays)`,
      );
    }, true);
    const kind: Kind =
      left.kind === 'bool' && right!.kind === 'bool' ? 'bool' : joinKinds(left.kind, right!.kind);
    const as = (s: Scalar): string => (kind === 'bool' ? s.js : asNumber(s.kind, s.js));
    const result = this.em.fresh('t');
    this.em.emit(`let ${result} = ${as(left)};`);
    const test = asCondition(left.kind, left.js);
    this.em.emit(`if (${op === 'and' ? test : `!${test}`}) {`);
    this.em.emitAll(branch);
    this.em.emit(`${result} = ${as(right!)};`);
    this.em.emit('}');
    return scalar(kind, result);
  }

  private conditional(testNode: Node, bodyNode: Node, elseNode: Node): Value {
    const test = this.expectScalar(this.gen(testNode), testNode.column, 'the condition of `a if c else b`');
    let body: Scalar | undefined;
    let orelse: Scalar | undefined;
    const what = 'a branch of `a if c else b` (use where(c, a, b) for arrays)';
    const bodyLines = this.em.capture(() => {
      body = this.expectScalar(this.gen(bodyNode), bodyNode.column, what);
    }, true);
    const elseLines = this.em.capture(() => {
      orelse = this.expectScalar(this.gen(elseNode), elseNode.column, what);
    }, true);
    const kind =
      body!.kind === 'bool' && orelse!.kind === 'bool' ? 'bool' : joinKinds(body!.kind, orelse!.kind);
    const as = (s: Scalar): string => (kind === 'bool' ? s.js : asNumber(s.kind, s.js));
    const result = this.em.fresh('t');
    this.em.emit(`let ${result};`);
    this.em.emit(`if (${asCondition(test.kind, test.js)}) {`);
    this.em.emitAll(bodyLines);
    this.em.emit(`${result} = ${as(body!)};`);
    this.em.emit('} else {');
    this.em.emitAll(elseLines);
    this.em.emit(`${result} = ${as(orelse!)};`);
    this.em.emit('}');
    return scalar(kind, result);
  }

  /** An index or slice bound: an integer, checked in the row when its kind does not prove it. */
  private integer(node: Node, what: string): Scalar {
    const value = this.expectScalar(this.gen(node), node.column, what);
    if (value.kind === 'bool') throw new ExprError(`${what} must be an integer, not a boolean`, node.column);
    if (value.kind === 'float') {
      if (value.known !== undefined && !Number.isInteger(value.known)) {
        throw new ExprError(`${what} must be an integer, got ${value.known}`, node.column);
      }
      const held = this.temp('float', value.js, value.known);
      this.em.emit(
        `if (${held.js} !== Math.floor(${held.js})) ${this.em.failLine(FAIL.integer, held.js, '0')}`,
      );
      return held;
    }
    return value;
  }

  private index(object: Value, indexNode: Node, column: number): Value {
    if (object.shape === 'scalar') throw new ExprError('a single number cannot be indexed', column);
    const k = this.integer(indexNode, 'an index');
    if (k.known !== undefined && object.knownLength !== undefined) {
      const len = object.knownLength;
      if (k.known < -len || k.known >= len) {
        this.em.certain(
          indexNode.column,
          `index ${k.known} is out of range for length ${len}`,
          FAIL.index,
          k.known,
          len,
        );
      }
    }
    const j = this.em.fresh('t');
    this.em.emit(`let ${j} = ${k.js};`);
    this.em.emit(`if (${j} < 0) ${j} += ${object.length};`);
    this.em.emit(
      `if (${j} < 0 || ${j} >= ${object.length}) ${this.em.failLine(FAIL.index, k.js, object.length)}`,
    );
    const element = this.em.fresh('t');
    this.em.emit(`const ${element} = ${object.at(j)};`);
    return scalar(object.kind, element);
  }

  private slice(object: Value, node: Extract<Node, { type: 'slice' }>): Value {
    if (object.shape === 'scalar') throw new ExprError('a single number cannot be sliced', node.column);
    const step = node.step === undefined ? scalar('int', '1', 1) : this.integer(node.step, 'a slice step');
    if (step.known === 0) {
      this.em.certain(node.step!.column, 'slice step cannot be zero', FAIL.step, 0, 0);
    } else if (step.known === undefined) {
      this.em.emit(`if (${step.js} === 0) ${this.em.failLine(FAIL.step, '0', '0')}`);
    }
    const start = this.bound(node.start, step, object, 'start');
    const stop = this.bound(node.stop, step, object, 'stop');
    const knownLength =
      start.known !== undefined && stop.known !== undefined && step.known !== undefined && step.known !== 0
        ? sliceLength(start.known, stop.known, step.known)
        : undefined;
    const length = this.temp('int', `sliceLength(${start.js}, ${stop.js}, ${step.js})`, knownLength);
    const position = (k: string): string => {
      const scaled = step.known === 1 ? k : `${step.js} * ${k}`;
      return start.known === 0 ? `(${scaled})` : `(${start.js} + ${scaled})`;
    };
    return {
      shape: 'array',
      kind: object.kind,
      length: length.js,
      knownLength,
      at: (k) => object.at(position(k)),
      contiguous:
        object.contiguous !== undefined && step.known === 1
          ? { array: object.contiguous.array, base: `${object.contiguous.base} + ${start.js}` }
          : undefined,
    };
  }

  /** A slice's start or stop resolved as Python's PySlice_AdjustIndices does, known when the shape fixes it. */
  private bound(b: Node | undefined, step: Scalar, object: ArrayValue, which: 'start' | 'stop'): Scalar {
    const L = object.length;
    const size = object.knownLength;
    const knownStep = step.known !== undefined && step.known !== 0 ? step.known : undefined;
    if (b === undefined) {
      // Python's defaults: the first (or, stepping back, the last) element to past the other end.
      let known: number | undefined;
      if (size !== undefined && knownStep !== undefined) {
        if (which === 'start') known = knownStep < 0 ? size - 1 : 0;
        else known = knownStep < 0 ? -1 : size;
      }
      if (knownStep !== undefined) {
        const back = knownStep < 0;
        if (which === 'start') return back ? this.temp('int', `${L} - 1`, known) : scalar('int', '0', 0);
        return back ? scalar('int', '(-1)', -1) : this.temp('int', L, known);
      }
      return this.temp(
        'int',
        which === 'start' ? `${step.js} < 0 ? ${L} - 1 : 0` : `${step.js} < 0 ? -1 : ${L}`,
      );
    }
    const value = this.integer(b, `a slice ${which}`);
    const known =
      size !== undefined && knownStep !== undefined && value.known !== undefined
        ? sliceBound(size, value.known, knownStep)
        : undefined;
    return this.temp('int', `sliceBound(${L}, ${value.js}, ${step.js})`, known);
  }
}
