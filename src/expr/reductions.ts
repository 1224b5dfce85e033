/**
 * The reductions a function call may end in: each emits the loop (or the SIMD kernel's call, for the
 * whole-row forms) that turns an array into one number.
 */
import type { Argument, CallContext } from './call-context.js';
import { ExprError } from './errors.js';
import {
  emitAnyAll,
  emitArgExtreme,
  emitCount,
  emitExtreme,
  emitMaterialize,
  emitMaxAbs,
  emitPairwiseSum,
  emitProduct,
  numberElem,
} from './loops.js';
import { FAIL } from './runtime.js';
import { type ArrayValue, asNumber, type Scalar, scalar, type Value } from './values.js';

function fromContiguousOrScratch(g: CallContext, a: ArrayValue): { array: string; base: string } {
  if (a.contiguous !== undefined) return a.contiguous;
  return { array: emitMaterialize(g.em, a), base: '0' };
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

export function dot(g: CallContext, column: number, a: ArrayValue, b: ArrayValue): Scalar {
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

export function reduce(
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
