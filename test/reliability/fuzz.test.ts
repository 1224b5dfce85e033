import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { testApp } from '../helpers/app.js';
import { multipartBody, npyFile, npyWithHeader } from '../helpers/npy.js';

/**
 * Seeded fuzzing of every upload format: whatever the body, the answer is never a 5xx, the process
 * survives, and no memory stays reserved. ROWPOOL_FUZZ_SEED replays a run; the seed is printed.
 */
const SEED = Number(process.env.ROWPOOL_FUZZ_SEED ?? Date.now() % 2 ** 31);
const CASES_PER_FORMAT = 600;

let app: FastifyInstance;
beforeAll(async () => {
  app = await testApp({ memoryLimit: 1 << 20, textBodyLimit: 1 << 20 });
  console.log(`fuzz seed ${SEED} (ROWPOOL_FUZZ_SEED=${SEED} replays it)`);
});
afterAll(async () => {
  await app.close();
});

/** mulberry32: small, seeded, good enough to pick mutations. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rng = () => number;
const int = (rng: Rng, n: number) => Math.floor(rng() * n);
const pick = <T>(rng: Rng, items: readonly T[]): T => items[int(rng, items.length)];
const repeat = (rng: Rng, max: number, make: () => string) =>
  Array.from({ length: int(rng, max) }, make).join('');

/** Inserts, deletes or replaces a few characters of `text`, with tokens that matter to the parsers. */
function mutate(rng: Rng, text: string, tokens: readonly string[]): string {
  let out = text;
  for (let m = int(rng, 4); m >= 0; m--) {
    const at = int(rng, out.length + 1);
    const kind = int(rng, 4);
    if (kind === 0) out = out.slice(0, at) + pick(rng, tokens) + out.slice(at);
    else if (kind === 1) out = out.slice(0, at) + out.slice(at + 1 + int(rng, 8));
    else if (kind === 2) out = out.slice(0, at) + pick(rng, tokens).repeat(1 + int(rng, 300)) + out.slice(at);
    else out = out.slice(0, at);
  }
  return out;
}

const NPY_TOKENS = [
  "'",
  '"',
  '(',
  ')',
  '[',
  ']',
  '{',
  '}',
  ',',
  ':',
  'L',
  'u',
  "u'<f8'",
  '-1',
  '1e3',
  'True',
  'None',
  "'shape'",
  "'descr'",
  '\\',
  ' ',
  '\n',
  '((',
];
const CSV_TOKENS = [
  '1',
  '-2.5',
  '1e308',
  'nan',
  'inf',
  '-inf',
  'true',
  'x',
  ',',
  '\n',
  '\r\n',
  '"',
  '""',
  ' ',
  '\ufeff',
  '9'.repeat(40),
  '',
];
const JSON_TOKENS = [
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  '"data"',
  '"dtype"',
  '"name"',
  '"int8"',
  '1',
  '-0.5e3',
  '"NaN"',
  'true',
  'null',
  '"',
  '\\u00',
  ' ',
  '1e999',
  '[[',
  ']]',
];

function npyCase(rng: Rng): Buffer {
  const shape = Array.from({ length: 1 + int(rng, 3) }, () => int(rng, 5));
  const descr = pick(rng, ['<f8', '>i4', '|u1', '<f2', '|b1', '<c16', 'O']);
  const dict = `{'descr': '${descr}', 'fortran_order': ${pick(rng, ['False', 'True'])}, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const file = npyWithHeader(
    mutate(rng, dict, NPY_TOKENS),
    new Uint8Array(int(rng, 200)),
    pick(rng, [1, 2, 3]),
  );
  if (rng() < 0.1) file[7] = int(rng, 3);
  return file;
}

function csvCase(rng: Rng): string {
  const columns = 1 + int(rng, 4);
  const rows = Array.from({ length: int(rng, 6) }, () =>
    Array.from({ length: columns }, () => pick(rng, ['1', '2.5', '-3', 'nan', '1e5', '7'])).join(','),
  );
  const header = rng() < 0.3 ? `${Array.from({ length: columns }, (_, i) => `c${i}`).join(',')}\n` : '';
  return mutate(rng, header + rows.join('\n'), CSV_TOKENS);
}

function jsonCase(rng: Rng): string {
  const nest = (depth: number): string =>
    depth === 0
      ? pick(rng, ['1', '2.5', '"NaN"', 'true', '-4'])
      : `[${Array.from({ length: 1 + int(rng, 3) }, () => nest(depth - 1)).join(',')}]`;
  const fields = [`"data": ${nest(1 + int(rng, 3))}`];
  if (rng() < 0.5) fields.push(`"dtype": "${pick(rng, ['int8', 'float16', 'uint64', 'bool', 'float128'])}"`);
  if (rng() < 0.3) fields.push(`"name": "${repeat(rng, 300, () => 'n')}"`);
  return mutate(rng, `{${fields.join(', ')}}`, JSON_TOKENS);
}

function multipartCase(rng: Rng): { body: Buffer; contentType: string } {
  const file = npyFile('<f8', [2], new Uint8Array(16));
  const { body, contentType } = multipartBody([
    { name: pick(rng, ['name', 'other']), value: repeat(rng, 300, () => 'v') },
    { name: pick(rng, ['file', 'file', 'data']), filename: 'a.npy', content: file },
  ]);
  const text = mutate(rng, body.toString('latin1'), [
    '--',
    '\r\n',
    '"',
    'Content-Disposition: form-data; name="file"',
    '\x93NUMPY',
    ';',
  ]);
  return { body: Buffer.from(text, 'latin1'), contentType };
}

async function check(contentType: string, payload: Buffer | string, label: string): Promise<number> {
  const res = await app.inject({
    method: 'POST',
    url: '/v1/datasets',
    headers: { 'content-type': contentType },
    payload,
  });
  if (res.statusCode === 201) {
    await app.inject({ method: 'DELETE', url: `/v1/datasets/${res.json().id}` });
  }
  const used = (await app.inject({ method: 'GET', url: '/v1/datasets' })).json().memory.usedBytes;
  expect(res.statusCode < 500, `${label}: ${res.statusCode} ${res.body}`).toBe(true);
  expect(used, `${label}: ${used} bytes left reserved`).toBe(0);
  return res.statusCode;
}

test('fuzzed .npy, CSV, JSON and multipart uploads: no 5xx, no crash, nothing left reserved', async () => {
  const rng = random(SEED);
  const statuses = new Map<number, number>();
  const count = (s: number) => statuses.set(s, (statuses.get(s) ?? 0) + 1);
  for (let i = 0; i < CASES_PER_FORMAT; i++) {
    count(await check('application/x-npy', npyCase(rng), `npy case ${i}`));
    count(await check('text/csv', csvCase(rng), `csv case ${i}`));
    count(await check('application/json', jsonCase(rng), `json case ${i}`));
    const form = multipartCase(rng);
    count(await check(form.contentType, form.body, `multipart case ${i}`));
  }
  console.log(
    `fuzz: ${CASES_PER_FORMAT * 4} cases, statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
  );
  expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
}, 240_000);
