/**
 * Expression kernels against NumPy on one thread: 100000 x 1000 float64 for the fused expressions
 * (NumPy evaluates the same expression over axis 1 in chunks of 10000 rows), `sum(x)` against the
 * sum op's kernel, and the recipe's line on 100 x 1,000,000 float16 against strided_mean.
 * Run: npx tsx bench/expr-bench.ts
 */
import { execFileSync } from 'node:child_process';
import { compileExpr, type ExprEnv, type ExprShape, exprKernel } from '../src/expr/index.js';
import { CODECS } from '../src/jobs/kernels/convert.js';
import { ROW_KERNELS } from '../src/jobs/kernels/rows.js';
import { stridedMeans } from '../src/jobs/kernels/strided.js';

const ROWS = 100_000;
const N = 1000;
const REPEATS = 3;

function best(run: () => void): number {
  let min = Number.POSITIVE_INFINITY;
  for (let k = 0; k < REPEATS; k++) {
    const t0 = performance.now();
    run();
    min = Math.min(min, performance.now() - t0);
  }
  return min;
}

const EXPRESSIONS: [string, string][] = [
  ['sum(where(x > 0, x*x, 0))', 'np.sum(np.where(a > 0, a*a, 0), axis=1)'],
  ['sqrt(mean((x - mean(x))**2))', 'np.sqrt(np.mean((a - np.mean(a, axis=1, keepdims=True))**2, axis=1))'],
  ['max(abs(diff(x)))', 'np.max(np.abs(np.diff(a, axis=1)), axis=1)'],
  ['count_nonzero((x > 1) & (x < 2))', 'np.count_nonzero((a > 1) & (a < 2), axis=1)'],
  ['sum(x)', 'np.sum(a, axis=1)'],
];

function numpyTimes(): number[] {
  const lines = EXPRESSIONS.map(([, py]) => `    (lambda a: ${py}),`).join('\n');
  const script = `
import time, numpy as np
rng = np.random.default_rng(1)
data = rng.normal(0, 1.5, (${ROWS}, ${N}))
fs = [
${lines}
]
out = []
for f in fs:
    best = 1e9
    for _ in range(${REPEATS}):
        t0 = time.perf_counter()
        for s in range(0, ${ROWS}, 10000):
            f(data[s:s + 10000])
        best = min(best, time.perf_counter() - t0)
    out.append(best * 1000)
print(' '.join(f'{t:.1f}' for t in out))
`;
  return execFileSync('python3', ['-c', script], { encoding: 'utf8', maxBuffer: 1 << 20 })
    .trim()
    .split(' ')
    .map(Number);
}

function fusedTimes(): number[] {
  const src = new Float64Array(ROWS * N);
  let s = 1;
  for (let k = 0; k < src.length; k++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    src[k] = (s / 2147483648) * 6 - 3;
  }
  const shape: ExprShape = {
    rowLength: N,
    rows: ROWS,
    dtype: 'float64',
    vectorLength: undefined,
    argNames: [],
  };
  const env: ExprEnv = { data: undefined, v: new Float64Array(0), args: new Float64Array(0), rows: ROWS };
  const out = new Float64Array(ROWS);
  const times = EXPRESSIONS.map(([text]) => {
    const kernel = exprKernel(compileExpr(text, shape).source);
    return best(() => kernel(src, 0, ROWS, N, 0, env, out, 0));
  });
  const params = { ddof: 0, ord: 2, q: 0.5, vector: undefined };
  times.push(best(() => ROW_KERNELS.sum(src, 0, ROWS, N, params, out, 0)));
  return times;
}

function recipeTimes(): [number, number] {
  const rows = 100;
  const total = rows * 1_000_000;
  const codec = CODECS.float16;
  const raw = codec.view(new ArrayBuffer(total * 2), 0, total) as Uint16Array;
  for (let k = 0; k < total; k++) raw[k] = 0x3c00 + ((k * 2654435761) >>> 22);
  const shape: ExprShape = {
    rowLength: total / rows,
    rows,
    dtype: 'float16',
    vectorLength: undefined,
    argNames: [],
  };
  const env: ExprEnv = {
    data: { raw, length: total },
    v: new Float64Array(0),
    args: new Float64Array(0),
    rows,
  };
  const kernel = exprKernel(compileExpr('dataset.ravel()[::i+1].mean()', shape).source);
  const out = new Float64Array(rows);
  const expected = new Float64Array(rows);
  // The kernel never reads x here, so an empty row source is enough.
  const x = new Float64Array(0);
  const expr = best(() => kernel(x, 0, rows, 0, 0, env, out, 0));
  const op = best(() => stridedMeans(codec, raw, total, 0, rows, expected, 0));
  if (out.some((v, j) => !Object.is(v, expected[j])))
    throw new Error('the recipe expression differs from strided_mean');
  return [expr, op];
}

const fused = fusedTimes();
const numpy = numpyTimes();
console.log(`single thread, ${ROWS} x ${N} float64, best of ${REPEATS} (ms)`);
EXPRESSIONS.forEach(([text], j) => {
  console.log(
    `${text.padEnd(36)} fused ${fused[j].toFixed(1).padStart(8)}  numpy ${numpy[j].toFixed(1).padStart(8)}  x${(numpy[j] / fused[j]).toFixed(2)}`,
  );
});
console.log(
  `sum op kernel                        ${fused[EXPRESSIONS.length].toFixed(1).padStart(8)}  (sum(x) / op = ${(fused[4] / fused[5]).toFixed(2)})`,
);
const [expr, op] = recipeTimes();
console.log(
  `recipe on 100 x 1,000,000 float16: expression ${expr.toFixed(1)} ms, strided_mean ${op.toFixed(1)} ms (ratio ${(expr / op).toFixed(2)}), same bits`,
);
