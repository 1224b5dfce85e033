import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from './client.js';
import { distUrl } from './dist.js';

/**
 * The processes of the cluster benchmark: one `nats-server -js` and rowpool nodes, each the compiled
 * service in a process of its own, as they would be deployed, so a node can be killed outright.
 * Everything listens on 127.0.0.1 only.
 */

const START_TIMEOUT_MS = 60_000;

/** Every process and NATS store made here, killed and removed when the benchmark exits, whichever way it does. */
const children = new Set<ChildProcess>();
const stores = new Set<string>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  for (const store of stores) rmSync(store, { recursive: true, force: true });
});
// A signal would end the process without 'exit'; exiting from its handler runs it.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(1));

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}
/** The tail of a process's log kept for the error when it fails to start. */
const LOG_TAIL = 4000;

/** Why the benchmark cannot run here, or undefined when it can. */
export function natsSkipReason(): string | undefined {
  const probe = spawnSync('nats-server', ['--version'], { encoding: 'utf8' });
  return probe.error === undefined && probe.status === 0
    ? undefined
    : 'nats-server is not on PATH (Debian: apt-get install nats-server)';
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

function tail(child: ChildProcess): () => string {
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-LOG_TAIL);
  });
  return () => log;
}

export class NatsProcess {
  private constructor(
    readonly url: string,
    readonly child: ChildProcess,
    readonly store: string,
  ) {}

  /** A JetStream server with its store in a fresh temporary directory, ready to serve. */
  static async start(): Promise<NatsProcess> {
    const store = mkdtempSync(join(tmpdir(), 'rowpool-bench-nats-'));
    stores.add(store);
    const port = await freePort();
    const child = track(
      spawn('nats-server', ['-js', '-sd', store, '-a', '127.0.0.1', '-p', String(port)], {
        stdio: ['ignore', 'ignore', 'pipe'],
      }),
    );
    const log = tail(child);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`nats-server did not start:\n${log()}`)),
        START_TIMEOUT_MS,
      );
      child.stderr?.on('data', () => {
        if (!log().includes('Server is ready')) return;
        clearTimeout(timer);
        resolve();
      });
      child.once('exit', () => reject(new Error(`nats-server exited:\n${log()}`)));
    });
    return new NatsProcess(`nats://127.0.0.1:${port}`, child, store);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      await once(this.child, 'exit');
    }
    rmSync(this.store, { recursive: true, force: true });
    stores.delete(this.store);
  }
}

export interface NodeSettings {
  readonly id: string;
  /** Unset: a single node without a cluster. */
  readonly natsUrl?: string;
  readonly threads: number;
  readonly memoryLimit: string;
  readonly shardBytes: string;
  readonly replicas: number;
}

/** One rowpool node: `node dist/server.js` with its settings in the environment and nothing else. */
export class NodeProcess {
  readonly client: Client;

  private constructor(
    readonly id: string,
    readonly port: number,
    readonly child: ChildProcess,
  ) {
    this.client = new Client(port);
  }

  static async start(settings: NodeSettings): Promise<NodeProcess> {
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      ROWPOOL_THREADS: String(settings.threads),
      ROWPOOL_MEMORY_LIMIT: settings.memoryLimit,
    };
    if (settings.natsUrl !== undefined) {
      Object.assign(env, {
        ROWPOOL_NATS_URL: settings.natsUrl,
        ROWPOOL_NODE_ID: settings.id,
        ROWPOOL_ADVERTISE_URL: `http://127.0.0.1:${port}`,
        ROWPOOL_SHARD_BYTES: settings.shardBytes,
        ROWPOOL_REPLICAS: String(settings.replicas),
      });
    }
    const child = track(
      spawn(process.execPath, [fileURLToPath(distUrl('server.js'))], {
        env,
        stdio: ['ignore', 'ignore', 'pipe'],
      }),
    );
    const log = tail(child);
    const node = new NodeProcess(settings.id, port, child);
    const deadline = performance.now() + START_TIMEOUT_MS;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${settings.id} exited:\n${log()}`);
      const ready = await node.client.request('GET', '/readyz').catch(() => undefined);
      if (ready?.status === 200) return node;
      if (performance.now() > deadline) throw new Error(`${settings.id} was not ready in time:\n${log()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Gauges of one read of this node's /metrics, 0 for those absent. */
  async gauges<Name extends string>(...names: Name[]): Promise<Record<Name, number>> {
    const { body } = await this.client.expect<string>(200, 'GET', '/metrics');
    const values = names.map((name) => {
      const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(body);
      return [name, match === null ? 0 : Number(match[1])];
    });
    return Object.fromEntries(values) as Record<Name, number>;
  }

  /** A crash: no leaving, no draining; the others notice when its heartbeat expires. */
  async kill(): Promise<void> {
    this.client.close();
    this.child.kill('SIGKILL');
    await once(this.child, 'exit');
  }

  /** Nothing is measured after this, so there is no waiting for a graceful shutdown. */
  async stop(): Promise<void> {
    this.client.close();
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGKILL');
    await once(this.child, 'exit');
  }
}
