/**
 * The `expr` op against NumPy, run by `npm run bench` after bench/index.ts: each expression as a job
 * over HTTP on the compiled service, beside NumPy evaluating the same computation over axis 1 as a
 * user writes it, on the same arrays (NumPy makes them with a fixed seed and saves them as .npy; those
 * files are what the service is sent). Runs are interleaved rep by rep, as the machine is shared and
 * noisy, and reported as best and median. Rowpool's values are checked against NumPy's on a sample of
 * rows. Appends the section "Expressions" to bench/results.md. Everything listens on 127.0.0.1 only.
 */
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { JobView } from '../src/routes/job-view.js';
import { Client } from './client.js';
import { benchConfig } from './config.js';
import { loadApp } from './dist.js';
import { type ArrayName, NumpyExpressions } from './expr-numpy.js';
import { best, median, ms, table, writeSection } from './report.js';

const GiB = 2 ** 30;
const THREADS = os.availableParallelism();
const ROWS = 100_000;
const COLS = 1000;
const RECIPE_ROWS = 100;
const RECIPE_COLS = 1_000_000;
const SEED = 0;
const REPS = 3;
const RTOL = 1e-9;
const DTYPES = ['float64', 'float32'] as const;
const SAMPLE = [0, 1, 2, 999, 31_415, 50_000, 77_777, ROWS - 2, ROWS - 1];
const RECIPE_SAMPLE = [0, 1, 2, 9, 36, 63, RECIPE_ROWS - 2, RECIPE_ROWS - 1];
const FUSED_TARGET = 1.5;
const SAME_AS_OP_TARGET = 1.1;
const JOB_WAIT_SECONDS = 60;
const DEADLINE_MS = 20 * 60_000;

interface Case {
  readonly name: string;
  readonly expr: string;
  /** The same computation as a NumPy user writes it for the whole array `x`, over axis 1. */
  readonly numpy: string;
  /** Elementwise work fused into a reduction: held to FUSED_TARGET × NumPy's speed. */
  readonly fused: boolean;
}

const CASES: readonly Case[] = [
  {
    name: 'where',
    expr: 'sum(where(x > 0, x*x, 0))',
    numpy: 'np.where(x > 0, x*x, 0).sum(axis=1)',
    fused: true,
  },
  {
    name: 'rms',
    expr: 'sqrt(mean((x - mean(x))**2))',
    numpy: 'np.sqrt(((x - x.mean(1, keepdims=True))**2).mean(1))',
    fused: true,
  },
  {
    name: 'diff',
    expr: 'max(abs(diff(x)))',
    numpy: 'np.abs(np.diff(x, axis=1)).max(1)',
    fused: true,
  },
  {
    name: 'count',
    expr: 'count_nonzero((x > 1) & (x < 2))',
    numpy: 'np.count_nonzero((x > 1) & (x < 2), axis=1)',
    fused: true,
  },
  { name: 'sum', expr: 'sum(x)', numpy: 'x.sum(1)', fused: false },
];
const RECIPE_EXPR = 'dataset.ravel()[::i+1].mean()';
const RECIPE_NUMPY = '[x.ravel()[::i+1].mean() for i in range(100)]';

const log = (text: string): void => {
  process.stdout.write(`${text}\n`);
};

const dir = mkdtempSync(path.join(os.tmpdir(), 'rowpool-expr-bench-'));
let numpy: NumpyExpressions | undefined;

const deadline = setTimeout(() => {
  process.stderr.write(`bench/expr: still running after ${DEADLINE_MS / 60_000} minutes; giving up\n`);
  numpy?.close();
  rmSync(dir, { recursive: true, force: true });
  process.exit(1);
}, DEADLINE_MS);
deadline.unref();

async function startServer(): Promise<{ close: () => Promise<void>; port: number }> {
  const { buildApp } = await loadApp();
  const config = await benchConfig({ memoryLimit: 8 * GiB, threads: THREADS, maxRunningJobs: THREADS });
  const app = await buildApp(config, { logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  await app.rowpool.start();
  return { close: () => app.close(), port: (app.server.address() as AddressInfo).port };
}

/** Streams the .npy file NumPy saved, as `curl -T` would; answers the dataset's id. */
async function uploadFile(port: number, file: string, name: string): Promise<string> {
  const req = http.request({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path: `/v1/datasets?name=${name}`,
    headers: { 'content-type': 'application/x-npy', 'content-length': statSync(file).size },
  });
  req.setTimeout(300_000, () => req.destroy(new Error(`upload of ${file} timed out`)));
  const response = new Promise<http.IncomingMessage>((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', reject);
  });
  await pipeline(createReadStream(file), req);
  const res = await response;
  const parts: Buffer[] = [];
  for await (const part of res) parts.push(part as Buffer);
  const body = Buffer.concat(parts).toString('utf8');
  if (res.statusCode !== 201) throw new Error(`upload of ${file}: ${res.statusCode} ${body}`);
  return (JSON.parse(body) as { id: string }).id;
}

/** One timed series: rowpool's job or NumPy's evaluation, seconds per measured rep. */
class Series {
  readonly runs: number[] = [];
  get best(): number {
    return best(this.runs);
  }
  get median(): number {
    return median(this.runs);
  }
}

async function main(): Promise<void> {
  const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${THREADS} cores, ${(os.totalmem() / GiB).toFixed(0)} GiB, Node ${process.version}`;
  const loadAtStart = os.loadavg()[0];
  log(`machine: ${machine}; load average ${loadAtStart.toFixed(2)}`);

  const started = await NumpyExpressions.start({
    dir,
    seed: SEED,
    rows: ROWS,
    cols: COLS,
    recipeRows: RECIPE_ROWS,
    recipeCols: RECIPE_COLS,
    cases: Object.fromEntries(CASES.map((c) => [c.name, c.numpy])),
    sample: SAMPLE,
    recipeSample: RECIPE_SAMPLE,
  });
  if (typeof started === 'string')
    throw new Error(`the expression benchmark compares with NumPy: ${started}`);
  numpy = started;
  const { version, files, expected } = numpy.ready;
  log(`numpy ${version}: arrays saved in ${dir}`);

  const server = await startServer();
  const client = new Client(server.port);
  const ids = new Map<ArrayName, string>();
  for (const name of [...DTYPES, 'recipe'] as const) {
    ids.set(name, await uploadFile(server.port, files[name], name));
    // The service holds its own copy now; the disk need not.
    rmSync(files[name]);
  }
  log('uploaded the .npy files NumPy saved');

  const jobIds: string[] = [];
  /** Runs `body` on dataset `array` over HTTP; on `check`, compares the sample rows with `want`. */
  async function job(array: ArrayName, body: string, check?: { rows: number[]; want: number[] }) {
    const reply = await client.expect<JobView>(
      200,
      'POST',
      `/v1/datasets/${ids.get(array)}/jobs?wait=${JOB_WAIT_SECONDS}`,
      body,
    );
    const view = reply.body;
    if (view.status !== 'succeeded') throw new Error(`${body} ended ${view.status}: ${view.error?.message}`);
    // Deleted after the runs: deleting one collects garbage in every thread, which would overlap the next run.
    jobIds.push(view.id);
    if (check !== undefined) {
      const result = await client.expect<{ data: number[] }>(200, 'GET', `/v1/jobs/${view.id}/result`);
      check.rows.forEach((row, k) => {
        const got = result.body.data[row];
        const want = check.want[k];
        if (!(Math.abs(got - want) <= RTOL * Math.abs(want))) {
          throw new Error(`${body} on ${array}, row ${row}: rowpool ${got}, NumPy ${want}`);
        }
      });
    }
    return reply.seconds;
  }

  const body = (expr: string) => JSON.stringify({ op: 'expr', params: { expr } });
  const rowpool = new Map<string, Series>();
  const reference = new Map<string, Series>();
  const series = (map: Map<string, Series>, key: string) => {
    if (!map.has(key)) map.set(key, new Series());
    return map.get(key)!;
  };

  for (let rep = -1; rep < REPS; rep++) {
    const warmup = rep < 0;
    const record = (s: Series, seconds: number) => {
      if (!warmup) s.runs.push(seconds);
    };
    for (const dtype of DTYPES) {
      for (const c of CASES) {
        const check = warmup ? { rows: SAMPLE, want: expected[dtype][c.name] } : undefined;
        record(series(rowpool, `${dtype} ${c.name}`), await job(dtype, body(c.expr), check));
        record(series(reference, `${dtype} ${c.name}`), await numpy.time(c.name, dtype));
      }
      const sumCheck = warmup ? { rows: SAMPLE, want: expected[dtype].sum } : undefined;
      record(series(rowpool, `${dtype} sum op`), await job(dtype, JSON.stringify({ op: 'sum' }), sumCheck));
    }
    const recipeCheck = warmup ? { rows: RECIPE_SAMPLE, want: expected.recipe } : undefined;
    record(series(rowpool, 'recipe expr'), await job('recipe', body(RECIPE_EXPR), recipeCheck));
    record(
      series(rowpool, 'recipe op'),
      await job('recipe', JSON.stringify({ op: 'strided_mean' }), recipeCheck),
    );
    record(series(reference, 'recipe'), await numpy.time('recipe', 'recipe'));
    log(
      warmup ? `warmed up; every value checked against NumPy to rtol ${RTOL}` : `rep ${rep + 1}/${REPS} done`,
    );
  }
  for (const id of jobIds) await client.expect(204, 'DELETE', `/v1/jobs/${id}`);
  client.close();
  await server.close();

  const cell = (s: Series) => `${ms(s.best)} (${ms(s.median)})`;
  const ratio = (numer: Series, denom: Series) => (numer.best / denom.best).toFixed(2);
  const rows: string[][] = [];
  for (const dtype of DTYPES) {
    for (const c of CASES) {
      const mine = rowpool.get(`${dtype} ${c.name}`)!;
      const theirs = reference.get(`${dtype} ${c.name}`)!;
      const speed = theirs.best / mine.best;
      rows.push([
        dtype,
        `\`${c.expr}\``,
        cell(mine),
        `\`${c.numpy}\``,
        cell(theirs),
        `${speed.toFixed(2)}×`,
        c.fused ? `≥ ${FUSED_TARGET}× NumPy: ${speed >= FUSED_TARGET ? 'met' : '**missed**'}` : '—',
      ]);
    }
    const expr = rowpool.get(`${dtype} sum`)!;
    const op = rowpool.get(`${dtype} sum op`)!;
    rows.push([
      dtype,
      'built-in `sum` op',
      cell(op),
      '—',
      '—',
      `\`sum(x)\` / op: ${ratio(expr, op)}`,
      `\`sum(x)\` ≤ ${SAME_AS_OP_TARGET}× op: ${expr.best <= SAME_AS_OP_TARGET * op.best ? 'met' : '**missed**'}`,
    ]);
  }
  const recipeExpr = rowpool.get('recipe expr')!;
  const recipeOp = rowpool.get('recipe op')!;
  const recipeNumpy = reference.get('recipe')!;
  rows.push([
    'float16, 100 × 1,000,000',
    `\`${RECIPE_EXPR}\``,
    cell(recipeExpr),
    `\`${RECIPE_NUMPY}\``,
    cell(recipeNumpy),
    `${(recipeNumpy.best / recipeExpr.best).toFixed(2)}×`,
    `≤ ${SAME_AS_OP_TARGET}× strided_mean: ${ratio(recipeExpr, recipeOp)}, ` +
      (recipeExpr.best <= SAME_AS_OP_TARGET * recipeOp.best ? 'met' : '**missed**'),
  ]);
  rows.push(['float16, 100 × 1,000,000', 'built-in `strided_mean` op', cell(recipeOp), '—', '—', '—', '—']);

  const section = [
    '## Expressions',
    '',
    `Machine: ${machine}, shared with other work and noisy; figures from one run of \`bench/expr.ts\` ` +
      `(${new Date().toISOString().slice(0, 10)}), 1-minute load average ${loadAtStart.toFixed(2)} at the ` +
      `start, ${os.loadavg()[0].toFixed(2)} at the end. NumPy ${version} in a child process ` +
      '(OpenBLAS with its own defaults).',
    '',
    `Each \`expr\` job runs on ${ROWS} × ${COLS} arrays that NumPy made (\`standard_normal\` × 1.5, seed ` +
      `${SEED}, and its float32 cast) and saved as .npy, the files uploaded as they are; the recipe's ` +
      'array is `default_rng(0).standard_normal((100, 1_000_000)).astype(np.float16)`. rowpool times ' +
      `\`POST /v1/datasets/{id}/jobs?wait=${JOB_WAIT_SECONDS}\` until the finished job is read, on a pool ` +
      `of ${THREADS} threads; NumPy times the expression on the whole array in its own dtype, as a user ` +
      `writes it. ${REPS} runs each after a warm-up, interleaved; best (median). Ratio = NumPy's best / ` +
      `rowpool's best. In the warm-up run every job's values on ${SAMPLE.length} sample rows ` +
      `(${RECIPE_SAMPLE.length} for the recipe) equal NumPy's on those rows as float64 to rtol ${RTOL}.`,
    '',
    table(['array', 'rowpool', 'rowpool ms', 'NumPy', 'NumPy ms', 'ratio', 'target'], rows),
    '',
  ].join('\n');
  log(`\n${section}`);
  writeSection(section);
}

try {
  await main();
} finally {
  numpy?.close();
  rmSync(dir, { recursive: true, force: true });
}
