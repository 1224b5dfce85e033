import os from 'node:os';
import path from 'node:path';

/**
 * Everything rowpool reads from its environment, validated once at start. The pool size and the
 * memory limit are needed before Fastify exists, so this is plain code rather than a Fastify plugin.
 */
export interface Config {
  readonly host: string;
  readonly port: number;
  readonly logLevel: LogLevel;
  /** The most bytes datasets, uploads in flight and job results may hold together. */
  readonly memoryLimit: number;
  readonly threads: number;
  /** Jobs that run at once; the others wait, queued, first come first served. */
  readonly maxRunningJobs: number;
  readonly shutdownGraceSeconds: number;
  /** Largest JSON or CSV body; parsed as it streams in, it bounds parsing time rather than memory. */
  readonly textBodyLimit: number;
  /** Seconds an upload's body may send nothing before it is ended with 408. */
  readonly uploadIdleTimeoutSeconds: number;
  /** Bytes per second an upload must average over any 30 s after its first 10 s; 0 turns it off. */
  readonly uploadMinRate: number;
  /** Seconds a client has to send a request's headers. */
  readonly headersTimeoutSeconds: number;
  /** Seconds a download may take nothing before it is cut off and its bytes freed. */
  readonly sendIdleTimeoutSeconds: number;
  readonly apiToken: string | undefined;
  readonly metricsToken: string | undefined;
  readonly preload: readonly PreloadEntry[];
  /** Whether users may upload WebAssembly kernels and run them (op "kernel"). */
  readonly kernelsEnabled: boolean;
  /** The largest kernel module accepted. */
  readonly kernelMaxBytes: number;
  /** The memory cap of each kernel instance. */
  readonly kernelMemoryBytes: number;
  /** Seconds a kernel job may run unless its params.timeoutMs says otherwise. */
  readonly kernelTimeoutSeconds: number;
  /** Where datasets are kept on disk so they outlive the process; unset, they live in memory only. */
  readonly dataDir?: string;
  /** Set by ROWPOOL_NATS_URL: this process is one node of a cluster sharing NATS JetStream. */
  readonly cluster?: ClusterConfig;
}

export interface ClusterConfig {
  readonly natsUrl: string;
  /** Unique among the nodes; its shard ownership follows from it. */
  readonly nodeId: string;
  /** Where the other nodes and clients reach this node's HTTP API, as announced in its heartbeat. */
  readonly advertiseUrl: string;
  /** Nodes that hold each shard in memory. */
  readonly replicas: number;
  /** JetStream replicas of the buckets: at most the NATS servers in the cluster. */
  readonly streamReplicas: number;
  readonly shardBytes: number;
  readonly heartbeatMs: number;
  /** A node whose heartbeat is older than this is gone, and its shards move. */
  readonly memberTtlMs: number;
  /** How long one attempt of a shard's part of a job may take before it is asked of the next owner. */
  readonly shardTimeoutMs: number;
}

export interface PreloadEntry {
  readonly name: string;
  readonly path: string;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  t: 1e12,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** Parses `1073741824`, `512MiB`, `4GiB`, `1.5GB`; undefined when the text is not a size. */
export function parseByteSize(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  if (!match) return undefined;
  const unit = UNITS[match[2].toLowerCase()];
  if (unit === undefined) return undefined;
  const bytes = Math.floor(Number(match[1]) * unit);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** Half of what this process may use: the cgroup limit when there is one, else the machine's memory. */
export function defaultMemoryLimit(): number {
  const constrained = process.constrainedMemory?.() ?? 0;
  const total = os.totalmem();
  const usable = constrained > 0 && constrained < total ? constrained : total;
  return Math.floor(usable / 2);
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\s*\d+\s*$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function byteSize(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = parseByteSize(raw);
  if (value === undefined || value <= 0) {
    throw new ConfigError(
      `${name} must be a positive size in bytes or with a unit (e.g. 1073741824, 512MiB, 4GiB), got "${raw}"`,
    );
  }
  return value;
}

/** A size that may be 0 (a check turned off). */
function byteSizeOrZero(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = parseByteSize(raw);
  if (value === undefined) {
    throw new ConfigError(
      `${name} must be a size in bytes or with a unit (e.g. 65536, 64KiB, 0 for none), got "${raw}"`,
    );
  }
  return value;
}

/** A WebAssembly memory (wasm32) holds at most 65536 pages of 64 KiB. */
const WASM32_MAX_BYTES = 2 ** 32;
const WASM_PAGE_BYTES = 2 ** 16;

function onOff(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = raw.trim().toLowerCase();
  if (value !== 'on' && value !== 'off') throw new ConfigError(`${name} must be on or off, got "${raw}"`);
  return value === 'on';
}

function kernelMemory(env: NodeJS.ProcessEnv): number {
  const bytes = byteSize(env, 'ROWPOOL_KERNEL_MEMORY', 256 * 2 ** 20);
  if (bytes < WASM_PAGE_BYTES || bytes > WASM32_MAX_BYTES) {
    throw new ConfigError(
      `ROWPOOL_KERNEL_MEMORY must be from 64KiB (one WebAssembly page) to 4GiB (the most a wasm32 memory holds), got "${env.ROWPOOL_KERNEL_MEMORY}"`,
    );
  }
  return bytes;
}

function parsePreload(raw: string | undefined): PreloadEntry[] {
  if (raw === undefined || raw.trim() === '') return [];
  return raw.split(',').map((item) => {
    const eq = item.indexOf('=');
    const name = item.slice(0, eq).trim();
    const path = item.slice(eq + 1).trim();
    if (eq < 1 || name === '' || path === '') {
      throw new ConfigError(`ROWPOOL_PRELOAD must be a comma-separated list of name=path.npy, got "${item}"`);
    }
    return { name, path };
  });
}

/** An absolute path, so the log and the files agree whatever the working directory was. */
function directory(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  if (raw.includes('\0')) throw new ConfigError(`${name} must be a directory path, got "${raw}"`);
  return path.resolve(raw.trim());
}

function clusterConfig(env: NodeJS.ProcessEnv, port: number): ClusterConfig | undefined {
  const raw = env.ROWPOOL_NATS_URL;
  if (raw === undefined || raw.trim() === '') return undefined;
  if (env.ROWPOOL_DATA_DIR !== undefined && env.ROWPOOL_DATA_DIR.trim() !== '') {
    throw new ConfigError(
      'ROWPOOL_NATS_URL and ROWPOOL_DATA_DIR are both set; a cluster keeps its datasets in JetStream, so unset ROWPOOL_DATA_DIR',
    );
  }
  const nodeId = (env.ROWPOOL_NODE_ID ?? '').trim() || os.hostname();
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(nodeId)) {
    throw new ConfigError(`ROWPOOL_NODE_ID must be 1 to 64 letters, digits, - or _, got "${nodeId}"`);
  }
  const heartbeatMs = integer(env, 'ROWPOOL_HEARTBEAT_MS', 1000, 50, 60_000);
  return {
    natsUrl: raw.trim(),
    nodeId,
    advertiseUrl: (env.ROWPOOL_ADVERTISE_URL ?? '').trim() || `http://${os.hostname()}:${port}`,
    replicas: integer(env, 'ROWPOOL_REPLICAS', 1, 1, 16),
    streamReplicas: integer(env, 'ROWPOOL_NATS_REPLICAS', 1, 1, 5),
    shardBytes: byteSize(env, 'ROWPOOL_SHARD_BYTES', 64 * 2 ** 20),
    heartbeatMs,
    memberTtlMs: integer(env, 'ROWPOOL_MEMBER_TTL_MS', heartbeatMs * 3, heartbeatMs * 2, 600_000),
    shardTimeoutMs: integer(env, 'ROWPOOL_SHARD_TIMEOUT_MS', 60_000, 100, 3_600_000),
  };
}

function token(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (/\s/.test(raw)) throw new ConfigError(`${name} must not contain white space`);
  return raw;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = integer(env, 'PORT', 3000, 0, 65535);
  const logLevel = env.LOG_LEVEL === undefined || env.LOG_LEVEL === '' ? 'info' : env.LOG_LEVEL;
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  const threads = integer(env, 'ROWPOOL_THREADS', os.availableParallelism(), 1, 1024);
  return {
    host: env.HOST === undefined || env.HOST === '' ? '127.0.0.1' : env.HOST,
    port,
    logLevel: logLevel as LogLevel,
    memoryLimit: byteSize(env, 'ROWPOOL_MEMORY_LIMIT', defaultMemoryLimit()),
    threads,
    maxRunningJobs: integer(env, 'ROWPOOL_MAX_RUNNING_JOBS', threads, 1, 1_000_000),
    shutdownGraceSeconds: integer(env, 'ROWPOOL_SHUTDOWN_GRACE', 10, 0, 3600),
    textBodyLimit: byteSize(env, 'ROWPOOL_TEXT_BODY_LIMIT', 2 ** 30),
    uploadIdleTimeoutSeconds: integer(env, 'ROWPOOL_UPLOAD_IDLE_TIMEOUT', 30, 1, 3600),
    uploadMinRate: byteSizeOrZero(env, 'ROWPOOL_UPLOAD_MIN_RATE', 64 * 2 ** 10),
    headersTimeoutSeconds: integer(env, 'ROWPOOL_HEADERS_TIMEOUT', 30, 1, 3600),
    sendIdleTimeoutSeconds: integer(env, 'ROWPOOL_SEND_IDLE_TIMEOUT', 60, 1, 3600),
    apiToken: token(env, 'ROWPOOL_API_TOKEN'),
    metricsToken: token(env, 'ROWPOOL_METRICS_TOKEN'),
    preload: parsePreload(env.ROWPOOL_PRELOAD),
    kernelsEnabled: onOff(env, 'ROWPOOL_KERNELS', true),
    kernelMaxBytes: byteSize(env, 'ROWPOOL_KERNEL_MAX_BYTES', 16 * 2 ** 20),
    kernelMemoryBytes: kernelMemory(env),
    // AbortSignal.timeout takes at most 2^31 - 1 ms, a little over 24 days.
    kernelTimeoutSeconds: integer(env, 'ROWPOOL_KERNEL_TIMEOUT', 60, 1, 2_000_000),
    dataDir: directory(env, 'ROWPOOL_DATA_DIR'),
    cluster: clusterConfig(env, port),
  };
}
