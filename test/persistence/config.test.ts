import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/config.js';

describe('ROWPOOL_DATA_DIR', () => {
  test('unset or empty keeps datasets in memory only', () => {
    expect(loadConfig({}).dataDir).toBeUndefined();
    expect(loadConfig({ ROWPOOL_DATA_DIR: ' ' }).dataDir).toBeUndefined();
  });

  test('is resolved to an absolute path', () => {
    expect(loadConfig({ ROWPOOL_DATA_DIR: 'data' }).dataDir).toBe(path.resolve('data'));
  });
});

describe('ROWPOOL_NATS_URL', () => {
  test('is refused with a message naming it, rather than ignored', () => {
    expect(() => loadConfig({ ROWPOOL_NATS_URL: 'nats://127.0.0.1:4222' })).toThrow(
      /ROWPOOL_NATS_URL is set, but this build of rowpool runs as a single node only/,
    );
  });
});
