import os from 'node:os';
import { describe, expect, test } from 'vitest';
import { ConfigError, defaultMemoryLimit, loadConfig, parseByteSize } from '../../src/config.js';

describe('loadConfig', () => {
  test('defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 3000,
      logLevel: 'info',
      shutdownGraceSeconds: 10,
      apiToken: undefined,
      metricsToken: undefined,
      preload: [],
    });
    expect(config.memoryLimit).toBe(defaultMemoryLimit());
    expect(config.threads).toBeGreaterThanOrEqual(1);
  });

  test('every variable is read', () => {
    const config = loadConfig({
      HOST: '0.0.0.0',
      PORT: '8080',
      LOG_LEVEL: 'warn',
      ROWPOOL_MEMORY_LIMIT: '512MiB',
      ROWPOOL_THREADS: '3',
      ROWPOOL_SHUTDOWN_GRACE: '30',
      ROWPOOL_API_TOKEN: 'abc',
      ROWPOOL_METRICS_TOKEN: 'def',
      ROWPOOL_PRELOAD: 'emb=/data/emb.npy, b = /data/b.npy',
    });
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 8080,
      logLevel: 'warn',
      memoryLimit: 512 * 2 ** 20,
      threads: 3,
      shutdownGraceSeconds: 30,
      apiToken: 'abc',
      metricsToken: 'def',
      preload: [
        { name: 'emb', path: '/data/emb.npy' },
        { name: 'b', path: '/data/b.npy' },
      ],
    });
  });

  test.each([
    ['1073741824', 1073741824],
    ['4GiB', 4 * 2 ** 30],
    ['512 MiB', 512 * 2 ** 20],
    ['1.5GB', 1.5e9],
    ['100kb', 100e3],
    ['64kib', 65536],
  ])('memory size %s is %d bytes', (text, bytes) => {
    expect(parseByteSize(text)).toBe(bytes);
  });

  test.each([
    [{ ROWPOOL_MEMORY_LIMIT: 'lots' }, /ROWPOOL_MEMORY_LIMIT must be a positive size.*"lots"/],
    [{ ROWPOOL_MEMORY_LIMIT: '-5GiB' }, /ROWPOOL_MEMORY_LIMIT/],
    [{ ROWPOOL_MEMORY_LIMIT: '0' }, /ROWPOOL_MEMORY_LIMIT/],
    [{ ROWPOOL_MEMORY_LIMIT: '4 parsecs' }, /ROWPOOL_MEMORY_LIMIT/],
    [{ PORT: '70000' }, /PORT must be an integer from 0 to 65535, got "70000"/],
    [{ PORT: 'http' }, /PORT must be an integer/],
    [{ ROWPOOL_THREADS: '0' }, /ROWPOOL_THREADS must be an integer from 1/],
    [{ ROWPOOL_THREADS: '2.5' }, /ROWPOOL_THREADS/],
    [{ ROWPOOL_SHUTDOWN_GRACE: '-1' }, /ROWPOOL_SHUTDOWN_GRACE/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent/],
    [
      { ROWPOOL_PRELOAD: 'no-equals-sign.npy' },
      /ROWPOOL_PRELOAD must be a comma-separated list of name=path\.npy/,
    ],
    [{ ROWPOOL_PRELOAD: '=x.npy' }, /ROWPOOL_PRELOAD/],
    [{ ROWPOOL_API_TOKEN: 'has space' }, /ROWPOOL_API_TOKEN must not contain white space/],
  ])('%j is refused with a clear message', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  test('the default memory limit is half of what the process may use', () => {
    // Without a cgroup limit Node 20 reports 2^64 (or 0) as the constrained memory.
    const constrained = process.constrainedMemory?.() || Number.POSITIVE_INFINITY;
    expect(defaultMemoryLimit()).toBe(Math.floor(Math.min(constrained, os.totalmem()) / 2));
  });
});
