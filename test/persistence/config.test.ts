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
  test('makes the process a cluster node with the defaults stated in the README', () => {
    expect(loadConfig({}).cluster).toBeUndefined();
    const cluster = loadConfig({ ROWPOOL_NATS_URL: 'nats://127.0.0.1:4222', ROWPOOL_NODE_ID: 'n1' }).cluster;
    expect(cluster).toMatchObject({
      natsUrl: 'nats://127.0.0.1:4222',
      nodeId: 'n1',
      replicas: 1,
      streamReplicas: 1,
      shardBytes: 64 * 2 ** 20,
      heartbeatMs: 1000,
      memberTtlMs: 3000,
    });
  });

  test('is refused beside ROWPOOL_DATA_DIR, and a node id that is not a plain name is refused', () => {
    expect(() => loadConfig({ ROWPOOL_NATS_URL: 'nats://x:4222', ROWPOOL_DATA_DIR: 'data' })).toThrow(
      /ROWPOOL_NATS_URL and ROWPOOL_DATA_DIR are both set/,
    );
    expect(() => loadConfig({ ROWPOOL_NATS_URL: 'nats://x:4222', ROWPOOL_NODE_ID: 'a.b' })).toThrow(
      /ROWPOOL_NODE_ID must be/,
    );
  });
});
