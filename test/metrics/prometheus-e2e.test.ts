import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse, stringify } from 'yaml';
import { testApp } from '../helpers/app.js';
import { postJson } from '../helpers/http.js';

/*
 * A real Prometheus scrapes a listening rowpool and answers a query for a job the test ran: the
 * exposition is not only well-formed (see metrics.test.ts) but ingested. Opt-in with ROWPOOL_E2E=1,
 * as CI runs it; loopback only. Needs /usr/bin/prometheus (Debian package prometheus).
 */

const PROMETHEUS = process.env.PROMETHEUS_BIN ?? 'prometheus';
const POLL_MS = 250;
const DEADLINE_MS = 30_000;
const METRICS_TOKEN = 'e2e-metrics-token';
const SHIPPED_CONFIG = new URL('../../docker/prometheus/prometheus.yml', import.meta.url);

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

interface QueryResult {
  status: string;
  data?: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}

describe.skipIf(process.env.ROWPOOL_E2E !== '1')('Prometheus scrapes rowpool', () => {
  let app: FastifyInstance;
  let dir: string;
  let prometheus: ChildProcess | undefined;
  let promLog = '';
  let promPort: number;

  beforeAll(async () => {
    app = await testApp({ threads: 2, metricsToken: METRICS_TOKEN });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const target = app.server.address() as AddressInfo;
    dir = await mkdtemp(join(tmpdir(), 'rowpool-prometheus-'));
    // The shipped rowpool job, pointed at this server and faster: a scrape only gets through if
    // Prometheus sends the token from the credentials file the way docker/compose.yaml provides it.
    const shipped = parse(await readFile(SHIPPED_CONFIG, 'utf8')) as {
      scrape_configs: Array<{ job_name: string; authorization?: Record<string, string> }>;
    };
    const job = shipped.scrape_configs.find((c) => c.job_name === 'rowpool');
    expect(job?.authorization?.credentials_file).toBeDefined();
    const tokenFile = join(dir, 'metrics-token');
    await writeFile(tokenFile, METRICS_TOKEN);
    const config = join(dir, 'prometheus.yml');
    await writeFile(
      config,
      stringify({
        global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
        scrape_configs: [
          {
            ...job,
            scrape_interval: '1s',
            scrape_timeout: '1s',
            static_configs: [{ targets: [`127.0.0.1:${target.port}`] }],
            authorization: { ...job?.authorization, credentials_file: tokenFile },
          },
        ],
      }),
    );
    promPort = await freePort();
    prometheus = spawn(
      PROMETHEUS,
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prometheus.stdout?.on('data', (chunk) => {
      promLog += chunk;
    });
    prometheus.stderr?.on('data', (chunk) => {
      promLog += chunk;
    });
    prometheus.on('error', (err) => {
      promLog += `\nspawn failed: ${err.message}`;
    });
  });

  afterAll(async () => {
    if (prometheus !== undefined && prometheus.exitCode === null && prometheus.signalCode === null) {
      const exited = once(prometheus, 'exit');
      prometheus.kill('SIGTERM');
      const timer = setTimeout(() => prometheus?.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    await app?.close();
  });

  test('a job run on rowpool shows up in rowpool_jobs_total', async () => {
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const created = await postJson<{ id: string }>(`${base}/v1/datasets`, {
      data: [
        [1, 2, 3],
        [4, 5, 6],
      ],
    });
    expect(created.status).toBe(201);
    const job = await postJson(`${base}/v1/datasets/${created.body.id}/jobs?wait=5`, { op: 'mean' });
    expect(job.status).toBe(200);

    const query = `http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent('rowpool_jobs_total')}`;
    const deadline = Date.now() + DEADLINE_MS;
    let last = 'no answer yet';
    let found: number | undefined;
    // At most DEADLINE_MS / POLL_MS (120) queries, each bounded by its own timeout.
    while (found === undefined && Date.now() < deadline) {
      if (prometheus?.exitCode !== null || prometheus?.signalCode !== null) {
        const code = prometheus?.exitCode ?? prometheus?.signalCode;
        throw new Error(`${PROMETHEUS} exited (${code}); is Debian package prometheus installed? ${promLog}`);
      }
      try {
        const res = await fetch(query, { signal: AbortSignal.timeout(2000) });
        const body = (await res.json()) as QueryResult;
        last = JSON.stringify(body);
        const series = body.data?.result.find(
          (r) => r.metric.op === 'mean' && r.metric.status === 'succeeded',
        );
        if (series !== undefined && Number(series.value[1]) >= 1) {
          expect(series.metric.job).toBe('rowpool');
          found = Number(series.value[1]);
        }
      } catch (err) {
        last = String(err);
      }
      if (found === undefined) await new Promise((r) => setTimeout(r, POLL_MS));
    }
    expect(
      found,
      `no rowpool_jobs_total sample within ${DEADLINE_MS} ms; last: ${last}; prometheus: ${promLog}`,
    ).toBe(1);
  });
});
