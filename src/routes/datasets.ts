import { Readable } from 'node:stream';
import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { type DType, isDType, SUPPORTED_DTYPES_TEXT } from '../datasets/dtypes.js';
import { readNpyStream, readRawStream } from '../datasets/ingest.js';
import { npyHeaderFor, startsWithMagic } from '../datasets/npy.js';
import { type DatasetStore, datasetInfo, type FilledArray } from '../datasets/store.js';
import { parseCsv, parseJsonArray } from '../datasets/text-formats.js';
import { fillFromValues } from '../datasets/values.js';
import { InvalidDatasetRequest, UnsupportedMediaType } from '../errors.js';
import type { MemoryBudget } from '../memory.js';
import type { Metrics } from '../metrics.js';
import { errors, IdParams } from '../schemas/common.js';
import { DatasetList, JsonUpload, UploadQuery } from '../schemas/datasets.js';

export interface DatasetRoutesOptions {
  readonly store: DatasetStore;
  readonly budget: MemoryBudget;
  readonly metrics: Metrics;
  readonly textBodyLimit: number;
  /** Frees the memory of dropped buffers now rather than at the next garbage collection. */
  readonly reclaim: () => void;
}

type IngestFormat = 'npy' | 'raw' | 'multipart' | 'csv' | 'json';

const NPY_TYPE = 'application/x-npy';
/** @fastify/multipart's errors for a form with more parts than an upload has. */
const FORM_LIMIT_CODES = new Set(['FST_FILES_LIMIT', 'FST_PARTS_LIMIT', 'FST_FIELDS_LIMIT']);
const STREAM_TYPES = [NPY_TYPE, 'application/octet-stream'];
/** Largest slice of a dataset handed to the socket at once when downloading: views, never copies. */
const DOWNLOAD_SLICE = 16 * 2 ** 20;

function dtypeParam(name: string | undefined, fallback?: DType): DType {
  if (name === undefined) {
    if (fallback !== undefined) return fallback;
    throw new InvalidDatasetRequest(`the dtype query parameter is required; one of ${SUPPORTED_DTYPES_TEXT}`);
  }
  if (!isDType(name)) {
    throw new InvalidDatasetRequest(`unknown dtype "${name}"; supported dtypes are ${SUPPORTED_DTYPES_TEXT}`);
  }
  return name;
}

function shapeParam(text: string | undefined): number[] {
  if (text === undefined) {
    throw new InvalidDatasetRequest(
      'the shape query parameter is required with raw bytes, e.g. shape=1000,128',
    );
  }
  const dims = text.split(',').map((d) => d.trim());
  if (dims.some((d) => !/^\d+$/.test(d)) || dims.length === 0) {
    throw new InvalidDatasetRequest(
      `shape "${text}" must be comma-separated non-negative integers with at least one dimension, e.g. 1000,128`,
    );
  }
  const shape = dims.map(Number);
  if (shape.some((d) => !Number.isSafeInteger(d)))
    throw new InvalidDatasetRequest(`shape "${text}" is too large`);
  return shape;
}

function contentLength(request: FastifyRequest): number | undefined {
  const header = request.headers['content-length'];
  return header === undefined ? undefined : Number(header);
}

/** Reads the first chunk of a stream and hands back a stream that still yields it. */
async function peek(stream: AsyncIterable<Uint8Array>): Promise<[Uint8Array, AsyncIterable<Uint8Array>]> {
  const chunks = stream[Symbol.asyncIterator]();
  const first = await chunks.next();
  const head: Uint8Array = first.done ? new Uint8Array(0) : first.value;
  return [
    head,
    {
      async *[Symbol.asyncIterator]() {
        if (head.length > 0) yield head;
        for (;;) {
          const next = await chunks.next();
          if (next.done) return;
          yield next.value;
        }
      },
    },
  ];
}

const datasetRoutes: FastifyPluginAsyncTypebox<DatasetRoutesOptions> = async (app, opts) => {
  const { store, budget, metrics, reclaim } = opts;

  // Streams are handed on untouched: the route copies them straight into shared memory.
  app.addContentTypeParser(STREAM_TYPES, (_request, payload, done) => done(null, payload));
  app.addContentTypeParser(
    ['text/csv', 'application/csv'],
    { parseAs: 'string', bodyLimit: opts.textBodyLimit },
    (_request, body, done) => done(null, body),
  );
  await app.register(multipart, {
    limits: { fileSize: Number.MAX_SAFE_INTEGER, files: 1, fields: 4, parts: 5, fieldSize: 1024 },
  });

  async function fromMultipart(request: FastifyRequest): Promise<[FilledArray, string | undefined]> {
    let filled: FilledArray | undefined;
    let name: string | undefined;
    try {
      for await (const part of request.parts()) {
        if (part.type === 'field') {
          if (part.fieldname !== 'name') {
            throw new InvalidDatasetRequest(
              `unexpected form field "${part.fieldname}"; send "file" and optionally "name"`,
            );
          }
          name = String(part.value);
        } else if (part.fieldname !== 'file' || filled !== undefined) {
          throw new InvalidDatasetRequest(
            `unexpected file part "${part.fieldname}"; send one .npy file in the "file" field`,
          );
        } else {
          filled = await readNpyStream(part.file, budget);
        }
      }
    } catch (err) {
      filled?.reservation.release();
      const { code, statusCode } = err as { code?: string; statusCode?: number };
      if (FORM_LIMIT_CODES.has(code ?? '')) {
        throw new InvalidDatasetRequest(
          'the form has too many parts; send one .npy file in "file" and optionally "name"',
        );
      }
      // The multipart parser's own errors (no boundary, a body cut short) carry no status: the form is bad.
      if (statusCode === undefined && !request.raw.destroyed) {
        throw new InvalidDatasetRequest(
          `the multipart/form-data body is malformed: ${(err as Error).message}`,
        );
      }
      throw err;
    }
    if (filled === undefined)
      throw new InvalidDatasetRequest('the form has no "file" part holding an .npy file');
    return [filled, name];
  }

  async function ingest(
    request: FastifyRequest,
    query: { dtype?: string; shape?: string },
  ): Promise<[FilledArray, IngestFormat, string | undefined]> {
    const type = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    const body = request.body as unknown;
    if (type === NPY_TYPE) {
      return [await readNpyStream(body as Readable, budget, contentLength(request)), 'npy', undefined];
    }
    if (type === 'application/octet-stream') {
      if (query.dtype !== undefined || query.shape !== undefined) {
        const dtype = dtypeParam(query.dtype);
        const shape = shapeParam(query.shape);
        return [
          await readRawStream(body as Readable, budget, dtype, shape, contentLength(request)),
          'raw',
          undefined,
        ];
      }
      const [head, stream] = await peek(body as Readable);
      if (!startsWithMagic(head) && head.length >= 6) {
        throw new InvalidDatasetRequest(
          'an application/octet-stream body must be an .npy file (starting with \\x93NUMPY) or raw bytes with the dtype and shape query parameters',
        );
      }
      return [await readNpyStream(stream, budget, contentLength(request)), 'npy', undefined];
    }
    if (type === 'multipart/form-data') {
      const [filled, name] = await fromMultipart(request);
      return [filled, 'multipart', name];
    }
    if (type === 'text/csv' || type === 'application/csv') {
      const parsed = parseCsv(body as string);
      const dtype = dtypeParam(query.dtype, 'float64');
      return [fillFromValues(dtype, parsed.shape, parsed.values, budget, parsed.describe), 'csv', undefined];
    }
    if (type === 'application/json') {
      const upload = body as { dtype?: string; data: unknown; name?: string };
      const dtype = dtypeParam(upload.dtype, 'float64');
      const parsed = parseJsonArray(upload.data);
      return [
        fillFromValues(dtype, parsed.shape, parsed.values, budget, parsed.describe),
        'json',
        upload.name,
      ];
    }
    throw new UnsupportedMediaType(type === '' ? '(none)' : type);
  }

  app.post(
    '/v1/datasets',
    {
      bodyLimit: opts.textBodyLimit,
      schema: {
        summary: 'Upload a dataset',
        description:
          'Streams the array into shared memory once. The memory check comes first: a dataset larger than the free part of ROWPOOL_MEMORY_LIMIT is refused with 413 before its body is read.',
        tags: ['datasets'],
        querystring: UploadQuery,
        body: {
          content: {
            'application/json': { schema: JsonUpload },
          },
        },
        response: { 201: Type.Ref('Dataset'), ...errors(400, 401, 413, 415, 422, 503) },
      },
    },
    async (request, reply) => {
      const [filled, format, bodyName] = await ingest(request, request.query);
      const name = bodyName ?? request.query.name ?? null;
      const dataset = store.add(filled, name);
      metrics.ingestedBytes.inc({ format }, dataset.bytes);
      request.log.info(
        { datasetId: dataset.id, dtype: dataset.dtype, shape: dataset.shape, bytes: dataset.bytes, format },
        'dataset stored',
      );
      return reply.code(201).header('location', `/v1/datasets/${dataset.id}`).send(datasetInfo(dataset));
    },
  );

  app.get(
    '/v1/datasets',
    {
      schema: {
        summary: 'List datasets and the memory they hold',
        tags: ['datasets'],
        response: { 200: DatasetList, ...errors(401) },
      },
    },
    async () => ({
      datasets: store.list().map(datasetInfo),
      memory: { limitBytes: budget.limit, usedBytes: budget.used, freeBytes: budget.free },
    }),
  );

  app.get(
    '/v1/datasets/:id',
    {
      schema: {
        summary: 'Describe a dataset',
        tags: ['datasets'],
        params: IdParams,
        response: { 200: Type.Ref('Dataset'), ...errors(401, 404) },
      },
    },
    async (request) => datasetInfo(store.get(request.params.id)),
  );

  app.get(
    '/v1/datasets/:id/data',
    {
      schema: {
        summary: 'Download a dataset as .npy',
        tags: ['datasets'],
        params: IdParams,
        response: {
          200: {
            description: 'The array as a little-endian, C-order .npy file',
            content: { [NPY_TYPE]: { schema: { type: 'string', format: 'binary' } } },
          },
          ...errors(401, 404),
        },
      },
    },
    async (request, reply) => {
      const dataset = store.get(request.params.id);
      const header = npyHeaderFor(dataset.dtype, dataset.shape);
      const { buffer, bytes } = dataset;
      async function* slices() {
        yield header;
        for (let at = 0; at < bytes; at += DOWNLOAD_SLICE) {
          yield Buffer.from(buffer, at, Math.min(DOWNLOAD_SLICE, bytes - at));
        }
      }
      // The schema documents the body as binary text for OpenAPI; Fastify sends the stream as it is.
      const stream: unknown = Readable.from(slices(), { objectMode: false });
      return reply
        .type(NPY_TYPE)
        .header('content-length', header.length + bytes)
        .header('content-disposition', `attachment; filename="${dataset.id}.npy"`)
        .send(stream as string);
    },
  );

  app.delete(
    '/v1/datasets/:id',
    {
      schema: {
        summary: 'Delete a dataset, cancelling its running jobs and releasing its memory',
        tags: ['datasets'],
        params: IdParams,
        response: { 204: Type.Null({ description: 'Deleted' }), ...errors(401, 404) },
      },
    },
    async (request, reply) => {
      const dataset = store.delete(request.params.id);
      request.log.info({ datasetId: dataset.id, bytes: dataset.bytes }, 'dataset deleted');
      reclaim();
      return reply.code(204).send(null);
    },
  );
};

export default datasetRoutes;
