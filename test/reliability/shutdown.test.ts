import { spawn } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { npyWithHeader } from '../helpers/npy.js';

// Finding 6: SIGTERM with a slow upload in flight exited 1 after 20 s.
const SERVER = fileURLToPath(new URL('../../src/server.ts', import.meta.url));

test('SIGTERM with a slow upload in flight: the upload ends with 503 and the process exits 0 within the grace', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER], {
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: '0',
      ROWPOOL_THREADS: '1',
      ROWPOOL_SHUTDOWN_GRACE: '1',
      ROWPOOL_MEMORY_LIMIT: '256MiB',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 40_000);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c;
      const match = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (match && out.includes('"msg":"ready"')) resolve(Number(match[1]));
    });
  });
  const bytes = 128 * 2 ** 20;
  const header = npyWithHeader(`{'descr': '<f8', 'fortran_order': False, 'shape': (${bytes / 8},), }`);
  let trickle: NodeJS.Timeout | undefined;
  const answer = new Promise<number>((resolve) => {
    const req = http.request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/v1/datasets',
      headers: { 'content-type': 'application/x-npy', 'content-length': header.length + bytes },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(-1));
    req.write(header);
    trickle = setInterval(() => req.write(Buffer.alloc(1024)), 100);
  });
  await new Promise((resolve) => setTimeout(resolve, 500));
  const signalled = Date.now();
  child.kill('SIGTERM');
  const status = await answer;
  clearInterval(trickle);
  const code = await exited;
  clearTimeout(killer);
  const seconds = (Date.now() - signalled) / 1000;
  console.log(`SIGTERM with a slow upload: ${status}, exit ${code} after ${seconds.toFixed(1)} s`);
  expect(status).toBe(503);
  expect(code).toBe(0);
  expect(seconds).toBeLessThan(1 + 5);
}, 60_000);
