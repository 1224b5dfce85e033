import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Gate } from '../fixtures/workers/gate.js';
import { testApp } from '../helpers/app.js';
import {
  type ContractClient,
  checkResponse,
  contractClient,
  loadOpenApi,
  type OpenApiDoc,
  validatorFor,
} from '../helpers/contract.js';
import { bytesOf, npyFile } from '../helpers/npy.js';
import { buildKernel, REFUSED } from '../user-kernels/wat-modules.js';

/*
 * One realistic session against the service in which every response is checked against openapi.yaml
 * (status documented, content type documented, documented headers present, JSON body valid). The last
 * test checks that the session (and a second one with tokens set) reached every documented response,
 * so a new route or status needs a scenario here.
 */

const doc: OpenApiDoc = loadOpenApi();
const MEMORY_LIMIT = 16 * 2 ** 20;
// The gated worker holds `median` chunks until the test hands out permits, and fails `sum` over rows of 13.
const gate = new Gate();
let app: FastifyInstance;
let api: ContractClient;
let securedApi: ContractClient;

const release = (permits: number) => gate.release(permits);

beforeAll(async () => {
  app = await testApp({ memoryLimit: MEMORY_LIMIT, textBodyLimit: 64 * 1024, threads: 2 }, gate.appOptions());
  api = contractClient(app, doc);
});
afterAll(async () => {
  release(1_000_000);
  await app.close();
});

const f64 = (values: number[]) => bytesOf(new Float64Array(values));

function multipart(file: Buffer, name: string): { body: Buffer; type: string } {
  const boundary = '----rowpool-contract';
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\n${name}\r\n`),
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.npy"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    ),
    file,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { body, type: `multipart/form-data; boundary=${boundary}` };
}

async function upload(payload: Buffer | string | object, contentType: string, query = '') {
  const res = await api.inject({
    method: 'POST',
    url: `/v1/datasets${query}`,
    headers: { 'content-type': contentType },
    payload: payload as string,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; name: string | null; dtype: string; shape: number[]; bytes: number };
}

async function submit(datasetId: string, body: object, query = '?wait=5') {
  return api.inject({ method: 'POST', url: `/v1/datasets/${datasetId}/jobs${query}`, payload: body });
}

const ids: Record<string, string> = {};

function documentedExample(method: string, path: string, status: number): unknown {
  return doc.paths[path][method].responses[status].content?.['application/json'].example;
}

describe('datasets', () => {
  test('the probes answer', async () => {
    expect((await api.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await api.inject({ method: 'GET', url: '/readyz' })).json()).toEqual({ status: 'ready' });
  });

  test('every documented upload content type stores a dataset', async () => {
    const documented = Object.keys(doc.paths['/v1/datasets'].post.requestBody?.content ?? {});
    expect(documented.sort()).toEqual(
      [
        'application/csv',
        'application/json',
        'application/octet-stream',
        'application/x-npy',
        'multipart/form-data',
        'text/csv',
      ].sort(),
    );
    // 4 rows x 3: row r is [r, r + 1, r + 2].
    const rows = f64([0, 1, 2, 1, 2, 3, 2, 3, 4, 3, 4, 5]);
    const npy = npyFile('<f8', [4, 3], rows);

    const viaNpy = await upload(npy, 'application/x-npy', '?name=npy');
    expect(viaNpy).toMatchObject({ name: 'npy', dtype: 'float64', shape: [4, 3], bytes: 96 });
    ids.npy = viaNpy.id;

    const raw = await upload(
      Buffer.from(rows),
      'application/octet-stream',
      '?dtype=float64&shape=4,3&name=raw',
    );
    expect(raw).toMatchObject({ name: 'raw', dtype: 'float64', shape: [4, 3] });

    const sniffed = await upload(npy, 'application/octet-stream');
    expect(sniffed).toMatchObject({ name: null, dtype: 'float64', shape: [4, 3] });

    const form = multipart(npyFile('<i4', [2, 2], bytesOf(new Int32Array([1, 2, 3, 4]))), 'form');
    expect(await upload(form.body, form.type)).toMatchObject({ name: 'form', dtype: 'int32', shape: [2, 2] });

    const csv = await upload('a,b\n1,2\n3,nan\n', 'text/csv', '?dtype=float32');
    expect(csv).toMatchObject({ dtype: 'float32', shape: [2, 2], bytes: 16 });
    expect(await upload('1,2\n', 'application/csv')).toMatchObject({ dtype: 'float64', shape: [1, 2] });

    const json = await upload({ name: 'json', dtype: 'int16', data: [1, 2, 3] }, 'application/json');
    expect(json).toMatchObject({ name: 'json', dtype: 'int16', shape: [3], bytes: 6 });
    ids.json = json.id;

    // Rows of 13: the gated worker fails every `sum` over them.
    ids.faulty = (await upload({ data: [Array.from({ length: 13 }, (_, i) => i)] }, 'application/json')).id;
  });

  test('listing, describing and downloading', async () => {
    const list = await api.inject({ method: 'GET', url: '/v1/datasets' });
    expect(list.statusCode).toBe(200);
    const { datasets, memory } = list.json();
    expect(datasets).toHaveLength(8);
    expect(memory.limitBytes).toBe(MEMORY_LIMIT);
    expect(memory.usedBytes + memory.freeBytes).toBe(MEMORY_LIMIT);
    const named = await api.inject({ method: 'GET', url: '/v1/datasets?name=npy' });
    expect(named.json().datasets.map((d: { id: string }) => d.id)).toEqual([ids.npy]);
    const unknown = await api.inject({ method: 'GET', url: '/v1/datasets?colour=red' });
    expect(unknown.statusCode).toBe(400);

    const one = await api.inject({ method: 'GET', url: `/v1/datasets/${ids.npy}` });
    expect(one.json()).toMatchObject({ id: ids.npy, rows: 4, rowLength: 3 });

    const data = await api.inject({ method: 'GET', url: `/v1/datasets/${ids.npy}/data` });
    expect(data.statusCode).toBe(200);
    expect(data.headers['content-disposition']).toBe(`attachment; filename="${ids.npy}.npy"`);
    expect(data.rawPayload.subarray(0, 6).toString('latin1')).toBe('\x93NUMPY');

    const gone = await api.inject({ method: 'DELETE', url: `/v1/datasets/${ids.json}` });
    expect(gone.statusCode).toBe(204);
  });

  test.each([
    [
      'an .npy that is not one',
      'application/x-npy',
      Buffer.from('not an npy file'),
      '',
      400,
      'ROWPOOL_INVALID_NPY',
    ],
    [
      'raw bytes with a bad shape',
      'application/octet-stream',
      Buffer.alloc(8),
      '?dtype=float64&shape=x',
      400,
      'ROWPOOL_INVALID_DATASET',
    ],
    [
      'a JSON body with an unknown field',
      'application/json',
      JSON.stringify({ data: [1], colour: 'red' }),
      '',
      400,
      'ROWPOOL_INVALID_DATASET',
    ],
    [
      'an array larger than the memory limit',
      'application/x-npy',
      npyFile('<f8', [2 ** 30], new Uint8Array(64)),
      '',
      413,
      'ROWPOOL_INSUFFICIENT_MEMORY',
    ],
    [
      'a JSON body over the text limit',
      'application/json',
      JSON.stringify({ data: new Array(40_000).fill(1) }),
      '',
      413,
      'ROWPOOL_BODY_TOO_LARGE',
    ],
    ['a type rowpool does not read', 'text/plain', '1,2,3', '', 415, 'ROWPOOL_UNSUPPORTED_MEDIA_TYPE'],
    [
      'a complex dtype',
      'application/x-npy',
      npyFile('<c16', [1], new Uint8Array(16)),
      '',
      422,
      'ROWPOOL_UNSUPPORTED_DTYPE',
    ],
  ])('%s is refused', async (_what, type, payload, query, status, code) => {
    const res = await api.inject({
      method: 'POST',
      url: `/v1/datasets${query}`,
      headers: { 'content-type': type },
      payload,
    });
    expect(res.statusCode, res.body).toBe(status);
    expect(res.json().code).toBe(code);
    // These two are answered word for word as the document's examples show.
    if (status === 415 || status === 422)
      expect(res.json()).toEqual(documentedExample('post', '/v1/datasets', status));
  });

  test.each([
    ['GET', '/v1/datasets/nope'],
    ['GET', '/v1/datasets/nope/data'],
    ['DELETE', '/v1/datasets/nope'],
  ] as const)('%s %s is 404', async (method, url) => {
    const res = await api.inject({ method, url });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({
      code: 'ROWPOOL_DATASET_NOT_FOUND',
      message: 'dataset nope not found',
    });
  });
});

describe('jobs', () => {
  test('a job that ends within wait is 200 with the finished job', async () => {
    const notJson = await api.inject({
      method: 'POST',
      url: `/v1/datasets/${ids.npy}/jobs`,
      headers: { 'content-type': 'text/plain' },
      payload: '{"op":"mean"}',
    });
    expect(notJson.statusCode).toBe(415);
    expect(notJson.json()).toEqual(documentedExample('post', '/v1/datasets/{id}/jobs', 415));
    const res = await submit(ids.npy, { op: 'mean' });
    expect(res.statusCode).toBe(200);
    const job = res.json();
    expect(res.headers.location).toBe(`/v1/jobs/${job.id}`);
    expect(job).toMatchObject({ op: 'mean', status: 'succeeded', rows: { start: 0, end: 4 } });
    expect(job.progress).toEqual({ rowsDone: 4, rowsTotal: 4 });
    ids.mean = job.id;

    const result = await api.inject({ method: 'GET', url: `/v1/jobs/${job.id}/result` });
    expect(result.json()).toEqual({ jobId: job.id, dtype: 'float64', shape: [4], data: [1, 2, 3, 4] });
  });

  test('top-k, int64 results, CSV and .npy', async () => {
    const top = await submit(ids.npy, { op: 'dot', params: { vector: [1, 0, 0] }, top: { k: 2 } });
    expect(top.json()).toMatchObject({ status: 'succeeded', top: { k: 2, largest: true } });
    const topResult = await api.inject({ method: 'GET', url: `/v1/jobs/${top.json().id}/result` });
    expect(topResult.json()).toEqual({ jobId: top.json().id, indices: [3, 2], values: [3, 2] });

    const batch = await submit(ids.npy, {
      op: 'dot',
      params: {
        vectors: [
          [1, 0, 0],
          [-1, 0, 0],
        ],
      },
      top: { k: 2 },
    });
    expect(batch.json()).toMatchObject({ status: 'succeeded', queries: 2 });
    const batchResult = await api.inject({ method: 'GET', url: `/v1/jobs/${batch.json().id}/result` });
    expect(batchResult.json()).toMatchObject({
      indices: [
        [3, 2],
        [0, 1],
      ],
    });

    const argmax = await submit(ids.npy, { op: 'argmax', rows: { start: 1, end: 3 } });
    const argmaxResult = await api.inject({ method: 'GET', url: `/v1/jobs/${argmax.json().id}/result` });
    expect(argmaxResult.json()).toMatchObject({ dtype: 'int64', shape: [2], data: [2, 2] });

    const csv = await api.inject({
      method: 'GET',
      url: `/v1/jobs/${ids.mean}/result`,
      headers: { accept: 'text/csv' },
    });
    expect(csv.body).toBe('1\n2\n3\n4\n');
    const npy = await api.inject({
      method: 'GET',
      url: `/v1/jobs/${ids.mean}/result`,
      headers: { accept: 'application/x-npy' },
    });
    expect(npy.headers['content-type']).toBe('application/x-npy');
    expect(npy.rawPayload.subarray(0, 6).toString('latin1')).toBe('\x93NUMPY');

    const refused = await api.inject({
      method: 'GET',
      url: `/v1/jobs/${ids.mean}/result`,
      headers: { accept: 'image/png' },
    });
    expect(refused.statusCode).toBe(406);
    expect(refused.json().code).toBe('ROWPOOL_NOT_ACCEPTABLE');
  });

  test('a job still running is 202, and its result is 409 until it has succeeded', async () => {
    gate.close();
    const res = await submit(ids.npy, { op: 'median' }, '');
    expect(res.statusCode).toBe(202);
    const job = res.json();
    expect(['queued', 'running']).toContain(job.status);
    expect(res.headers.location).toBe(`/v1/jobs/${job.id}`);

    const early = await api.inject({ method: 'GET', url: `/v1/jobs/${job.id}/result` });
    expect(early.statusCode).toBe(409);
    expect(early.json().code).toBe('ROWPOOL_JOB_NOT_SUCCEEDED');

    release(1_000_000);
    const deadline = Date.now() + 10_000;
    let status = job.status;
    while (status !== 'succeeded' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
      status = (await api.inject({ method: 'GET', url: `/v1/jobs/${job.id}` })).json().status;
    }
    expect(status).toBe('succeeded');
    const result = await api.inject({ method: 'GET', url: `/v1/jobs/${job.id}/result` });
    expect(result.json().data).toEqual([1, 2, 3, 4]);
  });

  test('a failed job carries its error, and its result is 409', async () => {
    const res = await submit(ids.faulty, { op: 'sum' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'failed', error: { message: expect.any(String) } });
    const result = await api.inject({ method: 'GET', url: `/v1/jobs/${res.json().id}/result` });
    expect(result.statusCode).toBe(409);
  });

  test('listing and filtering jobs', async () => {
    const all = (await api.inject({ method: 'GET', url: '/v1/jobs' })).json().jobs;
    expect(all.map((j: { op: string }) => j.op)).toEqual(['sum', 'median', 'argmax', 'dot', 'dot', 'mean']);
    expect(all.at(-1).id).toBe(ids.mean);
    const failed = (await api.inject({ method: 'GET', url: '/v1/jobs?status=failed' })).json().jobs;
    expect(failed.map((j: { op: string }) => j.op)).toEqual(['sum']);
    const bad = await api.inject({ method: 'GET', url: '/v1/jobs?status=done' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual(documentedExample('get', '/v1/jobs', 400));
  });

  test('events stream a job that has ended as one end event; cancel keeps the record', async () => {
    const events = await api.inject({ method: 'GET', url: `/v1/jobs/${ids.mean}/events` });
    expect(events.headers['content-type']).toMatch(/^text\/event-stream/);
    const frames = events.body.split('\n\n').filter((f) => f.trim() !== '');
    expect(frames).toHaveLength(1);
    expect(frames[0]).toMatch(/^event: end\n/);
    const data = JSON.parse(/\ndata: (.*)/.exec(frames[0])![1]);
    expect(data).toMatchObject({
      id: ids.mean,
      status: 'succeeded',
      progress: { rowsDone: 4, rowsTotal: 4 },
    });
    const json = await api.inject({
      method: 'GET',
      url: `/v1/jobs/${ids.mean}/events`,
      headers: { accept: 'application/json' },
    });
    expect(json.statusCode).toBe(406);

    gate.close();
    const running = (await submit(ids.npy, { op: 'median' }, '')).json();
    const cancelled = await api.inject({ method: 'POST', url: `/v1/jobs/${running.id}/cancel` });
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json()).toMatchObject({
      id: running.id,
      status: 'cancelled',
      error: { message: 'cancelled by request' },
    });
    release(1_000_000);
    const kept = await api.inject({ method: 'GET', url: `/v1/jobs/${running.id}` });
    expect(kept.json().status).toBe('cancelled');
    expect((await api.inject({ method: 'DELETE', url: `/v1/jobs/${running.id}` })).statusCode).toBe(204);

    const format = await api.inject({ method: 'GET', url: `/v1/jobs/${ids.mean}/result?format=xml` });
    expect(format.statusCode).toBe(400);
    expect(format.json()).toEqual(documentedExample('get', '/v1/jobs/{id}/result', 400));
    const csv = await api.inject({ method: 'GET', url: `/v1/jobs/${ids.mean}/result?format=csv` });
    expect(csv.body).toBe('1\n2\n3\n4\n');
    expect(csv.headers['content-disposition']).toBe(`attachment; filename="${ids.mean}.csv"`);
  });

  test('bad specs are 400, unknown ids 404', async () => {
    const vector = await submit(ids.npy, { op: 'cosine', params: { vector: [1, 2] } });
    expect(vector.statusCode).toBe(400);
    expect(vector.json().code).toBe('ROWPOOL_INVALID_JOB');
    const schema = await submit(ids.npy, { op: 'frobnicate' });
    expect(schema.statusCode).toBe(400);
    expect(schema.json().code).toBe('FST_ERR_VALIDATION');

    const noDataset = await submit('nope', { op: 'sum' });
    expect(noDataset.statusCode).toBe(404);
    expect(noDataset.json().code).toBe('ROWPOOL_DATASET_NOT_FOUND');
    for (const [method, url] of [
      ['GET', '/v1/jobs/nope'],
      ['GET', '/v1/jobs/nope/result'],
      ['DELETE', '/v1/jobs/nope'],
    ] as const) {
      const res = await api.inject({ method, url });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ code: 'ROWPOOL_JOB_NOT_FOUND', message: 'job nope not found' });
    }
  });

  test('deleting a job', async () => {
    expect((await api.inject({ method: 'DELETE', url: `/v1/jobs/${ids.mean}` })).statusCode).toBe(204);
    expect((await api.inject({ method: 'GET', url: `/v1/jobs/${ids.mean}` })).statusCode).toBe(404);
  });

  test('a result that does not fit in memory is 413', async () => {
    // A 1-D float64 array's result is as large as the array: two of them do not fit in the limit.
    const rows = Math.floor((0.6 * MEMORY_LIMIT) / 8);
    const big = await upload(
      Buffer.alloc(rows * 8),
      'application/octet-stream',
      `?dtype=float64&shape=${rows}`,
    );
    const res = await submit(big.id, { op: 'sum' });
    expect(res.statusCode).toBe(413);
    expect(res.json().code).toBe('ROWPOOL_INSUFFICIENT_MEMORY');
    expect((await api.inject({ method: 'DELETE', url: `/v1/datasets/${big.id}` })).statusCode).toBe(204);
  });
});

describe('kernels', () => {
  const wasm = (payload: Uint8Array | string, query = '?name=k', type = 'application/wasm') =>
    api.inject({
      method: 'POST',
      url: `/v1/kernels${query}`,
      headers: { 'content-type': type },
      payload: Buffer.from(payload),
    });

  test('upload, list, describe, run and delete a kernel', async () => {
    const created = await wasm(await buildKernel());
    expect(created.statusCode, created.body).toBe(201);
    const kernel = created.json();
    expect(created.headers.location).toBe(`/v1/kernels/${kernel.id}`);
    expect((await api.inject({ method: 'GET', url: '/v1/kernels' })).json().kernels).toEqual([kernel]);
    expect((await api.inject({ method: 'GET', url: `/v1/kernels/${kernel.id}` })).json()).toEqual(kernel);
    const job = await submit(ids.npy, { op: 'kernel', params: { kernel: kernel.id } });
    expect(job.json()).toMatchObject({ op: 'kernel', status: 'succeeded' });
    expect((await api.inject({ method: 'DELETE', url: `/v1/kernels/${kernel.id}` })).statusCode).toBe(204);
    for (const method of ['GET', 'DELETE'] as const) {
      const res = await api.inject({ method, url: `/v1/kernels/${kernel.id}` });
      expect(res.statusCode).toBe(404);
      expect(res.json().code).toBe('ROWPOOL_KERNEL_NOT_FOUND');
    }
  });

  test('bad modules, large ones and other types are refused', async () => {
    const bad = await wasm(await buildKernel(REFUSED.wrongRowsSignature));
    expect(bad.statusCode).toBe(400);
    const example = documentedExample('post', '/v1/kernels', 400) as { code: string; message: string };
    expect(bad.json()).toMatchObject({
      code: example.code,
      message: expect.stringContaining(example.message),
    });
    const large = await wasm(new Uint8Array(17 * 2 ** 20));
    expect(large.statusCode).toBe(413);
    expect(large.json()).toEqual(documentedExample('post', '/v1/kernels', 413));
    const octets = await wasm('\0asm', '?name=k', 'application/octet-stream');
    expect(octets.statusCode).toBe(415);
    expect(octets.json()).toEqual(documentedExample('post', '/v1/kernels', 415));
  });
});

describe('with ROWPOOL_API_TOKEN and ROWPOOL_METRICS_TOKEN set', () => {
  const tokens = { apiToken: 'api-secret', metricsToken: 'metrics-secret' };
  let secured: FastifyInstance;
  beforeAll(async () => {
    secured = await testApp(tokens);
    securedApi = contractClient(secured, doc);
  });
  afterAll(async () => {
    await secured.close();
  });

  const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ method: method.toUpperCase() as 'GET', path, op })),
  );

  test.each(operations)(
    '$method $path answers 401 exactly when it documents it',
    async ({ method, path, op }) => {
      const url = path.replace(/\{[^}]+\}/g, 'no-such-id');
      const token = path === '/metrics' ? tokens.metricsToken : tokens.apiToken;
      const other = path === '/metrics' ? tokens.apiToken : tokens.metricsToken;
      const bare = await securedApi.inject({ method, url });
      if (op.responses['401'] === undefined) {
        expect(op.security).toEqual([]);
        expect(bare.statusCode).not.toBe(401);
        return;
      }
      expect(bare.statusCode).toBe(401);
      expect(bare.headers['www-authenticate']).toBe('Bearer');
      expect(bare.json()).toEqual(documentedExample(method.toLowerCase(), path, 401));
      const wrong = await securedApi.inject({ method, url, headers: { authorization: `Bearer ${other}` } });
      expect(wrong.statusCode).toBe(401);
      // With the token the request gets past auth, to whatever its missing id or body earns it.
      const right = await securedApi.inject({ method, url, headers: { authorization: `Bearer ${token}` } });
      expect(right.statusCode).not.toBe(401);
    },
  );
});

describe('the rest of the surface', () => {
  test('metrics and the document itself', async () => {
    const metrics = await api.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toContain('rowpool_jobs_total{op="mean",status="succeeded"} 1');
    const yaml = await api.inject({ method: 'GET', url: '/openapi.yaml' });
    expect(yaml.body).toContain('openapi: 3.1.0');
  });

  test('while shutting down, readiness is 503 and new uploads and jobs are refused with 503', async () => {
    await app.rowpool.shutdown();
    const ready = await api.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toEqual({ status: 'not ready', reason: 'shutting down' });
    const uploadRes = await api.inject({ method: 'POST', url: '/v1/datasets', payload: { data: [1] } });
    expect(uploadRes.statusCode).toBe(503);
    expect(uploadRes.json()).toEqual(documentedExample('post', '/v1/datasets', 503));
    const jobRes = await submit(ids.npy, { op: 'sum' });
    expect(jobRes.statusCode).toBe(503);
    const kernelRes = await api.inject({
      method: 'POST',
      url: '/v1/kernels?name=late',
      headers: { 'content-type': 'application/wasm' },
      payload: Buffer.from(await buildKernel()),
    });
    expect(kernelRes.statusCode).toBe(503);
    expect(jobRes.json()).toEqual(documentedExample('post', '/v1/datasets/{id}/jobs', 503));
  });

  test('the session reached every documented response', () => {
    const seen = new Set([...api.seen, ...securedApi.seen].map((s) => `${s.method} ${s.path} ${s.status}`));
    const missed: string[] = [];
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        for (const status of Object.keys(op.responses)) {
          const key = `${method.toUpperCase()} ${path} ${status}`;
          if (!seen.has(key)) missed.push(key);
        }
      }
    }
    expect(missed).toEqual([]);
  });
});

describe('the document', () => {
  test('every example validates against its schema', () => {
    let checked = 0;
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const media = [
          ...Object.entries(op.requestBody?.content ?? {}).map(
            ([type, m]) => [`request ${type}`, m] as const,
          ),
          ...Object.entries(op.responses).flatMap(([status, r]) =>
            Object.entries(r.content ?? {}).map(([type, m]) => [`${status} ${type}`, m] as const),
          ),
        ];
        for (const [where, m] of media) {
          const examples = [m.example, ...Object.values(m.examples ?? {}).map((e) => e.value)];
          for (const example of examples.filter((e) => e !== undefined)) {
            if (m.schema === undefined || typeof example === 'string') continue;
            const validate = validatorFor(doc, m.schema);
            expect(validate(example), `${method} ${path} ${where}: ${JSON.stringify(validate.errors)}`).toBe(
              true,
            );
            checked++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(30);
  });

  test('every operation has a unique operationId, a summary and a tag', () => {
    const ops = Object.values(doc.paths).flatMap((item) => Object.values(item));
    const operationIds = ops.map((op) => op.operationId);
    expect(new Set(operationIds).size).toBe(ops.length);
    expect(ops.every((op) => op.summary && op.tags?.length === 1)).toBe(true);
    expect(Object.keys(doc.paths).some((p) => p.startsWith('/docs'))).toBe(false);
  });
});

describe('checkResponse', () => {
  const dataset = documentedExample('post', '/v1/datasets', 201) as Record<string, unknown>;
  const location = { location: '/v1/datasets/x' };
  const check =
    (status: number, type: string | undefined, body: unknown, headers: object = location) =>
    () =>
      checkResponse(doc, 'POST', '/v1/datasets', status, type, body, headers as Record<string, unknown>);

  test('passes a response that keeps the contract', () => {
    expect(check(201, 'application/json; charset=utf-8', dataset)).not.toThrow();
  });

  test.each([
    ['an undocumented status', check(500, 'application/json', {}), /status not documented/],
    [
      'an undocumented content type',
      check(201, 'text/html', '<p>'),
      /content type text\/html not documented/,
    ],
    [
      'a missing field',
      check(201, 'application/json', { ...dataset, rows: undefined }),
      /must have required property 'rows'/,
    ],
    ['a wrong type', check(201, 'application/json', { ...dataset, bytes: '96' }), /\/bytes must be integer/],
    [
      'a bad date-time',
      check(201, 'application/json', { ...dataset, createdAt: 'yesterday' }),
      /must match format "date-time"/,
    ],
    [
      'a missing documented header',
      check(201, 'application/json', dataset, {}),
      /header Location is missing/,
    ],
    [
      'a body where none is documented',
      () => checkResponse(doc, 'DELETE', '/v1/datasets/:id', 204, 'text/plain', 'x'),
      /without a body/,
    ],
    [
      'an undocumented route',
      () => checkResponse(doc, 'PUT', '/v1/datasets', 200, undefined, ''),
      /not in openapi\.yaml/,
    ],
  ])('fails %s', (_what, run, message) => {
    expect(run).toThrow(message);
  });
});
