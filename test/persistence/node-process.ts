import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SERVER = fileURLToPath(new URL('../../src/server.ts', import.meta.url));

/** A real rowpool process on loopback, started through its entry point. */
export interface NodeProcess {
  readonly port: number;
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything it logged so far. */
  output(): string;
  /** SIGKILL: no shutdown code runs, as in a crash or an OOM kill. */
  kill9(): Promise<void>;
  /** SIGTERM, and the exit code. */
  stop(): Promise<number | null>;
}

/** Every process started here, so a test that times out still leaves none running. */
const started = new Set<ChildProcess>();

/** SIGKILLs every server process these helpers started that is still running. */
export async function killAllNodes(): Promise<void> {
  await Promise.all(
    [...started].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}

/** Starts a server and resolves once it logs "ready" (its restore and preload are done). */
export function startNode(env: Record<string, string>, timeoutMs = 60_000): Promise<NodeProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SERVER], {
      env: { ...process.env, HOST: '127.0.0.1', PORT: '0', ROWPOOL_THREADS: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    started.add(child);
    let output = '';
    let port = 0;
    const exited = new Promise<number | null>((done) =>
      child.on('exit', (code) => {
        started.delete(child);
        done(code);
      }),
    );
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`rowpool did not get ready in ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk;
      const match = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (match) port = Number(match[1]);
      if (port !== 0 && output.includes('"msg":"ready"')) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stdout?.on('data', (c: Buffer) => {
          output += c;
        });
        resolve({
          port,
          url: `http://127.0.0.1:${port}`,
          child,
          output: () => output,
          async kill9() {
            child.kill('SIGKILL');
            await exited;
          },
          async stop() {
            child.kill('SIGTERM');
            return exited;
          },
        });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (c: Buffer) => {
      output += c;
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`rowpool exited with ${code} before it was ready:\n${output}`));
    });
  });
}
