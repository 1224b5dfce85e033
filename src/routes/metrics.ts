import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Registry } from 'prom-client';
import { Type } from 'typebox';
import { errorResponses } from '../schemas/common.js';
import { unauthorized } from '../schemas/error-docs.js';

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
          ...errorResponses({ 401: unauthorized('ROWPOOL_METRICS_TOKEN') }),
        },
      },
    },
    async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()),
  );
};

export default metricsRoutes;
