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

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Running {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
}

/** Runs nats-server with `args` and resolves once it says it is ready to take clients. */
async function spawnNats(args: readonly string[], timeoutMs: number): Promise<Running> {
  const child = spawn('nats-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let log = '';
  try {
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
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return { child, exited };
}

async function kill(running: Running): Promise<void> {
  running.child.kill('SIGKILL');
  await running.exited;
}

/** One JetStream server on loopback, its store in a fresh temporary directory, ready to serve. */
export async function startNatsServer(timeoutMs = 15_000): Promise<NatsServer> {
  const store = mkdtempSync(join(tmpdir(), 'rowpool-nats-'));
  const port = await freePort();
  const running = await spawnNats(['-js', '-sd', store, '-a', '127.0.0.1', '-p', String(port)], timeoutMs);
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    async stop() {
      await kill(running);
      rmSync(store, { recursive: true, force: true });
    },
  };
}

/** One server of a cluster; it keeps its name, ports and store across stop() and start(). */
export interface ClusterServer {
  readonly name: string;
  readonly url: string;
  /** Its HTTP monitoring port (/jsz, /varz). */
  readonly monitorPort: number;
  readonly running: boolean;
  /** SIGKILL, as in a crash; its store stays for start(). */
  stop(): Promise<void>;
  /** Starts it again on the same ports and store, so it rejoins as the same JetStream peer. */
  start(): Promise<void>;
}

export interface NatsCluster {
  readonly servers: readonly ClusterServer[];
  /** Every server's client URL, comma-separated, as ROWPOOL_NATS_URL takes them. */
  readonly urls: string;
  /**
   * Waits until the running servers agree on a JetStream meta leader that sees each of them as a
   * current peer, and every stream has a leader among them; returns the meta leader's name. Throws
   * after `timeoutMs` with what the servers said last.
   */
  leaders(timeoutMs?: number): Promise<string>;
  /** Stops every server and removes the stores. */
  stop(): Promise<void>;
}

interface Jsz {
  readonly meta_cluster?: {
    readonly leader?: string;
    readonly replicas?: readonly { readonly name: string; readonly current: boolean }[];
  };
  readonly account_details?: readonly {
    readonly stream_detail?: readonly {
      readonly name: string;
      readonly cluster?: { readonly leader?: string };
    }[];
  }[];
}

async function jsz(monitorPort: number): Promise<Jsz | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${monitorPort}/jsz?accounts=true&streams=true`, {
      signal: AbortSignal.timeout(2000),
    });
    return res.ok ? ((await res.json()) as Jsz) : undefined;
  } catch {
    return undefined;
  }
}

/** The meta leader the running servers agree on, when every stream has a leader among them. */
function agreedLeader(up: readonly string[], views: readonly (Jsz | undefined)[]): string | undefined {
  const leaders = new Set(views.map((v) => v?.meta_cluster?.leader));
  const [leader] = leaders;
  if (leaders.size !== 1 || leader === undefined || !up.includes(leader)) return undefined;
  const current = new Set(
    (views[up.indexOf(leader)]?.meta_cluster?.replicas ?? []).filter((r) => r.current).map((r) => r.name),
  );
  if (!up.every((name) => name === leader || current.has(name))) return undefined;
  const streams = views.flatMap((v) => (v?.account_details ?? []).flatMap((a) => a.stream_detail ?? []));
  return streams.every((s) => s.cluster?.leader !== undefined && up.includes(s.cluster.leader))
    ? leader
    : undefined;
}

/**
 * `size` JetStream servers on loopback routed to each other as one cluster, each with its own
 * store, resolved once JetStream has a meta leader, so buckets with `size` replicas can be created.
 */
export async function startNatsCluster(size: number, timeoutMs = 20_000): Promise<NatsCluster> {
  const root = mkdtempSync(join(tmpdir(), 'rowpool-nats-cluster-'));
  const ports = await Promise.all(
    Array.from({ length: size }, async () => ({
      client: await freePort(),
      route: await freePort(),
      monitor: await freePort(),
    })),
  );
  const routes = ports.map((p) => `nats://127.0.0.1:${p.route}`);
  const servers = ports.map((p, i) => {
    const name = `nats-${i}`;
    const args = [
      '-js',
      '-sd',
      join(root, name),
      '-n',
      name,
      '-a',
      '127.0.0.1',
      '-p',
      String(p.client),
      '-m',
      String(p.monitor),
      '--cluster_name',
      'rowpool-test',
      '--cluster',
      routes[i],
      '--routes',
      routes.filter((_, j) => j !== i).join(','),
    ];
    let running: Running | undefined;
    const server = {
      name,
      url: `nats://127.0.0.1:${p.client}`,
      monitorPort: p.monitor,
      get running() {
        return running !== undefined;
      },
      async start() {
        if (running === undefined) running = await spawnNats(args, timeoutMs);
      },
      async stop() {
        if (running !== undefined) await kill(running);
        running = undefined;
      },
    };
    return server;
  });

  const leaders = async (ms = timeoutMs) => {
    const deadline = Date.now() + ms;
    let seen: unknown[] = [];
    while (Date.now() < deadline) {
      const up = servers.filter((s) => s.running);
      const views = await Promise.all(up.map((s) => jsz(s.monitorPort)));
      const leader = agreedLeader(
        up.map((s) => s.name),
        views,
      );
      if (leader !== undefined) return leader;
      seen = views;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`JetStream has no leaders all running servers agree on:\n${JSON.stringify(seen)}`);
  };

  const stopAll = async () => {
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(root, { recursive: true, force: true });
  };
  try {
    await Promise.all(servers.map((s) => s.start()));
    await leaders();
  } catch (err) {
    await stopAll();
    throw err;
  }
  return { servers, urls: servers.map((s) => s.url).join(','), leaders, stop: stopAll };
}
