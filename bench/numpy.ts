import { PythonChild } from './python-child.js';

const SCRIPT = `
import json, sys, time
import numpy as np
rows, cols = int(sys.argv[1]), int(sys.argv[2])
x = np.random.default_rng(0).random((rows, cols))
x.sum(axis=1)
print(json.dumps({'version': np.__version__}), flush=True)
for _ in sys.stdin:
    t = time.perf_counter()
    x.sum(axis=1)
    print(json.dumps({'seconds': time.perf_counter() - t}), flush=True)
`;

/** NumPy's `x.sum(axis=1)` on an array of its own, timed each time it is asked. */
export class NumpyReference {
  private constructor(
    readonly child: PythonChild,
    readonly version: string,
  ) {}

  /** The reason instead, when python3 or NumPy is missing or does not start in time. */
  static async start(rows: number, cols: number): Promise<NumpyReference | string> {
    const child = await PythonChild.start(SCRIPT, [String(rows), String(cols)]);
    if (typeof child === 'string') return child;
    return new NumpyReference(child, (child.ready as { version: string }).version);
  }

  /** Seconds for one `x.sum(axis=1)`. */
  async sumRows(): Promise<number> {
    return ((await this.child.ask('')) as { seconds: number }).seconds;
  }

  close(): void {
    this.child.close();
  }
}
