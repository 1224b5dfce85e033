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
import type { JobView } from '../src/routes/job-view.js';
import { BareServer } from './bare-server.js';
import { Ceiling } from './ceiling.js';
import { Client, type Reply } from './client.js';
import { benchConfig } from './config.js';
import { npyHeader, rowSum, vector } from './data.js';
import { loadApp } from './dist.js';
import { MiB, PeakSampler, rss, settledRss, waitForRss } from './memory.js';
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
import { Uploader } from './uploader.js';

const GiB = 2 ** 30;
const THREADS = os.availableParallelism();
const BIG = { name: '1024×131072', rows: 1024, cols: 131_072 };
const MEDIUM = { name: '100000×1000', rows: 100_000, cols: 1000 };
const SMALL = { name: '1000×16', rows: 1000, cols: 16 };
const OPS = ['sum', 'dot', 'std'] as const;
const REPS = 8;
const INGEST_REPS = 2;
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

const uploader = new Uploader();

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
  const config = await benchConfig({
    memoryLimit: 8 * GiB,
    threads,
    maxRunningJobs: threads,
    textBodyLimit: 64 * MiB,
  });
  const app = await buildApp(config, { logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  await app.rowpool.start();
  const { port } = app.server.address() as AddressInfo;
  return { app, client: new Client(port), port, threads };
}

/** Streams `dataBytes` of the benchmark's data to `path` from the uploading worker. */
async function send<T>(
  port: number,
  path: string,
  contentType: string,
  head: Uint8Array,
  dataBytes: number,
): Promise<Reply<T>> {
  return uploader.upload<T>({ port, path, contentType, head, dataBytes });
}

async function upload(
  server: Server,
  shape: Shape,
  format: 'npy' | 'raw',
): Promise<{ id: string; seconds: number }> {
  const reply =
    format === 'npy'
      ? await send<{ id: string }>(
          server.port,
          '/v1/datasets?name=npy',
          'application/x-npy',
          npyHeader([shape.rows, shape.cols]),
          bytesOf(shape),
        )
      : await send<{ id: string }>(
          server.port,
          `/v1/datasets?name=raw&dtype=float64&shape=${shape.rows},${shape.cols}`,
          'application/octet-stream',
          new Uint8Array(0),
          bytesOf(shape),
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
  const { dtype, shape, segments, segmentRows, bytes, name } = dataset;
  return to.app.rowpool.store.add({ dtype, shape, segments, segmentRows, bytes, reservation }, name).id;
}

interface IngestRun {
  readonly format: 'npy' | 'raw';
  readonly seconds: number;
  readonly idle: number;
  readonly peak: number;
  readonly afterUpload: number;
  /** NaN when the dataset was kept. */
  readonly afterDelete: number;
  /** NaN when kept, or when RSS did not come back within the timeout. */
  readonly releaseMs: number;
  /** Minor page faults and system CPU seconds of the whole process during the upload. */
  readonly faults: number;
  readonly systemSeconds: number;
}

/** Uploads BIG in `format` and deletes it again unless `keep`; returns the run and the dataset's id. */
async function ingest(server: Server, format: 'npy' | 'raw', keep: boolean): Promise<[IngestRun, string]> {
  const size = bytesOf(BIG);
  const idle = await settledRss();
  const sampler = new PeakSampler();
  const usage = process.resourceUsage();
  const { id, seconds } = await upload(server, BIG, format);
  const peak = sampler.stop();
  const afterUpload = rss();
  const used = process.resourceUsage();
  const faults = used.minorPageFault - usage.minorPageFault;
  const systemSeconds = (used.systemCPUTime - usage.systemCPUTime) / 1e6;
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
  log(
    `ingest ${format}: ${gbps(size, seconds)}; RSS idle ${mib(idle)}, peak ${mib(peak)} ` +
      `(idle + ${((peak - idle) / size).toFixed(3)} × size), after upload ${mib(afterUpload)}` +
      (keep ? '' : `, after DELETE ${mib(afterDelete)}`) +
      `; ${faults} page faults, ${systemSeconds.toFixed(2)} s system CPU`,
  );
  return [{ format, seconds, idle, peak, afterUpload, afterDelete, releaseMs, faults, systemSeconds }, id];
}

/** The same upload into the bare server, for what this machine allows an in-process ingest. */
async function bareIngest(port: number, route: 'copy' | 'discard'): Promise<number> {
  await settledRss();
  const reply = await send(port, `/${route}`, 'application/octet-stream', new Uint8Array(0), bytesOf(BIG));
  if (reply.status !== 201) throw new Error(`bare ${route} upload failed: ${reply.status}`);
  log(`bare server, ${route}: ${gbps(bytesOf(BIG), reply.seconds)}`);
  return reply.seconds;
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
  // Other work on a shared machine takes cores from the pool; the load average says how much.
  const loadAtStart = os.loadavg()[0];
  log(`machine: ${machine}; load average ${loadAtStart.toFixed(2)}`);
  if (THREADS < 2) throw new Error('the benchmark compares one thread with the whole pool: it needs 2 cores');
  const all = await startServer(THREADS);
  const one = await startServer(1);
  const servers = [one, all];
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

  // 1. Ingest, each format and the bare server in turn; the last raw upload is kept for the jobs.
  const size = bytesOf(BIG);
  const bare = new BareServer();
  const barePort = await bare.listen();
  const ingests: IngestRun[] = [];
  const bareRuns = { copy: [] as number[], discard: [] as number[] };
  let bigId = '';
  for (let rep = 0; rep < INGEST_REPS; rep++) {
    const [npy] = await ingest(all, 'npy', false);
    const [raw, id] = await ingest(all, 'raw', rep === INGEST_REPS - 1);
    ingests.push(npy, raw);
    bigId = id;
    for (const route of ['copy', 'discard'] as const) bareRuns[route].push(await bareIngest(barePort, route));
  }
  await bare.close();
  const medium = await upload(all, MEDIUM, 'raw');
  await verify(all, medium.id, MEDIUM);
  log(`ingest raw ${MEDIUM.name}: ${gbps(bytesOf(MEDIUM), medium.seconds)}`);
  const bareCopy = best(bareRuns.copy);
  for (const format of ['npy', 'raw'] as const) {
    const runs = ingests.filter((r) => r.format === format);
    const label = format === 'npy' ? '.npy' : 'raw';
    const seconds = best(runs.map((r) => r.seconds));
    summary.push({
      metric: `ingest ${label} 1 GiB over HTTP (best of ${runs.length})`,
      value: `${gbps(size, seconds)} (${pct(bareCopy / seconds)} of the bare server)`,
      target: '≥ 1 GB/s',
      met: size / seconds >= GB,
    });
    const worst = runs.reduce((a, b) => ((b.peak - b.idle) / size > (a.peak - a.idle) / size ? b : a));
    summary.push({
      metric: `ingest ${label}: peak RSS (worst of ${runs.length})`,
      value: `idle ${mib(worst.idle)} + ${((worst.peak - worst.idle) / size).toFixed(3)} × size = ${mib(worst.peak)}`,
      target: '≤ idle + 1.1 × size',
      met: worst.peak <= worst.idle + 1.1 * size,
    });
  }
  summary.push({
    metric: 'bare in-process server: copy into a fresh SharedArrayBuffer / only read',
    value: `${gbps(size, bareCopy)} / ${gbps(size, best(bareRuns.discard))}`,
    target: '—',
    met: undefined,
  });
  const deleted = ingests.filter((r) => !Number.isNaN(r.afterDelete));
  const slowest = deleted.reduce((a, b) => (Number.isNaN(b.releaseMs) || b.releaseMs > a.releaseMs ? b : a));
  summary.push({
    metric: `ingest: RSS after upload → after DELETE (slowest of ${deleted.length})`,
    value: `${mib(slowest.afterUpload)} → ${mib(slowest.afterDelete)}${Number.isNaN(slowest.releaseMs) ? '' : ` in ${slowest.releaseMs.toFixed(0)} ms`}`,
    target: `within ${pct(RELEASE_SLACK)} of size of idle in 2 s`,
    met: deleted.every((r) => !Number.isNaN(r.releaseMs)),
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
  const threadCounts = [1, THREADS];
  const kinds = ['JS', 'SIMD'] as const;
  const ceilingRuns = new Map<Shape, Map<string, number[]>>(
    [BIG, MEDIUM].map((shape) => [
      shape,
      new Map(threadCounts.flatMap((t) => kinds.map((kind) => [`${kind} ${t}`, []]))),
    ]),
  );
  const cases: KernelCase[] = [];
  for (const shape of [BIG, MEDIUM]) {
    for (const op of OPS)
      for (const server of servers) cases.push({ shape, op, threads: server.threads, runs: [] });
  }
  const numpyRuns: number[] = [];
  const jobIds = new Map<Server, string[]>(servers.map((s) => [s, []]));
  const datasetOf = (shape: Shape) => all.app.rowpool.store.get(ids.get(all)!.get(shape)!);

  for (let rep = -1; rep < REPS; rep++) {
    const warmup = rep < 0;
    for (const shape of [BIG, MEDIUM]) {
      const { buffer, memory } = datasetOf(shape).segments[0];
      for (const threads of threadCounts) {
        for (const kind of kinds) {
          for (let attempt = 0; ; attempt++) {
            const { seconds, parallel } = await ceiling.run(
              buffer,
              kind === 'SIMD' ? memory : null,
              shape.rows * shape.cols,
              threads,
            );
            if (parallel) {
              if (!warmup) ceilingRuns.get(shape)!.get(`${kind} ${threads}`)!.push(seconds);
              break;
            }
            if (attempt === 5) throw new Error(`the ceiling's ${threads} shares kept landing on one thread`);
          }
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
    // The ceiling a kernel is held to is the faster flat read, whichever loop made it.
    const ceilingBests = new Map<number, number>();
    for (const threads of threadCounts) {
      const bestOfKinds = Math.min(
        ...kinds.map((kind) => best(ceilingRuns.get(shape)!.get(`${kind} ${threads}`)!)),
      );
      ceilingBests.set(threads, bestOfKinds);
      for (const kind of kinds) {
        const runs = ceilingRuns.get(shape)!.get(`${kind} ${threads}`)!;
        kernelRows.push([
          shape.name,
          `ceiling (${kind} flatSum)`,
          String(threads),
          gbps(bytes, best(runs)),
          gbps(bytes, median(runs)),
          pct(bestOfKinds / best(runs)),
          '—',
          '—',
        ]);
        summary.push({
          metric: `ceiling ${shape.name}, ${kind} flat loop, ${threads} thread${threads > 1 ? 's' : ''}`,
          value: `${gbps(bytes, best(runs))} (median ${gbps(bytes, median(runs))})`,
          target: '—',
          met: undefined,
        });
      }
    }
    for (const c of cases.filter((k) => k.shape === shape)) {
      const http = c.runs.map((r) => r.http);
      const engine = c.runs.map((r) => r.engine);
      const ceilingBest = ceilingBests.get(c.threads)!;
      const ratio = ceilingBest / best(http);
      const engineRatio = ceilingBest / best(engine);
      kernelRows.push([
        shape.name,
        c.op,
        String(c.threads),
        gbps(bytes, best(http)),
        gbps(bytes, median(http)),
        pct(ratio),
        gbps(bytes, best(engine)),
        pct(engineRatio),
      ]);
      summary.push({
        metric: `${c.op} ${shape.name}, ${c.threads === 1 ? '1 thread' : `whole pool (${c.threads})`}`,
        value:
          `engine ${gbps(bytes, best(engine))} = ${pct(engineRatio)} of ceiling; over HTTP ` +
          `${gbps(bytes, best(http))} (median ${gbps(bytes, median(http))}) = ${pct(ratio)}`,
        target: '≥ 80% of ceiling (engine time)',
        met: engineRatio >= 0.8,
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
    summary.push({
      metric: 'NumPy reference',
      value: typeof numpy === 'string' ? numpy : 'numpy not available',
      target: '—',
      met: undefined,
    });
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
  await one.client.expect(204, 'DELETE', `/v1/datasets/${ids.get(one)!.get(BIG)!}`);
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
  await uploader.close();

  const kernelTable = table(
    ['dataset', 'op', 'threads', 'best', 'median', 'best / ceiling', 'best (engine)', 'engine / ceiling'],
    kernelRows,
  );
  const ingestTable = table(
    ['upload', 'GB/s', 'idle RSS', 'peak RSS', 'peak − idle', 'after DELETE', 'page faults', 'system CPU'],
    [
      ...ingests.map((r) => [
        r.format === 'npy' ? '.npy' : 'raw',
        gbps(size, r.seconds),
        mib(r.idle),
        mib(r.peak),
        `${((r.peak - r.idle) / size).toFixed(3)} × size`,
        Number.isNaN(r.afterDelete) ? 'kept' : mib(r.afterDelete),
        String(r.faults),
        `${r.systemSeconds.toFixed(2)} s`,
      ]),
      ...(['copy', 'discard'] as const).flatMap((route) =>
        bareRuns[route].map((seconds) => [
          `bare server, ${route}`,
          gbps(size, seconds),
          '',
          '',
          '',
          '',
          '',
          '',
        ]),
      ),
    ],
  );
  const report = [
    '# rowpool benchmark',
    '',
    `Machine: ${machine}. Run ${new Date().toISOString().slice(0, 10)} with \`npm run bench\`; ` +
      `1-minute load average ${loadAtStart.toFixed(2)} at the start, ${os.loadavg()[0].toFixed(2)} at the end.`,
    '',
    summaryTable(summary),
    '',
    'Uploads of the 1 GiB float64 dataset over loopback, in the order run. The client streams a cycle ' +
      'of two 4 MiB chunks from a worker thread of the same process, so its memory counts in RSS. The ' +
      'bare server (same process and event loop as rowpool) copies the body into a fresh ' +
      'SharedArrayBuffer, or only reads it: what this machine allows any in-process ingest.',
    '',
    ingestTable,
    '',
    'Job throughput, dataset bytes / time. "best" and "median" time `POST /v1/datasets/{id}/jobs?wait=60` ' +
      `from the client (${REPS} runs each, interleaved with the ceiling's); "engine" is the job's own ` +
      'startedAt → finishedAt (1 ms resolution), which leaves out the HTTP exchange (for dot, a JSON ' +
      'vector of one number per column each way). The ceiling is each thread summing its share of the ' +
      'same buffer in one flat loop, one task per thread: the JS `flatSum` or the SIMD one; kernels are ' +
      'held to the faster of the two. GB = 10⁹ bytes.',
    '',
    kernelTable,
    '',
  ].join('\n');
  log(`\n${report}`);
  writeFileSync(new URL('./results.md', import.meta.url), report);
}

await main();
