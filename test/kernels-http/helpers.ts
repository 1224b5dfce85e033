/** Uploading kernels and datasets to a test app, and reading jobs back. */
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';

export interface KernelBody {
  id: string;
  name: string;
  sha256: string;
  bytes: number;
  abi: number;
  createdAt: string;
}

export function uploadKernel(app: FastifyInstance, name: string, bytes: Uint8Array) {
  return app.inject({
    method: 'POST',
    url: `/v1/kernels?name=${encodeURIComponent(name)}`,
    headers: { 'content-type': 'application/wasm' },
    payload: Buffer.from(bytes),
  });
}

export async function kernelId(app: FastifyInstance, name: string, bytes: Uint8Array): Promise<string> {
  const res = await uploadKernel(app, name, bytes);
  expect(res.statusCode, res.body).toBe(201);
  return (res.json() as KernelBody).id;
}

/** A float64 dataset of `rows` x `rowLength`; returns its id and values. */
export async function float64Dataset(
  app: FastifyInstance,
  rows: number,
  rowLength: number,
  value: (i: number) => number,
): Promise<{ id: string; values: Float64Array }> {
  const values = Float64Array.from({ length: rows * rowLength }, (_, i) => value(i));
  const res = await app.inject({
    method: 'POST',
    url: `/v1/datasets?dtype=float64&shape=${rows},${rowLength}`,
    headers: { 'content-type': 'application/octet-stream' },
    payload: Buffer.from(values.buffer),
  });
  expect(res.statusCode, res.body).toBe(201);
  return { id: res.json().id, values };
}

export function submit(app: FastifyInstance, datasetId: string, body: object, wait = 20) {
  return app.inject({ method: 'POST', url: `/v1/datasets/${datasetId}/jobs?wait=${wait}`, payload: body });
}

export async function usedBytes(app: FastifyInstance): Promise<number> {
  return (await app.inject({ method: 'GET', url: '/v1/datasets' })).json().memory.usedBytes;
}

/** The longest strictly increasing run of each row, in plain JS. */
export function longestRuns(values: Float64Array, rowLength: number): number[] {
  const rows = values.length / rowLength;
  return Array.from({ length: rows }, (_, r) => {
    let best = rowLength === 0 ? 0 : 1;
    let run = 1;
    for (let i = r * rowLength + 1; i < (r + 1) * rowLength; i++) {
      run = values[i] > values[i - 1] ? run + 1 : 1;
      best = Math.max(best, run);
    }
    return best;
  });
}
