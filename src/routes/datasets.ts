import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { ClusterCatalog } from '../cluster/catalog.js';
import { SUPPORTED_DTYPES_TEXT } from '../datasets/dtypes.js';
import {
  type IngestFormat,
  NPY_MEDIA_TYPE,
  STREAMED_CONTENT_TYPES,
  type Uploaded,
  type UploadQuery,
  uploadMediaEntries,
} from '../datasets/formats.js';
import { npyHeaderFor } from '../datasets/npy.js';
import { arraySlices } from '../datasets/shared-array.js';
import { type DatasetInfo, type DatasetStore, datasetInfo, newDatasetIdentity } from '../datasets/store.js';
import { InsufficientMemory, InvalidNpy, UnsupportedDtype, UnsupportedMediaType } from '../errors.js';
import { sendCounted } from '../http/counted-send.js';
import type { InFlightUploads } from '../http/in-flight-uploads.js';
import type { UploadPace } from '../http/upload-guard.js';
import { uploadSource } from '../http/upload-source.js';
import type { MemoryBudget } from '../memory.js';
import type { Metrics } from '../metrics.js';
import type { DurableDatasets } from '../persistence/durable-datasets.js';
import {
  bodyMedia,
  errorBody,
  errorResponses,
  headerDoc,
  IdParamsSchema,
  jsonResponse,
} from '../schemas/common.js';
import {
  DatasetListQuerySchema,
  DatasetListSchema,
  JsonUploadSchema,
  UploadQuerySchema,
} from '../schemas/datasets.js';
import { DATASET_NOT_FOUND, SHUTTING_DOWN, unauthorized } from '../schemas/error-docs.js';
import { DATASET_EXAMPLE } from '../schemas/examples.js';
import { validators } from '../validation.js';

export interface DatasetRoutesOptions {
  readonly store: DatasetStore;
  readonly budget: MemoryBudget;
  /** Bytes past which an upload is split into segments (shared-array.ts). */
  readonly segmentLimit: number;
  readonly metrics: Metrics;
  /** The largest CSV or JSON body. */
  readonly textBodyLimit: number;
  readonly uploadPace: UploadPace;
  /** Seconds a download may take nothing before it is cut off. */
  readonly sendIdleSeconds: number;
  readonly uploads: InFlightUploads;
  /** ROWPOOL_DATA_DIR: datasets are on disk before an upload or a delete is answered. */
  readonly durable?: DurableDatasets;
  /** ROWPOOL_NATS_URL: datasets are sharded into JetStream and listed from there, on every node. */
  readonly cluster?: ClusterCatalog;
}

/** Largest slice of a dataset handed to the socket at once when downloading: views, never copies. */
const DOWNLOAD_SLICE = 2 ** 20;

const datasetRoutes: FastifyPluginAsyncTypebox<DatasetRoutesOptions> = async (app, opts) => {
  const { store, budget, metrics, uploads } = opts;

  // Every upload body is handed on as a stream and parsed as it arrives, straight into shared memory.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(STREAMED_CONTENT_TYPES, (_request, payload, done) => done(null, payload));
  await app.register(multipart, {
    limits: { fileSize: Number.MAX_SAFE_INTEGER, files: 1, fields: 4, parts: 5, fieldSize: 1024 },
  });
  const compile = validators();

  async function ingest(request: FastifyRequest, query: UploadQuery, signal: AbortSignal): Promise<Uploaded> {
    const { format, source } = uploadSource(request, query, signal, opts);
    return format.read(source);
  }

  /** Streams the body into the cluster's shards as it arrives; the node never holds it whole. */
  async function ingestToCluster(
    cluster: ClusterCatalog,
    request: FastifyRequest,
    query: UploadQuery & { readonly name?: string },
    signal: AbortSignal,
  ): Promise<{ stored: DatasetInfo; format: IngestFormat }> {
    let format: IngestFormat | undefined;
    const stored = await cluster.upload(newDatasetIdentity(), async (sink) => {
      const { format: reader, source } = uploadSource(request, query, signal, opts);
      const streamed = await reader.stream(source, sink);
      format = streamed.format;
      return { ...streamed, name: streamed.name ?? query.name ?? null };
    });
    return { stored, format: format as IngestFormat };
  }

  app.post(
    '/v1/datasets',
    {
      // The body arrives as a stream, so its schema documents it and each reader checks it.
      validatorCompiler: (route) => (route.httpPart === 'body' ? () => true : compile(route)),
      schema: {
        summary: 'Upload a dataset',
        description:
          'Streams the array into shared memory once. The memory check comes first: a dataset larger than the free part of ROWPOOL_MEMORY_LIMIT is refused with 413 before its body is read.',
        tags: ['datasets'],
        querystring: UploadQuerySchema,
        // Every format is listed for the document; the validator above lets each reader check its own.
        body: {
          content: {
            ...bodyMedia(uploadMediaEntries()),
            'application/json': { schema: JsonUploadSchema },
          },
        },
        response: {
          201: jsonResponse(Type.Ref('Dataset'), {
            description: 'Stored',
            headers: { Location: headerDoc('The URL of the new dataset, /v1/datasets/{id}') },
            example: DATASET_EXAMPLE,
          }),
          ...errorResponses({
            400: {
              description: 'The body or its query parameters do not describe a valid array',
              example: errorBody(
                new InvalidNpy(
                  'the header must have exactly the keys descr, fortran_order and shape, not descr,fortran_order',
                ),
              ),
            },
            401: unauthorized('ROWPOOL_API_TOKEN'),
            413: {
              description:
                'The dataset needs more of ROWPOOL_MEMORY_LIMIT than is free, or a JSON or CSV body is over ROWPOOL_TEXT_BODY_LIMIT',
              example: errorBody(new InsufficientMemory('the dataset', 4000000000, 1073741824, 2147483648)),
            },
            415: {
              description: 'rowpool does not read this Content-Type',
              example: errorBody(new UnsupportedMediaType('text/plain')),
            },
            422: {
              description: 'The array holds an element type rowpool does not store',
              example: errorBody(new UnsupportedDtype("'<c16'", SUPPORTED_DTYPES_TEXT)),
            },
            503: SHUTTING_DOWN,
          }),
        },
      },
    },
    async (request, reply) => {
      const upload = uploads.begin();
      if (opts.cluster !== undefined) {
        let stored: DatasetInfo;
        let format: IngestFormat;
        try {
          ({ stored, format } = await ingestToCluster(opts.cluster, request, request.query, upload.signal));
        } finally {
          upload.end();
        }
        metrics.ingestedBytes.inc({ format }, stored.bytes);
        request.log.info(
          { datasetId: stored.id, bytes: stored.bytes, format },
          'dataset stored in the cluster',
        );
        return reply.code(201).header('location', `/v1/datasets/${stored.id}`).send(stored);
      }
      let uploaded: Uploaded;
      try {
        uploaded = await ingest(request, request.query, upload.signal);
      } catch (err) {
        upload.end();
        throw err;
      }
      const { filled, format } = uploaded;
      const name = uploaded.name ?? request.query.name ?? null;
      const identity = newDatasetIdentity();
      let dataset: ReturnType<typeof store.add>;
      try {
        // Written while still counted as an upload in flight, so a shutdown waits for the write.
        await opts.durable?.save(identity, filled, name);
        dataset = store.add(filled, name, identity);
      } catch (err) {
        // Nothing is left behind by a failed upload, whatever fails.
        filled.reservation.release();
        throw err;
      } finally {
        upload.end();
      }
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
        querystring: DatasetListQuerySchema,
        response: {
          200: jsonResponse(DatasetListSchema, {
            description: 'The datasets held and the memory they take',
            example: {
              datasets: [DATASET_EXAMPLE],
              memory: { limitBytes: 2147483648, usedBytes: 520000, freeBytes: 2146963648 },
            },
          }),
          ...errorResponses({
            400: {
              description: 'A query parameter the route does not take',
              example: {
                statusCode: 400,
                code: 'FST_ERR_VALIDATION',
                error: 'Bad Request',
                message: 'querystring has an unknown field "colour"',
              },
            },
            401: unauthorized('ROWPOOL_API_TOKEN'),
          }),
        },
      },
    },
    async (request) => ({
      datasets: (opts.cluster === undefined ? store.list() : await opts.cluster.list())
        .filter((d) => request.query.name === undefined || d.name === request.query.name)
        .map(datasetInfo),
      memory: { limitBytes: budget.limit, usedBytes: budget.used, freeBytes: budget.free },
    }),
  );

  app.get(
    '/v1/datasets/:id',
    {
      schema: {
        summary: 'Describe a dataset',
        tags: ['datasets'],
        params: IdParamsSchema,
        response: {
          200: jsonResponse(Type.Ref('Dataset'), { description: 'The dataset', example: DATASET_EXAMPLE }),
          ...errorResponses({ 401: unauthorized('ROWPOOL_API_TOKEN'), 404: DATASET_NOT_FOUND }),
        },
      },
    },
    async (request) =>
      opts.cluster === undefined
        ? datasetInfo(store.get(request.params.id))
        : opts.cluster.info(request.params.id),
  );

  app.get(
    '/v1/datasets/:id/data',
    {
      schema: {
        summary: 'Download a dataset as .npy',
        tags: ['datasets'],
        params: IdParamsSchema,
        response: {
          200: {
            description: 'The array as a little-endian, C-order .npy file',
            headers: { 'Content-Disposition': headerDoc('attachment; filename="{id}.npy"') },
            content: { [NPY_MEDIA_TYPE]: { schema: { type: 'string', format: 'binary' } } },
          },
          ...errorResponses({ 401: unauthorized('ROWPOOL_API_TOKEN'), 404: DATASET_NOT_FOUND }),
        },
      },
    },
    async (request, reply) => {
      if (opts.cluster !== undefined) {
        const { cluster } = opts;
        const dataset = await cluster.get(request.params.id);
        const header = npyHeaderFor(dataset.dtype, dataset.shape);
        async function* parts() {
          yield header;
          yield* cluster.bytes(dataset);
        }
        // One shard at a time is in memory while it is sent: that much is counted for the download.
        const largest = Math.max(0, ...dataset.shards.map((s) => s.bytes));
        const reservation = budget.reserve(largest, 'a shard of the download');
        reply
          .type(NPY_MEDIA_TYPE)
          .header('content-length', header.length + dataset.bytes)
          .header('content-disposition', `attachment; filename="${dataset.id}.npy"`);
        return sendCounted(reply, parts(), reservation, opts.sendIdleSeconds);
      }
      // The hold keeps the bytes counted until the download ends, even should the dataset be deleted.
      const { dataset, hold } = store.hold(request.params.id);
      const header = npyHeaderFor(dataset.dtype, dataset.shape);
      function* slices() {
        yield header;
        for (const slice of arraySlices(dataset, DOWNLOAD_SLICE)) {
          yield Buffer.from(slice.buffer, slice.byteOffset, slice.byteLength);
        }
      }
      reply
        .type(NPY_MEDIA_TYPE)
        .header('content-length', header.length + dataset.bytes)
        .header('content-disposition', `attachment; filename="${dataset.id}.npy"`);
      return sendCounted(reply, slices(), hold, opts.sendIdleSeconds);
    },
  );

  app.delete(
    '/v1/datasets/:id',
    {
      schema: {
        summary: 'Delete a dataset, cancelling its running jobs and releasing its memory',
        tags: ['datasets'],
        params: IdParamsSchema,
        response: {
          204: Type.Null({ description: 'Deleted' }),
          ...errorResponses({ 401: unauthorized('ROWPOOL_API_TOKEN'), 404: DATASET_NOT_FOUND }),
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      if (opts.cluster !== undefined) {
        await opts.cluster.delete(id);
        request.log.info({ datasetId: id }, 'dataset deleted from the cluster');
        return reply.code(204).send(null);
      }
      if (opts.durable !== undefined) {
        store.get(id);
        await opts.durable.remove(id);
      }
      const dataset = store.delete(id);
      request.log.info({ datasetId: dataset.id, bytes: dataset.bytes }, 'dataset deleted');
      return reply.code(204).send(null);
    },
  );
};

export default datasetRoutes;
