import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../src/config.js';
import { Gate } from '../fixtures/workers/gate.js';
import { testApp } from '../helpers/app.js';

export interface TestServer {
  readonly app: FastifyInstance;
  readonly url: string;
  /** Holds `median` chunks until released, so a test can watch a job run. */
  readonly gate: Gate;
}

/** A real server on a free loopback port, its workers behind a gate. */
export async function startServer(overrides: Partial<Config> = {}): Promise<TestServer> {
  const gate = new Gate();
  const app = await testApp(overrides, gate.appOptions());
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}`, gate };
}

export async function stopServer(server: TestServer): Promise<void> {
  server.gate.release(1_000_000);
  await server.app.close();
}

/** A rows x cols float64 matrix of small integers, so sums are exact in any order. */
export function matrix(rows: number, cols: number, seed = 7): Float64Array {
  const data = new Float64Array(rows * cols);
  let state = seed;
  for (let i = 0; i < data.length; i++) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    data[i] = (state % 201) - 100;
  }
  return data;
}

/** Per-row reference values computed here, independently of the server. */
export function perRow(data: Float64Array, cols: number, f: (row: Float64Array) => number): number[] {
  const out: number[] = [];
  for (let r = 0; r * cols < data.length; r++) out.push(f(data.subarray(r * cols, (r + 1) * cols)));
  return out;
}

export const sum = (row: Float64Array) => row.reduce((a, b) => a + b, 0);
export const argmax = (row: Float64Array) => row.indexOf(Math.max(...row));
export function median(row: Float64Array): number {
  const sorted = Float64Array.from(row).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
