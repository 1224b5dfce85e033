/**
 * The allowlisted functions, as code: each checks its arguments' shapes and emits either an element
 * expression (elementwise functions stay fused) or the loop of a reduction.
 */
import type { Node } from './ast.js';
import type { CallContext } from './call-context.js';
import { FUNCTIONS, own } from './catalog.js';
import { ExprError } from './errors.js';
import {
  emitAnyAll,
  emitArgExtreme,
  emitCount,
  emitCumsum,
  emitExtreme,
  emitMaterialize,
  emitMaxAbs,
  emitPairwiseSum,
  emitProduct,
  numberElem,
} from './loops.js';
import { FAIL } from './runtime.js';
import {
  type ArrayValue,
  asBit,
  asNumber,
  isSimple,
  type Kind,
  type Scalar,
  scalar,
  type Value,
  withRow,
} from './values.js';

export interface Argument {
  readonly value: Value;
  readonly column: number;
}

export interface KeywordArgument {
  readonly name: string;
  readonly node: Node;
  readonly column: number;
}

const UNARY_MATH: Readonly<Record<string, (a: string) => string>> = {
  sqrt: (a) => `Math.sqrt(${a})`,
  exp: (a) => `Math.exp(${a})`,
  expm1: (a) => `Math.expm1(${a})`,
  log: (a) => `Math.log(${a})`,
  log1p: (a) => `Math.log1p(${a})`,
  log2: (a) => `Math.log2(${a})`,
  log10: (a) => `Math.log10(${a})`,
  sin: (a) => `Math.sin(${a})`,
  cos: (a) => `Math.cos(${a})`,
  tan: (a) => `Math.tan(${a})`,
  arcsin: (a) => `Math.asin(${a})`,
  arccos: (a) => `Math.acos(${a})`,
  arctan: (a) => `Math.atan(${a})`,
  sinh: (a) => `Math.sinh(${a})`,
  cosh: (a) => `Math.cosh(${a})`,
  tanh: (a) => `Math.tanh(${a})`,
  floor: (a) => `Math.floor(${a})`,
  ceil: (a) => `Math.ceil(${a})`,
  round: (a) => `roundHalfEven(${a})`,
  sign: (a) => `sign(${a})`,
  abs: (a) => `Math.abs(${a})`,
};

const PREDICATES: Readonly<Record<string, (a: string) => string>> = {
  isnan: (a) => (isSimple(a) ? `(${a} !== ${a})` : `Number.isNaN(${a})`),
  isinf: (a) => `isInf(${a})`,
  isfinite: (a) => `Number.isFinite(${a})`,
};

const BINARY_MATH: Readonly<Record<string, (a: string, b: string) => string>> = {
  arctan2: (a, b) => `Math.atan2(${a}, ${b})`,
  hypot: (a, b) => `Math.hypot(${a}, ${b})`,
  minimum: (a, b) => `Math.min(${a}, ${b})`,
  maximum: (a, b) => `Math.max(${a}, ${b})`,
};

/** Matches positional and keyword arguments to the signature, as Python does. */
function bind(
  g: CallContext,
  name: string,
  column: number,
  args: readonly Argument[],
  keywords: readonly KeywordArgument[],
): Map<string, Argument> {
  const signature = FUNCTIONS[name];
  const all = [...signature.params, ...signature.keywordOnly];
  const usage = `${name}(${[
    ...signature.params.map((p, j) => (j < signature.required ? p : `${p}=…`)),
    ...signature.keywordOnly.map((p) => `${p}=…`),
  ].join(', ')})`;
  if (args.length > signature.params.length) {
    throw new ExprError(
      `${name} takes at most ${signature.params.length} positional argument(s): ${usage}`,
      column,
    );
  }
  const bound = new Map<string, Argument>();
  for (const [j, a] of args.entries()) bound.set(signature.params[j], a);
  for (const k of keywords) {
    if (!all.includes(k.name)) {
      throw new ExprError(`${name} takes no keyword '${k.name}': ${usage}`, k.column);
    }
    if (bound.has(k.name)) throw new ExprError(`${name} got '${k.name}' twice: ${usage}`, k.column);
    bound.set(k.name, { value: g.gen(k.node), column: k.column });
  }
  for (const p of signature.params.slice(0, signature.required)) {
    if (!bound.has(p)) throw new ExprError(`${name} needs its argument '${p}': ${usage}`, column);
  }
  return bound;
}

function arrayArgument(name: string, a: Argument): ArrayValue {
  if (a.value.shape === 'scalar') {
    throw new ExprError(
      `${name} needs an array (x, v, data or an expression of them), not a single number`,
      a.column,
    );
  }
  return a.value;
}

function fromContiguousOrScratch(g: CallContext, a: ArrayValue): { array: string; base: string } {
  if (a.contiguous !== undefined) return a.contiguous;
  return { array: emitMaterialize(g.em, a), base: '0' };
}

function scratchArray(
  kind: Kind,
  local: string,
  length: string,
  knownLength: number | undefined,
): ArrayValue {
  return {
    shape: 'array',
    kind,
    length,
    knownLength,
    at: kind === 'bool' ? (k) => `(${local}[${k}] !== 0)` : (k) => `${local}[${k}]`,
    contiguous: { array: local, base: '0' },
  };
}

/** NumPy's pairwise sum of the array: in place by the SIMD kernels where it is a whole-row form. */
function pairwiseSum(g: CallContext, a: ArrayValue): string {
  return g.simdSum(a.row) ?? emitPairwiseSum(g.em, a.length, numberElem(a));
}

function mean(g: CallContext, a: ArrayValue): Scalar {
  const sum = pairwiseSum(g, a);
  // NumPy's add.reduce starts from 0, so the sum of -0.0 values is +0.0.
  return g.temp('float', `(0 + ${sum}) / ${a.length}`);
}

function variance(g: CallContext, a: ArrayValue, ddof: Argument | undefined): Scalar {
  const m = mean(g, a).js;
  const elem = numberElem(a);
  const squares =
    (a.row?.of === 'x' ? g.simdSum({ of: 'squaredDeviation', from: m }) : undefined) ??
    emitPairwiseSum(g.em, a.length, (k) => `square(${elem(k)} - ${m})`);
  const d =
    ddof === undefined ? '0' : asNumber(ddof.value.kind, g.expectScalar(ddof.value, ddof.column, 'ddof').js);
  return g.temp('float', `${squares} / Math.max(${a.length} - ${d}, 0)`);
}

function norm(g: CallContext, a: ArrayValue, ord: Argument | undefined): Scalar {
  const order = ord === undefined ? 2 : ord.value.shape === 'scalar' ? ord.value.known : undefined;
  const elem = numberElem(a);
  const whole = a.row?.of === 'x';
  if (order === 2) {
    const squares =
      (whole ? g.simdSum({ of: 'square' }) : undefined) ??
      emitPairwiseSum(g.em, a.length, (k) => `square(${elem(k)})`);
    return g.temp('float', `Math.sqrt(${squares})`);
  }
  if (order === 1) {
    const sum =
      (whole ? g.simdSum({ of: 'abs' }) : undefined) ??
      emitPairwiseSum(g.em, a.length, (k) => `Math.abs(${elem(k)})`);
    return g.temp('float', `(0 + ${sum})`);
  }
  if (order === Number.POSITIVE_INFINITY) return scalar('float', emitMaxAbs(g.em, a));
  throw new ExprError('norm takes ord=1, ord=2 or ord=inf', ord!.column);
}

function dot(g: CallContext, column: number, a: ArrayValue, b: ArrayValue): Scalar {
  // np.dot of 1-D arrays needs equal lengths; it does not broadcast.
  if (a.knownLength !== undefined && b.knownLength !== undefined) {
    if (a.knownLength !== b.knownLength) {
      g.em.certain(
        column,
        `dot needs arrays of equal length, got ${a.knownLength} and ${b.knownLength}`,
        FAIL.broadcast,
        a.knownLength,
        b.knownLength,
      );
    }
  } else {
    g.em.emit(`if (${a.length} !== ${b.length}) ${g.em.failLine(FAIL.broadcast, a.length, b.length)}`);
  }
  const ea = numberElem(a);
  const eb = numberElem(b);
  return g.temp('float', `(0 + ${emitPairwiseSum(g.em, a.length, (k) => `${ea(k)} * ${eb(k)}`)})`);
}

function reduce(
  g: CallContext,
  name: string,
  column: number,
  a: ArrayValue,
  bound: Map<string, Argument>,
): Value {
  const em = g.em;
  switch (name) {
    case 'sum': {
      const s = pairwiseSum(g, a);
      return g.temp(a.kind === 'float' ? 'float' : 'int', `(0 + ${s})`);
    }
    case 'mean':
      return mean(g, a);
    case 'prod':
      return scalar(a.kind === 'float' ? 'float' : 'int', emitProduct(em, a));
    case 'min':
    case 'max':
      return scalar(a.kind === 'bool' ? 'int' : a.kind, emitExtreme(em, a, name, column));
    case 'argmin':
      return scalar('int', emitArgExtreme(em, a, 'min', column));
    case 'argmax':
      return scalar('int', emitArgExtreme(em, a, 'max', column));
    case 'var':
      return variance(g, a, bound.get('ddof'));
    case 'std':
      return g.temp('float', `Math.sqrt(${variance(g, a, bound.get('ddof')).js})`);
    case 'count_nonzero':
      return scalar('int', emitCount(em, a));
    case 'any':
    case 'all':
      return scalar('bool', emitAnyAll(em, a, name));
    case 'median': {
      const { array, base } = fromContiguousOrScratch(g, a);
      return g.temp('float', `median(${array}, ${base}, ${a.length})`);
    }
    case 'quantile': {
      const q = bound.get('q')!;
      const qs = g.expectScalar(q.value, q.column, 'q');
      if (qs.known !== undefined && !(qs.known >= 0 && qs.known <= 1)) {
        throw new ExprError(`quantile needs q in [0, 1], got ${qs.known}`, q.column);
      }
      const { array, base } = fromContiguousOrScratch(g, a);
      return g.temp('float', `quantile(i, ${array}, ${base}, ${a.length}, ${asNumber(qs.kind, qs.js)})`);
    }
    case 'norm':
      return norm(g, a, bound.get('ord'));
    default:
      return scalar('int', a.length, a.knownLength);
  }
}

export function callFunction(
  g: CallContext,
  name: string,
  column: number,
  args: readonly Argument[],
  keywords: readonly KeywordArgument[],
): Value {
  const bound = bind(g, name, column, args, keywords);
  const first = args[0] ?? bound.values().next().value!;
  const value = first.value;
  const unary = own(UNARY_MATH, name);
  if (unary !== undefined) {
    // NumPy keeps abs of a boolean boolean; every other function computes on 0 and 1.
    if (name === 'abs' && value.kind === 'bool') return value;
    const kind: Kind = name === 'abs' || name === 'sign' ? (value.kind === 'int' ? 'int' : 'float') : 'float';
    const row = name === 'abs' && value.shape === 'array' && value.row?.of === 'x' ? 'abs' : undefined;
    return withRow(
      g.numeric(column, kind, [value], ([a]) => unary(a)),
      row === undefined ? undefined : { of: row },
    );
  }
  const predicate = own(PREDICATES, name);
  if (predicate !== undefined) return g.numeric(column, 'bool', [value], ([a]) => predicate(a));
  const binary = own(BINARY_MATH, name);
  if (binary !== undefined) {
    const second = bound.get(FUNCTIONS[name].params[1])!.value;
    const kind: Kind =
      (name === 'minimum' || name === 'maximum') && value.kind !== 'float' && second.kind !== 'float'
        ? 'int'
        : 'float';
    return g.numeric(column, kind, [value, second], ([a, b]) => binary(a, b));
  }
  switch (name) {
    case 'clip': {
      const lo = bound.get('a_min')!.value;
      const hi = bound.get('a_max')!.value;
      return g.numeric(
        column,
        'float',
        [value, lo, hi],
        ([a, l, h]) => `Math.min(Math.max(${a}, ${l}), ${h})`,
      );
    }
    case 'where': {
      const a = bound.get('x')!.value;
      const b = bound.get('y')!.value;
      const bool = a.kind === 'bool' && b.kind === 'bool';
      const kind: Kind = bool ? 'bool' : a.kind === 'int' && b.kind === 'int' ? 'int' : 'float';
      if (bool) {
        return g.elementwise(column, kind, [value, a, b], ([c, x, y]) => {
          const bit = asBit(value.kind, c);
          return `((${bit} & ${asBit(a.kind, x)}) | (~${bit} & ${asBit(b.kind, y)}))`;
        });
      }
      const select = g.em.newSelect();
      return g.elementwise(
        column,
        kind,
        [value, a, b],
        ([c, x, y]) =>
          `(${select}[1] = ${asNumber(a.kind, x)}, ${select}[0] = ${asNumber(b.kind, y)}, ${select}[${asBit(value.kind, c)}])`,
      );
    }
    case 'diff': {
      const a = arrayArgument(name, first);
      const length = g.temp(
        'int',
        `${a.length} > 0 ? ${a.length} - 1 : 0`,
        a.knownLength === undefined ? undefined : Math.max(a.knownLength - 1, 0),
      );
      // NumPy's diff of booleans is not_equal.
      const at =
        a.kind === 'bool'
          ? (k: string) => `(${a.at(`(${k} + 1)`)} !== ${a.at(k)})`
          : (k: string) => `(${a.at(`(${k} + 1)`)} - ${a.at(k)})`;
      return {
        shape: 'array',
        kind: a.kind,
        length: length.js,
        knownLength: length.known,
        at,
        contiguous: undefined,
      };
    }
    case 'cumsum': {
      const a = g.toArray(value);
      const local = emitCumsum(g.em, a);
      return scratchArray(a.kind === 'float' ? 'float' : 'int', local, a.length, a.knownLength);
    }
    case 'sort': {
      const a = arrayArgument(name, first);
      const local = emitMaterialize(g.em, a);
      g.em.emit(`sortPrefix(${local}, ${a.length});`);
      return scratchArray(a.kind, local, a.length, a.knownLength);
    }
    case 'dot': {
      const other = bound.get('b')!;
      return dot(g, column, g.toArray(value), g.toArray(other.value));
    }
    case 'len':
      return reduce(g, name, column, arrayArgument(name, first), bound);
    default:
      return reduce(g, name, column, g.toArray(value), bound);
  }
}
