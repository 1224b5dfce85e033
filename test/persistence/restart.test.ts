import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { sampleBytes, swapBytes, toFortran } from '../helpers/arrays.js';
import { npyFile } from '../helpers/npy.js';
import { killAllNodes, type NodeProcess, startNode } from './node-process.js';

interface Info {
  id: string;
  name: string | null;
  dtype: string;
  shape: number[];
  bytes: number;
  createdAt: string;
}

interface Listing {
  datasets: Info[];
  memory: { usedBytes: number };
}

let dir: string;
let node: NodeProcess | undefined;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rowpool-durable-'));
});
afterEach(async () => {
  await node?.kill9();
  node = undefined;
});
afterAll(async () => {
  await killAllNodes();
  rmSync(dir, { recursive: true, force: true });
});

async function start(env: Record<string, string> = {}): Promise<NodeProcess> {
  node = await startNode({ ROWPOOL_DATA_DIR: dir, ROWPOOL_MEMORY_LIMIT: '256MiB', ...env });
  return node;
}

async function upload(url: string, path: string, type: string, body: Buffer | string): Promise<Info> {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': type }, body });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as Info;
}

async function list(url: string): Promise<Info[]> {
  const res = await fetch(`${url}/v1/datasets`);
  const infos = ((await res.json()) as Listing).datasets;
  return infos.sort((a, b) => a.id.localeCompare(b.id));
}

async function data(url: string, id: string): Promise<Buffer> {
  const res = await fetch(`${url}/v1/datasets/${id}/data`);
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

/** Sends an .npy header and the first `sent` bytes of its data, then stalls; never resolves. */
function stalledUpload(port: number, shape: number[], sent: number): Promise<void> {
  const body = npyFile('<f8', shape, new Uint8Array(sent));
  const total = body.length - sent + shape.reduce((a, b) => a * b) * 8;
  return new Promise((resolve) => {
    const req = http.request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/v1/datasets?name=never-finished',
      headers: { 'content-type': 'application/x-npy', 'content-length': total },
    });
    req.on('error', () => {});
    req.write(body, () => resolve());
  });
}

/** The files of the data directory, sorted. */
const files = () => readdirSync(dir).sort();

/** Each test starts two or more server processes, on a machine that may be busy. */
const PROCESS_TEST_MS = 120_000;

describe('ROWPOOL_DATA_DIR across kill -9', () => {
  test(
    'exactly the completed uploads come back, with the same ids, names, metadata and bytes',
    async () => {
      const a = await start();
      const f32 = sampleBytes('float32', 1000 * 16, 3);
      const be = swapBytes(toFortran(sampleBytes('int32', 50 * 7, 4), [50, 7], 4), 4);
      const uploaded = [
        await upload(
          a.url,
          '/v1/datasets?name=embeddings',
          'application/x-npy',
          npyFile('<f4', [1000, 16], f32),
        ),
        await upload(
          a.url,
          '/v1/datasets?name=fortran-be',
          'application/x-npy',
          npyFile('>i4', [50, 7], be, true),
        ),
        await upload(a.url, '/v1/datasets?name=table', 'text/csv', 'a,b,c\n1,2,3\n4.5,nan,-inf\n'),
        await upload(
          a.url,
          '/v1/datasets',
          'application/json',
          '{"dtype":"int16","data":[[1,2],[3,4]],"name":"j"}',
        ),
        await upload(
          a.url,
          '/v1/datasets?dtype=uint8&shape=3,5',
          'application/octet-stream',
          Buffer.from(sampleBytes('uint8', 15, 5)),
        ),
      ];
      const before = await list(a.url);
      const bytes = new Map<string, Buffer>();
      for (const info of uploaded) bytes.set(info.id, await data(a.url, info.id));

      // A 64 MiB upload whose client has sent 1 MiB: its memory is reserved, nothing is complete.
      await stalledUpload(a.port, [8192, 1024], 2 ** 20);
      await expect
        .poll(
          async () => ((await (await fetch(`${a.url}/v1/datasets`)).json()) as Listing).memory.usedBytes,
          {
            timeout: 5000,
          },
        )
        .toBeGreaterThan(64 * 2 ** 20);
      await a.kill9();
      node = undefined;

      // What a crash in the middle of a write or a delete leaves, beside the real files.
      const [torn, orphanJson, truncated, garbled] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
      const header = (id: string) =>
        `{"version":1,"id":"${id}","name":"x","dtype":"float64","shape":[4],"bytes":32,"createdAt":"2026-01-01T00:00:00.000Z"}`;
      writeFileSync(join(dir, `${randomUUID()}.npy.${randomUUID()}.tmp`), 'partial');
      writeFileSync(join(dir, `${torn}.npy`), npyFile('<f8', [4], new Uint8Array(32)));
      writeFileSync(join(dir, `${orphanJson}.json`), header(orphanJson));
      writeFileSync(join(dir, `${truncated}.npy`), npyFile('<f8', [4], new Uint8Array(31)));
      writeFileSync(join(dir, `${truncated}.json`), header(truncated));
      writeFileSync(join(dir, `${garbled}.npy`), npyFile('<f8', [4], new Uint8Array(32)));
      writeFileSync(join(dir, `${garbled}.json`), header(garbled).slice(0, 40));
      writeFileSync(join(dir, 'notes.txt'), 'not rowpool’s');

      const b = await start();
      expect(await list(b.url)).toEqual(before);
      for (const info of uploaded)
        expect((await data(b.url, info.id)).equals(bytes.get(info.id)!)).toBe(true);
      expect(b.output()).toContain('discarded an incomplete dataset file');
      expect(files()).toEqual(
        [...uploaded.flatMap((d) => [`${d.id}.json`, `${d.id}.npy`]), 'notes.txt'].sort(),
      );
      // Restored datasets are served like any other: a job runs on them.
      const job = await fetch(`${b.url}/v1/datasets/${uploaded[0].id}/jobs?wait=20`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"op":"sum"}',
      });
      expect(((await job.json()) as { status: string }).status).toBe('succeeded');
    },
    PROCESS_TEST_MS,
  );

  test(
    'a delete is on disk before its 204: after kill -9 the dataset stays gone',
    async () => {
      const a = await start();
      const keep = (await list(a.url))[0];
      const gone = (await list(a.url))[1];
      expect((await fetch(`${a.url}/v1/datasets/${gone.id}`, { method: 'DELETE' })).status).toBe(204);
      expect(files().some((f) => f.startsWith(gone.id))).toBe(false);
      await a.kill9();
      const b = await start();
      const ids = (await list(b.url)).map((d) => d.id);
      expect(ids).toContain(keep.id);
      expect(ids).not.toContain(gone.id);
      expect((await fetch(`${b.url}/v1/datasets/${gone.id}`)).status).toBe(404);
    },
    PROCESS_TEST_MS,
  );

  test(
    'kill -9 just after a body is sent: a dataset whose 201 came is back whole, none is half there',
    async () => {
      await start();
      const count = 4 * 2 ** 20;
      const payload = npyFile('<f8', [count / 64, 64], sampleBytes('float64', count, 9));
      for (const delayMs of [0, 30, 120, 400]) {
        const known = new Set((await list(node!.url)).map((d) => d.id));
        const name = `race-${delayMs}`;
        let created: Info | undefined;
        const answer = fetch(`${node!.url}/v1/datasets?name=${name}`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-npy' },
          body: payload,
        })
          .then(async (res) => {
            if (res.status === 201) created = (await res.json()) as Info;
          })
          .catch(() => {});
        await new Promise((r) => setTimeout(r, delayMs));
        await node!.kill9();
        await answer;
        const b = await start();
        const fresh = (await list(b.url)).filter((d) => !known.has(d.id));
        if (created !== undefined) expect(fresh.map((d) => d.id)).toEqual([created.id]);
        expect(fresh.length).toBeLessThanOrEqual(1);
        for (const d of fresh) {
          expect(d.name).toBe(name);
          expect((await data(b.url, d.id)).equals(payload)).toBe(true);
          expect((await fetch(`${b.url}/v1/datasets/${d.id}`, { method: 'DELETE' })).status).toBe(204);
        }
      }
    },
    3 * PROCESS_TEST_MS,
  );

  test(
    'datasets that do not fit the memory limit are reported on /readyz and kept for a later start',
    async () => {
      const a = await start();
      const big = await upload(
        a.url,
        '/v1/datasets?name=big&dtype=float64&shape=262144',
        'application/octet-stream',
        Buffer.alloc(2 * 2 ** 20, 1),
      );
      const all = await list(a.url);
      await a.kill9();

      const small = await start({ ROWPOOL_MEMORY_LIMIT: '1MiB' });
      const ready = await fetch(`${small.url}/readyz`);
      expect(ready.status).toBe(200);
      const body = (await ready.json()) as { datasetsNotLoaded: { id: string; reason: string }[] };
      expect(body.datasetsNotLoaded.map((d) => d.id)).toEqual([big.id]);
      expect(body.datasetsNotLoaded[0].reason).toMatch(/ROWPOOL_MEMORY_LIMIT/);
      expect((await list(small.url)).map((d) => d.id)).not.toContain(big.id);
      expect(files()).toContain(`${big.id}.npy`);
      await small.kill9();

      const roomy = await start();
      expect(await list(roomy.url)).toEqual(all);
      expect((await (await fetch(`${roomy.url}/readyz`)).json()) as object).toEqual({ status: 'ready' });
    },
    PROCESS_TEST_MS,
  );
});
