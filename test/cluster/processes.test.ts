import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UPLOAD_WINDOW } from '../../src/cluster/shard-upload.js';
import { pairwiseSum } from '../../src/jobs/kernels/pairwise.js';
import { npyFile } from '../helpers/npy.js';
import { type NatsCluster, natsSkipReason, startNatsCluster } from './nats-server.js';
import { ensureServerBuilt, killAll, RowpoolProcess } from './rowpool-process.js';

/*
 * A cluster as it is deployed: three nats-server processes routed into one JetStream cluster with
 * every bucket on three replicas, and three rowpool processes started through the real entry point.
 * The tests run in order on one cluster: each leaves it whole for the next.
 */

const skip = natsSkipReason();
if (skip !== undefined) console.warn(`skipping the cluster process tests: ${skip}`);

const COLUMNS = 256;
const SHARD_BYTES = 256 * 1024;
const HEARTBEAT_MS = 400;
const MEMBER_TTL_MS = 2000;
const SHARD_TIMEOUT_MS = 2500;
/** How long a lost node's shards may take to be loaded elsewhere, and a restarted cluster to be whole. */
const RECOVERY_BOUND_MS = 20_000;

interface Sample {
  readonly rows: number;
  readonly data: Float64Array;
  /** The .npy file uploaded, byte for byte what GET /data must give back. */
  readonly body: Buffer;
  readonly shards: number;
  /** x.sum(1), NumPy's pairwise summation. */
  readonly sums: number[];
}

/** Float64 values with full 53-bit mantissas, so every summation order gives different bits. */
function sample(rows: number, seed: number): Sample {
  let state = seed;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
  const data = new Float64Array(rows * COLUMNS);
  for (let i = 0; i < data.length; i++) {
    data[i] = (((next() >>> 5) * 2 ** 26 + (next() >>> 6)) / 2 ** 53 - 0.5) * 2000;
  }
  return {
    rows,
    data,
    body: npyFile('<f8', [rows, COLUMNS], new Uint8Array(data.buffer)),
    shards: Math.ceil((rows * COLUMNS * 8) / SHARD_BYTES),
    sums: Array.from({ length: rows }, (_, r) => pairwiseSum(data, r * COLUMNS, COLUMNS)),
  };
}

/** NumPy's ranking: the k largest, ties to the lower row. */
function largest(values: readonly number[], k: number) {
  const ranked = values
    .map((value, index) => ({ index, value }))
    .sort((a, b) => b.value - a.value || a.index - b.index)
    .slice(0, k);
  return { indices: ranked.map((r) => r.index), values: ranked.map((r) => r.value) };
}

/** np.abs(np.diff(x)).max() for each row: subtraction and abs round alike in any language. */
function largestStep(s: Sample): number[] {
  return Array.from({ length: s.rows }, (_, r) => {
    let best = Number.NEGATIVE_INFINITY;
    for (let c = r * COLUMNS + 1; c < (r + 1) * COLUMNS; c++) {
      best = Math.max(best, Math.abs(s.data[c] - s.data[c - 1]));
    }
    return best;
  });
}

interface Job {
  readonly id: string;
  readonly status: string;
  readonly error?: { readonly message: string };
}

interface Listing {
  readonly datasets: readonly { readonly id: string; readonly shape: number[] }[];
  readonly memory: { readonly limitBytes: number; readonly usedBytes: number };
}

const since = (t0: number) => Math.round(performance.now() - t0);

async function upload(node: RowpoolProcess, s: Sample, name: string): Promise<string> {
  const res = await node.json<{ id: string }>(`/v1/datasets?name=${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-npy' },
    body: s.body,
  });
  expect(res.status, res.text).toBe(201);
  return res.body.id;
}

async function submit(node: RowpoolProcess, datasetId: string, job: object, wait = 0) {
  return node.json<Job>(`/v1/datasets/${datasetId}/jobs${wait > 0 ? `?wait=${wait}` : ''}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(job),
  });
}

/** Runs a job to its end through `node`; its id, once it succeeded. */
async function run(node: RowpoolProcess, datasetId: string, job: object): Promise<string> {
  const res = await submit(node, datasetId, job, 30);
  expect(res.status, res.text).toBe(200);
  expect(res.body.status, res.text).toBe('succeeded');
  return res.body.id;
}

async function result<T>(node: RowpoolProcess, jobId: string): Promise<T> {
  const res = await node.json<T>(`/v1/jobs/${jobId}/result`);
  expect(res.status, res.text).toBe(200);
  return res.body;
}

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

describe.skipIf(skip !== undefined)('three rowpool processes on a three-server NATS cluster', () => {
  let nats: NatsCluster;
  let a: RowpoolProcess;
  let b: RowpoolProcess;
  let c: RowpoolProcess;
  const all = () => [a, b, c];
  const big = sample(3072, 11);
  const small = sample(1024, 12);
  let bigId = '';
  let smallId = '';

  /** Shards held by `nodes`, as their rowpool_cluster_shards_owned gauges say. */
  const owned = async (nodes: readonly RowpoolProcess[]) =>
    (await Promise.all(nodes.map((n) => n.metric('rowpool_cluster_shards_owned')))).reduce((x, y) => x + y);

  /**
   * Waits until every one of `nodes` is ready and together they hold `shards` shards (one replica
   * each), and returns how long that took; fails past RECOVERY_BOUND_MS with what it saw last.
   */
  const settled = async (nodes: readonly RowpoolProcess[], shards: number): Promise<number> => {
    const t0 = performance.now();
    let seen = '';
    while (performance.now() - t0 < RECOVERY_BOUND_MS) {
      const ready = await Promise.all(nodes.map((n) => n.ready()));
      const held = await owned(nodes);
      seen = `ready ${ready.join(',')}; ${held} of ${shards} shards held`;
      if (ready.every(Boolean) && held === shards) return since(t0);
      await sleep(50);
    }
    const logs = nodes.map((n) => `${n.id}:\n${n.output().split('\n').slice(-8).join('\n')}`);
    throw new Error(`not settled within ${RECOVERY_BOUND_MS} ms: ${seen}\n${logs.join('\n')}`);
  };

  // Compiling takes a minute on a busy machine, and only when src/ changed since the last build.
  beforeAll(ensureServerBuilt, 180_000);

  beforeAll(async () => {
    nats = await startNatsCluster(3);
    const env = (memoryLimit: string) => ({
      ROWPOOL_NATS_URL: nats.urls,
      ROWPOOL_NATS_REPLICAS: '3',
      ROWPOOL_REPLICAS: '1',
      ROWPOOL_SHARD_BYTES: String(SHARD_BYTES),
      ROWPOOL_HEARTBEAT_MS: String(HEARTBEAT_MS),
      ROWPOOL_MEMBER_TTL_MS: String(MEMBER_TTL_MS),
      ROWPOOL_SHARD_TIMEOUT_MS: String(SHARD_TIMEOUT_MS),
      ROWPOOL_SHUTDOWN_GRACE: '2',
      ROWPOOL_MEMORY_LIMIT: memoryLimit,
    });
    // No node can hold the 6 MiB dataset, not even A, which takes the uploads: it cuts them into
    // shards as they arrive and holds only the few in flight.
    a = await RowpoolProcess.create('node-a', env('5.5MiB'));
    b = await RowpoolProcess.create('node-b', env('5.5MiB'));
    c = await RowpoolProcess.create('node-c', env('5.5MiB'));
    // A creates the buckets; three nodes creating the same three-replica streams at once can take
    // longer than JetStream's 5 s answer on a busy machine.
    await a.start();
    await Promise.all([b.start(), c.start()]);
  }, 90_000);

  afterAll(async () => {
    await killAll();
    await nats?.stop();
  });

  it('uploads through A, whose limit is below the dataset, in shards held across the nodes; sum and top-k through B equal NumPy', async () => {
    let t0 = performance.now();
    let peak = 0;
    let uploading = true;
    const watch = (async () => {
      while (uploading) {
        peak = Math.max(peak, (await a.json<Listing>('/v1/datasets')).body.memory.usedBytes);
        await sleep(5);
      }
    })();
    bigId = await upload(a, big, 'big').finally(() => {
      uploading = false;
    });
    const uploadMs = since(t0);
    await watch;
    // What A held while the upload streamed through it: the shards in flight and the one filling.
    expect(peak).toBeLessThanOrEqual((UPLOAD_WINDOW + 1) * SHARD_BYTES);
    for (const node of all()) {
      const listing = await node.json<Listing>('/v1/datasets');
      expect(listing.body.datasets.map((d) => [d.id, d.shape])).toEqual([[bigId, [big.rows, COLUMNS]]]);
    }
    const loadMs = await settled(all(), big.shards);
    for (const node of all()) {
      expect(await node.metric('rowpool_cluster_nodes')).toBe(3);
      expect(await node.metric('rowpool_cluster_shards_owned')).toBeGreaterThan(0);
      expect((await node.json<Listing>('/v1/datasets')).body.memory.usedBytes).toBeLessThan(big.body.length);
    }
    for (const node of all()) {
      expect((await node.json<Listing>('/v1/datasets')).body.memory.limitBytes).toBeLessThan(big.body.length);
    }

    t0 = performance.now();
    const sum = await run(b, bigId, { op: 'sum' });
    const sumMs = since(t0);
    expect((await result<{ data: number[] }>(b, sum)).data).toEqual(big.sums);
    const part = await run(b, bigId, { op: 'sum', rows: { start: 100, end: 2900 } });
    expect((await result<{ data: number[] }>(b, part)).data).toEqual(big.sums.slice(100, 2900));
    const top = await run(b, bigId, { op: 'sum', top: { k: 7, largest: true } });
    expect(await result(b, top)).toMatchObject(largest(big.sums, 7));
    console.log(
      `6 MiB in ${big.shards} shards uploaded via A in ${uploadMs} ms (A held at most ${(peak / 2 ** 20).toFixed(2)} MiB), loaded by the owners in ${loadMs} ms; ` +
        `a sum over it via B: ${sumMs} ms`,
    );
  }, 60_000);

  it('runs an expression through B that equals NumPy', async () => {
    const expr = await run(b, bigId, { op: 'expr', params: { expr: 'max(abs(diff(x)))' } });
    expect((await result<{ data: number[] }>(b, expr)).data).toEqual(largestStep(big));
  }, 30_000);

  it('reads a job B ran, and its result, from C', async () => {
    const id = await run(b, bigId, { op: 'sum' });
    const job = await c.json<Job>(`/v1/jobs/${id}`);
    expect(job.status, job.text).toBe(200);
    expect(job.body.status).toBe('succeeded');
    expect((await result<{ data: number[] }>(c, id)).data).toEqual(big.sums);
  }, 30_000);

  it(`completes a job whose owner is killed with -9 midway; its shards load elsewhere within ${RECOVERY_BOUND_MS} ms`, async () => {
    const lost = await c.metric('rowpool_cluster_shards_owned');
    expect(lost).toBeGreaterThan(0);
    // C is paused (SIGSTOP) before the job, so the job is surely waiting on C's shards when C is
    // killed however fast the others are; C's last heartbeat is from the pause, a moment earlier.
    c.pause();
    const submitted = await submit(b, bigId, { op: 'sum' });
    expect(submitted.status, submitted.text).toBe(202);
    const jobId = submitted.body.id;
    expect((await b.json<Job>(`/v1/jobs/${jobId}`)).body.status).toBe('running');
    await c.kill9();
    const t0 = performance.now();

    const jobDone = (async () => {
      for (;;) {
        const job = await b.json<Job>(`/v1/jobs/${jobId}`);
        if (job.body.status !== 'running' && job.body.status !== 'queued') return { ms: since(t0), job };
        if (performance.now() - t0 > RECOVERY_BOUND_MS) throw new Error(`the job still runs: ${job.text}`);
        await sleep(50);
      }
    })();
    const [done, loadedMs] = await Promise.all([jobDone, settled([a, b], big.shards)]);
    expect(done.job.body.status, done.job.text).toBe('succeeded');
    expect((await result<{ data: number[] }>(b, jobId)).data).toEqual(big.sums);
    for (const node of [a, b]) expect(await node.metric('rowpool_cluster_nodes')).toBe(2);
    console.log(
      `kill -9 of C (${lost} of ${big.shards} shards): the job succeeded ${done.ms} ms after the kill; ` +
        `A and B held every shard after ${loadedMs} ms (heartbeat ${HEARTBEAT_MS} ms, TTL ${MEMBER_TTL_MS} ms, ` +
        `shard timeout ${SHARD_TIMEOUT_MS} ms)`,
    );

    // C comes back under its id and takes its shards again.
    const t1 = performance.now();
    await c.start();
    await settled(all(), big.shards);
    console.log(`C restarted and the shards rebalanced in ${since(t1)} ms`);
    expect(await c.metric('rowpool_cluster_shards_owned')).toBe(lost);
  }, 60_000);

  it('keeps taking uploads and running jobs with one NATS server stopped', async () => {
    const leader = await nats.leaders();
    const down = nats.servers.find((s) => s.name === leader)!;
    await down.stop();
    // The streams whose leader it was answer nothing until the other two elect a new one.
    const t0 = performance.now();
    await nats.leaders();
    const failoverMs = since(t0);
    let t1 = performance.now();
    smallId = await upload(a, small, 'small');
    const uploadMs = since(t1);
    // The owners load the new shards through the two servers left before the jobs ask for them.
    const loadedMs = await settled(all(), big.shards + small.shards);
    t1 = performance.now();
    const sum = await run(b, smallId, { op: 'sum' });
    expect((await result<{ data: number[] }>(b, sum)).data).toEqual(small.sums);
    const top = await run(c, smallId, { op: 'sum', top: { k: 5, largest: true } });
    expect(await result(c, top)).toMatchObject(largest(small.sums, 5));
    const again = await run(a, bigId, { op: 'sum' });
    expect((await result<{ data: number[] }>(a, again)).data).toEqual(big.sums);
    const jobsMs = since(t1);
    for (const node of all()) {
      const listing = await node.json<Listing>('/v1/datasets');
      expect(listing.status, listing.text).toBe(200);
      expect(listing.body.datasets.map((d) => d.id).sort()).toEqual([bigId, smallId].sort());
    }
    console.log(
      `the JetStream meta leader ${leader} stopped: the other two led every stream after ${failoverMs} ms; ` +
        `then 2 MiB uploaded via A in ${uploadMs} ms, every shard held ${loadedMs} ms later, three jobs in ${jobsMs} ms`,
    );
  }, 60_000);

  it('has every dataset back, byte for byte, after every node restarts', async () => {
    let t0 = performance.now();
    const codes = await Promise.all(all().map((n) => n.stop()));
    expect(codes).toEqual([0, 0, 0]);
    const stopMs = since(t0);
    t0 = performance.now();
    const startMs = await Promise.all(all().map((n) => n.start().then(() => since(t0))));
    const shards = big.shards + small.shards;
    await settled(all(), shards);
    const restartMs = since(t0);
    for (const node of all()) {
      const listing = await node.json<Listing>('/v1/datasets');
      expect(listing.body.datasets.map((d) => d.id).sort()).toEqual([bigId, smallId].sort());
      expect(listing.body.memory.limitBytes).toBeLessThan(big.body.length + small.body.length);
      for (const [id, s] of [
        [bigId, big],
        [smallId, small],
      ] as const) {
        const res = await node.fetch(`/v1/datasets/${id}/data`);
        expect(res.status).toBe(200);
        expect(Buffer.from(await res.arrayBuffer()).equals(s.body)).toBe(true);
      }
    }
    const sum = await run(c, bigId, { op: 'sum' });
    expect((await result<{ data: number[] }>(c, sum)).data).toEqual(big.sums);
    console.log(
      `all three nodes stopped (SIGTERM) in ${stopMs} ms, then started (ready after ${startMs.join(', ')} ms) ` +
        `and holding all ${shards} shards again in ${restartMs} ms, with one NATS server still down`,
    );
  }, 90_000);

  it('takes the stopped NATS server back as a current JetStream peer', async () => {
    const down = nats.servers.find((s) => !s.running)!;
    await down.start();
    await nats.leaders();
    const sum = await run(a, smallId, { op: 'sum' });
    expect((await result<{ data: number[] }>(a, sum)).data).toEqual(small.sums);
  }, 30_000);
});
