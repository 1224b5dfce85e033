import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseNpyHeader } from '../../src/datasets/npy.js';
import { testApp } from '../helpers/app.js';
import {
  caseName,
  fixtureFile,
  loadManifest,
  mismatches,
  readNpy,
  readNumbers,
} from '../helpers/fixtures.js';

const manifest = loadManifest();
const inputs = [...new Set(manifest.cases.map((c) => c.input))];
const datasetIds = new Map<string, string>();
let app: FastifyInstance;

beforeAll(async () => {
  app = await testApp();
  for (const input of inputs) {
    const res = await app.inject({
      method: 'POST',
      url: `/v1/datasets?name=${encodeURIComponent(input)}`,
      headers: { 'content-type': 'application/x-npy' },
      payload: fixtureFile(input),
    });
    expect(res.statusCode, res.body).toBe(201);
    datasetIds.set(input, res.json().id);
  }
});
afterAll(async () => {
  await app.close();
});

const fromJson = (v: number | string) =>
  v === 'NaN'
    ? Number.NaN
    : v === 'Infinity'
      ? Number.POSITIVE_INFINITY
      : v === '-Infinity'
        ? Number.NEGATIVE_INFINITY
        : (v as number);

async function runJob(input: string, body: object): Promise<string> {
  const res = await app.inject({
    method: 'POST',
    url: `/v1/datasets/${datasetIds.get(input)}/jobs?wait=30`,
    payload: body,
  });
  expect(res.statusCode, res.body).toBe(200);
  expect(res.json().status).toBe('succeeded');
  return res.json().id;
}

async function npyResult(jobId: string) {
  const res = await app.inject({
    method: 'GET',
    url: `/v1/jobs/${jobId}/result`,
    headers: { accept: 'application/x-npy' },
  });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toBe('application/x-npy');
  const file = res.rawPayload;
  const text = file.subarray(10, file.readUInt16LE(8) + 10).toString('latin1');
  return { file, text, dataOffset: 10 + file.readUInt16LE(8) };
}

describe('every op agrees with NumPy on every fixture, in JSON and .npy', () => {
  const plain = manifest.cases.filter((c) => typeof c.expected === 'string');
  test.each(plain.map((c) => [caseName(c), c] as const))('%s', async (_name, c) => {
    const expectedFile = c.expected as string;
    const expectedDtype = readNpy(expectedFile).dtype;
    const expected = readNumbers(expectedFile);
    const jobId = await runJob(c.input, { op: c.op, params: c.params });

    const json = (await app.inject({ method: 'GET', url: `/v1/jobs/${jobId}/result` })).json();
    expect(json.jobId).toBe(jobId);
    expect(json.dtype).toBe(expectedDtype);
    expect(json.shape).toEqual([expected.length]);
    expect(mismatches(json.data.map(fromJson), expected)).toEqual([]);

    const { file } = await npyResult(jobId);
    const header = parseNpyHeader(file);
    expect(header.dtype).toBe(expectedDtype);
    expect(header.bigEndian).toBe(false);
    expect(header.shape).toEqual([expected.length]);
    const data = file.subarray(header.dataOffset);
    const values =
      expectedDtype === 'int64'
        ? Array.from(
            new BigInt64Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.length)),
            Number,
          )
        : Array.from(new Float64Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.length)));
    expect(mismatches(values, expected)).toEqual([]);
  });
});

describe('top-k agrees with NumPy, in JSON and as a structured .npy', () => {
  const ranked = manifest.cases.filter((c) => typeof c.expected !== 'string');
  test.each(ranked.map((c) => [caseName(c), c] as const))('%s', async (_name, c) => {
    const files = c.expected as { indices: string; values: string };
    const indices = Array.from(readNumbers(files.indices));
    const values = readNumbers(files.values);
    const jobId = await runJob(c.input, { op: c.op, params: c.params, top: c.top });

    const json = (await app.inject({ method: 'GET', url: `/v1/jobs/${jobId}/result` })).json();
    expect(json.indices).toEqual(indices);
    expect(mismatches(json.values.map(fromJson), values)).toEqual([]);

    const { file, text, dataOffset } = await npyResult(jobId);
    expect(text).toContain("'descr': [('index', '<i8'), ('value', '<f8')]");
    expect(text).toContain(`'shape': (${indices.length},)`);
    const records = file.subarray(dataOffset);
    expect(records.length).toBe(indices.length * 16);
    for (let i = 0; i < indices.length; i++) {
      expect(Number(records.readBigInt64LE(i * 16))).toBe(indices[i]);
      expect(mismatches([records.readDoubleLE(i * 16 + 8)], [values[i]])).toEqual([]);
    }
  });
});

describe('rows of length 0', () => {
  test.each([
    ['min', {}],
    ['max', {}],
    ['argmin', {}],
    ['argmax', {}],
    ['quantile', { q: 0.5 }],
    ['norm', { ord: 'inf' }],
  ])('%s %j is refused with 400, as NumPy refuses it', async (op, params) => {
    const res = await app.inject({
      method: 'POST',
      url: `/v1/datasets/${datasetIds.get('inputs/float64_emptyrows.npy')}/jobs`,
      payload: { op, params },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/rows of length 0/);
  });
});
