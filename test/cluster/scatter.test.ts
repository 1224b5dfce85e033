import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { gather, ShardFailed, serveShard } from '../../src/cluster/scatter.js';
import { type NatsServer, natsSkipReason, startNatsServer } from './nats-server.js';

const skip = natsSkipReason();
if (skip !== undefined) console.warn(`skipping the scatter/gather tests: ${skip}`);

/** A shard's "computation": the sum of the request's bytes plus the shard's index, as 8 bytes. */
function compute(index: number, request: Uint8Array): Uint8Array {
  const out = new Float64Array([request.reduce((a, b) => a + b, 0) + index]);
  return new Uint8Array(out.buffer);
}
const value = (bytes: Uint8Array) => new Float64Array(new Uint8Array(bytes).buffer)[0];

describe.skipIf(skip !== undefined)('scatter and gather over NATS', () => {
  let nats: NatsServer;
  const connections: NatsConnection[] = [];
  const node = async () => {
    const nc = await connect({ servers: nats.url });
    connections.push(nc);
    return nc;
  };

  beforeAll(async () => {
    nats = await startNatsServer();
  });
  afterAll(async () => {
    await Promise.allSettled(connections.map((nc) => nc.close()));
    await nats?.stop();
  });

  test('an owner that dies holding the requests is replaced by the next one: every shard answers, in order', async () => {
    const [a, b, coordinator] = [await node(), await node(), await node()];
    const seen: string[] = [];
    const serveB = async () => {
      for (const index of [0, 1, 2]) {
        serveShard(b, 'ds', index, async (req) => {
          seen.push(`b${index}`);
          return compute(index, req);
        });
      }
      await b.flush();
    };
    // Only a owns the shards when the job starts; on its first request b joins and a crashes.
    for (const index of [0, 1, 2]) {
      serveShard(a, 'ds', index, async () => {
        seen.push(`a${index}`);
        if (!a.isClosed()) {
          await serveB();
          await a.close();
        }
        return new Promise<Uint8Array>(() => {});
      });
    }
    await a.flush();
    const started = performance.now();
    const replies = await gather(
      coordinator,
      'ds',
      [0, 1, 2].map((index) => ({ index, payload: Uint8Array.of(1, 2, 3) })),
      {
        timeoutMs: 500,
        attempts: 3,
        retryDelayMs: 0,
      },
    );
    expect(replies.map(value)).toEqual([6, 7, 8]);
    expect(performance.now() - started).toBeLessThan(3000);
    expect(seen.some((s) => s.startsWith('a'))).toBe(true);
    expect(seen.filter((s) => s.startsWith('b')).sort()).toEqual(['b0', 'b1', 'b2']);
  });

  test('a shard nobody can compute fails the whole call, naming the shard', async () => {
    const [owner, coordinator] = [await node(), await node()];
    serveShard(owner, 'ds2', 0, async (req) => compute(0, req));
    serveShard(owner, 'ds2', 1, async () => {
      throw new Error('shard 1 is not loaded here');
    });
    await owner.flush();
    const call = gather(
      coordinator,
      'ds2',
      [0, 1, 2].map((index) => ({ index, payload: Uint8Array.of(1) })),
      { timeoutMs: 300, attempts: 2, retryDelayMs: 50 },
    );
    await expect(call).rejects.toThrow(ShardFailed);
    await expect(call).rejects.toThrow(/shard (1|2) of dataset ds2 could not be computed in 2 attempts/);
  });
});
