import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface Timeouts {
  readonly startMs: number;
  readonly runMs: number;
}

/**
 * A Python script in a child process that prints one JSON line when ready and then one JSON line
 * per line it is sent: NumPy builds its arrays once, and its timed runs can be interleaved with the
 * service's on this noisy machine instead of being measured minutes apart.
 */
export class PythonChild {
  readonly #child: ChildProcess;
  readonly #lines: AsyncIterator<string>;

  private constructor(
    child: ChildProcess,
    lines: AsyncIterator<string>,
    readonly ready: unknown,
    readonly timeouts: Timeouts,
  ) {
    this.#child = child;
    this.#lines = lines;
  }

  /** The reason instead, when python3 or NumPy is missing or the script does not start in time. */
  static async start(
    script: string,
    args: readonly string[],
    timeouts: Timeouts = { startMs: 120_000, runMs: 60_000 },
    /** Variables to set for the child (as OPENBLAS_NUM_THREADS), or to unset where undefined. */
    extraEnv: Readonly<Record<string, string | undefined>> = {},
  ): Promise<PythonChild | string> {
    // These tune OpenBLAS for the build machine; a user's NumPy runs with OpenBLAS's own defaults.
    const env = { ...process.env, ...extraEnv };
    delete env.OPENBLAS_CORETYPE;
    delete env.OPENBLAS_L2_SIZE;
    for (const [name, value] of Object.entries(extraEnv)) if (value === undefined) delete env[name];
    const probe = spawnSync('python3', ['-c', 'import numpy'], { env, timeout: 30_000, stdio: 'ignore' });
    if (probe.error !== undefined || probe.status !== 0) return 'numpy not available';
    const child = spawn('python3', ['-c', script, ...args], { env, stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const first = await withTimeout(lines.next(), timeouts.startMs);
    if (first === undefined || first.done) {
      child.kill();
      return 'numpy did not start';
    }
    return new PythonChild(child, lines, JSON.parse(first.value), timeouts);
  }

  /** Sends one line and reads the script's JSON answer. */
  async ask(line: string): Promise<unknown> {
    this.#child.stdin!.write(`${line}\n`);
    const answer = await withTimeout(this.#lines.next(), this.timeouts.runMs);
    if (answer === undefined || answer.done) throw new Error('numpy stopped answering');
    return JSON.parse(answer.value);
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
