import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * NumPy in a child process that builds its array once and then times `x.sum(axis=1)` each time it is
 * asked, so its runs can be interleaved with the service's on this noisy machine instead of being
 * measured minutes apart.
 */
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

const START_TIMEOUT_MS = 120_000;
const RUN_TIMEOUT_MS = 60_000;

export class NumpyReference {
  readonly #child: ChildProcess;
  readonly #lines: AsyncIterator<string>;

  private constructor(
    child: ChildProcess,
    lines: AsyncIterator<string>,
    readonly version: string,
  ) {
    this.#child = child;
    this.#lines = lines;
  }

  /** The reason instead, when python3 or NumPy is missing or does not start in time. */
  static async start(rows: number, cols: number): Promise<NumpyReference | string> {
    const probe = spawnSync('python3', ['-c', 'import numpy'], { timeout: 30_000, stdio: 'ignore' });
    if (probe.error !== undefined || probe.status !== 0) return 'numpy not available';
    const child = spawn('python3', ['-c', SCRIPT, String(rows), String(cols)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout! });
    const iterator = lines[Symbol.asyncIterator]();
    const first = await withTimeout(iterator.next(), START_TIMEOUT_MS);
    if (first === undefined || first.done) {
      child.kill();
      return 'numpy did not start';
    }
    return new NumpyReference(child, iterator, (JSON.parse(first.value) as { version: string }).version);
  }

  /** Seconds for one `x.sum(axis=1)`. */
  async sumRows(): Promise<number> {
    this.#child.stdin!.write('\n');
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
