/**
 * The event loop under a big result download and a big text upload: for each, the time it takes, the
 * server's CPU time, the slowest /healthz answers, how long the running server held one (the
 * prober's `held`) and the server's own longest event-loop delay (rowpool_event_loop_lag_seconds
 * max). The server runs in a process of its own, /healthz is timed from another (the reliability
 * tests' prober) and the downloads and uploads run here, so no client shares the server's loop.
 * Given a second server entry point (another checkout's src/server.ts), both run each case in turn,
 * side by side, and the best times and CPU times are compared as ratios. Run with
 * `node --import tsx bench/big-result.ts [rows] [baseline server.ts] [runs]`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { serverLagMs, startProber } from '../test/reliability/prober.js';

const ROWS = Number(process.argv[2] ?? 5_000_000);
const BASELINE = process.argv[3];
/** Runs of each case per server, in turn A B, B A, …: the best of each is compared. */
const RUNS = Number(process.argv[4] ?? 2);
const MiB = 2 ** 20;
/** The text uploads: 16Mi one-column CSV rows of 4 bytes (64 MiB), and as many values in JSON. */
const TEXT_ROWS = 16 * MiB;

interface Server {
  readonly name: string;
  readonly port: number;
  readonly child: ChildProcess;
  jobId: string;
}

function startServer(name: string, entry: string): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      ROWPOOL_THREADS: '1',
      ROWPOOL_MEMORY_LIMIT: `${Math.ceil((ROWS * 16 + TEXT_ROWS * 16) / MiB) + 256}MiB`,
      ROWPOOL_TEXT_BODY_LIMIT: '1GiB',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c;
      const match = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (match && out.includes('"msg":"ready"')) {
        child.stdout!.removeAllListeners('data');
        child.stdout!.resume();
        resolve({ name, port: Number(match[1]), child, jobId: '' });
      }
    });
    child.on('exit', (code) => reject(new Error(`${name} exited with ${code}:\n${out}`)));
  });
}

async function prepare(server: Server): Promise<void> {
  const base = `http://127.0.0.1:${server.port}`;
  const data = new Float64Array(ROWS).map((_, i) => i * 0.5);
  let res = await fetch(`${base}/v1/datasets?dtype=float64&shape=${ROWS}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: new Uint8Array(data.buffer),
  });
  const { id } = (await res.json()) as { id: string };
  res = await fetch(`${base}/v1/datasets/${id}/jobs?wait=60`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ op: 'sum' }),
  });
  const job = (await res.json()) as { id: string; status: string };
  if (job.status !== 'succeeded') throw new Error(`the job answered ${res.status}: ${JSON.stringify(job)}`);
  server.jobId = job.id;
}

/** Reads a download, counting its bytes only. */
function download(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path }, (r) => {
      let bytes = 0;
      r.on('data', (c: Buffer) => {
        bytes += c.length;
      });
      r.on('end', () => resolve(`${r.statusCode}, ${(bytes / MiB).toFixed(0)} MiB`));
      r.on('error', reject);
    });
  });
}

/** Datasets uploaded, deleted between cases: a delete's full collection is not the upload's. */
const uploaded: { port: number; id: string }[] = [];

/** Sends `body` a slice at a time as the socket drains; answers the status and the created id. */
function upload(port: number, type: string, body: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/v1/datasets',
      headers: { 'content-type': type, 'content-length': body.length },
    });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (c) => {
        text += c;
      });
      res.on('end', () => {
        const answer = JSON.parse(text) as { id?: string; message?: string };
        if (answer.id !== undefined) uploaded.push({ port, id: answer.id });
        resolve(`${res.statusCode}${answer.message === undefined ? '' : ` ${answer.message}`}`);
      });
    });
    req.on('error', reject);
    void (async () => {
      for (let at = 0; at < body.length; at += 1 << 16) {
        if (!req.write(body.subarray(at, at + (1 << 16)))) await new Promise((r) => req.once('drain', r));
      }
      req.end();
    })();
  });
}

/**
 * The server process's CPU time in seconds, all threads, from /proc (Linux; NaN elsewhere). On a
 * shared machine the wall time of a case varies with the load; the CPU time it costs much less.
 */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

async function measure(server: Server, run: (server: Server) => Promise<string>) {
  await serverLagMs(server.port);
  const prober = await startProber(server.port, server.child.pid!);
  const cpuBefore = cpuSeconds(server.child.pid!);
  const started = performance.now();
  const outcome = await run(server);
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuSeconds(server.child.pid!) - cpuBefore;
  const probed = await prober.stop();
  const lag = await serverLagMs(server.port);
  for (const { port, id } of uploaded.splice(0)) {
    await fetch(`http://127.0.0.1:${port}/v1/datasets/${id}`, { method: 'DELETE' });
  }
  return { outcome, seconds, cpu, probed, lag, rss: (probed.peakRss - probed.rssBefore) / MiB };
}

const csv = Buffer.from('0.5\n'.repeat(TEXT_ROWS));
const json = Buffer.from(`{"data":[${new Array(TEXT_ROWS).fill('0.5').join(',')}]}`);
const cases: [string, (server: Server) => Promise<string>][] = [
  ...(['json', 'csv', 'npy'] as const).map((format): [string, (server: Server) => Promise<string>] => [
    `${ROWS} rows as ${format}`,
    (s) => download(s.port, `/v1/jobs/${s.jobId}/result?format=${format}`),
  ]),
  [
    `CSV upload, ${TEXT_ROWS} rows, ${(csv.length / MiB).toFixed(0)} MiB`,
    (s) => upload(s.port, 'text/csv', csv),
  ],
  [
    `JSON upload, ${TEXT_ROWS} values, ${(json.length / MiB).toFixed(0)} MiB`,
    (s) => upload(s.port, 'application/json', json),
  ],
];

const servers: Server[] = [];
try {
  servers.push(
    await startServer('this checkout', fileURLToPath(new URL('../src/server.ts', import.meta.url))),
  );
  if (BASELINE !== undefined) servers.push(await startServer('baseline', BASELINE));
  for (const server of servers) await prepare(server);
  for (const [name, run] of cases) {
    const seconds = servers.map(() => Number.POSITIVE_INFINITY);
    const cpu = servers.map(() => Number.POSITIVE_INFINITY);
    for (let runIndex = 0; runIndex < RUNS; runIndex++) {
      const order = servers.map((_, i) => i);
      if (runIndex % 2 === 1) order.reverse();
      for (const i of order) {
        const server = servers[i];
        const m = await measure(server, run);
        seconds[i] = Math.min(seconds[i], m.seconds);
        cpu[i] = Math.min(cpu[i], m.cpu);
        console.log(
          `${name} (${server.name}): ${m.outcome} in ${m.seconds.toFixed(2)} s, server CPU ${m.cpu.toFixed(2)} s; ` +
            `slowest /healthz ${m.probed.slowest.join(', ')}; held by the server ${m.probed.held.toFixed(0)} ms; ` +
            `server's own longest event-loop delay ${m.lag.toFixed(0)} ms; RSS +${m.rss.toFixed(0)} MiB`,
        );
      }
    }
    if (servers.length === 2) {
      console.log(
        `  best of ${RUNS}, this checkout / baseline: time ${(seconds[0] / seconds[1]).toFixed(2)}, ` +
          `server CPU ${(cpu[0] / cpu[1]).toFixed(2)}`,
      );
    }
  }
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  await Promise.all(
    servers.map((server) => {
      const exited = new Promise((resolve) => server.child.once('exit', resolve));
      server.child.kill('SIGTERM');
      return exited;
    }),
  );
}
