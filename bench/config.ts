import type * as ConfigModule from '../src/config.js';
import type { Config } from '../src/config.js';
import { distUrl } from './dist.js';

/**
 * A server configuration for the benchmarks: the compiled service's own defaults (so a new setting
 * needs no change here), quiet, on a loopback port, with what the benchmark sets itself.
 */
export async function benchConfig(overrides: Partial<Config>): Promise<Config> {
  const { loadConfig } = (await import(distUrl('config.js').href)) as typeof ConfigModule;
  return {
    ...loadConfig({}),
    host: '127.0.0.1',
    port: 0,
    logLevel: 'silent',
    shutdownGraceSeconds: 1,
    ...overrides,
  };
}
