import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { testConfig } from '../helpers/app.js';

export interface InProcessNode {
  readonly natsUrl: string;
  readonly id: string;
  readonly memoryLimit: number;
  readonly shardBytes: number;
}

/**
 * A rowpool node in this process on a test NATS server: one pool thread, short heartbeats (200 ms,
 * members expire after 1 s) so losses and moves happen within a test's time. Started and ready.
 */
export async function startInProcessNode(node: InProcessNode): Promise<FastifyInstance> {
  const app = await buildApp(
    testConfig({
      memoryLimit: node.memoryLimit,
      threads: 1,
      maxRunningJobs: 2,
      cluster: {
        natsUrl: node.natsUrl,
        nodeId: node.id,
        advertiseUrl: `http://${node.id}`,
        replicas: 1,
        streamReplicas: 1,
        shardBytes: node.shardBytes,
        heartbeatMs: 200,
        memberTtlMs: 1000,
        shardTimeoutMs: 3000,
      },
    }),
    { logger: false },
  );
  await app.rowpool.start();
  return app;
}
