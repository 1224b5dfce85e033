/**
 * What a cluster costs (`npm run bench:cluster`): upload and job throughput of one rowpool node
 * alone, one node on NATS JetStream, and three nodes on it, side by side on this machine, and how
 * long after a node is killed a job succeeds again. Every node is the compiled service in a process
 * of its own, all sharing this machine's cores and one nats-server, so the figures show the
 * overhead of the cluster, not how it scales. Everything listens on 127.0.0.1 only.
 */
import os from 'node:os';
import type { JobView } from '../src/routes/job-view.js';
import { Client, streamUpload } from './client.js';
import { NatsProcess, NodeProcess as Node, type NodeProcess, natsSkipReason } from './cluster-processes.js';
import { chunk, rowSum } from './data.js';
import { table } from './report.js';

const MiB = 2 ** 20;
const ROWS = 8192;
const COLS = 1024;
const BYTES = ROWS * COLS * 8;
const SHARD_BYTES = '4MiB';
const SHARDS = BYTES / (4 * MiB);
const THREADS = os.availableParallelism();
const SEQUENTIAL_JOBS = 10;
const CLIENTS = 4;
const JOBS_PER_CLIENT = 5;
const RECOVERY_TIMEOUT_MS = 30_000;
const LOAD_TIMEOUT_MS = 60_000;
/** Often enough to time the loading, seldom enough that reading /metrics does not slow it. */
const POLL_MS = 100;
const DEADLINE_MS = 6 * 60_000;

const deadline = setTimeout(() => {
  process.stderr.write(`bench:cluster: still running after ${DEADLINE_MS / 60_000} minutes; giving up\n`);
  process.exit(1);
}, DEADLINE_MS);
deadline.unref();

const log = (text: string): void => {
  process.stdout.write(`${text}\n`);
};

interface Setup {
  readonly name: string;
  readonly nodes: number;
  readonly cluster: boolean;
  /** Nodes that hold each shard (ROWPOOL_REPLICAS). */
  readonly replicas: number;
}

interface Figures {
  readonly setup: Setup;
  /** Bytes per second until the 201. */
  readonly uploadRate: number;
  /** From the 201 until the owners held every shard. */
  readonly loadSeconds: number;
  readonly sequentialJobsPerSecond: number;
  readonly concurrentJobsPerSecond: number;
  readonly recovery?: Recovery;
}

interface Recovery {
  readonly killedShards: number;
  /** From the kill until a job started after it succeeded. */
  readonly seconds: number;
  /** From the kill until the survivors held every shard again. */
  readonly reloadSeconds: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function upload(node: NodeProcess): Promise<{ id: string; seconds: number }> {
  const reply = await streamUpload<{ id: string }>(
    node.port,
    `/v1/datasets?name=bench&dtype=float64&shape=${ROWS},${COLS}`,
    'application/octet-stream',
    new Uint8Array(0),
    BYTES,
    chunk,
  );
  if (reply.status !== 201) throw new Error(`upload: ${reply.status} ${JSON.stringify(reply.body)}`);
  return { id: reply.body.id, seconds: reply.seconds };
}

/** Every shard held by its owners: `replicas` copies of each among the live nodes. */
async function waitForOwners(nodes: readonly NodeProcess[], replicas: number): Promise<void> {
  const want = SHARDS * Math.min(replicas, nodes.length);
  const until = performance.now() + LOAD_TIMEOUT_MS;
  for (;;) {
    const seen = await Promise.all(
      nodes.map((n) => n.gauges('rowpool_cluster_shards_owned', 'rowpool_cluster_shards_loading')),
    );
    const held = seen.map((g) => g.rowpool_cluster_shards_owned);
    if (
      held.reduce((a, b) => a + b, 0) === want &&
      seen.every((g) => g.rowpool_cluster_shards_loading === 0)
    ) {
      return;
    }
    if (performance.now() > until) throw new Error(`shards held ${held.join('+')}, want ${want}`);
    await sleep(POLL_MS);
  }
}

/** A sum over every row through `client`, its result checked on a few rows; false when it failed. */
async function sumJob(client: Client, datasetId: string, wait = 30): Promise<boolean> {
  const { body: job } = await client.expect<JobView>(
    200,
    'POST',
    `/v1/datasets/${datasetId}/jobs?wait=${wait}`,
    {
      op: 'sum',
    },
  );
  if (job.status !== 'succeeded') return false;
  const { body } = await client.expect<{ data: number[] }>(200, 'GET', `/v1/jobs/${job.id}/result`);
  for (const row of [0, 1, ROWS >> 1, ROWS - 1]) {
    const want = rowSum(row, COLS);
    if (Math.abs(body.data[row] - want) > 1e-9 * Math.abs(want)) {
      throw new Error(`row ${row}: the sum is ${body.data[row]}, want ${want}`);
    }
  }
  await client.expect(204, 'DELETE', `/v1/jobs/${job.id}`);
  return true;
}

async function mustSum(client: Client, datasetId: string): Promise<void> {
  if (!(await sumJob(client, datasetId))) throw new Error('a sum job failed');
}

async function jobsPerSecond(nodes: readonly NodeProcess[], datasetId: string): Promise<[number, number]> {
  let started = performance.now();
  for (let i = 0; i < SEQUENTIAL_JOBS; i++) await mustSum(nodes[i % nodes.length].client, datasetId);
  const sequential = SEQUENTIAL_JOBS / ((performance.now() - started) / 1000);
  // Each client on its own connection, the clients spread over the nodes.
  const clients = Array.from({ length: CLIENTS }, (_, c) => new Client(nodes[c % nodes.length].port));
  started = performance.now();
  await Promise.all(
    clients.map(async (client) => {
      for (let j = 0; j < JOBS_PER_CLIENT; j++) await mustSum(client, datasetId);
    }),
  );
  const concurrent = (CLIENTS * JOBS_PER_CLIENT) / ((performance.now() - started) / 1000);
  for (const client of clients) client.close();
  return [sequential, concurrent];
}

/** Kills the last node; a job through the first is tried until one succeeds. */
async function recovery(nodes: NodeProcess[], setup: Setup, datasetId: string): Promise<Recovery> {
  const victim = nodes.at(-1)!;
  const survivors = nodes.slice(0, -1);
  const killedShards = (await victim.gauges('rowpool_cluster_shards_owned')).rowpool_cluster_shards_owned;
  const killed = performance.now();
  await victim.kill();
  nodes.pop();
  let seconds: number | undefined;
  while (seconds === undefined) {
    if (await sumJob(survivors[0].client, datasetId, 60)) seconds = (performance.now() - killed) / 1000;
    else if (performance.now() - killed > RECOVERY_TIMEOUT_MS)
      throw new Error('no job succeeded after the kill');
  }
  await waitForOwners(survivors, setup.replicas);
  return { killedShards, seconds, reloadSeconds: (performance.now() - killed) / 1000 };
}

async function measure(setup: Setup): Promise<Figures> {
  const began = performance.now();
  const nats = setup.cluster ? await NatsProcess.start() : undefined;
  const nodes: NodeProcess[] = [];
  try {
    // Started together: on a busy machine a node takes seconds to load its modules.
    nodes.push(
      ...(await Promise.all(
        Array.from({ length: setup.nodes }, (_, i) =>
          Node.start({
            id: `node-${i + 1}`,
            natsUrl: nats?.url,
            threads: THREADS,
            memoryLimit: '1GiB',
            shardBytes: SHARD_BYTES,
            replicas: setup.replicas,
          }),
        ),
      )),
    );
    const { id: datasetId, seconds } = await upload(nodes[0]);
    const acknowledged = performance.now();
    if (setup.cluster) await waitForOwners(nodes, setup.replicas);
    const loadSeconds = (performance.now() - acknowledged) / 1000;
    // One job through each node first: pool threads warm, subscriptions in place.
    for (const node of nodes) await mustSum(node.client, datasetId);
    const [sequential, concurrent] = await jobsPerSecond(nodes, datasetId);
    const figures: Figures = {
      setup,
      uploadRate: BYTES / seconds,
      loadSeconds,
      sequentialJobsPerSecond: sequential,
      concurrentJobsPerSecond: concurrent,
      recovery: setup.nodes > 1 ? await recovery(nodes, setup, datasetId) : undefined,
    };
    log(`${setup.name}: measured in ${((performance.now() - began) / 1000).toFixed(0)} s`);
    return figures;
  } finally {
    for (const node of nodes) await node.stop();
    await nats?.stop();
  }
}

async function main(): Promise<void> {
  const skip = natsSkipReason();
  if (skip !== undefined) {
    log(`bench:cluster skipped: ${skip}`);
    return;
  }
  log(
    `${os.cpus().length} cores, Node ${process.version}; ${ROWS} × ${COLS} float64 (${BYTES / MiB} MiB) in ${SHARDS} shards ` +
      `of ${SHARD_BYTES}; ${THREADS} pool threads a node; load average ${os.loadavg()[0].toFixed(1)}`,
  );
  const setups: Setup[] = [
    { name: '1 node, no cluster', nodes: 1, cluster: false, replicas: 1 },
    { name: '1 node on NATS', nodes: 1, cluster: true, replicas: 1 },
    { name: '3 nodes, 1 replica', nodes: 3, cluster: true, replicas: 1 },
    { name: '3 nodes, 2 replicas', nodes: 3, cluster: true, replicas: 2 },
  ];
  const results: Figures[] = [];
  for (const setup of setups) results.push(await measure(setup));
  const base = results[0];
  const ratio = (value: number, of: number) => `${(value / of).toFixed(2)}×`;
  log('');
  log(
    table(
      [
        'setup',
        'upload MB/s',
        'shards loaded (MB/s)',
        'jobs/s, 1 client',
        `jobs/s, ${CLIENTS} clients`,
        'rows/s, 4 clients',
        'after a kill',
      ],
      results.map((r) => [
        r.setup.name,
        `${(r.uploadRate / 1e6).toFixed(0)} (${ratio(r.uploadRate, base.uploadRate)})`,
        r.setup.cluster
          ? `${r.loadSeconds.toFixed(2)} s (${((BYTES * Math.min(r.setup.replicas, r.setup.nodes)) / r.loadSeconds / 1e6).toFixed(0)})`
          : '—',
        `${r.sequentialJobsPerSecond.toFixed(1)} (${ratio(r.sequentialJobsPerSecond, base.sequentialJobsPerSecond)})`,
        `${r.concurrentJobsPerSecond.toFixed(1)} (${ratio(r.concurrentJobsPerSecond, base.concurrentJobsPerSecond)})`,
        `${((r.concurrentJobsPerSecond * ROWS) / 1e6).toFixed(2)} M`,
        r.recovery === undefined
          ? '—'
          : `job ok ${r.recovery.seconds.toFixed(2)} s, ${r.recovery.killedShards} shards held again ${r.recovery.reloadSeconds.toFixed(2)} s`,
      ]),
    ),
  );
}

await main();
