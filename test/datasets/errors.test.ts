import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { testApp } from '../helpers/app.js';
import { type FormPart, multipartBody, npyFile, npyWithHeader } from '../helpers/npy.js';

const LIMIT = 1 << 20;
let app: FastifyInstance;
let keeper: string;

beforeAll(async () => {
  app = await testApp({ memoryLimit: LIMIT, textBodyLimit: 64 * 1024 });
  const res = await app.inject({
    method: 'POST',
    url: '/v1/datasets',
    payload: { dtype: 'uint8', data: [1, 2, 3, 4] },
  });
  keeper = res.json().id;
});
afterAll(async () => {
  await app.close();
});

async function state() {
  return (await app.inject({ method: 'GET', url: '/v1/datasets' })).json();
}

const npy = (dict: string, bytes = 0) => npyWithHeader(dict, new Uint8Array(bytes));
const post = (contentType: string, payload: string | Buffer | object, query = ''): InjectOptions => ({
  method: 'POST',
  url: `/v1/datasets${query}`,
  headers: { 'content-type': contentType },
  payload: payload as string,
});

const form = (parts: FormPart[]): InjectOptions => {
  const { body, contentType } = multipartBody(parts);
  return post(contentType, body);
};
const smallNpy = npyFile('<f8', [2], new Uint8Array(16));

const CASES: Array<[string, InjectOptions, number, RegExp]> = [
  ['bad magic', post('application/x-npy', Buffer.from('not an npy file at all')), 400, /NPY magic/],
  ['empty .npy body', post('application/x-npy', Buffer.alloc(0)), 400, /empty/],
  ['header that is not a dict', post('application/x-npy', npy('[1, 2, 3]')), 400, /not a dict literal/],
  [
    'header missing a key',
    post('application/x-npy', npy("{'descr': '<f8', 'shape': (2,), }")),
    400,
    /exactly the keys/,
  ],
  [
    'header with code in it',
    post('application/x-npy', npy("{'descr': __import__('os'), 'fortran_order': False, 'shape': (2,), }")),
    400,
    /not a literal/,
  ],
  [
    'negative dimension',
    post('application/x-npy', npy("{'descr': '<f8', 'fortran_order': False, 'shape': (-1, 2), }")),
    400,
    /non-negative integers/,
  ],
  [
    'non-integer dimension',
    post('application/x-npy', npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2.5,), }")),
    400,
    /non-negative integers/,
  ],
  [
    '0-d array',
    post('application/x-npy', npy("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", 8)),
    400,
    /0-d/,
  ],
  [
    'truncated body',
    post('application/x-npy', npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }", 16)),
    400,
    /truncated/,
  ],
  [
    'trailing bytes',
    post('application/x-npy', npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }", 40)),
    400,
    /trailing bytes/,
  ],
  [
    'unknown format version',
    post('application/x-npy', npyWithHeader('{}', undefined, 1).fill(9, 6, 7)),
    400,
    /version 9/,
  ],
  [
    'raw byte count mismatch',
    post('application/octet-stream', Buffer.alloc(8), '?dtype=float32&shape=3'),
    400,
    /truncated/,
  ],
  [
    'raw without shape',
    post('application/octet-stream', Buffer.alloc(8), '?dtype=float32'),
    400,
    /shape query parameter is required/,
  ],
  [
    'raw with a bad shape',
    post('application/octet-stream', Buffer.alloc(8), '?dtype=float32&shape=2,x'),
    400,
    /non-negative integers/,
  ],
  [
    'raw with a negative shape',
    post('application/octet-stream', Buffer.alloc(8), '?dtype=int8&shape=-8'),
    400,
    /non-negative integers/,
  ],
  [
    'raw with an unknown dtype',
    post('application/octet-stream', Buffer.alloc(8), '?dtype=complex128&shape=1'),
    400,
    /unknown dtype "complex128".*float16/,
  ],
  [
    'octet-stream that is not .npy',
    post('application/octet-stream', Buffer.alloc(64, 1)),
    400,
    /dtype and shape query/,
  ],
  ['JSON ragged lists', post('application/json', { data: [[1, 2], [3]] }), 400, /ragged/],
  ['JSON non-numeric value', post('application/json', { data: [[1, 'a']] }), 400, /data\[0\]\[1\] is "a"/],
  ['JSON empty data', post('application/json', { data: [] }), 400, /empty/],
  [
    'JSON unknown dtype',
    post('application/json', { dtype: 'float128', data: [1] }),
    400,
    /unknown dtype "float128"/,
  ],
  ['JSON unknown field', post('application/json', { data: [1], extra: true }), 400, /unknown field "extra"/],
  [
    'JSON integer out of range',
    post('application/json', { dtype: 'uint8', data: [256] }),
    400,
    /outside the range of dtype uint8/,
  ],
  [
    'JSON fraction for an integer dtype',
    post('application/json', { dtype: 'int32', data: [1.5] }),
    400,
    /not an integer/,
  ],
  ['CSV ragged rows', post('text/csv', '1,2,3\n4,5\n'), 400, /ragged/],
  ['CSV non-numeric field', post('text/csv', '1,2\n3,abc\n'), 400, /"abc", which is not a number/],
  ['CSV empty body', post('text/csv', ''), 400, /no data rows/],
  ['CSV first line with an empty field', post('text/csv', '1,,3\n4,5,6\n'), 400, /line 1, column 2 is ""/],
  [
    'CSV first line with one name among numbers',
    post('text/csv', '1,x,3\n4,5,6\n'),
    400,
    /line 1, column 2 is "x"/,
  ],
  ['CSV blank line inside', post('text/csv', '1,2\n\n3,4\n'), 400, /line 2 is empty/],
  ['CSV unknown dtype', post('text/csv', '1,2\n', '?dtype=str'), 400, /unknown dtype "str"/],
  [
    'object dtype',
    post('application/x-npy', npy("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", 16)),
    422,
    /unsupported dtype '\|O'.*supported dtypes are float16/,
  ],
  [
    'complex dtype',
    post('application/x-npy', npy("{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }", 16)),
    422,
    /unsupported dtype '<c16'/,
  ],
  [
    'string dtype',
    post('application/x-npy', npy("{'descr': '<U5', 'fortran_order': False, 'shape': (1,), }", 20)),
    422,
    /unsupported dtype '<U5'/,
  ],
  [
    'datetime dtype',
    post('application/x-npy', npy("{'descr': '<M8[ns]', 'fortran_order': False, 'shape': (1,), }", 8)),
    422,
    /unsupported dtype/,
  ],
  [
    'structured dtype',
    post(
      'application/x-npy',
      npy("{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (1,), }", 8),
    ),
    422,
    /unsupported dtype structured/,
  ],
  [
    'more than the free memory, from the header',
    post('application/x-npy', npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000), }", 8)),
    413,
    /needs 8000000000 bytes but only \d+ of the 1048576 bytes of ROWPOOL_MEMORY_LIMIT are free/,
  ],
  [
    'too large and truncated: 413 comes first',
    post('application/x-npy', npy("{'descr': '<f8', 'fortran_order': True, 'shape': (300000,), }", 3)),
    413,
    /ROWPOOL_MEMORY_LIMIT/,
  ],
  [
    'too large with a bad fortran_order: 413 comes first',
    post('application/x-npy', npy("{'descr': '<f8', 'fortran_order': 0, 'shape': (100000, 100000), }")),
    413,
    /ROWPOOL_MEMORY_LIMIT/,
  ],
  [
    'too large with an extra key: 413 comes first',
    post(
      'application/x-npy',
      npy("{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 100000), 'x': 1, }"),
    ),
    413,
    /ROWPOOL_MEMORY_LIMIT/,
  ],
  [
    'raw too large',
    post('application/octet-stream', Buffer.alloc(3), '?dtype=float64&shape=1000,1000'),
    413,
    /ROWPOOL_MEMORY_LIMIT/,
  ],
  [
    'JSON over the body limit',
    post('application/json', { data: new Array(30000).fill(1.2345) }),
    413,
    /larger than 65536 bytes; upload large datasets as .npy or raw bytes/,
  ],
  ['form without a file', form([{ name: 'name', value: 'x' }]), 400, /no "file" part/],
  [
    'form without a boundary',
    post('multipart/form-data', Buffer.from('hello')),
    400,
    /multipart\/form-data body is malformed/,
  ],
  [
    'form cut short',
    post(
      'multipart/form-data; boundary=xyz',
      Buffer.from('--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.npy"\r\n\r\n\x93NUMPY'),
    ),
    400,
    /malformed|truncated|ends inside the header/,
  ],
  [
    'form with the file in another field',
    form([{ name: 'data', filename: 'a.npy', content: smallNpy }]),
    400,
    /one .npy file in the "file" field/,
  ],
  [
    'form with an unexpected field',
    form([{ name: 'colour', value: 'red' }]),
    400,
    /unexpected form field "colour"/,
  ],
  [
    'form with two files',
    form([
      { name: 'file', filename: 'a.npy', content: smallNpy },
      { name: 'file', filename: 'b.npy', content: smallNpy },
    ]),
    400,
    /one .npy file/,
  ],
  [
    'form with a file that is not .npy',
    form([{ name: 'file', filename: 'a.npy', content: Buffer.from('hello there') }]),
    400,
    /NPY magic/,
  ],
  [
    'form with an .npy too large for the free memory',
    form([
      {
        name: 'file',
        filename: 'a.npy',
        content: npy("{'descr': '<f8', 'fortran_order': False, 'shape': (200000,), }", 64),
      },
    ]),
    413,
    /ROWPOOL_MEMORY_LIMIT/,
  ],
  [
    'form with a truncated .npy',
    form([
      {
        name: 'file',
        filename: 'a.npy',
        content: npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }", 8),
      },
    ]),
    400,
    /truncated/,
  ],
  [
    'text/plain',
    post('text/plain', 'hello'),
    415,
    /unsupported content type text\/plain.*application\/x-npy/,
  ],
  ['image/png', post('image/png', Buffer.alloc(4)), 415, /unsupported content type image\/png/],
];

describe('bad uploads get a clear error and leave nothing behind', () => {
  test.each(CASES)('%s', async (_name, request, status, message) => {
    const before = await state();
    const res = await app.inject(request);
    expect(res.statusCode, res.body).toBe(status);
    const body = res.json();
    expect(body.statusCode).toBe(status);
    expect(typeof body.error).toBe('string');
    expect(body.message).toMatch(message);
    expect(await state()).toEqual(before);
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });
});

describe('ids that name no dataset', () => {
  test.each([
    ['GET', '/v1/datasets/nope'],
    ['GET', '/v1/datasets/00000000-0000-4000-8000-000000000000'],
    ['GET', '/v1/datasets/nope/data'],
    ['DELETE', '/v1/datasets/00000000-0000-4000-8000-000000000000'],
    ['POST', '/v1/datasets/nope/jobs'],
  ] as const)('%s %s is 404', async (method, url) => {
    const res = await app.inject({ method, url, ...(method === 'POST' ? { payload: { op: 'sum' } } : {}) });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({
      statusCode: 404,
      error: 'Not Found',
      message: expect.stringMatching(/dataset .* not found/),
    });
  });
});

describe('memory accounting', () => {
  test('a dataset of exactly the free size fits, one byte more does not, and delete gives it back', async () => {
    const { memory } = await state();
    expect(memory.limitBytes).toBe(LIMIT);
    expect(memory.usedBytes).toBe(4);
    const free = memory.freeBytes;
    const tooBig = await app.inject(
      post('application/octet-stream', Buffer.alloc(free + 1), `?dtype=uint8&shape=${free + 1}`),
    );
    expect(tooBig.statusCode).toBe(413);
    const exact = await app.inject(
      post('application/octet-stream', Buffer.alloc(free), `?dtype=uint8&shape=${free}`),
    );
    expect(exact.statusCode).toBe(201);
    expect((await state()).memory).toEqual({ limitBytes: LIMIT, usedBytes: LIMIT, freeBytes: 0 });
    const full = await app.inject(post('application/json', { dtype: 'uint8', data: [1] }));
    expect(full.statusCode).toBe(413);
    expect((await app.inject({ method: 'DELETE', url: `/v1/datasets/${exact.json().id}` })).statusCode).toBe(
      204,
    );
    expect((await state()).memory.usedBytes).toBe(4);
    expect((await state()).datasets.map((d: { id: string }) => d.id)).toEqual([keeper]);
  });
});
