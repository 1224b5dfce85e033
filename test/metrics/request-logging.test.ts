import type { FastifyInstance } from 'fastify';
import { Gauge } from 'prom-client';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { testApp } from '../helpers/app.js';

interface LogLine {
  level: number;
  msg: string;
  reqId?: string;
  req?: { url?: string };
}

const INFO = 30;
const ERROR = 50;
const lines: LogLine[] = [];
let app: FastifyInstance;

beforeAll(async () => {
  app = await testApp(
    {},
    {
      logger: {
        level: 'info',
        stream: {
          write(line: string) {
            lines.push(JSON.parse(line) as LogLine);
          },
        },
      },
    },
  );
});
afterAll(async () => {
  await app.close();
});
beforeEach(() => {
  lines.length = 0;
});

/** The lines Fastify logged for one request, found by the request id it answered with. */
async function linesOf(url: string): Promise<{ status: number; lines: LogLine[] }> {
  const res = await app.inject({ method: 'GET', url });
  const id = res.headers['x-request-id'];
  expect(id).toBeTruthy();
  return { status: res.statusCode, lines: lines.filter((l) => l.reqId === id) };
}

describe('request logging', () => {
  test.each(['/healthz', '/readyz', '/metrics'])('%s is not logged at info', async (url) => {
    const { status, lines: logged } = await linesOf(url);
    expect(status).toBe(200);
    expect(logged).toEqual([]);
  });

  test('other routes still log the request and the response at info', async () => {
    const { status, lines: logged } = await linesOf('/v1/datasets');
    expect(status).toBe(200);
    expect(logged.map((l) => [l.level, l.msg])).toEqual([
      [INFO, 'incoming request'],
      [INFO, 'request completed'],
    ]);
    expect(logged[0].req?.url).toBe('/v1/datasets');
  });

  test('an error on a quiet route is still logged, at error', async () => {
    new Gauge({
      name: 'test_broken',
      help: 'A gauge whose collection fails, so the scrape does',
      registers: [app.rowpool.metrics.registry],
      collect() {
        throw new Error('collection failed');
      },
    });
    try {
      const { status, lines: logged } = await linesOf('/metrics');
      expect(status).toBe(500);
      expect(logged.map((l) => [l.level, l.msg])).toEqual([[ERROR, 'request failed']]);
    } finally {
      app.rowpool.metrics.registry.removeSingleMetric('test_broken');
    }
  });
});
