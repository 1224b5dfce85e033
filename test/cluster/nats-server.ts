import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Why the cluster tests cannot run here, or undefined when they can. */
export function natsSkipReason(): string | undefined {
  const probe = spawnSync('nats-server', ['--version'], { encoding: 'utf8' });
  return probe.error === undefined && probe.status === 0
    ? undefined
    : 'nats-server is not on PATH (Debian: apt-get install nats-server); the cluster tests need a real one';
}

export interface NatsServer {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** One JetStream server on loopback, its store in a fresh temporary directory, ready to serve. */
export async function startNatsServer(timeoutMs = 15_000): Promise<NatsServer> {
  const store = mkdtempSync(join(tmpdir(), 'rowpool-nats-'));
  const port = await freePort();
  const child: ChildProcess = spawn(
    'nats-server',
    ['-js', '-sd', store, '-a', '127.0.0.1', '-p', String(port)],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nats-server did not start:\n${log}`)), timeoutMs);
    child.stderr?.on('data', (c: Buffer) => {
      log += c;
      if (log.includes('Server is ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then(() => reject(new Error(`nats-server exited:\n${log}`)));
  });
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    async stop() {
      child.kill('SIGKILL');
      await exited;
      rmSync(store, { recursive: true, force: true });
    },
  };
}
