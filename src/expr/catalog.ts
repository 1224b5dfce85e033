/**
 * The allowlist of functions and methods: each name with the parameters it takes. Anything not here
 * is refused before code is generated.
 */

export interface Signature {
  /** Positional parameters in order; any of them may also be passed by keyword. */
  readonly params: readonly string[];
  /** How many leading parameters are required. */
  readonly required: number;
  /** Parameters that may only be passed by keyword. */
  readonly keywordOnly: readonly string[];
}

function sig(params: string[], required = params.length, keywordOnly: string[] = []): Signature {
  return { params, required, keywordOnly };
}

export const ELEMENTWISE_1 = [
  'abs',
  'sqrt',
  'exp',
  'expm1',
  'log',
  'log1p',
  'log2',
  'log10',
  'sin',
  'cos',
  'tan',
  'arcsin',
  'arccos',
  'arctan',
  'sinh',
  'cosh',
  'tanh',
  'floor',
  'ceil',
  'round',
  'sign',
  'isnan',
  'isinf',
  'isfinite',
] as const;

export const FUNCTIONS: Readonly<Record<string, Signature>> = {
  ...Object.fromEntries(ELEMENTWISE_1.map((name) => [name, sig(['x'])])),
  arctan2: sig(['x1', 'x2']),
  hypot: sig(['x1', 'x2']),
  minimum: sig(['x1', 'x2']),
  maximum: sig(['x1', 'x2']),
  clip: sig(['a', 'a_min', 'a_max']),
  where: sig(['condition', 'x', 'y']),
  diff: sig(['a']),
  cumsum: sig(['a']),
  sort: sig(['a']),
  sum: sig(['a']),
  mean: sig(['a']),
  prod: sig(['a']),
  min: sig(['a']),
  max: sig(['a']),
  argmin: sig(['a']),
  argmax: sig(['a']),
  std: sig(['a'], 1, ['ddof']),
  var: sig(['a'], 1, ['ddof']),
  count_nonzero: sig(['a']),
  any: sig(['a']),
  all: sig(['a']),
  median: sig(['a']),
  quantile: sig(['a', 'q']),
  norm: sig(['x', 'ord'], 1),
  dot: sig(['a', 'b']),
  len: sig(['obj']),
};

/** Methods of NumPy arrays the language takes; the array itself is the first argument. */
export const METHODS: ReadonlySet<string> = new Set([
  'sum',
  'mean',
  'prod',
  'min',
  'max',
  'argmin',
  'argmax',
  'std',
  'var',
  'any',
  'all',
  'cumsum',
  'dot',
  'clip',
  'round',
  'ravel',
  'flatten',
]);

/** A table entry only if the table itself has it: names like `constructor` must not reach Object.prototype. */
export function own<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

export const NAMES = [
  'x',
  'i',
  'n',
  'rows',
  'data',
  'dataset',
  'v',
  'nan',
  'inf',
  'pi',
  'e',
  'True',
  'False',
];

export function describeNames(argNames: readonly string[]): string {
  const args = argNames.length > 0 ? `, the args ${argNames.join(', ')}` : '';
  return `the names are ${NAMES.join(', ')}${args}; the functions are ${Object.keys(FUNCTIONS).join(', ')}`;
}

export function describeMethods(): string {
  return `the methods are ${[...METHODS].map((m) => `.${m}()`).join(' ')}`;
}
