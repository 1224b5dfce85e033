import type { FastifyInstance } from 'fastify';
import { type AppOptions, buildApp } from '../../src/app.js';
import type { Config } from '../../src/config.js';

export function testConfig(overrides: Partial<Config> = {}): Config {
  return {
    host: '127.0.0.1',
    port: 0,
    logLevel: 'silent',
    memoryLimit: 256 * 2 ** 20,
    threads: 2,
    maxRunningJobs: 2,
    shutdownGraceSeconds: 2,
    textBodyLimit: 8 * 2 ** 20,
    uploadIdleTimeoutSeconds: 30,
    uploadMinRate: 64 * 2 ** 10,
    headersTimeoutSeconds: 30,
    sendIdleTimeoutSeconds: 60,
    apiToken: undefined,
    metricsToken: undefined,
    preload: [],
    kernelsEnabled: true,
    kernelMaxBytes: 16 * 2 ** 20,
    kernelMemoryBytes: 64 * 2 ** 20,
    kernelTimeoutSeconds: 60,
    ...overrides,
  };
}

/** An app ready for inject(); `supertest(app.server)` drives it over a real socket. */
export async function testApp(
  overrides: Partial<Config> = {},
  options: AppOptions = {},
): Promise<FastifyInstance> {
  const app = await buildApp(testConfig(overrides), { logger: false, ...options });
  await app.ready();
  await app.rowpool.start();
  return app;
}
