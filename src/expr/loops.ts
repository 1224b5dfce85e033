/**
 * The loops a reduction becomes. Each takes an element expression writer and emits one loop over
 * the row's values with no temporary array; sums follow NumPy's pairwise tree exactly.
 */
import type { Emitter, FailCode } from './emitter.js';
import { FAIL, PLAN_END } from './runtime.js';
import { type ArrayValue, asBit, asCondition, asNumber } from './values.js';

export type Elem = (k: string) => string;

export function numberElem(a: ArrayValue): Elem {
  return (k) => asNumber(a.kind, a.at(k));
}

export function conditionElem(a: ArrayValue): Elem {
  return (k) => asCondition(a.kind, a.at(k));
}

/**
 * NumPy's pairwise sum of `elem(0..length)`: leaves of up to 128 values through 8 accumulators,
 * combined in the tree pairwise.ts builds, walked in post-order from a plan so no function recursion
 * (and no closure per row) is needed. Returns the name holding the sum.
 */
export function emitPairwiseSum(em: Emitter, length: string, elem: Elem): string {
  const sum = em.fresh('t');
  const plan = em.fresh('p');
  const lo = em.fresh('z');
  const sp = em.fresh('y');
  const q = em.fresh('k');
  const c = em.fresh('c');
  const end = em.fresh('e');
  const leaf = em.fresh('w');
  const k = em.fresh('k');
  const blocks = em.fresh('e');
  const r = Array.from({ length: 8 }, () => em.fresh('r'));
  em.emit(`let ${sum} = 0;`);
  em.emit('{');
  em.emit(`const ${plan} = pairwisePlan(${length});`);
  em.emit(`let ${lo} = 0;`);
  em.emit(`let ${sp} = 0;`);
  em.emit(`for (let ${q} = 0; ; ${q}++) {`);
  em.emit(`const ${c} = ${plan}[${q}];`);
  em.emit(`if (${c} < 0) {`);
  em.emit(`if (${c} === ${PLAN_END}) break;`);
  em.emit(`ST[${sp} - 2] += ST[${sp} - 1];`);
  em.emit(`${sp}--;`);
  em.emit('continue;');
  em.emit('}');
  em.emit(`const ${end} = ${lo} + ${c};`);
  em.emit(`let ${leaf} = 0;`);
  em.emit(`if (${c} < 8) { for (let ${k} = ${lo}; ${k} < ${end}; ${k}++) ${leaf} += ${elem(k)}; } else {`);
  for (let j = 0; j < 8; j++) em.emit(`let ${r[j]} = ${elem(j === 0 ? lo : `(${lo} + ${j})`)};`);
  em.emit(`const ${blocks} = ${end} - (${c} % 8);`);
  em.emit(`let ${k} = ${lo} + 8;`);
  em.emit(`for (; ${k} < ${blocks}; ${k} += 8) {`);
  for (let j = 0; j < 8; j++) em.emit(`${r[j]} += ${elem(j === 0 ? k : `(${k} + ${j})`)};`);
  em.emit('}');
  em.emit(`${leaf} = ${r[0]} + ${r[1]} + (${r[2]} + ${r[3]}) + (${r[4]} + ${r[5]} + (${r[6]} + ${r[7]}));`);
  em.emit(`for (; ${k} < ${end}; ${k}++) ${leaf} += ${elem(k)};`);
  em.emit('}');
  em.emit(`ST[${sp}++] = ${leaf};`);
  em.emit(`${lo} = ${end};`);
  em.emit('}');
  em.emit(`${sum} = ST[0];`);
  em.emit('}');
  return sum;
}

function emitEmptyCheck(em: Emitter, a: ArrayValue, column: number, code: FailCode, name: string): void {
  if (a.knownLength === 0) {
    em.certain(column, `${name} of an empty array: NumPy raises for this shape`, code, 0, 0);
  } else if (a.knownLength === undefined) {
    em.emit(`if (${a.length} === 0) ${em.failLine(code, '0', '0')}`);
  }
}

/** min or max, NaN winning as in NumPy; an empty array is NumPy's ValueError. */
export function emitExtreme(em: Emitter, a: ArrayValue, which: 'min' | 'max', column: number): string {
  emitEmptyCheck(em, a, column, which === 'min' ? FAIL.emptyMin : FAIL.emptyMax, which);
  const elem = numberElem(a);
  const m = em.fresh('t');
  const k = em.fresh('k');
  const e = em.fresh('e');
  // Only a better value or NaN fails the comparison, so the common case costs one comparison.
  const worse = which === 'min' ? '>=' : '<=';
  em.emit(`let ${m} = ${elem('0')};`);
  em.emit(`if (${m} === ${m}) for (let ${k} = 1; ${k} < ${a.length}; ${k}++) {`);
  em.emit(`const ${e} = ${elem(k)};`);
  em.emit(`if (!(${e} ${worse} ${m})) { ${m} = ${e}; if (${e} !== ${e}) break; }`);
  em.emit('}');
  return m;
}

/** argmin or argmax: the first extreme, or the first NaN. */
export function emitArgExtreme(em: Emitter, a: ArrayValue, which: 'min' | 'max', column: number): string {
  emitEmptyCheck(em, a, column, which === 'min' ? FAIL.emptyArgmin : FAIL.emptyArgmax, `arg${which}`);
  const elem = numberElem(a);
  const at = em.fresh('t');
  const best = em.fresh('w');
  const k = em.fresh('k');
  const e = em.fresh('e');
  const worse = which === 'min' ? '>=' : '<=';
  em.emit(`let ${at} = 0;`);
  em.emit(`let ${best} = ${elem('0')};`);
  em.emit(`if (${best} === ${best}) for (let ${k} = 1; ${k} < ${a.length}; ${k}++) {`);
  em.emit(`const ${e} = ${elem(k)};`);
  em.emit(`if (!(${e} ${worse} ${best})) { ${best} = ${e}; ${at} = ${k}; if (${e} !== ${e}) break; }`);
  em.emit('}');
  return at;
}

/** The largest absolute value, NaN winning; 0 for an empty array, as np.linalg.norm(a, inf). */
export function emitMaxAbs(em: Emitter, a: ArrayValue): string {
  const elem = numberElem(a);
  const m = em.fresh('t');
  const k = em.fresh('k');
  const e = em.fresh('e');
  em.emit(`let ${m} = 0;`);
  em.emit(`if (${a.length} > 0) {`);
  em.emit(`${m} = Math.abs(${elem('0')});`);
  em.emit(`if (${m} === ${m}) for (let ${k} = 1; ${k} < ${a.length}; ${k}++) {`);
  em.emit(`const ${e} = Math.abs(${elem(k)});`);
  em.emit(`if (!(${e} <= ${m})) { ${m} = ${e}; if (${e} !== ${e}) break; }`);
  em.emit('}');
  em.emit('}');
  return m;
}

export function emitCount(em: Emitter, a: ArrayValue): string {
  const count = em.fresh('t');
  const k = em.fresh('k');
  em.emit(`let ${count} = 0;`);
  em.emit(`for (let ${k} = 0; ${k} < ${a.length}; ${k}++) ${count} += ${asBit(a.kind, a.at(k))};`);
  return count;
}

/** any (stops at the first true) or all (stops at the first false); a JS boolean. */
export function emitAnyAll(em: Emitter, a: ArrayValue, which: 'any' | 'all'): string {
  const elem = conditionElem(a);
  const result = em.fresh('t');
  const k = em.fresh('k');
  const start = which === 'any' ? 'false' : 'true';
  const test = which === 'any' ? elem(k) : `!${elem(k)}`;
  em.emit(`let ${result} = ${start};`);
  em.emit(`for (let ${k} = 0; ${k} < ${a.length}; ${k}++) if (${test}) { ${result} = !${result}; break; }`);
  return result;
}

export function emitProduct(em: Emitter, a: ArrayValue): string {
  const elem = numberElem(a);
  const p = em.fresh('t');
  const k = em.fresh('k');
  em.emit(`let ${p} = 1;`);
  em.emit(`for (let ${k} = 0; ${k} < ${a.length}; ${k}++) ${p} *= ${elem(k)};`);
  return p;
}

/** Writes the values into a scratch array kept across rows; returns the local name of that array. */
export function emitMaterialize(em: Emitter, a: ArrayValue): string {
  const scratch = em.newScratch();
  const local = em.fresh('m');
  const k = em.fresh('k');
  em.emit(`${scratch} = grow(${scratch}, ${a.length});`);
  em.emit(`const ${local} = ${scratch};`);
  em.emit(`for (let ${k} = 0; ${k} < ${a.length}; ${k}++) ${local}[${k}] = ${asNumber(a.kind, a.at(k))};`);
  return local;
}

/** np.cumsum: a running sum started from the first value, in order. */
export function emitCumsum(em: Emitter, a: ArrayValue): string {
  const scratch = em.newScratch();
  const local = em.fresh('m');
  const k = em.fresh('k');
  const acc = em.fresh('w');
  const elem = numberElem(a);
  em.emit(`${scratch} = grow(${scratch}, ${a.length});`);
  em.emit(`const ${local} = ${scratch};`);
  em.emit(`if (${a.length} > 0) {`);
  em.emit(`let ${acc} = ${elem('0')};`);
  em.emit(`${local}[0] = ${acc};`);
  em.emit(
    `for (let ${k} = 1; ${k} < ${a.length}; ${k}++) { ${acc} += ${elem(k)}; ${local}[${k}] = ${acc}; }`,
  );
  em.emit('}');
  return local;
}
