/**
 * Embedding search, side by side with NumPy in the same run: top-10 dot, cosine and euclidean over a
 * 200000 x 256 matrix (float32, float64, float16, int8) for one query over HTTP (p50, and queries/s
 * with 4 and 16 clients) and for a batch of 64 queries, against NumPy 2.4 in a child process on the
 * same arrays: `x @ v` + `argpartition` + a sort of the 10, as a user runs it. The first cosine job
 * on a dataset also computes and keeps its row norms; its time is shown apart.
 */
import { spawn } from 'node:child_process';
import { createReadStream, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { Client } from './client.js';
import { benchConfig } from './config.js';
import { loadApp } from './dist.js';
import { median, ms, table } from './report.js';

const ROWS = Number(process.env.SEARCH_ROWS ?? 200000);
const COLS = 256;
const K = 10;
const BATCH = 64;
const RUNS = 25;
const LOAD_SECONDS = 3;
const DTYPES = ['float32', 'float64', 'float16', 'int8'] as const;
const OPS = ['dot', 'cosine', 'euclidean'] as const;

const PYTHON = `
import json, sys, time
import numpy as np
rows, cols, k, batch, runs, tmp = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
rng = np.random.default_rng(0)
x32 = rng.standard_normal((rows, cols), dtype=np.float32)
arrays = {'float32': x32, 'float64': x32.astype(np.float64), 'float16': x32.astype(np.float16), 'int8': np.clip(np.rint(x32 * 32), -127, 127).astype(np.int8)}
for name, a in arrays.items(): np.save(f'{tmp}/{name}.npy', a)
queries = rng.standard_normal((batch, cols), dtype=np.float32)
normed = {name: a / np.linalg.norm(a, axis=1, keepdims=True).astype(a.dtype if a.dtype.kind == 'f' else np.float32) for name, a in arrays.items()}
def best(s, largest):
    i = np.argpartition(-s if largest else s, k)[:k]
    return i[np.argsort(-s[i] if largest else s[i], kind='stable')]
def search(name, op, v):
    x = arrays[name]
    if op == 'dot': return best(x @ v, True)
    if op == 'cosine': return best(normed[name] @ (v / np.linalg.norm(v)), True)
    return best(np.linalg.norm(x - v, axis=1), False)
def search_batch(name, q):
    s = arrays[name] @ q.T
    i = np.argpartition(-s, k, axis=0)[:k]
    return np.take_along_axis(i, np.argsort(-np.take_along_axis(s, i, axis=0), axis=0), axis=0)
print(json.dumps({'version': np.__version__, 'queries': queries.tolist()}), flush=True)
for line in sys.stdin:
    name, op = line.split()
    times = []
    for r in range(runs if op != 'batch' else 3):
        t = time.perf_counter()
        if op == 'batch': search_batch(name, queries)
        else: search(name, op, queries[r % batch])
        times.append(time.perf_counter() - t)
    times.sort()
    print(json.dumps({'seconds': times[len(times) // 2]}), flush=True)
`;

async function startServer(threads: number) {
  const { buildApp } = await loadApp();
  const config = await benchConfig({
    memoryLimit: 4 * 2 ** 30,
    threads,
    maxRunningJobs: threads,
    textBodyLimit: 64 * 2 ** 20,
  });
  const app = await buildApp(config, { logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  await app.rowpool.start();
  return { app, port: (app.server.address() as AddressInfo).port };
}

function uploadFile(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/v1/datasets',
        headers: { 'content-type': 'application/x-npy', 'content-length': statSync(path).size },
      },
      async (res) => {
        const parts: Buffer[] = [];
        for await (const part of res) parts.push(part as Buffer);
        const body = JSON.parse(Buffer.concat(parts).toString());
        if (res.statusCode !== 201) reject(new Error(`upload: ${res.statusCode} ${JSON.stringify(body)}`));
        else resolve(body.id);
      },
    );
    req.on('error', reject);
    createReadStream(path).pipe(req);
  });
}

/** One search as a client makes it: submit and wait, then fetch the result. */
async function search(client: Client, ds: string, body: string): Promise<number> {
  const started = performance.now();
  const job = await client.expect<{ id: string; status: string }>(
    200,
    'POST',
    `/v1/datasets/${ds}/jobs?wait=60`,
    body,
  );
  if (job.body.status !== 'succeeded') throw new Error(`job ${job.body.status}`);
  await client.expect(200, 'GET', `/v1/jobs/${job.body.id}/result`);
  await client.expect(204, 'DELETE', `/v1/jobs/${job.body.id}`);
  return (performance.now() - started) / 1000;
}

async function throughput(port: number, ds: string, bodies: string[], clients: number): Promise<number> {
  const end = performance.now() + LOAD_SECONDS * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      const client = new Client(port);
      for (let i = c; performance.now() < end; i += clients) {
        await search(client, ds, bodies[i % bodies.length]);
        done++;
      }
      client.close();
    }),
  );
  return done / LOAD_SECONDS;
}

async function main(): Promise<void> {
  const tmp = process.env.TMPDIR ?? '/tmp';
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const py = spawn(
    'python3',
    ['-c', PYTHON, String(ROWS), String(COLS), String(K), String(BATCH), String(RUNS), tmp],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
      env,
    },
  );
  const lines = createInterface({ input: py.stdout! })[Symbol.asyncIterator]();
  const next = async () => JSON.parse((await lines.next()).value as string);
  const hello = (await next()) as { version: string; queries: number[][] };
  const numpy = async (dtype: string, op: string): Promise<number> => {
    py.stdin!.write(`${dtype} ${op}\n`);
    return ((await next()) as { seconds: number }).seconds;
  };
  const server = await startServer(Number(process.env.ROWPOOL_THREADS ?? 2));
  const client = new Client(server.port);
  const rows: string[][] = [];
  const out = (text: string) => process.stdout.write(`${text}\n`);
  const load = () => loadavg()[0].toFixed(2);
  out(`search: ${ROWS} x ${COLS}, top-${K}; NumPy ${hello.version}; 1-minute load average ${load()}`);
  for (const dtype of DTYPES) {
    const ds = await uploadFile(server.port, `${tmp}/${dtype}.npy`);
    for (const op of OPS) {
      const bodies = hello.queries.map((vector) => JSON.stringify({ op, params: { vector }, top: { k: K } }));
      const first = await search(client, ds, bodies[0]);
      if (op === 'cosine') out(`${dtype} | first cosine job, which keeps the row norms: ${ms(first)}`);
      const times: number[] = [];
      for (let r = 0; r < RUNS; r++) times.push(await search(client, ds, bodies[r % bodies.length]));
      const p50 = median(times);
      const np = await numpy(dtype, op);
      const q4 = await throughput(server.port, ds, bodies, 4);
      const q16 = await throughput(server.port, ds, bodies, 16);
      const line = [
        dtype,
        op,
        ms(p50),
        ms(np),
        `${(np / p50).toFixed(2)}x`,
        `${q4.toFixed(0)}`,
        `${q16.toFixed(0)}`,
        `${(1 / np).toFixed(0)}`,
        p50 <= np && q4 >= 1 / np ? 'yes' : '**no**',
      ];
      out(line.join(' | '));
      rows.push(line);
    }
    const batchBody = JSON.stringify({ op: 'dot', params: { vectors: hello.queries }, top: { k: K } });
    const batchTimes: number[] = [];
    for (let r = 0; r < 3; r++) batchTimes.push(await search(client, ds, batchBody));
    const b = median(batchTimes);
    const npb = await numpy(dtype, 'batch');
    const line = [
      dtype,
      `dot, batch of ${BATCH}`,
      ms(b),
      ms(npb),
      `${(npb / b).toFixed(2)}x`,
      '',
      '',
      '',
      '',
    ];
    out(line.join(' | '));
    rows.push(line);
    await client.expect(204, 'DELETE', `/v1/datasets/${ds}`);
  }
  out(`1-minute load average at the end: ${load()}`);
  out('');
  out(
    table(
      [
        'dtype',
        'search',
        'rowpool p50',
        'NumPy p50',
        'rowpool speed vs NumPy',
        'rowpool q/s, 4 clients',
        'rowpool q/s, 16 clients',
        'NumPy q/s, 1 process',
        'p50 ≤ NumPy and 4-client q/s ≥ NumPy?',
      ],
      rows,
    ),
  );
  client.close();
  py.stdin!.end();
  py.kill();
  await server.app.close();
}

await main();
