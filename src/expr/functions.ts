/**
 * The allowlisted functions, as code: each checks its arguments' shapes and emits either an element
 * expression (elementwise functions stay fused) or, through reductions.ts, the loop of a reduction.
 */
import type { Argument, CallContext, KeywordArgument } from './call-context.js';
import { FUNCTIONS, own } from './catalog.js';
import { ExprError } from './errors.js';
import { emitCumsum, emitMaterialize } from './loops.js';
import { dot, reduce } from './reductions.js';
import { type ArrayValue, asBit, asNumber, isSimple, type Kind, type Value, withRow } from './values.js';

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
