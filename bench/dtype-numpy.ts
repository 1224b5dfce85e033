import { PythonChild } from './python-child.js';

/**
 * NumPy in a child process for bench/ceiling-kernels.ts: it makes each dtype's matrix from the
 * pattern the benchmark wrote (repeated by `np.resize`, as the benchmark repeats it), then times one
 * op each time it is asked, so its runs interleave with rowpool's on this noisy machine. The ops
 * are what a user runs: `x.sum(axis=1)` (in the dtype's own accumulator: float32 and float16 sum
 * in their own dtype), `x @ v` with v of the array's float dtype (float64 for integers and bool,
 * which NumPy then casts to float64 whole) and `np.linalg.norm(x, axis=1)`.
 */
const SCRIPT = `
import json, sys, time
import numpy as np
print(json.dumps({'version': np.__version__}), flush=True)
x = v = None
ops = {'sum': lambda: x.sum(axis=1), 'dot': lambda: x @ v, 'norm': lambda: np.linalg.norm(x, axis=1)}
for line in sys.stdin:
    ask = json.loads(line)
    if 'op' in ask:
        f = ops[ask['op']]
        t = time.perf_counter()
        f()
        print(json.dumps({'seconds': time.perf_counter() - t}), flush=True)
        continue
    # The previous matrix goes before the next is made: two at once would be twice the memory.
    x = v = None
    x = np.resize(np.fromfile(ask['file'], dtype=ask['dtype']), (ask['rows'], ask['cols']))
    v = np.sin(np.arange(ask['cols'])).astype(x.dtype if x.dtype.kind == 'f' else np.float64)
    totals = {}
    if ask['check']:
        # Over the rows' float64 results, as the benchmark adds up rowpool's.
        totals = {
            'sum': float(x.sum(axis=1, dtype=np.float64).sum()),
            'norm': float(np.sqrt(np.square(x, dtype=np.float64).sum(axis=1)).sum()),
        }
    print(json.dumps(totals), flush=True)
`;

const TIMEOUTS = { startMs: 60_000, runMs: 60_000 };

export type NumpyOp = 'sum' | 'dot' | 'norm';

/** For checking that NumPy's array holds rowpool's values: totals of the rows' float64 results. */
export interface Totals {
  readonly sum: number;
  readonly norm: number;
}

export class DtypeNumpy {
  private constructor(
    readonly child: PythonChild,
    readonly version: string,
  ) {}

  /**
   * NumPy with OpenBLAS on `blasThreads` threads, or on its default (one a core) where undefined.
   * The reason instead, when python3 or NumPy is missing or does not start in time.
   */
  static async start(blasThreads: number | undefined): Promise<DtypeNumpy | string> {
    const child = await PythonChild.start(SCRIPT, [], TIMEOUTS, {
      OPENBLAS_NUM_THREADS: blasThreads === undefined ? undefined : String(blasThreads),
    });
    if (typeof child === 'string') return child;
    return new DtypeNumpy(child, (child.ready as { version: string }).version);
  }

  /** Makes the matrix from the pattern in `file`; with `check`, answers its totals. */
  async load(
    file: string,
    dtype: string,
    rows: number,
    cols: number,
    check: boolean,
  ): Promise<Totals | undefined> {
    const totals = (await this.child.ask(JSON.stringify({ file, dtype, rows, cols, check }))) as Totals;
    return check ? totals : undefined;
  }

  /** Seconds for one run of `op` over the whole matrix. */
  async time(op: NumpyOp): Promise<number> {
    return ((await this.child.ask(JSON.stringify({ op }))) as { seconds: number }).seconds;
  }

  close(): void {
    this.child.close();
  }
}
