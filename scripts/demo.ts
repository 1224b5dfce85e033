/**
 * The classic shared-memory example, end to end over HTTP: a 100 x 1,000,000 float16 dataset is
 * uploaded once as .npy to a real `node dist/server.js`, a strided_mean job runs on its pool
 * (result[i] = data.ravel()[::i+1].mean()), and the answer is checked against a plain serial
 * computation here. Exits non-zero when any value disagrees.
 *
 * The data is a function of the element index, so it is streamed without being held in this process
 * and the serial check regenerates exactly the values it needs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { npyHeaderFor } from '../src/datasets/npy.js';

const ROWS = 100;
const COLS = 1_000_000;
const COUNT = ROWS * COLS;
const BYTES = COUNT * 2;
const CHUNK_ELEMENTS = 1 << 20;
const RTOL = 1e-9;

/** float16 in [1, 2): exponent 0, ten random mantissa bits from a hash of the index. */
function mantissa(index: number): number {
  let h = Math.imul(index ^ (index >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  return (h ^ (h >>> 15)) & 0x3ff;
}

const header = npyHeaderFor('float16', [ROWS, COLS]);

async function startServer(): Promise<{ child: ChildProcess; port: number }> {
  const server = fileURLToPath(new URL('../dist/server.js', import.meta.url));
  const child = spawn(process.execPath, [server], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not start within 30 s')), 30_000);
    child.once('exit', (code) => reject(new Error(`the server exited with code ${code}`)));
    lines.on('line', (line) => {
      const match = /"msg":"Server listening at http:\/\/127\.0\.0\.1:(\d+)"/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
  });
  lines.on('line', () => {});
  return { child, port };
}

function request(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string | number> = {},
  body?: (req: http.ClientRequest) => Promise<void>,
): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    if (body) body(req).then(() => req.end(), reject);
    else req.end();
  });
}

async function streamDataset(req: http.ClientRequest): Promise<void> {
  const write = (chunk: Buffer) =>
    new Promise<void>((resolve) => {
      if (req.write(chunk)) resolve();
      else req.once('drain', resolve);
    });
  await write(header);
  for (let start = 0; start < COUNT; start += CHUNK_ELEMENTS) {
    const n = Math.min(CHUNK_ELEMENTS, COUNT - start);
    const values = new Uint16Array(n);
    for (let i = 0; i < n; i++) values[i] = 0x3c00 | mantissa(start + i);
    await write(Buffer.from(values.buffer));
  }
}

/** The serial reference: Kahan-compensated mean of every (i+1)-th value, computed from the index. */
function serialStridedMean(row: number): number {
  const step = row + 1;
  let sum = 0;
  let carry = 0;
  let n = 0;
  for (let e = 0; e < COUNT; e += step) {
    const y = 1 + mantissa(e) / 1024 - carry;
    const t = sum + y;
    carry = t - sum - y;
    sum = t;
    n++;
  }
  return sum / n;
}

function peakRssBytes(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : Number.NaN;
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/** Runs a job, waiting for it, and fetches its JSON result. */
async function runJob(
  port: number,
  datasetId: string,
  body: object,
): Promise<{ seconds: number; result: { data: number[] } }> {
  const t = performance.now();
  const submitted = await request(
    port,
    'POST',
    `/v1/datasets/${datasetId}/jobs?wait=60`,
    { 'content-type': 'application/json' },
    async (req) => {
      req.write(JSON.stringify(body));
    },
  );
  const job = JSON.parse(submitted.body.toString());
  const seconds = (performance.now() - t) / 1000;
  if (job.status !== 'succeeded')
    throw new Error(`job ended ${job.status}: ${JSON.stringify(job.error ?? job)}`);
  const result = JSON.parse((await request(port, 'GET', `/v1/jobs/${job.id}/result`)).body.toString());
  return { seconds, result };
}

async function main(): Promise<number> {
  console.log(
    `rowpool demo: strided_mean over a ${ROWS} x ${COLS.toLocaleString('en')} float16 dataset (${mb(BYTES)})`,
  );
  const { child, port } = await startServer();
  try {
    const idle = peakRssBytes(child.pid!);
    let t = performance.now();
    const upload = await request(
      port,
      'POST',
      '/v1/datasets?name=demo',
      { 'content-type': 'application/x-npy', 'content-length': header.length + BYTES },
      streamDataset,
    );
    const uploadSeconds = (performance.now() - t) / 1000;
    if (upload.status !== 201) throw new Error(`upload failed: ${upload.status} ${upload.body}`);
    const dataset = JSON.parse(upload.body.toString());
    console.log(
      `upload      ${uploadSeconds.toFixed(2)} s  (${mb(BYTES / uploadSeconds)}/s, generated on the fly)`,
    );

    const strided = await runJob(port, dataset.id, { op: 'strided_mean' });
    console.log(`job         ${strided.seconds.toFixed(2)} s  strided_mean on the server's pool`);
    const recipe = await runJob(port, dataset.id, {
      op: 'expr',
      params: { expr: 'dataset.ravel()[::i+1].mean()' },
    });
    console.log(
      `expression  ${recipe.seconds.toFixed(2)} s  "dataset.ravel()[::i+1].mean()", the recipe's own line`,
    );
    const result = strided.result;

    t = performance.now();
    const expected = Array.from({ length: ROWS }, (_, row) => serialStridedMean(row));
    const serialSeconds = (performance.now() - t) / 1000;
    console.log(
      `serial      ${serialSeconds.toFixed(2)} s  (the same computation, one thread, in this process)`,
    );

    const bad = expected.flatMap((e, i) => {
      const a = result.data[i];
      return typeof a === 'number' && Math.abs(a - e) <= RTOL * Math.abs(e) ? [] : [`row ${i}: ${a} != ${e}`];
    });
    const peak = peakRssBytes(child.pid!);
    console.log(`memory      server peak RSS ${mb(peak)} for a ${mb(BYTES)} dataset (idle ${mb(idle)})`);
    const unequal = result.data.filter((v: number, i: number) => recipe.result.data[i] !== v).length;
    if (unequal > 0) {
      console.log(`FAILED: the expression and strided_mean disagree on ${unequal} of ${ROWS} rows`);
      return 1;
    }
    if (bad.length > 0 || result.data.length !== ROWS) {
      console.log(
        `FAILED: ${bad.length} of ${ROWS} values disagree beyond rtol ${RTOL}\n${bad.slice(0, 5).join('\n')}`,
      );
      return 1;
    }
    console.log(
      `ok          all ${ROWS} values agree with the serial computation to rtol ${RTOL}, and the expression gives the same bits`,
    );
    return 0;
  } finally {
    child.kill('SIGTERM');
  }
}

process.exitCode = await main();
