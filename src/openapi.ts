import { readFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import { SUPPORTED_DTYPES_TEXT } from './datasets/dtypes.js';
import {
  DatasetNotFound,
  InsufficientMemory,
  InvalidJob,
  InvalidNpy,
  JobNotFound,
  JobNotSucceeded,
  JsonOnly,
  KernelNotFound,
  KernelTooLarge,
  NotAcceptable,
  ServiceUnavailable,
  Unauthorized,
  UnsupportedDtype,
  UnsupportedMediaType,
  WasmOnly,
} from './errors.js';
import { JOB_STATUSES } from './jobs/status.js';
import { InvalidKernelModule } from './user-kernels/errors.js';

/*
 * The document is built by @fastify/swagger from the route schemas. What those schemas cannot say
 * is added here, after generation: bodies that custom content-type parsers read, response headers,
 * examples, and what each error status means. test/openapi checks these additions against the
 * running service, so they cannot silently go stale.
 */

// Read at run time rather than imported: from src/ and from dist/ alike, package.json is one level up.
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
  description: string;
  license: string;
};

type Json = Record<string, unknown>;

const DATASET_ID = '0b6f1a2e-3c3d-4e52-9a59-0e7f2f0c9b1d';
const JOB_ID = '5d0c8e44-9a51-4f8e-8f0b-6f2b1b7f3a10';
const KERNEL_ID = '6f1c2b9e-8d4a-4e0f-9b7e-2a1d5c3e4f60';
const BINARY = { type: 'string', format: 'binary' } as const;

/**
 * Upload bodies read by custom content-type parsers, as streams or text. Fastify compiles a validator
 * for every `body.content` entry of a route schema and would reject those streams, so the route
 * declares only its JSON body and these are added to the document alone.
 */
const STREAMED_UPLOADS: Record<string, Json> = {
  'application/x-npy': {
    schema: {
      ...BINARY,
      description:
        'An .npy file: format 1.0, 2.0 or 3.0, either byte order, C or Fortran order. Stored little-endian in C order.',
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
        'One row per line, comma-separated. A first line that is not numeric holds column names and is skipped. Reads nan, inf, -inf, true and false. Stored as float64 unless the dtype query parameter names another type.',
    },
    example: 'a,b,c\n1,2,3\n4.5,nan,-inf\n',
  },
  'application/csv': { schema: { type: 'string', description: 'The same as text/csv' } },
};

/** A kernel upload, read as a stream by the kernel routes' own parser. */
const KERNEL_UPLOAD: Json = {
  required: true,
  description: 'The compiled module (a .wasm file) following the kernel ABI v1',
  content: { 'application/wasm': { schema: { ...BINARY, description: 'A WebAssembly binary module' } } },
};

const CHALLENGE = {
  'WWW-Authenticate': {
    schema: { type: 'string', const: 'Bearer' },
    description: 'The scheme to authenticate with',
  },
};

const LOCATION = (what: string) => ({ schema: { type: 'string' }, description: `The URL of the ${what}` });

/** Headers the handlers set, by `METHOD /path status`. */
const RESPONSE_HEADERS: Record<string, Json> = {
  'post /v1/datasets 201': { Location: LOCATION('new dataset, /v1/datasets/{id}') },
  'post /v1/kernels 201': { Location: LOCATION('new kernel, /v1/kernels/{id}') },
  'post /v1/datasets/{id}/jobs 200': { Location: LOCATION('job, /v1/jobs/{id}') },
  'post /v1/datasets/{id}/jobs 202': { Location: LOCATION('job, /v1/jobs/{id}; poll it') },
  'get /v1/datasets/{id}/data 200': {
    'Content-Disposition': {
      schema: { type: 'string' },
      description: 'attachment; filename="{id}.npy"',
    },
  },
};

const DATASET = {
  id: DATASET_ID,
  name: 'embeddings',
  dtype: 'float32',
  shape: [1000, 128],
  rows: 1000,
  rowLength: 128,
  bytes: 512000,
  createdAt: '2026-01-15T09:30:00.000Z',
};

const JOB = {
  id: JOB_ID,
  datasetId: DATASET_ID,
  op: 'mean',
  params: {},
  rows: { start: 0, end: 1000 },
  status: 'succeeded',
  progress: { rowsDone: 1000, rowsTotal: 1000 },
  createdAt: '2026-01-15T09:31:00.000Z',
  startedAt: '2026-01-15T09:31:00.002Z',
  finishedAt: '2026-01-15T09:31:00.015Z',
};

const KERNEL = {
  id: KERNEL_ID,
  name: 'longest-run',
  sha256: 'c3ab8ff13720e8ad9047dd39466b3c8974e592c2fa383d4a3960714caef0c4f2',
  bytes: 582,
  abi: 1,
  createdAt: '2026-01-15T09:29:00.000Z',
};

const TOP_K_JOB = {
  ...JOB,
  op: 'cosine',
  params: { vector: [0.1, 0.2, 0.3] },
  vectorLength: 3,
  top: { k: 3, largest: true },
  status: 'running',
  progress: { rowsDone: 256, rowsTotal: 1000 },
  finishedAt: null,
};

/** Example bodies by `METHOD /path status` (or `METHOD /path request`), then by media type. */
const EXAMPLES: Record<string, Record<string, Json>> = {
  'post /v1/datasets request': {
    'application/json': {
      example: {
        name: 'small',
        dtype: 'float32',
        data: [
          [1, 2, 3],
          [4, 5, 6],
        ],
      },
    },
  },
  'post /v1/datasets 201': { 'application/json': { example: DATASET } },
  'get /v1/datasets 200': {
    'application/json': {
      example: {
        datasets: [DATASET],
        memory: { limitBytes: 2147483648, usedBytes: 520000, freeBytes: 2146963648 },
      },
    },
  },
  'get /v1/datasets/{id} 200': { 'application/json': { example: DATASET } },
  'post /v1/datasets/{id}/jobs 200': { 'application/json': { example: JOB } },
  'post /v1/datasets/{id}/jobs 202': { 'application/json': { example: TOP_K_JOB } },
  'get /v1/jobs 200': {
    'application/json': {
      example: {
        jobs: [{ ...TOP_K_JOB, params: {}, vectorLength: 3 }, JOB],
        nextCursor: null,
      },
    },
  },
  'get /v1/jobs/{id} 200': { 'application/json': { example: JOB } },
  'get /v1/jobs/{id}/result 200': {
    'application/json': {
      examples: {
        perRow: {
          summary: 'One value per row',
          value: { jobId: JOB_ID, dtype: 'float64', shape: [4], data: [0.5, 1.25, 'NaN', -3] },
        },
        topK: {
          summary: 'A top-k job: the best rows, best first',
          value: { jobId: JOB_ID, indices: [412, 7, 988], values: [0.998, 0.991, 0.987] },
        },
      },
    },
    'text/csv': { example: '0.5\n1.25\nnan\n-3\n' },
  },
  'post /v1/kernels 201': { 'application/json': { example: KERNEL } },
  'get /v1/kernels 200': { 'application/json': { example: { kernels: [KERNEL] } } },
  'get /v1/kernels/{id} 200': { 'application/json': { example: KERNEL } },
  'get /healthz 200': { 'application/json': { example: { status: 'ok' } } },
  'get /readyz 200': { 'application/json': { example: { status: 'ready' } } },
  'get /readyz 503': { 'application/json': { example: { status: 'not ready', reason: 'shutting down' } } },
};

/** A rowpool error as the server sends it, so the examples follow src/errors.ts. */
function sent(err: Error & { statusCode?: number; code?: string }) {
  const statusCode = err.statusCode ?? 500;
  return { statusCode, code: err.code, error: STATUS_CODES[statusCode], message: err.message };
}

/** What an error status means for an operation, with an example; the path picks the likelier error. */
function errorResponse(status: number, path: string): { description: string; example: Json } | undefined {
  const jobs = path.startsWith('/v1/jobs');
  const upload = path === '/v1/datasets';
  const own = path.startsWith('/v1/kernels') ? kernelErrorResponse(status) : undefined;
  if (own !== undefined) return own;
  const submit = path.endsWith('/jobs') && !jobs;
  switch (status) {
    case 400:
      return {
        description: upload
          ? 'The body or its query parameters do not describe a valid array'
          : 'The request does not fit what the operation takes',
        example: upload
          ? sent(
              new InvalidNpy(
                'the header must have exactly the keys descr, fortran_order and shape, not descr,fortran_order',
              ),
            )
          : submit
            ? sent(new InvalidJob("params.vector has 3 numbers but the dataset's rows have 128"))
            : {
                statusCode: 400,
                code: 'FST_ERR_VALIDATION',
                error: 'Bad Request',
                message: `querystring.status must be one of ${JOB_STATUSES.map((s) => `"${s}"`).join(', ')}`,
              },
      };
    case 401:
      return {
        description: `${path === '/metrics' ? 'ROWPOOL_METRICS_TOKEN' : 'ROWPOOL_API_TOKEN'} is set and the request did not bring it as a bearer token`,
        example: sent(new Unauthorized()),
      };
    case 404:
      return jobs
        ? { description: 'No job has this id', example: sent(new JobNotFound(JOB_ID)) }
        : { description: 'No dataset has this id', example: sent(new DatasetNotFound(DATASET_ID)) };
    case 406:
      return { description: 'None of the types in Accept can be served', example: sent(new NotAcceptable()) };
    case 409:
      return {
        description: 'The job has not succeeded, so it has no result',
        example: sent(new JobNotSucceeded(JOB_ID, 'running')),
      };
    case 413:
      return upload
        ? {
            description:
              'The dataset needs more of ROWPOOL_MEMORY_LIMIT than is free, or a JSON or CSV body is over ROWPOOL_TEXT_BODY_LIMIT',
            example: sent(new InsufficientMemory('the dataset', 4000000000, 1073741824, 2147483648)),
          }
        : {
            description: 'The result would need more of ROWPOOL_MEMORY_LIMIT than is free',
            example: sent(new InsufficientMemory("the job's result", 8000000, 4096, 2147483648)),
          };
    case 415:
      return upload
        ? {
            description: 'rowpool does not read this Content-Type',
            example: sent(new UnsupportedMediaType('text/plain')),
          }
        : { description: 'The body is not JSON', example: sent(new JsonOnly('text/plain')) };
    case 422:
      return {
        description: 'The array holds an element type rowpool does not store',
        example: sent(new UnsupportedDtype("'<c16'", SUPPORTED_DTYPES_TEXT)),
      };
    case 503:
      return {
        description: 'rowpool is shutting down',
        example: sent(new ServiceUnavailable('rowpool is shutting down and takes no new uploads or jobs')),
      };
    default:
      return undefined;
  }
}

/** The kernel routes' errors; the others fall back to the general descriptions. */
function kernelErrorResponse(status: number): { description: string; example: Json } | undefined {
  switch (status) {
    case 400:
      return {
        description:
          'The body is not a kernel: not WebAssembly, truncated, empty, or outside the ABI v1 (imports other than env.memory and env.abort, its own or a shared memory, missing or mistyped exports); the message says what to change. Or the name is missing',
        example: sent(
          new InvalidKernelModule(
            "the module's exports do not follow the kernel ABI v1: rowpool_rows has the signature (i32, i32, i32, i32, i32, i32) -> i32, expected (i32, i32, i32, i32, i32, i32, i32) -> i32",
          ),
        ),
      };
    case 404:
      return { description: 'No kernel has this id', example: sent(new KernelNotFound(KERNEL_ID)) };
    case 413:
      return {
        description:
          'The module is larger than ROWPOOL_KERNEL_MAX_BYTES (from Content-Length before the body is read, or as it streams), or needs more of ROWPOOL_MEMORY_LIMIT than is free',
        example: sent(new KernelTooLarge(16777216)),
      };
    case 415:
      return {
        description: 'The body is not sent as application/wasm',
        example: sent(new WasmOnly('application/octet-stream')),
      };
    default:
      return undefined;
  }
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

/** A deep copy with no shared objects, which YAML would otherwise print as anchors and aliases. */
function copy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

const ERROR_REF = '#/components/schemas/ErrorResponse';

function complete(doc: Json): Json {
  const paths = doc.paths as Record<string, Record<string, Json>>;
  for (const [path, item] of Object.entries(paths)) {
    for (const [method, generated] of Object.entries(item)) {
      // operationId first, where a reader of the YAML looks for it.
      const op: Json = { operationId: operationId(method, path), ...generated };
      item[method] = op;
      const requestBody = op.requestBody as { content: Record<string, Json> } | undefined;
      if (method === 'post' && path === '/v1/datasets' && requestBody !== undefined) {
        requestBody.content = { ...copy(STREAMED_UPLOADS), ...requestBody.content };
      }
      if (method === 'post' && path === '/v1/kernels') op.requestBody = copy(KERNEL_UPLOAD);
      for (const [type, extra] of Object.entries(EXAMPLES[`${method} ${path} request`] ?? {})) {
        Object.assign(requestBody?.content[type] ?? {}, copy(extra));
      }
      const responses = op.responses as Record<
        string,
        { description: string; headers?: Json; content?: Json }
      >;
      // The auth hook refuses exactly the operations that document a 401; the others take no token.
      if (responses['401'] === undefined) op.security = [];
      for (const [status, response] of Object.entries(responses)) {
        const key = `${method} ${path} ${status}`;
        const json = response.content?.['application/json'] as Json | undefined;
        const error =
          (json?.schema as Json | undefined)?.$ref === ERROR_REF && errorResponse(Number(status), path);
        if (error) {
          response.description = error.description;
          json!.example = error.example;
        } else if (response.description === 'Default Response') {
          response.description = STATUS_CODES[status] ?? response.description;
        }
        if (RESPONSE_HEADERS[key] !== undefined) response.headers = copy(RESPONSE_HEADERS[key]);
        if (status === '401') response.headers = copy(CHALLENGE);
        for (const [type, extra] of Object.entries(EXAMPLES[key] ?? {})) {
          Object.assign((response.content?.[type] as Json | undefined) ?? {}, copy(extra));
        }
      }
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
    // cannot answer 401 are marked open below.
    security: [{ bearer: [] }, {}],
  },
  refResolver: {
    // Shared schemas land in components.schemas under their $id: Dataset, Job, ErrorResponse.
    buildLocalReference: (json, _baseUri, _fragment, i) =>
      typeof json.$id === 'string' ? json.$id : `def-${i}`,
  },
  transformObject: (documentObject) => complete((documentObject as { openapiObject: Json }).openapiObject),
};
