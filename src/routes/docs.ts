import swaggerUi from '@fastify/swagger-ui';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

/** The OpenAPI document as YAML and Swagger UI; needs @fastify/swagger registered before every route. */
const docsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/openapi.yaml',
    {
      schema: {
        summary: 'This OpenAPI document, generated from the route schemas',
        tags: ['docs'],
        response: {
          200: {
            description: 'OpenAPI 3.1 as YAML; the same text as openapi.yaml in the repository',
            content: { 'application/yaml': { schema: { type: 'string' } } },
          },
        },
      },
    },
    async (_request, reply) =>
      reply.type('application/yaml; charset=utf-8').send(app.swagger({ yaml: true })),
  );

  // The UI's scripts and styles ship inside @fastify/swagger-ui; nothing is fetched from elsewhere.
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: true } });
};

export default docsRoutes;
