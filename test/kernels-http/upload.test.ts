/**
 * The kernel routes over HTTP: upload, list, get and delete with real modules, the memory they hold,
 * every kind of bad module refused with a clear 4xx and nothing kept, the size limit from
 * Content-Length and while streaming, and ROWPOOL_KERNELS=off.
 */
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildExample } from '../../scripts/kernels.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { testApp } from '../helpers/app.js';
import { buildKernel, REFUSED } from '../user-kernels/wat-modules.js';
import { float64Dataset, type KernelBody, submit, uploadKernel, usedBytes } from './helpers.js';

const MAX_BYTES = 16 * 2 ** 20;
let app: FastifyInstance;
let port: number;
let longestRun: Uint8Array;

beforeAll(async () => {
  app = await testApp({ kernelMaxBytes: MAX_BYTES, memoryLimit: 128 * 2 ** 20 });
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as AddressInfo).port;
  longestRun = await buildExample('longest-run.ts');
});

afterAll(async () => {
  await app.close();
});

async function kernelCount(): Promise<number> {
  return (await app.inject({ method: 'GET', url: '/v1/kernels' })).json().kernels.length;
}

/** Sends headers only (no body) over a real socket and resolves with the status and body. */
function headersOnly(headers: Record<string, string | number>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method: 'POST', path: '/v1/kernels?name=big', headers },
      (res) => {
        let body = '';
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.flushHeaders();
  });
}

/** Streams `total` bytes chunked (no Content-Length) and resolves with the answer. */
function chunked(total: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/v1/kernels?name=streamed',
        headers: { 'content-type': 'application/wasm', 'transfer-encoding': 'chunked' },
      },
      (res) => {
        let body = '';
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    // The server may answer and close before every chunk is written.
    req.on('error', (err) =>
      err.message.includes('EPIPE') || err.message.includes('ECONNRESET') ? undefined : reject(err),
    );
    const chunk = Buffer.alloc(64 * 1024);
    chunk.set([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

describe('the kernel routes', () => {
  it('upload, list, get and delete; the module holds its size of the memory limit until deleted', async () => {
    const before = await usedBytes(app);
    const res = await uploadKernel(app, 'longest-run', longestRun);
    expect(res.statusCode, res.body).toBe(201);
    const kernel = res.json() as KernelBody;
    expect(res.headers.location).toBe(`/v1/kernels/${kernel.id}`);
    expect(kernel).toEqual({
      id: expect.any(String),
      name: 'longest-run',
      sha256: createHash('sha256').update(longestRun).digest('hex'),
      bytes: longestRun.byteLength,
      abi: 1,
      createdAt: expect.any(String),
    });
    expect(await usedBytes(app)).toBe(before + longestRun.byteLength);

    const list = await app.inject({ method: 'GET', url: '/v1/kernels' });
    expect(list.json()).toEqual({ kernels: [kernel] });
    expect((await app.inject({ method: 'GET', url: `/v1/kernels/${kernel.id}` })).json()).toEqual(kernel);

    const deleted = await app.inject({ method: 'DELETE', url: `/v1/kernels/${kernel.id}` });
    expect(deleted.statusCode).toBe(204);
    expect(await usedBytes(app)).toBe(before);
    const gone = await app.inject({ method: 'GET', url: `/v1/kernels/${kernel.id}` });
    expect(gone.statusCode).toBe(404);
    expect(gone.json()).toMatchObject({
      code: 'ROWPOOL_KERNEL_NOT_FOUND',
      message: `kernel ${kernel.id} not found`,
    });
    expect((await app.inject({ method: 'DELETE', url: `/v1/kernels/${kernel.id}` })).statusCode).toBe(404);
    expect(await kernelCount()).toBe(0);
  });

  it.each<[string, () => Promise<Uint8Array>, RegExp]>([
    ['non-wasm bytes', async () => Buffer.from('hello, not a module'), /not a WebAssembly module/],
    [
      'a truncated module',
      async () => longestRun.subarray(0, longestRun.byteLength - 20),
      /does not compile/,
    ],
    ['an empty body', async () => new Uint8Array(0), /the body is empty/],
    [
      'a module importing wasi fd_write',
      () => buildKernel(REFUSED.wasiImport),
      /imports what rowpool does not provide: wasi_snapshot_preview1\.fd_write.*--importMemory/,
    ],
    [
      'a module with a shared memory',
      () => buildKernel(REFUSED.sharedMemory),
      /shared memory.*without shared memory/,
    ],
    [
      'a module whose rowpool_rows has the wrong signature',
      () => buildKernel(REFUSED.wrongRowsSignature),
      /rowpool_rows has the signature \(i32, i32, i32, i32, i32, i32\) -> i32, expected \(i32, i32, i32, i32, i32, i32, i32\) -> i32/,
    ],
  ])('%s is a 400 that says why, and nothing is kept', async (_what, bytes, message) => {
    const before = await usedBytes(app);
    const res = await uploadKernel(app, 'bad', await bytes());
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).toMatchObject({
      code: 'ROWPOOL_INVALID_KERNEL',
      message: expect.stringMatching(message),
    });
    expect(await kernelCount()).toBe(0);
    expect(await usedBytes(app)).toBe(before);
  });

  it('a 17 MiB module is a 413 from its Content-Length, before its body is sent', async () => {
    const started = performance.now();
    const res = await headersOnly({ 'content-type': 'application/wasm', 'content-length': 17 * 2 ** 20 });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toMatchObject({
      code: 'ROWPOOL_KERNEL_TOO_LARGE',
      message: `the module is larger than ${MAX_BYTES} bytes (ROWPOOL_KERNEL_MAX_BYTES)`,
    });
    expect(performance.now() - started).toBeLessThan(5000);
    expect(await kernelCount()).toBe(0);
  });

  it('a module streamed without Content-Length is a 413 once it passes the limit', async () => {
    const before = await usedBytes(app);
    const res = await chunked(MAX_BYTES + 2 ** 20);
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).code).toBe('ROWPOOL_KERNEL_TOO_LARGE');
    expect(await kernelCount()).toBe(0);
    expect(await usedBytes(app)).toBe(before);
  });

  it('other content types are 415, a missing name 400', async () => {
    const json = await app.inject({ method: 'POST', url: '/v1/kernels?name=x', payload: { a: 1 } });
    expect(json.statusCode).toBe(415);
    expect(json.json()).toMatchObject({
      code: 'ROWPOOL_UNSUPPORTED_MEDIA_TYPE',
      message: expect.stringContaining('Content-Type: application/wasm'),
    });
    const octets = await app.inject({
      method: 'POST',
      url: '/v1/kernels?name=x',
      headers: { 'content-type': 'application/octet-stream' },
      payload: Buffer.from(longestRun),
    });
    expect(octets.statusCode).toBe(415);
    const nameless = await app.inject({
      method: 'POST',
      url: '/v1/kernels',
      headers: { 'content-type': 'application/wasm' },
      payload: Buffer.from(longestRun),
    });
    expect(nameless.statusCode).toBe(400);
    expect(nameless.json().message).toMatch(/name/);
    expect(await kernelCount()).toBe(0);
  });

  it('a module needing more memory than ROWPOOL_MEMORY_LIMIT has free is a 413', async () => {
    const small = await testApp({ memoryLimit: 256, threads: 1 });
    try {
      const res = await uploadKernel(small, 'longest-run', longestRun);
      expect(res.statusCode, res.body).toBe(413);
      expect(res.json().code).toBe('ROWPOOL_INSUFFICIENT_MEMORY');
    } finally {
      await small.close();
    }
  });
});

describe('ROWPOOL_KERNELS=off', () => {
  it('the routes answer 404 and op kernel is refused with 400', async () => {
    const off = await testApp({ kernelsEnabled: false, threads: 1 });
    try {
      for (const [method, url] of [
        ['POST', '/v1/kernels?name=x'],
        ['GET', '/v1/kernels'],
        ['GET', '/v1/kernels/some-id'],
        ['DELETE', '/v1/kernels/some-id'],
      ] as const) {
        const res = await off.inject({
          method,
          url,
          headers: { 'content-type': 'application/wasm' },
          payload: method === 'POST' ? Buffer.from(longestRun) : undefined,
        });
        expect(res.statusCode, `${method} ${url}`).toBe(404);
      }
      const dataset = await float64Dataset(off, 2, 3, (i) => i);
      const job = await submit(off, dataset.id, { op: 'kernel', params: { kernel: 'some-id' } });
      expect(job.statusCode).toBe(400);
      expect(job.json()).toMatchObject({
        code: 'ROWPOOL_INVALID_JOB',
        message: 'op kernel is turned off on this server (ROWPOOL_KERNELS=off)',
      });
    } finally {
      await off.close();
    }
  });
});

describe('configuration', () => {
  it('reads the kernel variables, with their defaults', () => {
    expect(loadConfig({})).toMatchObject({
      kernelsEnabled: true,
      kernelMaxBytes: 16 * 2 ** 20,
      kernelMemoryBytes: 256 * 2 ** 20,
      kernelTimeoutSeconds: 60,
    });
    expect(
      loadConfig({
        ROWPOOL_KERNELS: 'off',
        ROWPOOL_KERNEL_MAX_BYTES: '1MiB',
        ROWPOOL_KERNEL_MEMORY: '64MiB',
        ROWPOOL_KERNEL_TIMEOUT: '5',
      }),
    ).toMatchObject({
      kernelsEnabled: false,
      kernelMaxBytes: 2 ** 20,
      kernelMemoryBytes: 64 * 2 ** 20,
      kernelTimeoutSeconds: 5,
    });
  });

  it.each([
    [{ ROWPOOL_KERNELS: 'maybe' }, /ROWPOOL_KERNELS must be on or off, got "maybe"/],
    [{ ROWPOOL_KERNEL_MAX_BYTES: 'big' }, /ROWPOOL_KERNEL_MAX_BYTES must be a positive size/],
    [{ ROWPOOL_KERNEL_MEMORY: '1KiB' }, /ROWPOOL_KERNEL_MEMORY must be from 64KiB/],
    [{ ROWPOOL_KERNEL_MEMORY: '8GiB' }, /ROWPOOL_KERNEL_MEMORY must be from 64KiB .* to 4GiB/],
    [{ ROWPOOL_KERNEL_TIMEOUT: '0' }, /ROWPOOL_KERNEL_TIMEOUT must be an integer from 1/],
  ])('%j is refused with a clear message', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
