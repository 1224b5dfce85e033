import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { Kvm } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { ClusterDataset } from '../../src/cluster/dataset-objects.js';
import { UPLOAD_WINDOW } from '../../src/cluster/shard-upload.js';
import { sampleBytes, swapBytes, toFortran } from '../helpers/arrays.js';
import { multipartBody, npyFile } from '../helpers/npy.js';
import { startInProcessNode } from './in-process-node.js';
import { type NatsServer, natsSkipReason, startNatsServer } from './nats-server.js';

/*
 * One node whose memory limit is a quarter of each dataset it takes: every upload format is cut
 * into shards as it arrives, and an upload that fails at any point leaves nothing in JetStream.
 */

const skip = natsSkipReason();
if (skip !== undefined) console.warn(`skipping the streamed upload tests: ${skip}`);

const KiB = 1024;
const MiB = 2 ** 20;
const SHARD_BYTES = 16 * KiB;
const MEMORY_LIMIT = 256 * KiB;

interface Upload {
  readonly contentType: string;
  readonly body: Buffer | Readable;
  readonly query?: string;
}

/** A body sent in pieces of `piece` bytes, with no Content-Length, calling `onPiece` before each. */
function piecewise(body: Buffer, piece: number, onPiece: (sent: number) => void = () => {}): Readable {
  let sent = 0;
  return new Readable({
    read() {
      onPiece(sent);
      if (sent >= body.length) {
        this.push(null);
        return;
      }
      this.push(body.subarray(sent, sent + piece));
      sent += piece;
    },
  });
}

/** Waits until `done` holds, failing past `ms`. */
async function waitFor(done: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await done())) {
    if (performance.now() > deadline) throw new Error(`not done within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function csvOf(values: Float64Array, columns: number): string {
  const lines = [Array.from({ length: columns }, (_, c) => `c${c}`).join(',')];
  for (let r = 0; r < values.length / columns; r++) {
    lines.push(Array.from(values.subarray(r * columns, (r + 1) * columns)).join(','));
  }
  return `${lines.join('\n')}\n`;
}

describe.skipIf(skip !== undefined)('cluster uploads streamed into shards', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let app: FastifyInstance;

  const cluster = () => app.rowpool.cluster!;

  /** The shard objects and dataset entries JetStream holds. */
  const leftovers = async () => {
    const objects = await new Objm(nc).open('rowpool-shards');
    const kv = await new Kvm(nc).open('rowpool-datasets');
    const keys: string[] = [];
    for await (const key of await kv.keys()) keys.push(key);
    return { objects: (await objects.list()).map((o) => o.name).sort(), keys };
  };

  const post = (upload: Upload) =>
    app.inject({
      method: 'POST',
      url: `/v1/datasets${upload.query ?? ''}`,
      headers: { 'content-type': upload.contentType },
      payload: upload.body,
    });

  /** Counts the shard puts, so a test knows some were written before it fails the upload. */
  const countPuts = (fail?: (put: number) => boolean) => {
    const objects = cluster().datasets.objects;
    const original = objects.putBlob.bind(objects);
    const counter = {
      puts: 0,
      restore: () => {
        objects.putBlob = original;
      },
    };
    objects.putBlob = async (meta, data, opts) => {
      counter.puts++;
      if (fail?.(counter.puts)) throw new Error('the JetStream put failed (injected)');
      return original(meta, data, opts);
    };
    return counter;
  };

  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
    app = await startInProcessNode({
      natsUrl: nats.url,
      id: 'uploader',
      memoryLimit: MEMORY_LIMIT,
      shardBytes: SHARD_BYTES,
    });
  });
  afterAll(async () => {
    await app?.close();
    await nc?.close();
    await nats?.stop();
  });
  /**
   * The node owns every shard it is sent and loads what fits, which would leave no room for the next
   * upload: datasets are deleted, and the node has given back every shard, before the next one.
   */
  const clear = async () => {
    const listed = (await app.inject('/v1/datasets')).json().datasets as { id: string }[];
    for (const { id } of listed) {
      expect((await app.inject({ method: 'DELETE', url: `/v1/datasets/${id}` })).statusCode).toBe(204);
    }
    // A reconcile that listed the dataset before it went may still load its shards; the next drops them.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const holdings = cluster().holdings;
    await waitFor(
      () => holdings.held().length === 0 && holdings.loading === 0 && app.rowpool.budget.used === 0,
      10_000,
    );
  };
  afterEach(clear);

  /** Uploads, checks the shard table, and gives back the dataset and the bytes its shards hold. */
  const roundTrip = async (upload: Upload) => {
    const res = await post(upload);
    expect(res.statusCode, res.body).toBe(201);
    const stored = (await cluster().datasets.get(res.json().id)) as ClusterDataset;
    const rowBytes = stored.bytes / stored.rows;
    let row = 0;
    for (const shard of stored.shards) {
      expect(shard.start).toBe(row);
      expect(shard.bytes).toBe((shard.end - shard.start) * rowBytes);
      expect(shard.bytes).toBeLessThanOrEqual(SHARD_BYTES);
      row = shard.end;
    }
    expect(row).toBe(stored.rows);
    const shards = await Promise.all(stored.shards.map((s) => cluster().datasets.shard(stored, s.index)));
    await clear();
    return { stored, data: Buffer.concat(shards) };
  };

  test('an .npy four times the memory limit, sent in pieces: the node never holds more than its window', async () => {
    const shape = [2048, 128];
    const bytes = sampleBytes('float64', 2048 * 128, 3);
    const body = npyFile('<f8', shape, bytes);
    expect(body.length).toBeGreaterThan(4 * MEMORY_LIMIT);
    let peak = 0;
    const { stored, data } = await roundTrip({
      contentType: 'application/x-npy',
      body: piecewise(body, 8 * KiB, () => {
        peak = Math.max(peak, app.rowpool.budget.used);
      }),
    });
    expect(stored.shape).toEqual(shape);
    expect(stored.shards).toHaveLength(128);
    expect(data.equals(bytes)).toBe(true);
    // The window: the shards in flight and the one filling.
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual((UPLOAD_WINDOW + 1) * SHARD_BYTES);
  });

  test('big-endian .npy and raw bytes are stored little-endian, byte for byte', async () => {
    const little = sampleBytes('float32', 4096 * 64, 4);
    const big = await roundTrip({
      contentType: 'application/x-npy',
      body: npyFile('>f4', [4096, 64], swapBytes(little, 4)),
    });
    expect(big.data.equals(little)).toBe(true);
    const raw = sampleBytes('int16', 8192 * 64, 5);
    const rawUp = await roundTrip({
      contentType: 'application/octet-stream',
      query: '?dtype=int16&shape=8192,64&name=raw',
      body: Buffer.from(raw),
    });
    expect(rawUp.stored.name).toBe('raw');
    expect(rawUp.data.equals(raw)).toBe(true);
  });

  test('a multipart form and a small Fortran-order .npy', async () => {
    const bytes = sampleBytes('uint8', 1024 * 1024, 6);
    const form = multipartBody([
      { name: 'name', value: 'form' },
      { name: 'file', filename: 'x.npy', content: npyFile('|u1', [1024, 1024], bytes) },
    ]);
    const up = await roundTrip({ contentType: form.contentType, body: form.body });
    expect(up.stored.name).toBe('form');
    expect(up.data.equals(bytes)).toBe(true);
    // Its C order is known only once it has all arrived, so it is read whole: it must fit.
    const small = sampleBytes('float64', 100 * 30, 7);
    const fortran = await roundTrip({
      contentType: 'application/x-npy',
      body: npyFile('<f8', [100, 30], toFortran(small, [100, 30], 8), true),
    });
    expect(fortran.data.equals(small)).toBe(true);
  });

  test('CSV and JSON are cut into shards as their rows arrive', async () => {
    const values = new Float64Array(sampleBytes('float64', 16384 * 8, 8).buffer);
    const csv = await roundTrip({ contentType: 'text/csv', body: Buffer.from(csvOf(values, 8)) });
    expect(csv.stored.shape).toEqual([16384, 8]);
    expect(csv.data.equals(new Uint8Array(values.buffer))).toBe(true);

    const ints = Int32Array.from({ length: 8192 * 32 }, (_, i) => ((i * 7919) % 200_001) - 100_000);
    const rows = Array.from({ length: 8192 }, (_, r) => `[${ints.subarray(r * 32, (r + 1) * 32).join(',')}]`);
    const json = await roundTrip({
      contentType: 'application/json',
      body: Buffer.from(`{"dtype": "int32", "name": "ints", "data": [${rows.join(',')}]}`),
    });
    expect(json.stored).toMatchObject({ name: 'ints', dtype: 'int32', shape: [8192, 32] });
    expect(json.data.equals(new Uint8Array(ints.buffer))).toBe(true);

    const flat = Float64Array.from({ length: 40_000 }, (_, i) => i / 4);
    const oneD = await roundTrip({
      contentType: 'application/json',
      body: Buffer.from(`{"data": [${flat.join(',')}], "dtype": "float64"}`),
    });
    expect(oneD.stored.shape).toEqual([40_000]);
    expect(oneD.data.equals(new Uint8Array(flat.buffer))).toBe(true);
  });

  test('a JSON "dtype" after "data" other than float64 is a 400: the values went out as float64', async () => {
    const res = await post({
      contentType: 'application/json',
      body: Buffer.from('{"data": [[1, 2]], "dtype": "int8"}'),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toContain('"dtype" comes after "data"');
    expect(await leftovers()).toEqual({ objects: [], keys: [] });
  });

  test('a CSV row of the wrong length after several shards were put is a 400 and leaves nothing', async () => {
    const values = new Float64Array(sampleBytes('float64', 20_000 * 4, 9).buffer);
    const lines = csvOf(values, 4).split('\n');
    lines[15_000] = '1,2,3';
    const counter = countPuts();
    try {
      const res = await post({ contentType: 'text/csv', body: Buffer.from(lines.join('\n')) });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({
        statusCode: 400,
        error: 'Bad Request',
        message: 'CSV line 15001 has 3 columns but the first data row has 4; rows must not be ragged',
      });
    } finally {
      counter.restore();
    }
    expect(counter.puts).toBeGreaterThanOrEqual(20);
    expect(await leftovers()).toEqual({ objects: [], keys: [] });
    expect(app.rowpool.budget.used).toBe(0);
  });

  test('a truncated .npy without a Content-Length is a 400 once it ends, and leaves nothing', async () => {
    const body = npyFile('<f8', [2048, 64], sampleBytes('float64', 2048 * 64, 10));
    const counter = countPuts();
    try {
      const res = await post({
        contentType: 'application/x-npy',
        body: piecewise(body.subarray(0, body.length - 1000), 32 * KiB),
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().message).toMatch(
        /^the body is truncated: the dtype and shape need 1048576 data bytes but/,
      );
    } finally {
      counter.restore();
    }
    expect(counter.puts).toBeGreaterThanOrEqual(60);
    expect(await leftovers()).toEqual({ objects: [], keys: [] });
    expect(app.rowpool.budget.used).toBe(0);
  });

  test('a JetStream put that fails midway is a 500 and leaves nothing', async () => {
    const body = npyFile('<f8', [2048, 64], sampleBytes('float64', 2048 * 64, 11));
    const counter = countPuts((put) => put === 10);
    try {
      const res = await post({ contentType: 'application/x-npy', body });
      expect(res.statusCode).toBe(500);
      expect(res.json()).toMatchObject({ statusCode: 500, error: 'Internal Server Error' });
    } finally {
      counter.restore();
    }
    expect(await leftovers()).toEqual({ objects: [], keys: [] });
    expect(app.rowpool.budget.used).toBe(0);
  });

  test('a window of shards larger than the memory limit is a 413 before the body is held', async () => {
    const rowLength = MiB / 8;
    const res = await post({
      contentType: 'application/octet-stream',
      query: `?dtype=float64&shape=4,${rowLength}`,
      body: Buffer.alloc(4 * MiB),
    });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
    expect(res.json().message).toContain('the shards of the upload in flight');
    expect(await leftovers()).toEqual({ objects: [], keys: [] });
    expect(app.rowpool.budget.used).toBe(0);
  });

  test('a client that goes away mid-upload leaves nothing behind', async () => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const body = npyFile('<f8', [4096, 64], sampleBytes('float64', 4096 * 64, 12));
    const counter = countPuts();
    try {
      const req = http.request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/v1/datasets',
        headers: { 'content-type': 'application/x-npy', 'content-length': body.length },
      });
      req.on('error', () => {});
      req.write(body.subarray(0, body.length / 2));
      await waitFor(() => counter.puts >= 10, 10_000);
      req.destroy();
      await waitFor(async () => {
        const left = await leftovers();
        return app.rowpool.budget.used === 0 && left.objects.length === 0 && left.keys.length === 0;
      }, 10_000);
    } finally {
      counter.restore();
    }
    expect((await app.inject('/v1/datasets')).json().datasets).toEqual([]);
  });
});
