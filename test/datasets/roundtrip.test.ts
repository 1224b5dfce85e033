import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DTYPE_INFO, DTYPES, type DType, descrOf } from '../../src/datasets/dtypes.js';
import { parseNpyHeader } from '../../src/datasets/npy.js';
import { testApp } from '../helpers/app.js';
import { sampleBytes, swapBytes, toFortran } from '../helpers/arrays.js';
import { fixtureFile, loadManifest, readNpy } from '../helpers/fixtures.js';
import { multipartBody, npyFile } from '../helpers/npy.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = await testApp();
});
afterAll(async () => {
  await app.close();
});

const SHAPES = [[7], [3, 4], [2, 3, 4], [2, 2, 3, 2]];

async function upload(payload: Buffer, contentType: string, query = ''): Promise<Record<string, unknown>> {
  const res = await app.inject({
    method: 'POST',
    url: `/v1/datasets${query}`,
    headers: { 'content-type': contentType },
    payload,
  });
  expect(res.statusCode, res.body).toBe(201);
  const body = res.json();
  expect(res.headers.location).toBe(`/v1/datasets/${body.id}`);
  return body;
}

async function download(id: string): Promise<{ dtype: DType; shape: number[]; data: Buffer }> {
  const res = await app.inject({ method: 'GET', url: `/v1/datasets/${id}/data` });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toBe('application/x-npy');
  const file = res.rawPayload;
  const header = parseNpyHeader(file);
  expect(header.bigEndian).toBe(false);
  expect(header.fortranOrder).toBe(false);
  expect(header.dataOffset % 64).toBe(0);
  return { dtype: header.dtype, shape: header.shape, data: file.subarray(header.dataOffset) };
}

async function remove(id: string) {
  expect((await app.inject({ method: 'DELETE', url: `/v1/datasets/${id}` })).statusCode).toBe(204);
}

describe.each(DTYPES)('%s', (dtype) => {
  const { itemsize } = DTYPE_INFO[dtype];
  test.each(SHAPES)('.npy in both byte orders and memory orders round-trips, shape %j', async (...shape) => {
    const count = shape.reduce((a, b) => a * b, 1);
    const expected = sampleBytes(dtype, count, count + itemsize);
    for (const bigEndian of [false, true]) {
      for (const fortran of [false, true]) {
        const ordered = fortran ? toFortran(expected, shape, itemsize) : expected;
        const bytes = bigEndian ? swapBytes(ordered, itemsize) : ordered;
        const descr = itemsize === 1 ? descrOf(dtype) : `${bigEndian ? '>' : '<'}${descrOf(dtype).slice(1)}`;
        const created = await upload(npyFile(descr, shape, bytes, fortran), 'application/x-npy');
        const rowLength = shape.slice(1).reduce((a, b) => a * b, 1);
        expect(created).toMatchObject({
          dtype,
          shape,
          rows: shape[0],
          rowLength,
          bytes: count * itemsize,
          name: null,
        });
        const back = await download(created.id as string);
        expect(back.dtype).toBe(dtype);
        expect(back.shape).toEqual(shape);
        expect(Buffer.compare(back.data, Buffer.from(expected))).toBe(0);
        await remove(created.id as string);
      }
    }
  });

  test('raw little-endian bytes with dtype and shape round-trip', async () => {
    const expected = sampleBytes(dtype, 24, 7);
    const created = await upload(
      Buffer.from(expected),
      'application/octet-stream',
      `?dtype=${dtype}&shape=2,3,4&name=raw`,
    );
    expect(created).toMatchObject({ dtype, shape: [2, 3, 4], name: 'raw' });
    expect(Buffer.compare((await download(created.id as string)).data, Buffer.from(expected))).toBe(0);
    await remove(created.id as string);
  });

  test('an .npy sent as application/octet-stream and as a multipart file round-trips', async () => {
    const expected = sampleBytes(dtype, 12, 3);
    const file = npyFile(descrOf(dtype), [4, 3], expected);
    const sniffed = await upload(file, 'application/octet-stream');
    expect(Buffer.compare((await download(sniffed.id as string)).data, Buffer.from(expected))).toBe(0);
    await remove(sniffed.id as string);

    const form = multipartBody([
      { name: 'name', value: 'form-upload' },
      { name: 'file', filename: 'a.npy', content: file },
    ]);
    const viaForm = await upload(form.body, form.contentType);
    expect(viaForm).toMatchObject({ dtype, shape: [4, 3], name: 'form-upload' });
    expect(Buffer.compare((await download(viaForm.id as string)).data, Buffer.from(expected))).toBe(0);
    await remove(viaForm.id as string);
  });
});

describe('text formats', () => {
  test('CSV with a header line becomes a float64 matrix by default', async () => {
    const csv = 'a,b,c\n1,2,3\n4.5,-6e2,nan\n7,inf,-inf\n';
    const created = await upload(Buffer.from(csv), 'text/csv', '?name=csv');
    expect(created).toMatchObject({ dtype: 'float64', shape: [3, 3], name: 'csv' });
    const back = await download(created.id as string);
    const values = Array.from(
      new Float64Array(back.data.buffer.slice(back.data.byteOffset, back.data.byteOffset + back.data.length)),
    );
    expect(values).toEqual([
      1,
      2,
      3,
      4.5,
      -600,
      Number.NaN,
      7,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
    ]);
  });

  test('CSV keeps every digit of 64-bit integers, to the ends of their ranges', async () => {
    const cases = [
      [
        'int64',
        '9007199254740993\n-9223372036854775808\n9223372036854775807\n',
        new BigInt64Array([9007199254740993n, -(2n ** 63n), 2n ** 63n - 1n]),
      ],
      [
        'uint64',
        '18446744073709551615\n9007199254740993\n0\n',
        new BigUint64Array([2n ** 64n - 1n, 9007199254740993n, 0n]),
      ],
    ] as const;
    for (const [dtype, csv, expected] of cases) {
      const created = await upload(Buffer.from(csv), 'text/csv', `?dtype=${dtype}`);
      expect(created).toMatchObject({ dtype, shape: [3, 1] });
      const back = await download(created.id as string);
      expect(Buffer.compare(back.data, Buffer.from(expected.buffer))).toBe(0);
    }
    const over = await app.inject({
      method: 'POST',
      url: '/v1/datasets?dtype=int64',
      headers: { 'content-type': 'text/csv' },
      payload: '9223372036854775808\n',
    });
    expect(over.statusCode).toBe(400);
    expect(over.json().message).toMatch(/outside the range of dtype int64/);
  });

  test('CSV with dtype=int16 and no header', async () => {
    const created = await upload(Buffer.from('1,-2\n3,4\n'), 'text/csv', '?dtype=int16');
    expect(created).toMatchObject({ dtype: 'int16', shape: [2, 2] });
    const back = await download(created.id as string);
    expect(
      Array.from(new Int16Array(back.data.buffer.slice(back.data.byteOffset, back.data.byteOffset + 8))),
    ).toEqual([1, -2, 3, 4]);
  });

  test.each([
    [
      'float32',
      [
        [1.5, 2],
        [3, -4],
      ],
      [2, 2],
      new Uint8Array(new Float32Array([1.5, 2, 3, -4]).buffer),
    ],
    [
      'float16',
      [1, 0.5, -2, 65504],
      [4],
      new Uint8Array(new Uint16Array([0x3c00, 0x3800, 0xc000, 0x7bff]).buffer),
    ],
    ['bool', [[true, false, true]], [1, 3], Uint8Array.of(1, 0, 1)],
    [
      'uint8',
      [
        [
          [1, 2],
          [3, 4],
        ],
        [
          [5, 6],
          [7, 255],
        ],
      ],
      [2, 2, 2],
      Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 255),
    ],
    [
      'int64',
      [-9007199254740991, 5],
      [2],
      new Uint8Array(new BigInt64Array([-9007199254740991n, 5n]).buffer),
    ],
    [
      'float64',
      ['NaN', 'Infinity', '-Infinity', 0],
      [4],
      new Uint8Array(
        new Float64Array([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0]).buffer,
      ),
    ],
  ] as const)('JSON %s data of shape %j', async (dtype, data, shape, bytes) => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/datasets',
      payload: { dtype, data, name: 'json' },
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ dtype, shape, name: 'json' });
    const back = await download(res.json().id);
    expect(Buffer.compare(back.data, Buffer.from(bytes))).toBe(0);
  });
});

describe('the NumPy-made fixtures', () => {
  const inputs = [...new Set(loadManifest().cases.map((c) => c.input))];
  test.each(inputs)(
    '%s uploads and downloads equal in values, in C order and little-endian',
    async (input) => {
      const expected = readNpy(input);
      const created = await upload(fixtureFile(input), 'application/x-npy');
      expect(created).toMatchObject({ dtype: expected.dtype, shape: expected.shape, rows: expected.rows });
      const back = await download(created.id as string);
      expect(back.shape).toEqual(expected.shape);
      expect(Buffer.compare(back.data, Buffer.from(expected.data))).toBe(0);
      await remove(created.id as string);
    },
  );
});
