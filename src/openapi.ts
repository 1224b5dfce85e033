import { readFileSync } from 'node:fs';
import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';

/*
 * The document is built by @fastify/swagger from the route schemas, which carry their own
 * descriptions, headers and examples. What no route can say is set here: the document's info, tags
 * and security scheme, the operationIds, and which operations take no token. One rule for parameter
 * examples is applied to every operation after generation; no route is named here.
 */

// Read at run time rather than imported: from src/ and from dist/ alike, package.json is one level up.
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
  description: string;
  license: string;
};

type Json = Record<string, unknown>;

interface Parameter {
  schema?: Json;
  example?: unknown;
}

/** `get /v1/datasets/{id}/data` -> `getDatasetsByIdData`: stable names for client generators. */
function operationId(method: string, path: string): string {
  const words = path
    .split('/')
    .filter((part) => part !== '' && !/^v\d+$/.test(part))
    .map((part) => part.replace(/^\{(.+)\}$/, 'by-$1'))
    .flatMap((part) => part.split(/[^A-Za-z0-9]+/))
    .filter((word) => word !== '');
  return method + words.map((w) => w[0].toUpperCase() + w.slice(1)).join('');
}

/**
 * Swagger UI fills "Try it out" with a parameter's `example` (or its first `examples` entry) and sends
 * it, while a schema's `examples` it only shows. @fastify/swagger lifts a parameter schema's single
 * example to the parameter, so it goes back into the schema: a reader sees it, a request does not.
 */
function exampleIntoSchema(parameter: Parameter): void {
  if (parameter.example === undefined) return;
  parameter.schema = { ...parameter.schema, examples: [parameter.example] };
  delete parameter.example;
}

function complete(doc: Json): Json {
  const paths = doc.paths as Record<string, Record<string, Json>>;
  for (const [path, item] of Object.entries(paths)) {
    for (const [method, generated] of Object.entries(item)) {
      // operationId first, where a reader of the YAML looks for it.
      const op: Json = { operationId: operationId(method, path), ...generated };
      item[method] = op;
      // The auth hook refuses exactly the operations that document a 401; the others take no token.
      if ((op.responses as Json)['401'] === undefined) op.security = [];
      for (const parameter of (op.parameters as Parameter[] | undefined) ?? []) exampleIntoSchema(parameter);
    }
  }
  return doc;
}

export const openapiOptions: FastifyDynamicSwaggerOptions = {
  mode: 'dynamic',
  openapi: {
    openapi: '3.1.0',
    info: {
      title: 'rowpool',
      version: pkg.version,
      description: `${pkg.description}.\n\nUpload an array once (.npy, raw bytes, a multipart form, CSV or JSON); it is held in shared memory and every job reads it in place. Start a per-row job, wait for it or poll it, then fetch its result as JSON, .npy or CSV.`,
      license: { name: pkg.license, identifier: pkg.license },
    },
    // Relative, so the document and Swagger UI work wherever rowpool is served.
    servers: [{ url: '/', description: 'The server this document came from' }],
    tags: [
      { name: 'datasets', description: 'Arrays held in shared memory' },
      { name: 'jobs', description: 'Per-row computations on the worker pool' },
      { name: 'kernels', description: 'Your own per-row functions, as WebAssembly modules' },
      { name: 'health', description: 'Liveness and readiness probes' },
      { name: 'observability', description: 'Prometheus metrics' },
      { name: 'docs', description: 'This document' },
    ],
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description:
            '`Authorization: Bearer <token>`. The /v1 routes need ROWPOOL_API_TOKEN and /metrics needs ROWPOOL_METRICS_TOKEN, each only when the server is started with it set. The probes and the API description are always open.',
        },
      },
    },
    // A token or none: a token is needed only when the server is configured with one. Operations that
    // cannot answer 401 are marked open after generation.
    security: [{ bearer: [] }, {}],
  },
  refResolver: {
    // Shared schemas land in components.schemas under their $id: Dataset, Job, ErrorResponse.
    buildLocalReference: (json, _baseUri, _fragment, i) =>
      typeof json.$id === 'string' ? json.$id : `def-${i}`,
  },
  transformObject: (documentObject) => complete((documentObject as { openapiObject: Json }).openapiObject),
};
