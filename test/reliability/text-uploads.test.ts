import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { npyWithHeader } from '../helpers/npy.js';
import { killAllNodes, type NodeProcess, startNode } from '../persistence/node-process.js';
import { serverLagMs, startProber } from './prober.js';
import { type LiveServer, liveServer, streamingRequest, worstHealthz, writeAll } from './server.js';

// Finding 1 and 2: text uploads were parsed whole in memory, outside the limit, on the event loop.
const LIMIT = 32 * 2 ** 20;
let server: LiveServer;

beforeAll(async () => {
  server = await liveServer({ memoryLimit: LIMIT, textBodyLimit: 128 * 2 ** 20 });
});
afterAll(async () => {
  await server.close();
});

function post(contentType: string, body: Buffer | string, query = '') {
  const data = typeof body === 'string' ? Buffer.from(body) : body;
  return streamingRequest(
    server.port,
    `/v1/datasets${query}`,
    { 'content-type': contentType, 'content-length': data.length },
    (req) => writeAll(req, data),
  );
}

test('a 64 MB one-column CSV is refused with 413 under a small limit, without a crash or a stall', async () => {
  const csv = Buffer.from('1\n'.repeat(33_554_431));
  const started = performance.now();
  const answer = post('text/csv', csv);
  const worst = await worstHealthz(server.port, answer);
  const { status, body } = await answer;
  const seconds = (performance.now() - started) / 1000;
  console.log(`64 MB CSV: ${status} in ${seconds.toFixed(1)} s; slowest /healthz ${worst.toFixed(0)} ms`);
  expect(status, body).toBe(413);
  expect(JSON.parse(body).message).toMatch(/ROWPOOL_MEMORY_LIMIT/);
  // The client shares this process and the machine is shared: spikes above 100 ms come from both.
  expect(worst).toBeLessThan(300);
  expect(await server.used()).toBe(0);
}, 60_000);

test('a CSV that fits is stored whole, streamed, with the right shape', async () => {
  const rows = 200_000;
  const csv = `a,b\n${Array.from({ length: rows }, (_, i) => `${i},${i / 2}`).join('\n')}\n`;
  const { status, body } = await post('text/csv', csv);
  expect(status, body).toBe(201);
  const dataset = JSON.parse(body);
  expect(dataset).toMatchObject({ shape: [rows, 2], bytes: rows * 16 });
  const data = Buffer.from(
    await (await fetch(`http://127.0.0.1:${server.port}/v1/datasets/${dataset.id}/data`)).arrayBuffer(),
  );
  const values = new Float64Array(data.buffer.slice(data.byteOffset + data.length - rows * 16));
  expect([values[0], values[1], values[2 * 1234], values[2 * 1234 + 1]]).toEqual([0, 0, 1234, 617]);
  await fetch(`http://127.0.0.1:${server.port}/v1/datasets/${dataset.id}`, { method: 'DELETE' });
  expect(await server.used()).toBe(0);
});

test('a 10M-digit CSV field is a 400 naming the line limit, not a stack overflow', async () => {
  const { status, body } = await post('text/csv', `1,${'9'.repeat(10_000_000)}\n`);
  expect(status).toBe(400);
  expect(JSON.parse(body).message).toMatch(/longer than 1048576 characters/);
  expect(await server.used()).toBe(0);
});

test('a long CSV field is a 400 naming the field limit', async () => {
  const { status, body } = await post('text/csv', `1,${'9'.repeat(500)}\n`);
  expect(status).toBe(400);
  expect(JSON.parse(body).message).toMatch(/at most 100/);
});

test('JSON nested 10,000 deep is a 400 saying the maximum depth', async () => {
  const json = `{"data": ${'['.repeat(10_000)}1${']'.repeat(10_000)}}`;
  const { status, body } = await post('application/json', json);
  expect(status).toBe(400);
  expect(JSON.parse(body).message).toMatch(/more than 32 lists deep; at most 32 dimensions/);
  expect(await server.used()).toBe(0);
});

test('JSON 32 deep is accepted', async () => {
  const json = `{"data": ${'['.repeat(32)}1${']'.repeat(32)}, "dtype": "int8"}`;
  const { status, body } = await post('application/json', json);
  expect(status, body).toBe(201);
  const dataset = JSON.parse(body);
  expect(dataset.shape).toEqual(new Array(32).fill(1));
  await fetch(`http://127.0.0.1:${server.port}/v1/datasets/${dataset.id}`, { method: 'DELETE' });
});

test('a large JSON upload is refused with 413 as it grows past the limit', async () => {
  const json = `{"data": [${new Array(5_000_000).fill('1.5').join(',')}]}`;
  const { status, body } = await post('application/json', json);
  expect(status, body).toBe(413);
  expect(await server.used()).toBe(0);
}, 30_000);

test('dtype given after data is applied to the values', async () => {
  const { status, body } = await post(
    'application/json',
    '{"data": [[1, 2], [3, 4]], "dtype": "uint8", "name": "late"}',
  );
  expect(status, body).toBe(201);
  const dataset = JSON.parse(body);
  expect(dataset).toMatchObject({ dtype: 'uint8', shape: [2, 2], bytes: 4, name: 'late' });
  await fetch(`http://127.0.0.1:${server.port}/v1/datasets/${dataset.id}`, { method: 'DELETE' });
});

test('an .npy header nested thousands deep is a 400, not a stack overflow', async () => {
  const deep = `{'descr': '<f8', 'fortran_order': False, 'shape': ${'('.repeat(4100)}1${',)'.repeat(4100)}, }`;
  const { status, body } = await post('application/x-npy', npyWithHeader(deep));
  expect(status).toBe(400);
  expect(JSON.parse(body).message).toMatch(/nesting deeper than 64 levels/);
});

test.each([
  ["u'<f8' unicode literal", "{'descr': u'<f8', 'fortran_order': False, 'shape': (2,), }", 201, /float64/],
  [
    'shape (5L) is not a tuple',
    "{'descr': '<f8', 'fortran_order': False, 'shape': (2L), }",
    400,
    /not a tuple/,
  ],
  [
    'shape as a list',
    "{'descr': '<f8', 'fortran_order': False, 'shape': [2], }",
    400,
    /\[2\] is not a tuple/,
  ],
  [
    '65 dimensions',
    `{'descr': '<f8', 'fortran_order': False, 'shape': (${new Array(65).fill(1).join(', ')}), }`,
    400,
    /65 dimensions; at most 64/,
  ],
] as const)('.npy header: %s', async (_name, dict, status, message) => {
  const { status: got, body } = await post('application/x-npy', npyWithHeader(dict, new Uint8Array(16)));
  expect(got, body).toBe(status);
  expect(body).toMatch(message);
  if (got === 201)
    await fetch(`http://127.0.0.1:${server.port}/v1/datasets/${JSON.parse(body).id}`, { method: 'DELETE' });
});

test('.npy minor version 1 is refused, naming it', async () => {
  const file = npyWithHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(16));
  file[7] = 1;
  const { status, body } = await post('application/x-npy', file);
  expect(status).toBe(400);
  expect(JSON.parse(body).message).toMatch(/version 1\.1 is not supported/);
});

test.each([
  ['a lone header line', 'a,b\n', /line 1 .*no numeric field.*a data line follows/],
  ['a name line after data', '1,2\na,b\n', /line 2, column 1 is "a"/],
  ['a header then a blank then nothing', 'a,b\n\n', /no data rows/],
] as const)('CSV: %s', async (_name, csv, message) => {
  const { status, body } = await post('text/csv', csv);
  expect(status).toBe(400);
  expect(JSON.parse(body).message).toMatch(message);
});

describe('big text uploads to a server in its own process', () => {
  // /healthz is timed from a third process, so neither the uploading client nor the prober shares
  // the server's event loop.
  let node: NodeProcess;
  beforeAll(async () => {
    node = await startNode({ ROWPOOL_MEMORY_LIMIT: '256MiB', ROWPOOL_TEXT_BODY_LIMIT: '128MiB' });
  }, 60_000);
  afterAll(async () => {
    await killAllNodes();
  });

  // CSV is parsed at about a quarter of JSON's pace, so it gets half the rows to stay well within
  // the time a test may take on a loaded machine; bench/big-result.ts measures 16Mi of each.
  test.each([
    ['a 32 MiB CSV of 8Mi one-column rows', 'text/csv', 8 * 2 ** 20, (rows: number) => '0.5\n'.repeat(rows)],
    [
      'a 64 MiB JSON list of 16Mi values',
      'application/json',
      16 * 2 ** 20,
      (rows: number) => `{"data":[${new Array(rows).fill('0.5').join(',')}]}`,
    ],
  ] as const)(
    '%s is stored while /healthz answers within 100 ms',
    // Once in a while one answer is held 70-110 ms for a cause not found (not a collection, not the
    // buffer's growth; traced); a second upload tells that apart from a loop held by the parser.
    { timeout: 60_000, retry: 1 },
    async (name, type, rows, make) => {
      const body = Buffer.from(make(rows));
      await serverLagMs(node.port);
      const prober = await startProber(node.port, node.child.pid!);
      const started = performance.now();
      const { status, body: answer } = await streamingRequest(
        node.port,
        '/v1/datasets',
        { 'content-type': type, 'content-length': body.length },
        (req) => writeAll(req, body),
      );
      const seconds = (performance.now() - started) / 1000;
      const probed = await prober.stop();
      const lag = await serverLagMs(node.port);
      console.log(
        `${name}: ${status} in ${seconds.toFixed(1)} s; slowest /healthz ${probed.slowest.join(', ')} of ` +
          `${probed.count}; held by the server ${probed.held.toFixed(0)} ms; its own longest event-loop delay ${lag.toFixed(0)} ms`,
      );
      expect(status, answer).toBe(201);
      const dataset = JSON.parse(answer);
      expect(dataset).toMatchObject({ dtype: 'float64', shape: type === 'text/csv' ? [rows, 1] : [rows] });
      expect((await fetch(`${node.url}/v1/datasets/${dataset.id}`, { method: 'DELETE' })).status).toBe(204);
      // Parsing runs 16 KiB (CSV) or one chunk (JSON) at a time, with a turn of the loop every 10 ms.
      // On a loaded machine the server may wait for a CPU for over 100 ms, which no code can prevent:
      // /healthz then answers late though the server's main thread did not run meanwhile, so what is
      // asserted is the longest any answer was held by a server that was running (see Probed.held).
      // The server's own lag metric counts the waits for a CPU too, so it is logged, not asserted.
      expect(probed.held).toBeLessThan(100);
    },
  );
});
