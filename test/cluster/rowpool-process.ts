import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { ensureBuilt, ROOT } from '../helpers/build.js';
import { freePort } from './nats-server.js';

const SERVER = join(ROOT, 'dist', 'server.js');
const REQUEST_TIMEOUT_MS = 30_000;
const START_TIMEOUT_MS = 45_000;

/** Builds dist/ when it is older than the sources (see helpers/build.ts). */
export function ensureServerBuilt(): Promise<void> {
  return ensureBuilt(SERVER);
}

/** Every process started here, so a test that fails midway still leaves none running. */
const started = new Set<ChildProcess>();

/** SIGKILLs every rowpool process these helpers started that is still running. */
export async function killAll(): Promise<void> {
  await Promise.all([...started].map((child) => kill(child, 'SIGKILL')));
}

function kill(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
    child.kill(signal);
  });
}

/**
 * One rowpool cluster node as a process of its own, `node dist/server.js`. It keeps its node id and
 * port across kill9()/stop() and start(), so a restart is the same member coming back.
 */
export class RowpoolProcess {
  #child: ChildProcess | undefined;
  #output = '';

  private constructor(
    readonly id: string,
    readonly port: number,
    readonly env: Readonly<Record<string, string>>,
  ) {}

  static async create(id: string, env: Readonly<Record<string, string>>): Promise<RowpoolProcess> {
    return new RowpoolProcess(id, await freePort(), env);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  /** Starts it and resolves once it logged "ready": it joined and loaded the shards it owned then. */
  start(): Promise<void> {
    const child = spawn(process.execPath, [SERVER], {
      env: {
        ...process.env,
        HOST: '127.0.0.1',
        PORT: String(this.port),
        ROWPOOL_THREADS: '1',
        ROWPOOL_NODE_ID: this.id,
        ROWPOOL_ADVERTISE_URL: this.url,
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    started.add(child);
    this.#child = child;
    this.#output = '';
    const collect = (c: Buffer) => {
      this.#output += c;
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('exit', () => {
      started.delete(child);
      if (this.#child === child) this.#child = undefined;
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${this.id} did not get ready in ${START_TIMEOUT_MS} ms:\n${this.#output}`));
      }, START_TIMEOUT_MS);
      const onData = () => {
        if (!this.#output.includes('"msg":"ready"')) return;
        clearTimeout(timer);
        child.stdout.off('data', onData);
        resolve();
      };
      child.stdout.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${this.id} exited with ${code} before it was ready:\n${this.#output}`));
      });
    });
  }

  /** SIGSTOP: it keeps its connections but answers nothing, as a node stuck mid-work. */
  pause(): void {
    this.#running().kill('SIGSTOP');
  }

  /** SIGKILL: no shutdown code runs, so it leaves the cluster only when its heartbeat expires. */
  async kill9(): Promise<void> {
    await kill(this.#running(), 'SIGKILL');
  }

  /** SIGTERM, and the exit code. */
  stop(): Promise<number | null> {
    return kill(this.#running(), 'SIGTERM');
  }

  /** Everything it logged since its last start. */
  output(): string {
    return this.#output;
  }

  fetch(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`${this.url}${path}`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS), ...init });
  }

  /** The status and the JSON body, read as a `T` (the test's expectations check it). */
  async json<T>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T; text: string }> {
    const res = await this.fetch(path, init);
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: `text` carries it, so a failing assertion shows what came.
    }
    return { status: res.status, body: body as T, text };
  }

  async ready(): Promise<boolean> {
    return (await this.fetch('/readyz')).status === 200;
  }

  /** A gauge of its /metrics, as a number. */
  async metric(name: string): Promise<number> {
    const text = await (await this.fetch('/metrics')).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    if (line === undefined) throw new Error(`${this.id} has no metric ${name}`);
    return Number(line.slice(name.length + 1));
  }

  #running(): ChildProcess {
    if (this.#child === undefined) throw new Error(`${this.id} is not running`);
    return this.#child;
  }
}
