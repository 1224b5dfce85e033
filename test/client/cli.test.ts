import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Dataset, type Job, RowpoolClient, readNpy } from '../../src/client/index.js';
import { ensureBuilt } from '../helpers/build.js';
import { bytesOf, npyFile } from '../helpers/npy.js';
import { until } from '../helpers/wait.js';
import { matrix, median, perRow, startServer, stopServer, sum, type TestServer } from './server.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const bin = join(root, pkg.bin.rowpool);

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the compiled CLI as a child process, asynchronously so the in-process server keeps serving. */
function rowpool(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { env: { PATH: process.env.PATH, ...env }, timeout: 20_000 },
      (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr });
      },
    );
  });
}

/** Newest modification time under a directory, in ms. */

const ROWS = 12;
const COLS = 4;
const data = matrix(ROWS, COLS, 11);

let server: TestServer;
let url: string;
let client: RowpoolClient;
let dir: string;
let dataset: Dataset;

beforeAll(async () => {
  await ensureBuilt(bin);
  server = await startServer();
  url = server.url;
  client = new RowpoolClient({ url });
  dir = await mkdtemp(join(tmpdir(), 'rowpool-cli-'));
  await writeFile(join(dir, 'data.npy'), npyFile('<f8', [ROWS, COLS], bytesOf(data)));
}, 180_000);

afterAll(async () => {
  await stopServer(server);
  await rm(dir, { recursive: true, force: true });
});

describe('the package', () => {
  test('bin rowpool is the compiled CLI with a node shebang', async () => {
    expect(pkg.bin).toEqual({ rowpool: 'dist/cli/index.js' });
    expect((await readFile(bin, 'utf8')).split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  test("'rowpool/client' resolves to the compiled client and its declarations", async () => {
    expect(pkg.exports['./client']).toEqual({
      types: './dist/client/index.d.ts',
      default: './dist/client/index.js',
    });
    await stat(join(root, 'dist/client/index.d.ts'));
    const run = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          "const m = await import('rowpool/client'); console.log(typeof m.RowpoolClient)",
        ],
        { cwd: root, timeout: 10_000 },
        (error, stdout) => (error === null ? resolve(stdout) : reject(error)),
      );
    });
    expect(run).toBe('function\n');
  });
});

describe('rowpool', () => {
  test('--help lists the commands', async () => {
    const { code, stdout } = await rowpool(['--help']);
    expect(code).toBe(0);
    for (const command of ['upload', 'datasets', 'run', 'wait', 'result', 'jobs', 'cancel', 'delete']) {
      expect(stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    }
  });

  test('upload prints the dataset; datasets lists it', async () => {
    const up = await rowpool(['--url', url, 'upload', join(dir, 'data.npy'), '--name', 'cli-data']);
    expect(up).toMatchObject({ code: 0, stderr: '' });
    dataset = JSON.parse(up.stdout);
    expect(dataset).toMatchObject({ name: 'cli-data', dtype: 'float64', shape: [ROWS, COLS] });
    expect(await client.download(dataset.id, { parse: true })).toMatchObject({ data });

    const listed = await rowpool(['datasets', '--json', '--name', 'cli-data'], { ROWPOOL_URL: url });
    expect(JSON.parse(listed.stdout)).toEqual([dataset]);
    const table = await rowpool(['datasets'], { ROWPOOL_URL: url });
    expect(table.stdout.split('\n')[0]).toBe('id\tname\tdtype\tshape\tbytes\tcreated');
    expect(table.stdout).toContain(`${dataset.id}\tcli-data\tfloat64\t${ROWS}x${COLS}\t${ROWS * COLS * 8}\t`);
  });

  test('run --wait follows a running job to its end; result -o writes the server bytes', async () => {
    server.gate.close();
    const running = rowpool(['--url', url, 'run', dataset.id, 'median', '--wait']);
    await until(
      () => client.jobs({ datasetId: dataset.id, op: 'median', status: 'running' }),
      (page) => page.jobs.length > 0,
    );
    server.gate.release(1_000_000);
    const run = await running;
    expect(run.code).toBe(0);
    const job: Job = JSON.parse(run.stdout);
    expect(job).toMatchObject({ op: 'median', status: 'succeeded', progress: { rowsDone: ROWS } });

    const out = join(dir, 'median.npy');
    expect(await rowpool(['--url', url, 'result', job.id, '-o', out])).toMatchObject({ code: 0 });
    const written = await readFile(out);
    expect(Buffer.compare(written, await client.resultBytes(job.id, 'npy'))).toBe(0);
    expect(readNpy(written).data).toEqual(Float64Array.from(perRow(data, COLS, median)));
  });

  test('run with a vector file and a row range; the result as CSV by its file name', async () => {
    const vector = Float32Array.of(1, -2, 0.5, 3);
    await writeFile(join(dir, 'v.npy'), npyFile('<f4', [COLS], bytesOf(vector)));
    const run = await rowpool([
      '--url',
      url,
      'run',
      dataset.id,
      'dot',
      '--vector-file',
      join(dir, 'v.npy'),
      '--rows',
      '2:8',
      '--wait',
    ]);
    expect(run.code).toBe(0);
    const job: Job = JSON.parse(run.stdout);
    expect(job).toMatchObject({ rows: { start: 2, end: 8 }, params: { vector: [1, -2, 0.5, 3] } });
    const out = join(dir, 'dot.csv');
    expect(await rowpool(['--url', url, 'result', job.id, '-o', out])).toMatchObject({ code: 0 });
    const expected = perRow(data, COLS, (row) => row.reduce((acc, x, i) => acc + x * vector[i], 0)).slice(
      2,
      8,
    );
    expect((await readFile(out, 'utf8')).trim().split('\n').map(Number)).toEqual(expected);
  });

  test('run with --param, --top and --no-largest; jobs lists them', async () => {
    const run = await rowpool([
      '--url',
      url,
      'run',
      dataset.id,
      'sum',
      '--top',
      '3',
      '--no-largest',
      '--wait',
    ]);
    const job: Job = JSON.parse(run.stdout);
    expect(job).toMatchObject({ status: 'succeeded', top: { k: 3, largest: false } });
    const result = await rowpool(['--url', url, 'result', job.id, '--format', 'json']);
    const sums = perRow(data, COLS, sum);
    const order = sums.map((_, i) => i).sort((a, b) => sums[a] - sums[b] || a - b);
    expect(JSON.parse(result.stdout)).toEqual({
      jobId: job.id,
      indices: order.slice(0, 3),
      values: order.slice(0, 3).map((i) => sums[i]),
    });

    const std = JSON.parse(
      (await rowpool(['--url', url, 'run', dataset.id, 'std', '--param', 'ddof=1'])).stdout,
    );
    expect(std.params).toEqual({ ddof: 1 });

    const jobs = await rowpool(['--url', url, 'jobs', '--dataset', dataset.id, '--json']);
    expect(JSON.parse(jobs.stdout).jobs.map((j: Job) => j.op)).toEqual(['std', 'sum', 'dot', 'median']);
    const table = await rowpool(['--url', url, 'jobs', '--dataset', dataset.id, '--limit', '1']);
    expect(table.stdout.split('\n').slice(1, 2)[0]).toMatch(new RegExp(`^${std.id}\t${dataset.id}\tstd\t`));
    expect(table.stderr).toMatch(/^more: --cursor \S+\n$/);
  });

  test("a refused request exits 1 with the server's message on stderr", async () => {
    const vector = await rowpool(['--url', url, 'run', dataset.id, 'dot', '--vector', '1,2']);
    expect(vector).toMatchObject({
      code: 1,
      stdout: '',
      stderr: `rowpool: params.vector has 2 numbers but the dataset's rows have ${COLS}\n`,
    });
    const missing = await rowpool(['--url', url, 'delete', 'dataset', 'nope']);
    expect(missing).toMatchObject({ code: 1, stderr: 'rowpool: dataset nope not found\n' });
    const usage = await rowpool(['--url', url, 'run', dataset.id]);
    expect(usage.code).toBe(1);
    expect(usage.stderr).toContain("error: missing required argument 'op'");
    const rows = await rowpool(['--url', url, 'run', dataset.id, 'sum', '--rows', 'x']);
    expect(rows).toMatchObject({
      code: 1,
      stderr: "rowpool: --rows takes start:end (either may be left out), not 'x'\n",
    });
  });

  test('delete removes a job and a dataset', async () => {
    const { jobs } = await client.jobs({ datasetId: dataset.id, op: 'std' });
    expect(await rowpool(['--url', url, 'delete', 'job', jobs[0].id])).toMatchObject({ code: 0, stdout: '' });
    expect(await rowpool(['--url', url, 'delete', 'dataset', dataset.id])).toMatchObject({ code: 0 });
    expect(JSON.parse((await rowpool(['--url', url, 'datasets', '--json'])).stdout)).toEqual([]);
  });
});

describe('rowpool against a server with a token', () => {
  let guarded: TestServer;
  beforeAll(async () => {
    guarded = await startServer({ apiToken: 'sesame', threads: 1 });
  });
  afterAll(() => stopServer(guarded));

  test('--token or ROWPOOL_API_TOKEN is sent; without it the 401 message', async () => {
    expect(await rowpool(['--url', guarded.url, 'datasets', '--json'])).toMatchObject({
      code: 1,
      stderr: 'rowpool: missing or invalid bearer token\n',
    });
    expect(await rowpool(['--url', guarded.url, '--token', 'sesame', 'datasets', '--json'])).toMatchObject({
      code: 0,
      stdout: '[]\n',
    });
    const env = { ROWPOOL_URL: guarded.url, ROWPOOL_API_TOKEN: 'sesame' };
    expect(await rowpool(['datasets', '--json'], env)).toMatchObject({ code: 0, stdout: '[]\n' });
  });
});
