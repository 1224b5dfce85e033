/**
 * WebAssembly kernels, the last part of `npm run bench` (alone: `npm run bench:kernels`), on the
 * compiled service in this process, listening on 127.0.0.1 only. Two measurements:
 *
 * 1. Speed: the AssemblyScript row sum of examples/kernels/row-sum.ts, built from source as
 *    `npm run kernels` builds it, as an `op: kernel` job over HTTP beside the built-in `sum` op on the
 *    same datasets, runs interleaved, best and median. The kernel's values must equal the op's on
 *    sample rows to RTOL: the data are positive, so a relative tolerance means what it says.
 * 2. Recovery: a kernel that loops forever is stopped at its timeoutMs, which terminates the pool
 *    thread running it; how long until the pool has its full width again. "Ready" is Piscina's own
 *    signal that the replacement thread has loaded the worker module and may take tasks; a 2-thread
 *    `sum` job sent the moment the failure is seen shows what a client gets, beside its baseline.
 *
 * Appends (or replaces) the section "WebAssembly kernels" of bench/results.md.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import type { Worker } from 'node:worker_threads';
import { assembleWat, buildExample } from '../scripts/kernels.js';
import type { JobView } from '../src/routes/job-view.js';
import { Client, streamUpload } from './client.js';
import { benchConfig } from './config.js';
import { chunk, npyHeader } from './data.js';
import { loadApp } from './dist.js';
import { best, median, ms, table, writeSection } from './report.js';

const GiB = 2 ** 30;
const THREADS = os.availableParallelism();
const SHAPES = [
  { rows: 100_000, cols: 1000 },
  { rows: 1024, cols: 131_072 },
] as const;
const REPS = 5;
const RTOL = 1e-12;
const TARGET = 2;
const SAMPLE_FRACTIONS = [0, 0.001, 0.25, 0.5, 0.777, 1];
const JOB_WAIT_SECONDS = 60;
const SPIN_TIMEOUT_MS = 300;
const RECOVERY_TRIALS = 3;
const RECOVERY_TARGET_MS = 1000;
const DEADLINE_MS = 10 * 60_000;
/** Piscina's message from a new thread once its worker module has loaded (piscina/dist/common.js). */
const PISCINA_READY = '_WORKER_READY';

/**
 * A v1 kernel whose rowpool_rows never returns: the runaway code the timeout is there for. Every
 * buffer it hands out is the same 1 MiB at 1024, which its 17 pages hold; it never reads them.
 */
const SPINNER_WAT = `(module
  (import "env" "memory" (memory 17))
  (global (export "rowpool_abi") i32 (i32.const 1))
  (func (export "rowpool_alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "rowpool_rows") (param i32 i32 i32 i32 i32 i32 i32) (result i32)
    (loop $forever (br $forever))
    (i32.const 0)))`;

const log = (text: string): void => {
  process.stdout.write(`${text}\n`);
};

const deadline = setTimeout(() => {
  process.stderr.write(`bench/kernels: still running after ${DEADLINE_MS / 60_000} minutes; giving up\n`);
  process.exit(1);
}, DEADLINE_MS);
deadline.unref();

type Shape = (typeof SHAPES)[number];
const label = (shape: Shape) => `${shape.rows} × ${shape.cols}`;

async function uploadKernel(port: number, name: string, bytes: Uint8Array): Promise<string> {
  const body = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: `/v1/kernels?name=${name}`,
        headers: { 'content-type': 'application/wasm', 'content-length': bytes.byteLength },
      },
      async (res) => {
        const parts: Buffer[] = [];
        for await (const part of res) parts.push(part as Buffer);
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString('utf8') });
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error(`upload of kernel ${name} timed out`)));
    req.on('error', reject);
    req.end(bytes);
  });
  if (body.status !== 201) throw new Error(`kernel ${name}: ${body.status} ${body.text}`);
  return (JSON.parse(body.text) as { id: string }).id;
}

async function uploadDataset(
  port: number,
  name: string,
  shape: { rows: number; cols: number },
): Promise<string> {
  const reply = await streamUpload<{ id: string }>(
    port,
    `/v1/datasets?name=${name}`,
    'application/x-npy',
    npyHeader([shape.rows, shape.cols]),
    shape.rows * shape.cols * 8,
    chunk,
  );
  if (reply.status !== 201)
    throw new Error(`upload of ${name}: ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body.id;
}

/** When each pool thread created from now on was created and became ready (Date.now() ms). */
class ThreadWatch {
  readonly created: number[] = [];
  readonly ready: number[] = [];
  readonly #onWorker = (worker: Worker) => {
    this.created.push(Date.now());
    worker.on('message', (message: unknown) => {
      if (typeof message === 'object' && message !== null && PISCINA_READY in message) {
        this.ready.push(Date.now());
      }
    });
  };
  constructor() {
    process.on('worker', this.#onWorker);
  }
  stop(): void {
    process.off('worker', this.#onWorker);
  }
}

async function main(): Promise<void> {
  const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${THREADS} cores, ${(os.totalmem() / GiB).toFixed(0)} GiB, Node ${process.version}`;
  const loadAtStart = os.loadavg()[0];
  log(`machine: ${machine}; load average ${loadAtStart.toFixed(2)}`);

  const rowSum = await buildExample('row-sum.ts');
  const spinner = await assembleWat(SPINNER_WAT, 'spinner.wat');

  const { buildApp } = await loadApp();
  const config = await benchConfig({ memoryLimit: 8 * GiB, threads: THREADS, maxRunningJobs: THREADS });
  const app = await buildApp(config, { logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  await app.rowpool.start();
  const { port } = app.server.address() as AddressInfo;
  const client = new Client(port);
  try {
    const kernelId = await uploadKernel(port, 'row-sum', rowSum);
    const spinnerId = await uploadKernel(port, 'spinner', spinner);
    const datasets = new Map<Shape, string>();
    for (const shape of SHAPES) datasets.set(shape, await uploadDataset(port, 'rows', shape));
    const tiny = await uploadDataset(port, 'tiny', { rows: 1, cols: 4 });
    log(`uploaded row-sum (${rowSum.byteLength} bytes) and ${SHAPES.map(label).join(', ')} float64`);

    const jobIds: string[] = [];
    const job = async (datasetId: string, body: string) => {
      const reply = await client.expect<JobView>(
        200,
        'POST',
        `/v1/datasets/${datasetId}/jobs?wait=${JOB_WAIT_SECONDS}`,
        body,
      );
      return reply;
    };
    /** Runs a job that must succeed; its id is kept to delete after the runs, not between them. */
    const timed = async (datasetId: string, body: string) => {
      const reply = await job(datasetId, body);
      if (reply.body.status !== 'succeeded') {
        throw new Error(`${body} ended ${reply.body.status}: ${reply.body.error?.message}`);
      }
      jobIds.push(reply.body.id);
      return { id: reply.body.id, seconds: reply.seconds };
    };
    const resultOf = async (id: string) =>
      (await client.expect<{ data: number[] }>(200, 'GET', `/v1/jobs/${id}/result`)).body.data;

    const sumBody = JSON.stringify({ op: 'sum' });
    const kernelBody = JSON.stringify({ op: 'kernel', params: { kernel: kernelId } });
    const runs = new Map<string, number[]>();
    const record = (key: string, seconds: number) => {
      if (!runs.has(key)) runs.set(key, []);
      runs.get(key)!.push(seconds);
    };

    // ---- Speed
    for (let rep = -1; rep < REPS; rep++) {
      for (const shape of SHAPES) {
        const id = datasets.get(shape)!;
        const op = await timed(id, sumBody);
        const kernel = await timed(id, kernelBody);
        if (rep < 0) {
          const [want, got] = [await resultOf(op.id), await resultOf(kernel.id)];
          for (const f of SAMPLE_FRACTIONS) {
            const row = Math.min(shape.rows - 1, Math.floor(f * shape.rows));
            if (!(Math.abs(got[row] - want[row]) <= RTOL * Math.abs(want[row]))) {
              throw new Error(`${label(shape)}, row ${row}: kernel ${got[row]}, sum op ${want[row]}`);
            }
          }
          continue;
        }
        record(`${label(shape)} op`, op.seconds);
        record(`${label(shape)} kernel`, kernel.seconds);
      }
      log(
        rep < 0 ? `warmed up; sample rows equal the sum op's to rtol ${RTOL}` : `rep ${rep + 1}/${REPS} done`,
      );
    }
    for (const id of jobIds.splice(0)) await client.expect(204, 'DELETE', `/v1/jobs/${id}`);

    // ---- Recovery after a runaway kernel
    const probeData = datasets.get(SHAPES[0])!;
    const baseline: number[] = [];
    for (let i = 0; i < 3; i++) baseline.push((await timed(probeData, sumBody)).seconds);
    const trials: { created: number; ready: number; probe: number }[] = [];
    const spinBody = JSON.stringify({
      op: 'kernel',
      params: { kernel: spinnerId, timeoutMs: SPIN_TIMEOUT_MS },
    });
    for (let t = 0; t < RECOVERY_TRIALS; t++) {
      const watch = new ThreadWatch();
      const failed = await job(tiny, spinBody);
      if (
        failed.body.status !== 'failed' ||
        !/ran longer than timeoutMs/.test(failed.body.error?.message ?? '')
      ) {
        throw new Error(
          `the runaway kernel's job ended ${failed.body.status}: ${failed.body.error?.message}`,
        );
      }
      const failedAt = Date.parse(failed.body.finishedAt!);
      const probe = await timed(probeData, sumBody);
      // A thread that has not become ready by now is given a moment more, and its absence reported.
      for (let wait = 0; watch.ready.length === 0 && wait < 50; wait++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      watch.stop();
      if (watch.created.length !== 1 || watch.ready.length !== 1) {
        throw new Error(
          `expected one new pool thread, saw ${watch.created.length} created, ${watch.ready.length} ready`,
        );
      }
      trials.push({
        created: watch.created[0] - failedAt,
        ready: watch.ready[0] - failedAt,
        probe: probe.seconds,
      });
      await client.expect(204, 'DELETE', `/v1/jobs/${failed.body.id}`);
      log(
        `runaway kernel stopped: new thread created ${trials[t].created} ms, ready ${trials[t].ready} ms after ` +
          `the job failed; the next 2-thread sum job took ${ms(probe.seconds)} (baseline ${ms(median(baseline))})`,
      );
    }
    for (const id of jobIds.splice(0)) await client.expect(204, 'DELETE', `/v1/jobs/${id}`);

    // ---- Report
    const cell = (values: number[]) => `${ms(best(values))} (${ms(median(values))})`;
    const speedRows = SHAPES.map((shape) => {
      const op = runs.get(`${label(shape)} op`)!;
      const kernel = runs.get(`${label(shape)} kernel`)!;
      const ratio = best(kernel) / best(op);
      const gb = (shape.rows * shape.cols * 8) / 1e9;
      return [
        `${label(shape)} float64 (${gb.toFixed(2)} GB)`,
        cell(op),
        cell(kernel),
        `${ratio.toFixed(2)}×`,
        `≤ ${TARGET}×: ${ratio <= TARGET ? 'met' : '**missed**'}`,
      ];
    });
    const readyMs = trials.map((t) => t.ready);
    const recoveryRows = trials.map((t, i) => [
      `${i + 1}`,
      `${t.created} ms`,
      `${t.ready} ms`,
      ms(t.probe),
      `${(t.probe / median(baseline)).toFixed(2)}×`,
    ]);
    const section = [
      '## WebAssembly kernels',
      '',
      `Machine: ${machine}, shared with other work and noisy; figures from one run of \`bench/kernels.ts\` ` +
        `(${new Date().toISOString().slice(0, 10)}), 1-minute load average ${loadAtStart.toFixed(2)} at the ` +
        `start, ${os.loadavg()[0].toFixed(2)} at the end. The compiled service (dist/), ${THREADS} pool threads.`,
      '',
      "Speed: examples/kernels/row-sum.ts (AssemblyScript, built with `npm run kernels`'s flags) as " +
        `\`{"op": "kernel"}\` jobs beside the built-in \`sum\` op, each \`POST /v1/datasets/{id}/jobs?wait=${JOB_WAIT_SECONDS}\` ` +
        `timed until the finished job is read, on float64 data in [0, 1) (bench/data.ts). ${REPS} runs each ` +
        "after a warm-up, interleaved; best (median). In the warm-up the kernel's values on " +
        `${SAMPLE_FRACTIONS.length} sample rows equal the op's to rtol ${RTOL}.`,
      '',
      table(['dataset', '`sum` op', 'row-sum kernel', 'kernel / op', 'target'], speedRows),
      '',
      `Recovery: a kernel whose \`rowpool_rows\` loops forever, run on a 1-row dataset with \`timeoutMs\` ` +
        `${SPIN_TIMEOUT_MS}, fails at the limit and its thread is terminated; Piscina starts a new one. ` +
        'Times from the job\'s `finishedAt` to the new thread being created and to its "ready" (worker ' +
        'module loaded, taking tasks); then the 2-thread `sum` job over ' +
        `${label(SHAPES[0])} sent as soon as the failure is read, against its baseline ` +
        `${ms(median(baseline))} (median of ${baseline.length} before). Target: back to full strength within ` +
        `${RECOVERY_TARGET_MS} ms: ${Math.max(...readyMs) <= RECOVERY_TARGET_MS ? 'met' : '**missed**'} ` +
        `(slowest ready ${Math.max(...readyMs)} ms).`,
      '',
      table(['trial', 'thread created', 'thread ready', 'next 2-thread job', 'vs baseline'], recoveryRows),
      '',
    ].join('\n');
    log(`\n${section}`);
    writeSection(section);
  } finally {
    client.close();
    await app.close();
  }
}

await main();
