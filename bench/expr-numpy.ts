import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * NumPy in a child process for the expression benchmark. It makes the arrays itself with a fixed
 * seed and saves them as .npy, so the service is sent exactly the bytes NumPy computes on; then it
 * times one NumPy expression each time it is asked, so its runs interleave with the service's on
 * this noisy machine. It also answers, for a sample of rows, what each expression gives on those rows
 * as float64: the values the service must match.
 */
const SCRIPT = `
import json, os, sys, time
import numpy as np
spec = json.loads(sys.argv[1])
rows, cols = spec['rows'], spec['cols']
rng = np.random.default_rng(spec['seed'])
# Spread 1.5 so that x > 0, 1 < x < 2 and the differences all select a fair share of each row.
x64 = rng.standard_normal((rows, cols)) * 1.5
arrays = {'float64': x64, 'float32': x64.astype(np.float32)}
# The recipe's own array, made as its README line makes it.
recipe = np.random.default_rng(0).standard_normal((spec['recipeRows'], spec['recipeCols'])).astype(np.float16)
files = {}
for name, a in [*arrays.items(), ('recipe', recipe)]:
    files[name] = os.path.join(spec['dir'], name + '.npy')
    np.save(files[name], a)
fs = {name: eval('lambda x: ' + text, {'np': np}) for name, text in spec['cases'].items()}
sample, recipe_sample = spec['sample'], spec['recipeSample']
expected = {
    dtype: {name: [float(v) for v in f(a[sample].astype(np.float64))] for name, f in fs.items()}
    for dtype, a in arrays.items()
}
flat64 = recipe.ravel().astype(np.float64)
expected['recipe'] = [float(flat64[::i + 1].mean()) for i in recipe_sample]
del flat64
print(json.dumps({'version': np.__version__, 'files': files, 'expected': expected}), flush=True)
for line in sys.stdin:
    ask = json.loads(line)
    if ask['case'] == 'recipe':
        t = time.perf_counter()
        [recipe.ravel()[::i + 1].mean() for i in range(recipe.shape[0])]
    else:
        f, x = fs[ask['case']], arrays[ask['dtype']]
        t = time.perf_counter()
        f(x)
    print(json.dumps({'seconds': time.perf_counter() - t}), flush=True)
`;

const START_TIMEOUT_MS = 300_000;
const RUN_TIMEOUT_MS = 120_000;

export interface NumpySpec {
  readonly dir: string;
  readonly seed: number;
  readonly rows: number;
  readonly cols: number;
  readonly recipeRows: number;
  readonly recipeCols: number;
  /** Case name → the NumPy text of a function of `x`, evaluated over axis 1. */
  readonly cases: Readonly<Record<string, string>>;
  readonly sample: readonly number[];
  readonly recipeSample: readonly number[];
}

export type ArrayName = 'float64' | 'float32' | 'recipe';

interface Ready {
  readonly version: string;
  readonly files: Record<ArrayName, string>;
  /** dtype → case → values of the sample rows; `recipe` → the recipe's sample rows. */
  readonly expected: Record<'float64' | 'float32', Record<string, number[]>> & { recipe: number[] };
}

export class NumpyExpressions {
  readonly #child: ChildProcess;
  readonly #lines: AsyncIterator<string>;

  private constructor(
    child: ChildProcess,
    lines: AsyncIterator<string>,
    readonly ready: Ready,
  ) {
    this.#child = child;
    this.#lines = lines;
  }

  /** The reason instead, when python3 or NumPy is missing or does not start in time. */
  static async start(spec: NumpySpec): Promise<NumpyExpressions | string> {
    // These tune OpenBLAS for the build machine; a user's NumPy runs with OpenBLAS's own defaults.
    const env = { ...process.env };
    delete env.OPENBLAS_CORETYPE;
    delete env.OPENBLAS_L2_SIZE;
    const probe = spawnSync('python3', ['-c', 'import numpy'], { env, timeout: 30_000, stdio: 'ignore' });
    if (probe.error !== undefined || probe.status !== 0) return 'numpy not available';
    const child = spawn('python3', ['-c', SCRIPT, JSON.stringify(spec)], {
      env,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const iterator = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const first = await withTimeout(iterator.next(), START_TIMEOUT_MS);
    if (first === undefined || first.done) {
      child.kill();
      return 'numpy did not start';
    }
    return new NumpyExpressions(child, iterator, JSON.parse(first.value) as Ready);
  }

  /** Seconds for one evaluation of `name` over the whole array `dtype` (or the recipe's loop). */
  async time(name: string, dtype: ArrayName): Promise<number> {
    this.#child.stdin!.write(`${JSON.stringify({ case: name, dtype })}\n`);
    const line = await withTimeout(this.#lines.next(), RUN_TIMEOUT_MS);
    if (line === undefined || line.done) throw new Error('numpy stopped answering');
    return (JSON.parse(line.value) as { seconds: number }).seconds;
  }

  close(): void {
    this.#child.stdin!.end();
    this.#child.kill();
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(resolve, ms, undefined);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
