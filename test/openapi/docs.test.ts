import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { testApp } from '../helpers/app.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = await testApp();
});
afterAll(async () => {
  await app.close();
});

describe('Swagger UI at /docs', () => {
  test('serves a page whose scripts and styles all come from this server', async () => {
    const page = await app.inject({ method: 'GET', url: '/docs/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const assets = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(assets).toContain('./static/swagger-ui-bundle.js');
    for (const asset of assets) {
      expect(asset).not.toMatch(/^(?:https?:)?\/\//);
      const res = await app.inject({ method: 'GET', url: `/docs/${asset.replace(/^\.\//, '')}` });
      expect(res.statusCode, asset).toBe(200);
      expect(res.rawPayload.length, asset).toBeGreaterThan(100);
    }
  });

  test('loads the document from this server and validates nothing remotely', async () => {
    const init = await app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
    expect(init.statusCode).toBe(200);
    expect(init.body).toContain("resolveUrl('./json')");
    expect(init.body).toContain('validatorUrl: null');
    const json = await app.inject({ method: 'GET', url: '/docs/json' });
    expect(json.json()).toEqual(app.swagger());
  });

  test('is left out of the document', () => {
    const paths = Object.keys(app.swagger().paths ?? {});
    expect(paths).toContain('/openapi.yaml');
    expect(paths.filter((p) => p.startsWith('/docs'))).toEqual([]);
  });
});
