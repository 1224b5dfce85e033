/**
 * rowpool's benchmark, run by `npm run bench` against the compiled service: ingest speed and memory,
 * job throughput beside the plainest parallel read of the same bytes, NumPy beside it, the cost of a
 * tiny job over HTTP, and how fast a deleted dataset's memory comes back. The machine this runs on is
 * shared and noisy, so every comparison is made from runs interleaved in one process, repeated, and
 * reported as best and median. Everything listens on 127.0.0.1 only.
 */
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../src/config.js';
import type { JobView } from '../src/jobs/engine.js';
import { Ceiling } from './ceiling.js';
import { Client, streamUpload } from './client.js';
import { chunk, npyHeader, rowSum, vector } from './data.js';
import { loadApp } from './dist.js';
import { collect, MiB, PeakSampler, rss, settledRss, waitForRss } from './memory.js';
import { NumpyReference } from './numpy.js';
import {
  best,
  GB,
  gbps,
  median,
  mib,
  ms,
  pct,
  percentile,
  type SummaryRow,
  summaryTable,
  table,
} from './report.js';

const GiB = 2 ** 30;
const THREADS = os.availableParallelism();
const BIG = { name: '1024×131072', rows: 1024, cols: 131_072 };
const MEDIUM = { name: '100000×1000', rows: 100_000, cols: 1000 };
const SMALL = { name: '1000×16', rows: 1000, cols: 16 };
const OPS = ['sum', 'dot', 'std'] as const;
const REPS = 5;
const OVERHEAD_WARMUP = 50;
const OVERHEAD_RUNS = 500;
/** A deleted dataset counts as released once RSS is within this share of its size of the baseline. */
const RELEASE_SLACK = 0.1;
const RELEASE_TIMEOUT_MS = 2000;
const DEADLINE_MS = 10 * 60_000;

type Shape = typeof BIG;
type Op = (typeof OPS)[number];
const bytesOf = (shape: Shape): number => shape.rows * shape.cols * 8;

const deadline = setTimeout(() => {
  process.stderr.write(`bench: still running after ${DEADLINE_MS / 60_000} minutes; giving up\n`);
  process.exit(1);
}, DEADLINE_MS);
deadline.unref();

const log = (text: string): void => {
  process.stdout.write(`${text}\n`);
};

interface Server {
  readonly app: FastifyInstance;
  readonly client: Client;
  readonly port: number;
  readonly threads: number;
}

async function startServer(threads: number): Promise<Server> {
  const { buildApp } = await loadApp();
  const config: Config = {
    host: '127.0.0.1',
    port: 0,
    logLevel: 'silent',
    memoryLimit: 8 * GiB,
    threads,
    shutdownGraceSeconds: 1,
    textBodyLimit: 64 * MiB,
    apiToken: undefined,
    metricsToken: undefined,
    preload: [],
  };
  const app = await buildApp(config, { logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  await app.rowpool.start();
  const { port } = app.server.address() as AddressInfo;
  return { app, client: new Client(port), port, threads };
}

async function upload(
  server: Server,
  shape: Shape,
  format: 'npy' | 'raw',
): Promise<{ id: string; seconds: number }> {
  const reply =
    format === 'npy'
      ? await streamUpload<{ id: string }>(
          server.port,
          `/v1/datasets?name=${format}`,
          'application/x-npy',
          npyHeader([shape.rows, shape.cols]),
          bytesOf(shape),
          chunk,
        )
      : await streamUpload<{ id: string }>(
          server.port,
          `/v1/datasets?name=${format}&dtype=float64&shape=${shape.rows},${shape.cols}`,
          'application/octet-stream',
          new Uint8Array(0),
          bytesOf(shape),
          chunk,
        );
  if (reply.status !== 201) throw new Error(`upload failed: ${reply.status} ${JSON.stringify(reply.body)}`);
  return { id: reply.body.id, seconds: reply.seconds };
}

/** Checks the first and last rows' sums against the data sent, so a fast but wrong ingest fails. */
async function verify(server: Server, id: string, shape: Shape): Promise<void> {
  for (const [start, end] of [
    [0, 8],
    [shape.rows - 2, shape.rows],
  ]) {
    const job = await server.client.expect<JobView>(200, 'POST', `/v1/datasets/${id}/jobs?wait=60`, {
      op: 'sum',
      rows: { start, end },
    });
    const result = await server.client.expect<{ data: number[] }>(
      200,
      'GET',
      `/v1/jobs/${job.body.id}/result`,
    );
    await server.client.expect(204, 'DELETE', `/v1/jobs/${job.body.id}`);
    for (let r = start; r < end; r++) {
      const expected = rowSum(r, shape.cols);
      const got = result.body.data[r - start];
      if (!(Math.abs(got - expected) <= 1e-9 * Math.abs(expected))) {
        throw new Error(`row ${r} of the ${shape.name} dataset sums to ${got}, expected ${expected}`);
      }
    }
  }
}

/** Makes `from`'s dataset a dataset of `to` as well: the same buffer, so both pools read the same bytes. */
function share(from: Server, to: Server, id: string): string {
  const dataset = from.app.rowpool.store.get(id);
  const reservation = to.app.rowpool.budget.reserve(dataset.bytes);
  const { dtype, shape, buffer, name } = dataset;
  return to.app.rowpool.store.add({ dtype, shape, buffer, reservation }, name).id;
}

interface IngestResult {
  readonly format: 'npy' | 'raw';
  readonly seconds: number;
  readonly idle: number;
  readonly peak: number;
  readonly afterUpload: number;
  readonly afterDelete: number;
  readonly releaseMs: number;
}

/** Uploads BIG in `format`; deletes it again unless `keep`, whose id is then returned. */
async function ingest(server: Server, format: 'npy' | 'raw', keep: boolean): Promise<[IngestResult, string]> {
  const size = bytesOf(BIG);
  const idle = await settledRss();
  const sampler = new PeakSampler();
  const { id, seconds } = await upload(server, BIG, format);
  const peak = sampler.stop();
  const afterUpload = rss();
  await verify(server, id, BIG);
  let afterDelete = Number.NaN;
  let releaseMs = Number.NaN;
  if (!keep) {
    const started = performance.now();
    await server.client.expect(204, 'DELETE', `/v1/datasets/${id}`);
    const released = await waitForRss(idle + RELEASE_SLACK * size, RELEASE_TIMEOUT_MS, started);
    afterDelete = released.rss;
    releaseMs = released.met ? released.ms : Number.NaN;
  }
  const result = { format, seconds, idle, peak, afterUpload, afterDelete, releaseMs };
  log(
    `ingest ${format}: ${gbps(size, seconds)}; RSS idle ${mib(idle)}, peak ${mib(peak)} ` +
      `(+${((peak - idle) / size).toFixed(3)} × size), after upload ${mib(afterUpload)}` +
      (keep ? '' : `, after DELETE ${mib(afterDelete)}`),
  );
  return [result, id];
}

interface JobTiming {
  /** Client-side: POST …/jobs?wait=60 until the finished job's JSON has been read. */
  readonly http: number;
  /** The job's own startedAt → finishedAt, to the millisecond. */
  readonly engine: number;
}

async function timeJob(server: Server, id: string, body: string, jobIds: string[]): Promise<JobTiming> {
  const reply = await server.client.expect<JobView>(200, 'POST', `/v1/datasets/${id}/jobs?wait=60`, body);
  const job = reply.body;
  if (job.status !== 'succeeded') throw new Error(`job ${job.id} ended ${job.status}: ${job.error?.message}`);
  // Deleted after the runs: deleting one collects garbage in every thread, which would overlap the next run.
  jobIds.push(job.id);
  return { http: reply.seconds, engine: (Date.parse(job.finishedAt!) - Date.parse(job.startedAt!)) / 1000 };
}

interface KernelCase {
  readonly shape: Shape;
  readonly op: Op;
  readonly threads: number;
  readonly runs: JobTiming[];
}

async function main(): Promise<void> {
  const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${THREADS} cores, ${(os.totalmem() / GiB).toFixed(0)} GiB, Node ${process.version}`;
  log(`machine: ${machine}`);
  const all = await startServer(THREADS);
  const one = await startServer(1);
  const servers = THREADS === 1 ? [one] : [one, all];
  const summary: SummaryRow[] = [];

  // Every pool thread compiles its kernels and the routes warm up before anything is timed.
  const small = await upload(all, SMALL, 'raw');
  const smallOne = share(all, one, small.id);
  for (const op of OPS) {
    const params = op === 'dot' ? { params: { vector: vector(SMALL.cols) } } : {};
    for (let i = 0; i < 4 * THREADS; i++) {
      await all.client.expect(200, 'POST', `/v1/datasets/${small.id}/jobs?wait=5`, { op, ...params });
      await one.client.expect(200, 'POST', `/v1/datasets/${smallOne}/jobs?wait=5`, { op, ...params });
    }
  }

  // 1. Ingest.
  const size = bytesOf(BIG);
  const [npy] = await ingest(all, 'npy', false);
  const [raw, bigId] = await ingest(all, 'raw', true);
  const medium = await upload(all, MEDIUM, 'raw');
  await verify(all, medium.id, MEDIUM);
  log(`ingest raw ${MEDIUM.name}: ${gbps(bytesOf(MEDIUM), medium.seconds)}`);
  for (const r of [npy, raw]) {
    summary.push({
      metric: `ingest ${r.format === 'npy' ? '.npy' : 'raw'} 1 GiB over HTTP`,
      value: gbps(size, r.seconds),
      target: '≥ 1 GB/s',
      met: size / r.seconds >= GB,
    });
    summary.push({
      metric: `ingest ${r.format === 'npy' ? '.npy' : 'raw'}: peak RSS`,
      value: `idle ${mib(r.idle)} + ${((r.peak - r.idle) / size).toFixed(3)} × size (${mib(r.peak)})`,
      target: '≤ idle + 1.1 × size',
      met: r.peak <= r.idle + 1.1 * size,
    });
  }
  summary.push({
    metric: 'ingest .npy: RSS after upload / after DELETE',
    value: `${mib(npy.afterUpload)} / ${mib(npy.afterDelete)}${Number.isNaN(npy.releaseMs) ? '' : ` (in ${npy.releaseMs.toFixed(0)} ms)`}`,
    target: `back within ${pct(RELEASE_SLACK)} of size of idle in 2 s`,
    met: !Number.isNaN(npy.releaseMs),
  });

  // 2-4. Kernels, the ceiling and NumPy, interleaved rep by rep.
  const ids = new Map<Server, Map<Shape, string>>([
    [
      all,
      new Map([
        [BIG, bigId],
        [MEDIUM, medium.id],
      ]),
    ],
    [
      one,
      new Map([
        [BIG, share(all, one, bigId)],
        [MEDIUM, share(all, one, medium.id)],
      ]),
    ],
  ]);
  const bodies = new Map<Shape, Map<Op, string>>(
    [BIG, MEDIUM].map((shape) => [
      shape,
      new Map(
        OPS.map((op) => [
          op,
          JSON.stringify(op === 'dot' ? { op, params: { vector: vector(shape.cols) } } : { op }),
        ]),
      ),
    ]),
  );
  const numpy = await NumpyReference.start(BIG.rows, BIG.cols);
  log(typeof numpy === 'string' ? numpy : `numpy ${numpy.version} ready`);
  const ceiling = new Ceiling(THREADS);
  const threadCounts = [...new Set([1, THREADS])];
  const ceilingRuns = new Map<Shape, Map<number, number[]>>(
    [BIG, MEDIUM].map((shape) => [shape, new Map(threadCounts.map((t) => [t, []]))]),
  );
  const cases: KernelCase[] = [];
  for (const shape of [BIG, MEDIUM]) {
    for (const op of OPS)
      for (const server of servers) cases.push({ shape, op, threads: server.threads, runs: [] });
  }
  const numpyRuns: number[] = [];
  const jobIds = new Map<Server, string[]>(servers.map((s) => [s, []]));
  const datasetBuffer = (shape: Shape) => all.app.rowpool.store.get(ids.get(all)!.get(shape)!).buffer;

  for (let rep = -1; rep < REPS; rep++) {
    const warmup = rep < 0;
    for (const shape of [BIG, MEDIUM]) {
      for (const threads of threadCounts) {
        for (let attempt = 0; ; attempt++) {
          const { seconds, parallel } = await ceiling.run(datasetBuffer(shape), threads);
          if (parallel) {
            if (!warmup) ceilingRuns.get(shape)!.get(threads)!.push(seconds);
            break;
          }
          if (attempt === 5) throw new Error(`the ceiling's ${threads} shares kept landing on one thread`);
        }
      }
      for (const c of cases.filter((k) => k.shape === shape)) {
        const server = c.threads === one.threads ? one : all;
        const timing = await timeJob(
          server,
          ids.get(server)!.get(shape)!,
          bodies.get(shape)!.get(c.op)!,
          jobIds.get(server)!,
        );
        if (!warmup) c.runs.push(timing);
      }
    }
    if (typeof numpy !== 'string') {
      const seconds = await numpy.sumRows();
      if (!warmup) numpyRuns.push(seconds);
    }
    log(warmup ? 'kernels: warmed up' : `kernels: rep ${rep + 1}/${REPS} done`);
  }
  await ceiling.close();
  if (typeof numpy !== 'string') numpy.close();
  for (const [server, list] of jobIds) {
    for (const id of list) await server.client.expect(204, 'DELETE', `/v1/jobs/${id}`);
  }

  const kernelRows: string[][] = [];
  for (const shape of [BIG, MEDIUM]) {
    const bytes = bytesOf(shape);
    for (const threads of threadCounts) {
      const runs = ceilingRuns.get(shape)!.get(threads)!;
      kernelRows.push([
        shape.name,
        'ceiling (flatSum)',
        String(threads),
        gbps(bytes, best(runs)),
        gbps(bytes, median(runs)),
        '—',
        '—',
      ]);
      summary.push({
        metric: `ceiling ${shape.name}, ${threads} thread${threads > 1 ? 's' : ''}`,
        value: `${gbps(bytes, best(runs))} (median ${gbps(bytes, median(runs))})`,
        target: '—',
        met: undefined,
      });
    }
    for (const c of cases.filter((k) => k.shape === shape)) {
      const http = c.runs.map((r) => r.http);
      const engine = c.runs.map((r) => r.engine);
      const ceilingBest = best(ceilingRuns.get(shape)!.get(c.threads)!);
      const ratio = ceilingBest / best(http);
      kernelRows.push([
        shape.name,
        c.op,
        String(c.threads),
        gbps(bytes, best(http)),
        gbps(bytes, median(http)),
        gbps(bytes, best(engine)),
        pct(ratio),
      ]);
      summary.push({
        metric: `${c.op} ${shape.name}, ${c.threads === THREADS && THREADS > 1 ? `whole pool (${c.threads})` : '1 thread'}`,
        value: `${gbps(bytes, best(http))} (median ${gbps(bytes, median(http))}) = ${pct(ratio)} of ceiling`,
        target: '≥ 80% of ceiling',
        met: ratio >= 0.8,
      });
    }
  }

  if (numpyRuns.length > 0) {
    const npBest = best(numpyRuns);
    const rowpoolBest = best(
      cases.find((c) => c.shape === BIG && c.op === 'sum' && c.threads === THREADS)!.runs.map((r) => r.http),
    );
    log(`numpy x.sum(axis=1): best ${ms(npBest)}, rowpool sum job over HTTP: best ${ms(rowpoolBest)}`);
    summary.push({
      metric: `NumPy ${(numpy as NumpyReference).version} x.sum(axis=1), ${BIG.name}`,
      value: `${gbps(size, npBest)} (best of ${numpyRuns.length}, ${ms(npBest)})`,
      target: '—',
      met: undefined,
    });
    summary.push({
      metric: 'rowpool sum job over HTTP (whole pool) vs NumPy',
      value: `${(npBest / rowpoolBest).toFixed(2)}× NumPy's speed (${ms(rowpoolBest)} vs ${ms(npBest)})`,
      target: '> 1×',
      met: rowpoolBest < npBest,
    });
  } else {
    summary.push({ metric: 'NumPy reference', value: 'numpy not available', target: '—', met: undefined });
  }

  // 5. Job overhead.
  const tiny = JSON.stringify({ op: 'sum', rows: { start: 0, end: 1 } });
  const roundTrips: number[] = [];
  for (let i = 0; i < OVERHEAD_WARMUP + OVERHEAD_RUNS; i++) {
    const reply = await all.client.expect<JobView>(200, 'POST', `/v1/datasets/${small.id}/jobs?wait=5`, tiny);
    if (i >= OVERHEAD_WARMUP) roundTrips.push(reply.seconds);
  }
  const p50 = percentile(roundTrips, 0.5);
  const p99 = percentile(roundTrips, 0.99);
  log(`1-row job round trip: p50 ${ms(p50)}, p99 ${ms(p99)}`);
  summary.push({
    metric: `1-row job round trip, p50 of ${OVERHEAD_RUNS}`,
    value: ms(p50),
    target: '< 2 ms',
    met: p50 < 0.002,
  });
  summary.push({
    metric: `1-row job round trip, p99 of ${OVERHEAD_RUNS}`,
    value: ms(p99),
    target: '—',
    met: undefined,
  });

  // 6. Memory release of the 1 GiB dataset every pool thread has read.
  for (const server of servers) {
    await server.client.expect(204, 'DELETE', `/v1/datasets/${ids.get(server)!.get(MEDIUM)!}`);
  }
  if (one !== all) await one.client.expect(204, 'DELETE', `/v1/datasets/${ids.get(one)!.get(BIG)!}`);
  ids.clear();
  const before = await settledRss();
  const started = performance.now();
  await all.client.expect(204, 'DELETE', `/v1/datasets/${bigId}`);
  const released = await waitForRss(before - (1 - RELEASE_SLACK) * size, RELEASE_TIMEOUT_MS, started);
  const drop = before - released.rss;
  log(`release after DELETE: RSS ${mib(before)} → ${mib(released.rss)} in ${released.ms.toFixed(0)} ms`);
  summary.push({
    metric: 'RSS released after DELETE of the 1 GiB dataset (after jobs ran on it)',
    value: `${mib(drop)} in ${released.ms.toFixed(0)} ms`,
    target: `≥ ${pct(1 - RELEASE_SLACK)} of ${mib(size)} within 2 s`,
    met: released.met,
  });

  for (const server of servers) {
    server.client.close();
    await server.app.close();
  }
  collect();

  const kernelTable = table(
    ['dataset', 'op', 'threads', 'best', 'median', 'best (engine)', 'best / ceiling'],
    kernelRows,
  );
  const report = [
    '# rowpool benchmark',
    '',
    `Machine: ${machine}. Run ${new Date().toISOString().slice(0, 10)} with \`npm run bench\`.`,
    '',
    summaryTable(summary),
    '',
    'Job throughput, dataset bytes / time. "best" and "median" time `POST /v1/datasets/{id}/jobs?wait=60` ' +
      `from the client (${REPS} runs each, interleaved with the ceiling's); "engine" is the job's own ` +
      'startedAt → finishedAt (1 ms resolution). The ceiling is each thread summing its share of the same ' +
      'buffer in one flat loop (`flatSum`), one task per thread. GB = 10⁹ bytes.',
    '',
    kernelTable,
    '',
  ].join('\n');
  log(`\n${report}`);
  writeFileSync(new URL('./results.md', import.meta.url), report);
}

await main();
