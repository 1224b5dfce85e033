import accepts from '@fastify/accepts';
import { fastifySSE } from '@fastify/sse';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import { bearerAuth } from './auth.js';
import { ClusterCatalog } from './cluster/catalog.js';
import { registerClusterMetrics } from './cluster/metrics.js';
import { ClusterNode } from './cluster/node.js';
import type { Config } from './config.js';
import { preloadDatasets } from './datasets/preload.js';
import { MAX_SEGMENT_BYTES } from './datasets/shared-array.js';
import { DatasetStore } from './datasets/store.js';
import { errorHandler } from './error-handler.js';
import { ServiceUnavailable } from './errors.js';
import { InFlightUploads } from './http/in-flight-uploads.js';
import { requestId } from './http/request-id.js';
import { JobEngine } from './jobs/engine.js';
import { createPool, type RowPool } from './jobs/pool.js';
import { MemoryBudget } from './memory.js';
import { createMetrics, type Metrics } from './metrics.js';
import { openapiOptions } from './openapi.js';
import { allOps } from './ops/registry.js';
import { DurableDatasets } from './persistence/durable-datasets.js';
import { ReclaimBatcher, Reclaimer } from './reclaim.js';
import datasetRoutes from './routes/datasets.js';
import docsRoutes from './routes/docs.js';
import healthRoutes from './routes/health.js';
import jobRoutes from './routes/jobs.js';
import kernelRoutes from './routes/kernels.js';
import metricsRoutes from './routes/metrics.js';
import { ErrorResponseSchema } from './schemas/common.js';
import { DatasetSchema } from './schemas/datasets.js';
import { jobSchema } from './schemas/jobs.js';
import { KernelSchema } from './schemas/kernels.js';
import { KernelStore } from './user-kernels/store.js';
import { describeValidationError, validators } from './validation.js';

export interface AppOptions {
  /** Another worker module and data for it, for tests that need workers to pause or fail on purpose. */
  readonly workerFile?: URL;
  readonly workerData?: Record<string, unknown>;
  /** Pino options; defaults to the configured level. */
  readonly logger?: boolean | object;
  /** Bytes past which an upload is split into segments; the wasm32 limit less vector room unless a test says. */
  readonly segmentLimit?: number;
  /** When an upload's rate starts being judged and over what window; 10 s and 30 s unless a test says. */
  readonly uploadRateWindow?: { readonly graceSeconds: number; readonly windowSeconds: number };
}

export interface Rowpool {
  readonly config: Config;
  readonly budget: MemoryBudget;
  readonly store: DatasetStore;
  readonly kernels: KernelStore;
  readonly pool: RowPool;
  readonly engine: JobEngine;
  readonly metrics: Metrics;
  /** With ROWPOOL_NATS_URL: this node's part in the cluster. */
  readonly cluster: ClusterNode | undefined;
  /** Loads the datasets kept in ROWPOOL_DATA_DIR, then ROWPOOL_PRELOAD, then reports ready. */
  start(): Promise<void>;
  /** Stops taking uploads and jobs, lets running jobs finish within the grace period, cancels the rest. */
  shutdown(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyInstance {
    rowpool: Rowpool;
  }
}

/** Routes that take new work, refused while shutting down. */
const INTAKE_ROUTES = new Set(['/v1/datasets', '/v1/datasets/:id/jobs', '/v1/kernels']);

export async function buildApp(config: Config, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? { level: config.logLevel },
    bodyLimit: config.textBodyLimit,
    // On close, idle keep-alive sockets go at once; requests in flight (an upload) may finish.
    forceCloseConnections: 'idle',
    // A caller's X-Request-Id ties its logs to ours when it is short and plain; else a fresh UUID.
    requestIdHeader: false,
    genReqId: requestId,
    schemaErrorFormatter: (errors, dataVar) => new Error(describeValidationError(errors[0], dataVar)),
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(validators());
  app.server.headersTimeout = config.headersTimeoutSeconds * 1000;

  const budget = new MemoryBudget(config.memoryLimit);
  const store = new DatasetStore();
  const kernels = new KernelStore();
  const pool = createPool(config.threads, new Reclaimer(), options.workerFile, options.workerData);
  const reclaimer = new ReclaimBatcher(() => pool.reclaim());
  store.onFreed((bytes) => reclaimer.freed(bytes));
  const uploads = new InFlightUploads();
  const durable = config.dataDir === undefined ? undefined : new DurableDatasets(config.dataDir, app.log);
  let phase: 'starting' | 'ready' | 'stopping' = 'starting';
  const metrics = createMetrics({
    datasets: () => ({ count: store.count, bytes: store.totalBytes }),
    resultBytes: () => engine.resultBytes,
    memoryLimit: () => budget.limit,
    jobsActive: () => engine.activeCounts(),
    pool: () => ({ threads: pool.threads, queueSize: pool.queueSize, utilization: pool.utilization }),
  });
  const engine = new JobEngine({
    store,
    budget,
    pool,
    reclaimer,
    metrics,
    log: app.log,
    maxRunningJobs: config.maxRunningJobs,
    opContext: config.kernelsEnabled
      ? {
          kernels: {
            find: (id) => kernels.find(id)?.ref,
            memoryCapBytes: config.kernelMemoryBytes,
            defaultTimeoutMs: config.kernelTimeoutSeconds * 1000,
          },
        }
      : {},
  });
  // Deleting a kernel cancels its jobs, as deleting a dataset does, and has the workers drop their
  // instances of it, each of which holds up to ROWPOOL_KERNEL_MEMORY.
  kernels.onDelete((kernel) => {
    engine.cancelWhere(
      (job) => job.op.name === 'kernel' && job.params.kernel === kernel.id,
      `cancelled: kernel ${kernel.id} was deleted`,
    );
    pool.reclaim();
  });
  const cluster =
    config.cluster === undefined
      ? undefined
      : await ClusterNode.open(config.cluster, config.memoryLimit, { store, budget, engine, log: app.log });
  if (cluster !== undefined) registerClusterMetrics(metrics.registry, cluster);
  const closing = new AbortController();
  app.decorate('rowpool', {
    config,
    budget,
    store,
    kernels,
    pool,
    engine,
    metrics,
    cluster,
    async start() {
      await pool.warmUp();
      await cluster?.start();
      for (const dataset of (await durable?.restore(store, budget)) ?? []) {
        app.log.info({ datasetId: dataset.id, name: dataset.name, bytes: dataset.bytes }, 'dataset restored');
      }
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
      closing.abort();
      await Promise.all([
        engine.shutdown(config.shutdownGraceSeconds),
        uploads.drain(config.shutdownGraceSeconds * 1000),
      ]);
    },
  });
  app.addHook('preClose', async () => {
    closing.abort();
  });
  app.addHook('onClose', async () => {
    await cluster?.close();
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

  app.setErrorHandler(errorHandler(config.textBodyLimit));

  app.removeContentTypeParser('text/plain');
  app.addSchema(ErrorResponseSchema);
  app.addSchema(DatasetSchema);
  app.addSchema(KernelSchema);
  app.addSchema(jobSchema(allOps()));
  await app.register(accepts);
  await app.register(fastifySSE);
  // Before the routes: @fastify/swagger builds the document from the routes added after it.
  await app.register(swagger, openapiOptions);
  await app.register(docsRoutes);
  await app.register(healthRoutes, {
    notReadyReason: () =>
      phase === 'ready'
        ? cluster?.notReadyReason()
        : phase === 'starting'
          ? 'starting: the pool, stored or preloaded datasets are not ready yet'
          : 'shutting down',
    datasetsNotLoaded: () => durable?.notLoaded ?? [],
  });
  await app.register(metricsRoutes, { registry: metrics.registry });
  const uploadPace = {
    idleMs: config.uploadIdleTimeoutSeconds * 1000,
    minBytesPerSecond: config.uploadMinRate,
    graceMs: (options.uploadRateWindow?.graceSeconds ?? 10) * 1000,
    windowMs: (options.uploadRateWindow?.windowSeconds ?? 30) * 1000,
  };
  await app.register(datasetRoutes, {
    store,
    budget,
    segmentLimit: options.segmentLimit ?? MAX_SEGMENT_BYTES,
    metrics,
    textBodyLimit: config.textBodyLimit,
    uploadPace,
    sendIdleSeconds: config.sendIdleTimeoutSeconds,
    uploads,
    durable,
    cluster: cluster === undefined ? undefined : new ClusterCatalog(cluster.datasets, budget),
  });
  await app.register(jobRoutes, {
    engine: cluster?.jobs ?? engine,
    closing: closing.signal,
    sendIdleSeconds: config.sendIdleTimeoutSeconds,
  });
  // With ROWPOOL_KERNELS=off the routes do not exist (404) and op "kernel" is refused (400).
  if (config.kernelsEnabled) {
    await app.register(kernelRoutes, {
      kernels,
      budget,
      maxBytes: config.kernelMaxBytes,
      memoryCapBytes: config.kernelMemoryBytes,
      uploadPace,
      uploads,
    });
  }
  return app;
}
