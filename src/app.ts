import { randomUUID } from 'node:crypto';
import accepts from '@fastify/accepts';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv } from 'ajv';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { FastifySchemaValidationError } from 'fastify/types/schema.js';
import { bearerAuth } from './auth.js';
import type { Config } from './config.js';
import { preloadDatasets } from './datasets/preload.js';
import { DatasetStore } from './datasets/store.js';
import { BodyTooLarge, ServiceUnavailable, UnsupportedMediaType } from './errors.js';
import { JobEngine } from './jobs/engine.js';
import { createPool, type RowPool } from './jobs/pool.js';
import { MemoryBudget } from './memory.js';
import { createMetrics, type Metrics } from './metrics.js';
import { openapiOptions } from './openapi.js';
import datasetRoutes from './routes/datasets.js';
import docsRoutes from './routes/docs.js';
import healthRoutes from './routes/health.js';
import jobRoutes from './routes/jobs.js';
import metricsRoutes from './routes/metrics.js';
import { ErrorResponse } from './schemas/common.js';
import { Dataset } from './schemas/datasets.js';
import { JobSchema } from './schemas/jobs.js';

export interface AppOptions {
  /** Another worker module and data for it, for tests that need workers to pause or fail on purpose. */
  readonly workerFile?: URL;
  readonly workerData?: Record<string, unknown>;
  /** Pino options; defaults to the configured level. */
  readonly logger?: boolean | object;
}

export interface Rowpool {
  readonly config: Config;
  readonly budget: MemoryBudget;
  readonly store: DatasetStore;
  readonly pool: RowPool;
  readonly engine: JobEngine;
  readonly metrics: Metrics;
  /** Loads ROWPOOL_PRELOAD, then reports ready. */
  start(): Promise<void>;
  /** Stops taking uploads and jobs, lets running jobs finish within the grace period, cancels the rest. */
  shutdown(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyInstance {
    rowpool: Rowpool;
  }
}

/**
 * Bodies are validated strictly (no coercion, unknown properties refused rather than dropped);
 * query strings and path parameters arrive as text and are coerced to the declared types.
 */
function validators() {
  const base = { allErrors: false, strict: false, useDefaults: true, removeAdditional: false } as const;
  const strict = new Ajv({ ...base, coerceTypes: false });
  const coercing = new Ajv({ ...base, coerceTypes: true });
  for (const ajv of [strict, coercing]) ajv.addFormat('date-time', true);
  return ({ schema, httpPart }: { schema: object; httpPart?: string }) =>
    (httpPart === 'body' ? strict : coercing).compile(schema);
}

/** Ajv's first error in words a person with curl can act on, naming the field at fault. */
function describeValidationError(error: FastifySchemaValidationError, dataVar: string): string {
  const where = `${dataVar}${error.instancePath.replaceAll('/', '.')}`;
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'additionalProperties') {
    return `${where} has an unknown field "${params.additionalProperty}"`;
  }
  if (error.keyword === 'enum') {
    return `${where} must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  }
  return `${where} ${error.message}`;
}

/** Routes that take new work, refused while shutting down. */
const INTAKE_ROUTES = new Set(['/v1/datasets', '/v1/datasets/:id/jobs']);

export async function buildApp(config: Config, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? { level: config.logLevel },
    bodyLimit: config.textBodyLimit,
    forceCloseConnections: true,
    // A caller's X-Request-Id ties its logs to ours; otherwise every request gets a fresh UUID.
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    schemaErrorFormatter: (errors, dataVar) => new Error(describeValidationError(errors[0], dataVar)),
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(validators());

  const budget = new MemoryBudget(config.memoryLimit);
  const store = new DatasetStore();
  const pool = createPool(config.threads, options.workerFile, options.workerData);
  let phase: 'starting' | 'ready' | 'stopping' = 'starting';
  const metrics = createMetrics({
    datasets: () => ({ count: store.count, bytes: store.totalBytes }),
    resultBytes: () => engine.resultBytes,
    memoryLimit: () => budget.limit,
    jobsActive: () => engine.activeCounts(),
    pool: () => ({ threads: pool.threads, queueSize: pool.queueSize, utilization: pool.utilization }),
  });
  const engine = new JobEngine({ store, budget, pool, metrics, log: app.log });
  app.decorate('rowpool', {
    config,
    budget,
    store,
    pool,
    engine,
    metrics,
    async start() {
      await pool.warmUp();
      const loaded = await preloadDatasets(config.preload, store, budget);
      for (const dataset of loaded) {
        metrics.ingestedBytes.inc({ format: 'npy' }, dataset.bytes);
        app.log.info(
          { datasetId: dataset.id, name: dataset.name, bytes: dataset.bytes },
          'dataset preloaded',
        );
      }
      if (phase === 'starting') phase = 'ready';
    },
    async shutdown() {
      phase = 'stopping';
      await engine.shutdown(config.shutdownGraceSeconds);
    },
  });
  app.addHook('onClose', async () => {
    await pool.close();
  });

  app.addHook('onRequest', bearerAuth(config.apiToken, config.metricsToken));
  app.addHook('onRequest', async (request) => {
    if (
      phase === 'stopping' &&
      request.method === 'POST' &&
      INTAKE_ROUTES.has(request.routeOptions.url ?? '')
    ) {
      throw new ServiceUnavailable('rowpool is shutting down and takes no new uploads or jobs');
    }
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    metrics.httpDuration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status_code: reply.statusCode,
      },
      reply.elapsedTime / 1000,
    );
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    let err = error;
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      err = new UnsupportedMediaType(request.headers['content-type'] ?? '(none)');
    } else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      err = new BodyTooLarge(config.textBodyLimit);
    }
    const status = err.statusCode ?? 500;
    // A request refused before its body was read: close the connection rather than read the rest.
    if (!request.raw.complete) reply.header('connection', 'close');
    if (status >= 500 && status !== 503) {
      request.log.error({ err }, 'request failed');
      return reply.code(status).send({
        statusCode: status,
        error: 'Internal Server Error',
        message: 'an internal error occurred; see the server log',
      });
    }
    request.log.info({ code: err.code, message: err.message }, 'request refused');
    return reply.code(status).send(err);
  });

  app.removeContentTypeParser('text/plain');
  app.addSchema(ErrorResponse);
  app.addSchema(Dataset);
  app.addSchema(JobSchema);
  await app.register(accepts);
  // Before the routes: @fastify/swagger builds the document from the routes added after it.
  await app.register(swagger, openapiOptions);
  await app.register(docsRoutes);
  await app.register(healthRoutes, {
    notReadyReason: () =>
      phase === 'ready'
        ? undefined
        : phase === 'starting'
          ? 'starting: the pool or preloaded datasets are not ready yet'
          : 'shutting down',
  });
  await app.register(metricsRoutes, { registry: metrics.registry });
  await app.register(datasetRoutes, {
    store,
    budget,
    metrics,
    textBodyLimit: config.textBodyLimit,
    reclaim: () => pool.reclaim(),
  });
  await app.register(jobRoutes, { engine });
  return app;
}
