import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { NotLoaded } from '../persistence/durable-datasets.js';
import { jsonResponse } from '../schemas/common.js';

export interface HealthRoutesOptions {
  /** Why the service is not ready, or undefined when it is. */
  readonly notReadyReason: () => string | undefined;
  /** Datasets kept on disk that are not served (they did not fit in memory), with why. */
  readonly datasetsNotLoaded: () => readonly NotLoaded[];
}

const NotLoadedSchema = Type.Object({
  id: Type.String(),
  name: Type.Union([Type.String(), Type.Null()]),
  bytes: Type.Integer(),
  reason: Type.String(),
});

const healthRoutes: FastifyPluginAsyncTypebox<HealthRoutesOptions> = async (
  app,
  { notReadyReason, datasetsNotLoaded },
) => {
  app.get(
    '/healthz',
    {
      // Probes come every few seconds: at info they would bury the requests that matter.
      logLevel: 'warn',
      schema: {
        summary: 'Liveness: 200 while the process serves',
        tags: ['health'],
        response: {
          200: jsonResponse(Type.Object({ status: Type.Literal('ok') }), {
            description: 'The process serves requests',
            example: { status: 'ok' },
          }),
        },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      logLevel: 'warn',
      schema: {
        summary: 'Readiness: 200 once the pool is up, 503 while starting or shutting down',
        tags: ['health'],
        response: {
          200: jsonResponse(
            Type.Object({
              status: Type.Literal('ready'),
              datasetsNotLoaded: Type.Optional(
                Type.Array(NotLoadedSchema, {
                  description:
                    'Datasets kept in ROWPOOL_DATA_DIR that were not loaded at start (most often: they did not fit in ROWPOOL_MEMORY_LIMIT); their files are kept',
                }),
              ),
            }),
            {
              description: 'The pool is up and takes uploads and jobs',
              example: { status: 'ready' },
            },
          ),
          503: jsonResponse(Type.Object({ status: Type.Literal('not ready'), reason: Type.String() }), {
            description: 'Starting or shutting down; reason says which',
            example: { status: 'not ready', reason: 'shutting down' },
          }),
        },
      },
    },
    async (_request, reply) => {
      const reason = notReadyReason();
      if (reason !== undefined) return reply.code(503).send({ status: 'not ready' as const, reason });
      const notLoaded = datasetsNotLoaded();
      if (notLoaded.length > 0) return { status: 'ready' as const, datasetsNotLoaded: [...notLoaded] };
      return { status: 'ready' as const };
    },
  );
};

export default healthRoutes;
