import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Registry } from 'prom-client';
import { Type } from 'typebox';
import { errors } from '../schemas/common.js';

export interface MetricsRoutesOptions {
  readonly registry: Registry;
}

const metricsRoutes: FastifyPluginAsyncTypebox<MetricsRoutesOptions> = async (app, { registry }) => {
  app.get(
    '/metrics',
    {
      // Prometheus scrapes every few seconds: at info that would bury the requests that matter.
      logLevel: 'warn',
      schema: {
        summary: 'Prometheus metrics in the text exposition format',
        tags: ['observability'],
        response: {
          200: {
            description: 'Text exposition format 0.0.4',
            content: { 'text/plain': { schema: Type.String() } },
          },
          ...errors(401),
        },
      },
    },
    async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()),
  );
};

export default metricsRoutes;
