import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { testApp } from '../helpers/app.js';
import { OPENAPI_FILE } from '../helpers/contract.js';

const STALE =
  'openapi.yaml differs from what the route schemas generate: run `npm run openapi` and commit the result';

let app: FastifyInstance;
let committed: string;
beforeAll(async () => {
  app = await testApp();
  committed = await readFile(OPENAPI_FILE, 'utf8');
});
afterAll(async () => {
  await app.close();
});

describe('openapi.yaml', () => {
  test('is what the server generates from its route schemas', () => {
    const generated = app.swagger({ yaml: true });
    expect(generated).toContain('openapi: 3.1.0');
    expect(committed, STALE).toBe(generated);
  });

  test('GET /openapi.yaml serves the same text as YAML', async () => {
    const res = await app.inject({ method: 'GET', url: '/openapi.yaml' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/yaml\b/);
    expect(res.body, STALE).toBe(committed);
  });

  test('does not depend on the configuration the server runs with', async () => {
    const other = await testApp({ memoryLimit: 2 ** 20, threads: 1, textBodyLimit: 1024 });
    try {
      expect(other.swagger({ yaml: true })).toBe(committed);
    } finally {
      await other.close();
    }
  });
});
