/**
 * The upload rate of one cluster node (`node --import tsx bench/cluster-upload.ts`, after
 * `npm run build`): one nats-server, one rowpool node, a 128 MiB float64 dataset sent as raw bytes
 * and as .npy, three times each; the rate is the bytes over the time until the 201. The node's memory
 * limit (BENCH_MEMORY_LIMIT, 1GiB by default) and shard size (BENCH_SHARD_BYTES, 8MiB) come from the
 * environment, so the same script measures a node that can or cannot hold the dataset. The node's
 * most used memory is read from its /v1/datasets while each upload runs. Everything listens on
 * 127.0.0.1 only.
 */
import { streamUpload } from './client.js';
import { NatsProcess, NodeProcess } from './cluster-processes.js';
import { chunk, npyHeader } from './data.js';

const MiB = 2 ** 20;
const ROWS = 16_384;
const COLS = 1024;
const BYTES = ROWS * COLS * 8;
const RUNS = 3;
const memoryLimit = process.env.BENCH_MEMORY_LIMIT ?? '1GiB';
const shardBytes = process.env.BENCH_SHARD_BYTES ?? '8MiB';

interface Memory {
  readonly memory: { readonly usedBytes: number };
}

async function timed(node: NodeProcess, kind: 'raw' | 'npy'): Promise<{ rate: number; peak: number }> {
  let peak = 0;
  let polling = true;
  const poll = (async () => {
    while (polling) {
      const { body } = await node.client.expect<Memory>(200, 'GET', '/v1/datasets');
      peak = Math.max(peak, body.memory.usedBytes);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  const reply =
    kind === 'raw'
      ? await streamUpload<{ id: string }>(
          node.port,
          `/v1/datasets?dtype=float64&shape=${ROWS},${COLS}`,
          'application/octet-stream',
          new Uint8Array(0),
          BYTES,
          chunk,
        )
      : await streamUpload<{ id: string }>(
          node.port,
          '/v1/datasets',
          'application/x-npy',
          npyHeader([ROWS, COLS]),
          BYTES,
          chunk,
        );
  polling = false;
  await poll;
  if (reply.status !== 201) throw new Error(`upload: ${reply.status} ${JSON.stringify(reply.body)}`);
  await node.client.expect(204, 'DELETE', `/v1/datasets/${reply.body.id}`);
  return { rate: BYTES / MiB / reply.seconds, peak };
}

const nats = await NatsProcess.start();
const node = await NodeProcess.start({
  id: 'upload-bench',
  natsUrl: nats.url,
  threads: 1,
  memoryLimit,
  shardBytes,
  replicas: 1,
});
try {
  for (const kind of ['raw', 'npy'] as const) {
    const runs = [];
    for (let r = 0; r < RUNS; r++) runs.push(await timed(node, kind));
    const rates = runs.map((x) => x.rate).sort((a, b) => a - b);
    const peak = Math.max(...runs.map((x) => x.peak));
    process.stdout.write(
      `${kind}: ${BYTES / MiB} MiB, limit ${memoryLimit}, shards ${shardBytes}: ` +
        `${rates.map((x) => x.toFixed(0)).join(', ')} MiB/s (median ${rates[1].toFixed(0)}), ` +
        `most memory used ${(peak / MiB).toFixed(1)} MiB\n`,
    );
  }
} finally {
  await node.stop();
  await nats.stop();
}
