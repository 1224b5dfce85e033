import { readFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import type { FastifySchema } from 'fastify';
import {
  DatasetNotFound,
  InsufficientMemory,
  InvalidJob,
  InvalidNpy,
  JobNotFound,
  JobNotSucceeded,
  NotAcceptable,
  ServiceUnavailable,
  Unauthorized,
  UnsupportedDtype,
  UnsupportedMediaType,
} from './errors.js';

// Read at run time rather than imported: from src/ and from dist/ alike, package.json is one level up.
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
  description: string;
  license: string;
};

const BINARY = { type: 'string', format: 'binary' } as const;
const EXAMPLE_DATASET_ID = '0b6f1a2e-3c3d-4e52-9a59-0e7f2f0c9b1d';
const EXAMPLE_JOB_ID = '5d0c8e44-9a51-4f8e-8f0b-6f2b1b7f3a10';

/**
 * Bodies that custom content-type parsers hand to the route as streams or text. Fastify compiles a
 * validator for every `body.content` entry of a route schema and would then reject the stream, so
 * these are added to the document only; the route validates the JSON body alone.
 */
const STREAMED_BODIES: Record<string, Record<string, { schema: Record<string, unknown> }>> = {
  'POST /v1/datasets': {
    'application/x-npy': {
      schema: {
        ...BINARY,
        description:
          'An .npy file (format 1.0, 2.0 or 3.0; either byte order; C or Fortran order). Stored little-endian, C-order.',
      },
    },
    'application/octet-stream': {
      schema: {
        ...BINARY,
        description:
          'An .npy file, recognised by its \\x93NUMPY magic, or raw little-endian C-order bytes described by the dtype and shape query parameters.',
      },
    },
    'multipart/form-data': {
      schema: {
        type: 'object',
        required: ['file'],
        properties: {
          file: { ...BINARY, description: 'The .npy file' },
          name: { type: 'string', maxLength: 256, description: 'A label for the dataset' },
        },
        additionalProperties: false,
      },
    },
    'text/csv': {
      schema: {
        type: 'string',
        description:
          'One row per line, comma-separated; a first line that is not numeric is taken as column names. nan, inf, -inf and true/false are read. Stored as float64 unless the dtype query parameter says otherwise.',
        examples: ['a,b,c\n1,2,3\n4.5,nan,-inf\n'],
      },
    },
  },
};

/** Rowpool errors as the server sends them, so the examples follow src/errors.ts. */
function errorExample(err: Error & { statusCode?: number; code?: string }) {
  const statusCode = err.statusCode ?? 500;
  return { statusCode, code: err.code, error: STATUS_CODES[statusCode] ?? 'Error', message: err.message };
}

const VALIDATION_EXAMPLE = {
  statusCode: 400,
  code: 'FST_ERR_VALIDATION',
  error: 'Bad Request',
  message: "body/op must be equal to one of the allowed values",
};

/** What a status means in rowpool, and an example body; `url` picks the likelier error of a status. */
function errorResponse(status: number, url: string) {
  const jobs = url.startsWith('/v1/jobs');
  const upload = url === '/v1/datasets';
  const examples: Record<number, { description: string; example: object }> = {
    400: {
      description: upload
        ? 'The body or its query parameters are not a valid dataset'
        : 'The request does not match what the operation takes',
      example: upload
        ? errorExample(new InvalidNpy("the header has no 'descr' key"))
        : url.endsWith('/jobs') && !jobs
          ? errorExample(new InvalidJob('op "cosine" needs params.vector with 128 numbers, one per row element'))
          : VALIDATION_EXAMPLE,
    },
    401: {
      description: 'ROWPOOL_API_TOKEN is set and the bearer token is missing or wrong',
      example: errorExample(new Unauthorized()),
    },
    404: {
      description: jobs ? 'No job has this id' : 'No dataset has this id',
      example: jobs
        ? errorExample(new JobNotFound(EXAMPLE_JOB_ID))
        : errorExample(new DatasetNotFound(EXAMPLE_DATASET_ID)),
    },
    406: { description: 'None of the types in Accept can be served', example: errorExample(new NotAcceptable()) },
    409: {
      description: 'The job has not succeeded, so it has no result',
      example: errorExample(new JobNotSucceeded(EXAMPLE_JOB_ID, 'running')),
    },
    413: {
      description: upload
        ? 'The dataset needs more of ROWPOOL_MEMORY_LIMIT than is free, or a JSON or CSV body exceeds ROWPOOL_TEXT_BODY_LIMIT'
        : 'The result needs more of ROWPOOL_MEMORY_LIMIT than is free',
      example: upload
        ? errorExample(new InsufficientMemory('the dataset', 4_000_000_000, 1_073_741_824, 2_147_483_648))
        : errorExample(new InsufficientMemory('the result', 8_000_000, 4096, 2_147_483_648)),
    },
    415: {
      description: 'The Content-Type is not one rowpool reads',
      example: errorExample(new UnsupportedMediaType('text/plain')),
    },
    422: {
      description: 'The array has an element type rowpool does not store',
      example: errorExample(new UnsupportedDtype('complex128', 'float16, float32, …')),
    },
    503: {
      description: 'rowpool is shutting down',
      example: errorExample(new ServiceUnavailable('rowpool is shutting down and takes no new uploads or jobs')),
    },
  };
  return examples[status];
}

/** `GET /v1/datasets/:id/data` -> `getDatasetsByIdData`: stable names for client generators. */
function operationId(method: string, url: string): string {
  const words = url
    .split('/')
    .filter((part) => part !== '' && !/^v\d+$/.test(part))
    .map((part) => (part.startsWith(':') ? `by-${part.slice(1)}` : part))
    .flatMap((part) => part.split(/[^A-Za-z0-9]+/))
    .filter((word) => word !== '');
  return [method.toLowerCase(), ...words.map((w) => w[0].toUpperCase() + w.slice(1))].join('');
}

type RouteSchema = FastifySchema & {
  operationId?: string;
  response?: Record<string, unknown>;
  body?: { content?: Record<string, unknown> };
};

function transform({ schema, url, route }: { schema: FastifySchema; url: string; route: { method: string | string[] } }) {
  if (schema === undefined) return { schema, url };
  const method = Array.isArray(route.method) ? route.method[0] : route.method;
  const out: RouteSchema = { ...(schema as RouteSchema) };
  out.operationId ??= operationId(method, url);
  const streamed = STREAMED_BODIES[`${method} ${url}`];
  if (streamed !== undefined) {
    out.body = { ...out.body, content: { ...streamed, ...out.body?.content } };
  }
  return { schema: out, url };
}

export const openapiOptions: FastifyDynamicSwaggerOptions = {
  mode: 'dynamic',
  openapi: {
    openapi: '3.1.0',
    info: {
      title: 'rowpool',
      version: pkg.version,
      description: `${pkg.description}.\n\nUpload an array once (.npy, raw bytes, a multipart form, CSV or JSON); it is held in shared memory and every job reads it in place. Start a job with one of the per-row ops, wait for it or poll it, then fetch its result as JSON, .npy or CSV.`,
      license: { name: pkg.license, identifier: pkg.license },
    },
    servers: [{ url: 'http://127.0.0.1:3000', description: 'The default HOST and PORT' }],
    tags: [
      { name: 'datasets', description: 'Arrays held in shared memory' },
      { name: 'jobs', description: 'Per-row computations on the worker pool' },
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
            'Needed only when the server has ROWPOOL_API_TOKEN set (ROWPOOL_METRICS_TOKEN for /metrics): `Authorization: Bearer <token>`.',
        },
      },
    },
    // Either alternative: the token is required only when the server is configured with one.
    security: [{ bearer: [] }, {}],
  },
  refResolver: {
    // Shared schemas land in components.schemas under their $id (Dataset, Job, ErrorResponse).
    buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
  },
  transform,
};

