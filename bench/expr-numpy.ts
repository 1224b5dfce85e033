import { PythonChild } from './python-child.js';

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

const TIMEOUTS = { startMs: 300_000, runMs: 120_000 };

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
  private constructor(readonly child: PythonChild) {}

  get ready(): Ready {
    return this.child.ready as Ready;
  }

  /** The reason instead, when python3 or NumPy is missing or does not start in time. */
  static async start(spec: NumpySpec): Promise<NumpyExpressions | string> {
    const child = await PythonChild.start(SCRIPT, [JSON.stringify(spec)], TIMEOUTS);
    return typeof child === 'string' ? child : new NumpyExpressions(child);
  }

  /** Seconds for one evaluation of `name` over the whole array `dtype` (or the recipe's loop). */
  async time(name: string, dtype: ArrayName): Promise<number> {
    return ((await this.child.ask(JSON.stringify({ case: name, dtype }))) as { seconds: number }).seconds;
  }

  close(): void {
    this.child.close();
  }
}
