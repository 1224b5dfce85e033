/**
 * A 40M-row result downloaded as JSON and CSV (finding 3 of the reliability issue): the time, the
 * resident set's growth and the slowest /healthz answer while it streams. In-process on 127.0.0.1;
 * the reader only counts bytes, so what it measures is the server's. Run with
 * `node --import tsx bench/big-result.ts [rows]`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';

const ROWS = Number(process.argv[2] ?? 40_000_000);
const MiB = 2 ** 20;

const app = await buildApp(
  { ...loadConfig({}), host: '127.0.0.1', port: 0, memoryLimit: ROWS * 16 + 64 * MiB, logLevel: 'warn' },
  { logger: false },
);
await app.listen({ host: '127.0.0.1', port: 0 });
await app.rowpool.start();
const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

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

function download(format: string): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    http.get(`${base}/v1/jobs/${job.id}/result?format=${format}`, (r) => {
      let bytes = 0;
      r.on('data', (c: Buffer) => {
        bytes += c.length;
      });
      r.on('end', () => resolve({ status: r.statusCode ?? 0, bytes }));
      r.on('error', reject);
    });
  });
}

for (const format of ['json', 'csv']) {
  const rss0 = process.memoryUsage.rss();
  let peak = rss0;
  let worst = 0;
  let running = true;
  const started = performance.now();
  const done = download(format).finally(() => {
    running = false;
  });
  while (running) {
    const t = performance.now();
    await fetch(`${base}/healthz`);
    worst = Math.max(worst, performance.now() - t);
    peak = Math.max(peak, process.memoryUsage.rss());
    await new Promise((r) => setTimeout(r, 50));
  }
  const { status, bytes } = await done;
  console.log(
    `${ROWS} rows as ${format}: ${status}, ${(bytes / MiB).toFixed(0)} MiB in ${((performance.now() - started) / 1000).toFixed(1)} s, ` +
      `RSS ${(rss0 / MiB).toFixed(0)} -> peak ${(peak / MiB).toFixed(0)} MiB, slowest /healthz ${worst.toFixed(0)} ms`,
  );
}
await app.close();
