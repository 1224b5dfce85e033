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

/** Starts a server and resolves once it logs "ready" (its restore and preload are done). */
export function startNode(env: Record<string, string>, timeoutMs = 60_000): Promise<NodeProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SERVER], {
      env: { ...process.env, HOST: '127.0.0.1', PORT: '0', ROWPOOL_THREADS: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let port = 0;
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
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
