import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildApp } from '../../src/app.js';
import { Gate } from '../fixtures/workers/gate.js';
import { testApp, testConfig } from '../helpers/app.js';
import { npyFile } from '../helpers/npy.js';

const SERVER = fileURLToPath(new URL('../../src/server.ts', import.meta.url));

/** Runs the real entry point; resolves with its exit code and output, bounded in time. */
function runServer(
  env: Record<string, string>,
  onLine?: (line: string, child: ChildProcess) => void,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SERVER], {
      env: { ...process.env, HOST: '127.0.0.1', PORT: '0', ROWPOOL_THREADS: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (c: Buffer) => {
      for (const line of c.toString().split('\n')) if (line) onLine?.(line, child);
      stdout += c;
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c;
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('the server process', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'rowpool-preload-'));
    writeFileSync(
      join(dir, 'good.npy'),
      npyFile('<f4', [2, 2], new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer)),
    );
    writeFileSync(join(dir, 'bad.npy'), Buffer.from('this is not an npy file'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test('an invalid environment stops the start with a clear message', async () => {
    const { code, stderr } = await runServer({ ROWPOOL_MEMORY_LIMIT: 'plenty' });
    expect(code).toBe(1);
    expect(stderr).toMatch(/invalid configuration: ROWPOOL_MEMORY_LIMIT must be a positive size/);
  });

  test('preloads datasets, logs the memory limit, turns ready, and exits 0 on SIGTERM', async () => {
    let port = 0;
    let readyz: number[] = [];
    let datasets: unknown[] = [];
    const { code, stdout } = await runServer(
      { ROWPOOL_PRELOAD: `good=${join(dir, 'good.npy')}`, ROWPOOL_MEMORY_LIMIT: '64MiB' },
      (line, child) => {
        const match = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(line);
        if (match) port = Number(match[1]);
        if (line.includes('"msg":"ready"')) {
          void (async () => {
            readyz = [(await fetch(`http://127.0.0.1:${port}/readyz`)).status];
            datasets = (
              (await (await fetch(`http://127.0.0.1:${port}/v1/datasets`)).json()) as { datasets: unknown[] }
            ).datasets;
            child.kill('SIGTERM');
          })();
        }
      },
    );
    expect(code).toBe(0);
    expect(readyz).toEqual([200]);
    expect(datasets).toEqual([expect.objectContaining({ name: 'good', dtype: 'float32', shape: [2, 2] })]);
    expect(stdout).toContain(`"memoryLimitBytes":${64 * 2 ** 20}`);
    expect(stdout).toContain('"msg":"dataset preloaded"');
  });

  test('a bad preload file stops the start with a message naming it', async () => {
    const { code, stderr } = await runServer({ ROWPOOL_PRELOAD: `oops=${join(dir, 'bad.npy')}` });
    expect(code).toBe(1);
    expect(stderr).toContain(`ROWPOOL_PRELOAD oops=${join(dir, 'bad.npy')}: invalid .npy file`);
  });

  test('a missing preload file stops the start with a message naming it', async () => {
    const { code, stderr } = await runServer({ ROWPOOL_PRELOAD: `gone=${join(dir, 'missing.npy')}` });
    expect(code).toBe(1);
    expect(stderr).toMatch(/ROWPOOL_PRELOAD gone=.*missing\.npy: ENOENT/);
  });
});

describe('graceful shutdown', () => {
  const gate = new Gate();
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await testApp({ threads: 2, shutdownGraceSeconds: 30 }, gate.appOptions());
  });
  afterAll(async () => {
    gate.release(1000);
    await app.close();
  });

  test('stops taking uploads and jobs, lets running jobs finish, and is not ready meanwhile', async () => {
    const data = new Float64Array(4 * 1024).map((_, i) => i);
    const created = await app.inject({
      method: 'POST',
      url: '/v1/datasets?dtype=float64&shape=4,1024',
      headers: { 'content-type': 'application/octet-stream' },
      payload: Buffer.from(data.buffer),
    });
    const id = created.json().id;
    const job = (
      await app.inject({ method: 'POST', url: `/v1/datasets/${id}/jobs`, payload: { op: 'median' } })
    ).json();
    expect((await app.inject({ method: 'GET', url: '/readyz' })).json()).toEqual({ status: 'ready' });

    let finished = false;
    const stopping = app.rowpool.shutdown().then(() => {
      finished = true;
    });
    const readyz = await app.inject({ method: 'GET', url: '/readyz' });
    expect(readyz.statusCode).toBe(503);
    expect(readyz.json()).toEqual({ status: 'not ready', reason: 'shutting down' });
    const upload = await app.inject({ method: 'POST', url: '/v1/datasets', payload: { data: [1] } });
    expect(upload.statusCode).toBe(503);
    expect(upload.json().message).toMatch(/shutting down/);
    const newJob = await app.inject({
      method: 'POST',
      url: `/v1/datasets/${id}/jobs`,
      payload: { op: 'sum' },
    });
    expect(newJob.statusCode).toBe(503);
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect(finished).toBe(false);

    gate.release(100);
    await stopping;
    const ended = (await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}` })).json();
    expect(ended.status).toBe('succeeded');
  });
});

describe('shutdown past the grace period', () => {
  test('cancels the jobs still running', async () => {
    const gate = new Gate();
    const app = await testApp({ threads: 1, shutdownGraceSeconds: 0 }, gate.appOptions());
    try {
      const id = (
        await app.inject({ method: 'POST', url: '/v1/datasets', payload: { data: [[1, 2]] } })
      ).json().id;
      const job = (
        await app.inject({ method: 'POST', url: `/v1/datasets/${id}/jobs`, payload: { op: 'median' } })
      ).json();
      await app.rowpool.shutdown();
      const ended = (await app.inject({ method: 'GET', url: `/v1/jobs/${job.id}` })).json();
      expect(ended.status).toBe('cancelled');
    } finally {
      gate.release(1000);
      await app.close();
    }
  });
});

describe('readiness at start', () => {
  test('is 503 until the pool has answered, and start fails when the workers cannot load', async () => {
    const broken = await buildApp(testConfig({ threads: 1 }), {
      logger: false,
      workerFile: new URL('../fixtures/workers/no-such-worker.js', import.meta.url),
    });
    try {
      const before = await broken.inject({ method: 'GET', url: '/readyz' });
      expect(before.statusCode).toBe(503);
      expect(before.json().reason).toMatch(/^starting/);
      await expect(broken.rowpool.start()).rejects.toThrow();
      expect((await broken.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
      expect((await broken.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await broken.close();
    }
  });
});
