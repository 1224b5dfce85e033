import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { AppOptions } from '../../src/app.js';
import type { Config } from '../../src/config.js';
import { testApp } from '../helpers/app.js';

/** A real server on loopback, for tests that need sockets: slow, stalled or vanishing clients. */
export interface LiveServer {
  readonly app: FastifyInstance;
  readonly port: number;
  /** usedBytes as GET /v1/datasets reports it. */
  used(): Promise<number>;
  close(): Promise<void>;
}

export async function liveServer(
  overrides: Partial<Config> = {},
  options: AppOptions = {},
): Promise<LiveServer> {
  const app = await testApp(overrides, options);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  return {
    app,
    port,
    async used() {
      const res = await fetch(`http://127.0.0.1:${port}/v1/datasets`);
      return ((await res.json()) as { memory: { usedBytes: number } }).memory.usedBytes;
    },
    close: () => app.close(),
  };
}

export interface Answer {
  readonly status: number;
  readonly body: string;
  readonly headers: http.IncomingHttpHeaders;
}

/**
 * Sends a request whose body `write` produces at its own pace, and resolves with the answer, which
 * may come before the body is finished (a 408 or 413). Errors writing after the answer are ignored.
 */
export function streamingRequest(
  port: number,
  path: string,
  headers: http.OutgoingHttpHeaders,
  write: (req: http.ClientRequest) => Promise<void> | void,
  method = 'POST',
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', (err) => {
      if (!req.destroyed || (err as NodeJS.ErrnoException).code !== 'EPIPE') reject(err);
    });
    Promise.resolve(write(req)).catch(() => {});
  });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Writes `data` in slices, waiting for the socket to drain, until done or the request ends. */
export async function writeAll(req: http.ClientRequest, data: Buffer, slice = 1 << 16): Promise<void> {
  for (let at = 0; at < data.length && !req.destroyed; at += slice) {
    if (!req.write(data.subarray(at, at + slice))) {
      await new Promise<void>((resolve) => {
        req.once('drain', resolve);
        req.once('close', resolve);
      });
    }
  }
  if (!req.destroyed) req.end();
}

/** The slowest /healthz answer while `during` runs, polled every 50 ms. */
export async function worstHealthz(port: number, during: Promise<unknown>): Promise<number> {
  // The first request opens the connection and loads the client: not the server's latency.
  await fetch(`http://127.0.0.1:${port}/healthz`);
  let worst = 0;
  let running = true;
  const stop = () => {
    running = false;
  };
  during.then(stop, stop);
  while (running) {
    const start = performance.now();
    await fetch(`http://127.0.0.1:${port}/healthz`);
    worst = Math.max(worst, performance.now() - start);
    if (process.env.DEBUG_HEALTHZ) console.log('healthz', (performance.now() - start).toFixed(0));
    await sleep(50);
  }
  return worst;
}
