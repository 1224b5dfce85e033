/**
 * Every dtype against the read ceiling: rowpool's SIMD kernels for sum, dot and norm on one and two
 * threads, beside bench/ceiling.wat's flat read of the same bytes and NumPy's figure for the same op
 * on the same array, all in one run with the reps interleaved so load on the shared machine spreads
 * over every series. Target: each op at least 75% of the ceiling on 1 and on 2 threads. Part of
 * `npm run bench`; alone `npm run bench:dtypes [-- reps [dtype…]]`. Appends (or replaces) the
 * section "Every dtype against the read ceiling" of bench/results.md when it measured every dtype.
 *
 * The kernels run on plain worker threads with no service around them: this is the kernels' own
 * speed, what a job's engine time can reach. They come from src/ through tsx, so `bench:dtypes` needs
 * no build. GB/s count the dtype's own bytes (10⁹ bytes a second).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DTYPE_INFO, DTYPES, type DType } from '../src/datasets/dtypes.js';
import type { PassRequest } from './ceiling-kernels-worker.js';
import { Matrices } from './dtype-matrix.js';
import { DtypeNumpy, type NumpyOp } from './dtype-numpy.js';
import { best, GB, median, pct, table, writeSection } from './report.js';

const SHAPES = [
  { rows: 200000, cols: 256 },
  { rows: 100000, cols: 1000 },
] as const;
const THREADS = [1, 2] as const;
const KERNEL_OPS = ['sum', 'dot', 'norm'] as const satisfies readonly NumpyOp[];
const TARGET = 0.75;
const RTOL = 1e-9;
const REPS = Number(process.argv[2] ?? 5);
const ONLY = process.argv.slice(3) as DType[];
const MEASURED = DTYPES.filter((d) => ONLY.length === 0 || ONLY.includes(d));
const DEADLINE_MS = 20 * 60_000;

const log = (text: string): void => {
  process.stdout.write(`${text}\n`);
};

const dir = mkdtempSync(path.join(os.tmpdir(), 'rowpool-dtypes-bench-'));
// On Node 20 tsx reaches a worker only through its require hook.
const WORKER_FILE = fileURLToPath(new URL('./ceiling-kernels-worker.ts', import.meta.url));
const workers = Array.from(
  { length: Math.max(...THREADS) },
  () => new Worker(`require('tsx/cjs'); require(${JSON.stringify(WORKER_FILE)});`, { eval: true }),
);
/** NumPy with OpenBLAS on one thread, and on its default (a thread a core), for the 2-thread table. */
const numpys: DtypeNumpy[] = [];

const deadline = setTimeout(() => {
  process.stderr.write(
    `bench/ceiling-kernels: still running after ${DEADLINE_MS / 60_000} minutes; giving up\n`,
  );
  for (const n of numpys) n.close();
  rmSync(dir, { recursive: true, force: true });
  process.exit(1);
}, DEADLINE_MS);
deadline.unref();

function run(worker: Worker, request: PassRequest): Promise<number> {
  return new Promise((resolve) => {
    worker.once('message', resolve);
    worker.postMessage(request);
  });
}

/** Seconds for `threads` workers to run `op` over equal shares of the rows, and their results' total. */
async function pass(
  request: Omit<PassRequest, 'r0' | 'r1'>,
  rows: number,
  threads: number,
): Promise<{ seconds: number; total: number }> {
  const share = Math.ceil(rows / threads);
  const started = performance.now();
  const totals = await Promise.all(
    workers
      .slice(0, threads)
      .map((w, t) =>
        run(w, { ...request, r0: Math.min(rows, t * share), r1: Math.min(rows, (t + 1) * share) }),
      ),
  );
  return { seconds: (performance.now() - started) / 1000, total: totals.reduce((a, b) => a + b, 0) };
}

function check(what: string, got: number, want: number): void {
  if (!(Math.abs(got - want) <= RTOL * Math.abs(want)))
    throw new Error(`${what}: rowpool's rows add up to ${got}, NumPy's to ${want}`);
}

/** Seconds of each measured rep, by series: `ceiling`, `sum`…, `numpy sum`…. */
type Series = Map<string, number[]>;

interface Measured {
  readonly shape: string;
  readonly dtype: DType;
  readonly bytes: number;
  /** By thread count. */
  readonly series: ReadonlyMap<number, Series>;
}

async function measure(matrices: Matrices, dtype: DType, rows: number, cols: number): Promise<Measured> {
  const itemsize = DTYPE_INFO[dtype].itemsize;
  const bytes = rows * cols * itemsize;
  const file = path.join(dir, `${dtype}.pattern`);
  writeFileSync(file, matrices.fill(dtype, rows, cols));
  const [want] = await Promise.all(numpys.map((n, i) => n.load(file, dtype, rows, cols, i === 0)));
  rmSync(file);
  const request = { memory: matrices.memory, dtype, itemsize, cols, q: matrices.q };
  const series = new Map<number, Series>(THREADS.map((t) => [t, new Map()]));
  const record = (rep: number, threads: number, name: string, seconds: number) => {
    const s = series.get(threads)!;
    if (rep >= 0) s.set(name, [...(s.get(name) ?? []), seconds]);
  };
  for (let rep = -1; rep < REPS; rep++) {
    for (const threads of THREADS) {
      record(rep, threads, 'ceiling', (await pass({ ...request, op: 'ceiling' }, rows, threads)).seconds);
      for (const op of KERNEL_OPS) {
        const { seconds, total } = await pass({ ...request, op }, rows, threads);
        record(rep, threads, op, seconds);
        if (rep < 0 && op !== 'dot') check(`${dtype} ${op}, ${threads} thread(s)`, total, want![op]);
      }
    }
    // NumPy's sum and norm run on one thread whatever OpenBLAS is set to: one run serves both tables.
    for (const op of ['sum', 'norm'] as const) {
      const seconds = await numpys[0].time(op);
      for (const threads of THREADS) record(rep, threads, `numpy ${op}`, seconds);
    }
    for (const [i, threads] of THREADS.entries())
      record(rep, threads, 'numpy dot', await numpys[i].time('dot'));
  }
  return { shape: `${rows} × ${cols}`, dtype, bytes, series };
}

/** Which ops fall short of the target on `threads` threads: by the best runs' share of the ceiling. */
function missed(m: Measured, threads: number): NumpyOp[] {
  const series = m.series.get(threads)!;
  const ceiling = best(series.get('ceiling')!);
  return KERNEL_OPS.filter((op) => ceiling / best(series.get(op)!) < TARGET);
}

/** One table row: each series' best GB/s (median), the kernels' share of the ceiling, the verdict. */
function tableRow(m: Measured, threads: number): string[] {
  const series = m.series.get(threads)!;
  const rate = (name: string, pick: (values: readonly number[]) => number) =>
    m.bytes / pick(series.get(name)!) / GB;
  const cell = (name: string) => `${rate(name, best).toFixed(1)} (${rate(name, median).toFixed(1)})`;
  const short = missed(m, threads);
  return [
    m.shape,
    m.dtype,
    cell('ceiling'),
    ...KERNEL_OPS.map((op) => `${cell(op)} ${pct(rate(op, best) / rate('ceiling', best))}`),
    ...KERNEL_OPS.map((op) => cell(`numpy ${op}`)),
    short.length === 0 ? 'yes' : `**no**: ${short.join(', ')}`,
  ];
}

async function main(): Promise<void> {
  const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.availableParallelism()} cores, Node ${process.version}`;
  const loadAtStart = os.loadavg()[0];
  log(`machine: ${machine}; load average ${loadAtStart.toFixed(2)}`);
  for (const blasThreads of [1, undefined]) {
    const started = await DtypeNumpy.start(blasThreads);
    if (typeof started === 'string') throw new Error(`the dtype benchmark compares with NumPy: ${started}`);
    numpys.push(started);
  }
  const maxBytes = Math.max(
    ...SHAPES.flatMap((s) => MEASURED.map((d) => s.rows * s.cols * DTYPE_INFO[d].itemsize)),
  );
  const matrices = new Matrices(maxBytes, Math.max(...SHAPES.map((s) => s.cols)));
  const measured: Measured[] = [];
  for (const { rows, cols } of SHAPES) {
    for (const dtype of MEASURED) {
      const m = await measure(matrices, dtype, rows, cols);
      measured.push(m);
      for (const threads of THREADS) log(`| ${threads} | ${tableRow(m, threads).join(' | ')} |`);
    }
  }

  const headers = [
    'shape',
    'dtype',
    'ceiling GB/s',
    ...KERNEL_OPS.map((op) => `${op} GB/s, % of ceiling`),
    ...KERNEL_OPS.map((op) => `NumPy ${op} GB/s`),
    `all ≥ ${pct(TARGET)}?`,
  ];
  const section = [
    '## Every dtype against the read ceiling',
    '',
    `Machine: ${machine}, shared with other work and noisy; figures from one run of ` +
      `\`bench/ceiling-kernels.ts\` (${new Date().toISOString().slice(0, 10)}), 1-minute load average ` +
      `${loadAtStart.toFixed(2)} at the start, ${os.loadavg()[0].toFixed(2)} at the end. NumPy ` +
      `${numpys[0].version} in child processes (OpenBLAS with its own defaults otherwise).`,
    '',
    "rowpool: the service's SIMD kernels (src/jobs/kernels/simd.ts) for each row on plain worker " +
      'threads, each thread a share of the rows: `sum`, `dot` with a float64 vector, `norm` = ' +
      '`sqrt(sumSquares)` as the norm op runs it; all of them compute in float64. The ceiling is ' +
      "bench/ceiling.wat's flat SIMD read of the same bytes (four independent accumulators, 64 bytes a " +
      `loop iteration) on as many threads. Target: each op at least ${pct(TARGET)} of the ceiling on 1 ` +
      "and on 2 threads. NumPy: `x.sum(axis=1)`, `x @ v` (v of the array's float dtype; float64 for " +
      'integers and bool, which NumPy casts to float64 first) and `np.linalg.norm(x, axis=1)` on the same ' +
      "array. NumPy's figure is the user's: it sums float32 and float16 in their own dtype where rowpool " +
      "sums in float64. `x @ v` goes to OpenBLAS (but for float16, which has a loop of NumPy's own): the " +
      "1-thread table runs it with `OPENBLAS_NUM_THREADS=1`, the 2-thread one with OpenBLAS's default (a " +
      "thread a core). NumPy's sum and norm run on one thread either way, so both tables show the same runs " +
      'of them.',
    '',
    `GB/s of the dtype's own bytes (10⁹ bytes a second), best of ${REPS} runs after a warm-up ` +
      "(median), the ops and NumPy interleaved run by run; % = best / ceiling's best (above 100% only when " +
      "the ceiling's runs met more load than the op's). The arrays are a " +
      '1 MiB pattern of values repeated (floats in [-1, 1), float16 of magnitude 2⁻⁵ to 2, random ' +
      'bytes for 8- to 32-bit integers, int64 and uint64 below 2⁴⁰, bools 0 and 1), which NumPy repeats ' +
      `the same way; in the warm-up the rows' sums and norms of rowpool add up to NumPy's (as float64) ` +
      `to rtol ${RTOL}.`,
    '',
    ...THREADS.flatMap((threads) => [
      `${threads === 1 ? 'One thread' : `${threads} threads`}: every op meets the target for ` +
        `${measured.filter((m) => missed(m, threads).length === 0).length} of the ${measured.length} arrays.`,
      '',
      table(
        headers,
        measured.map((m) => tableRow(m, threads)),
      ),
      '',
    ]),
  ].join('\n');
  log(`\n${section}`);
  if (MEASURED.length === DTYPES.length) writeSection(section);
}

try {
  await main();
} finally {
  for (const n of numpys) n.close();
  await Promise.all(workers.map((w) => w.terminate()));
  rmSync(dir, { recursive: true, force: true });
}
