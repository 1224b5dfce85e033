import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { InsufficientMemory, InvalidJob, JobNotSucceeded, JsonOnly, NotAcceptable } from '../errors.js';
import { sendCounted } from '../http/counted-send.js';
import type { JobEngine } from '../jobs/engine.js';
import { resultCsv, resultJson, resultNpy } from '../jobs/result-format.js';
import { isEnded, JOB_STATUSES } from '../jobs/status.js';
import { allOps } from '../ops/registry.js';
import { errorBody, errorResponses, headerDoc, IdParamsSchema, jsonResponse } from '../schemas/common.js';
import { DATASET_NOT_FOUND, JOB_NOT_FOUND, SHUTTING_DOWN, unauthorized } from '../schemas/error-docs.js';
import { JOB_EXAMPLE, JOB_ID_EXAMPLE, TOP_K_JOB_EXAMPLE } from '../schemas/examples.js';
import {
  JobListSchema,
  jobRequestSchema,
  listQuerySchema,
  ResultJsonSchema,
  ResultQuerySchema,
  SubmitQuerySchema,
} from '../schemas/jobs.js';
import { jobView } from './job-view.js';

/** A method of the engine's that in a cluster answers after reading the shared buckets. */
type MaybeAsync<F> = F extends (...args: infer A) => infer R ? (...args: A) => R | Promise<R> : never;

/**
 * What the routes ask of the jobs: the engine, or in a cluster the jobs every node shares. `waitFor`
 * leaves the record it was given showing the job as it then is.
 */
export type JobService = {
  [M in 'submit' | 'get' | 'list' | 'cancel' | 'remove' | 'holdResult']: MaybeAsync<JobEngine[M]>;
} & Pick<JobEngine, 'waitFor'>;

export interface JobRoutesOptions {
  readonly engine: JobService;
  /** Aborted when the server begins to close: event streams end then. */
  readonly closing: AbortSignal;
  /** ROWPOOL_SEND_IDLE_TIMEOUT: a result reader that takes nothing this long is cut off. */
  readonly sendIdleSeconds: number;
}

const NPY_TYPE = 'application/x-npy';
const RESULT_TYPES = { json: 'application/json', npy: NPY_TYPE, csv: 'text/csv' } as const;
const DEFAULT_PAGE = 100;
/** Progress events go out at most this often. */
const PROGRESS_INTERVAL_SECONDS = 0.25;

const UNAUTHORIZED = unauthorized('ROWPOOL_API_TOKEN');
const NOT_ACCEPTABLE = {
  description: 'None of the types in Accept can be served',
  example: errorBody(new NotAcceptable()),
};

const jobRoutes: FastifyPluginAsyncTypebox<JobRoutesOptions> = async (
  app,
  { engine, closing, sendIdleSeconds },
) => {
  const ops = allOps();

  app.post(
    '/v1/datasets/:id/jobs',
    {
      schema: {
        summary: 'Start a per-row job on a dataset',
        description:
          'Runs the op on every row in rows.start..rows.end-1 on the worker pool. Jobs run first come, first served, at most ROWPOOL_MAX_RUNNING_JOBS at once (small jobs have a lane of their own). With wait=, answers 200 with the finished job if it ends within that many seconds, else 202.',
        tags: ['jobs'],
        params: IdParamsSchema,
        querystring: SubmitQuerySchema,
        body: jobRequestSchema(ops),
        response: {
          200: jsonResponse(Type.Ref('Job'), {
            description: 'The job ended within wait',
            headers: { Location: headerDoc('The URL of the job, /v1/jobs/{id}') },
            example: JOB_EXAMPLE,
          }),
          202: jsonResponse(Type.Ref('Job'), {
            description: 'The job is queued or running',
            headers: { Location: headerDoc('The URL of the job, /v1/jobs/{id}; poll it') },
            example: TOP_K_JOB_EXAMPLE,
          }),
          ...errorResponses({
            400: {
              description: 'The request does not fit what the operation takes',
              example: errorBody(
                new InvalidJob("params.vector has 3 numbers but the dataset's rows have 128"),
              ),
            },
            401: UNAUTHORIZED,
            404: DATASET_NOT_FOUND,
            413: {
              description: 'The result would need more of ROWPOOL_MEMORY_LIMIT than is free',
              example: errorBody(new InsufficientMemory("the job's result", 8000000, 4096, 2147483648)),
            },
            415: { description: 'The body is not JSON', example: errorBody(new JsonOnly('text/plain')) },
            503: SHUTTING_DOWN,
          }),
        },
      },
    },
    async (request, reply) => {
      const job = await engine.submit(request.params.id, request.body);
      reply.header('location', `/v1/jobs/${job.id}`);
      const wait = request.query.wait ?? 0;
      if (wait > 0) await engine.waitFor(job, wait);
      return reply.code(wait > 0 && isEnded(job.status) ? 200 : 202).send(jobView(job));
    },
  );

  app.get(
    '/v1/jobs',
    {
      schema: {
        summary: 'List jobs, newest first, a page at a time',
        tags: ['jobs'],
        querystring: listQuerySchema(ops),
        response: {
          200: jsonResponse(JobListSchema, {
            description: 'A page of jobs',
            example: { jobs: [{ ...TOP_K_JOB_EXAMPLE, params: {} }, JOB_EXAMPLE], nextCursor: null },
          }),
          ...errorResponses({
            400: {
              description: 'A query parameter is not one the list takes',
              example: {
                statusCode: 400,
                code: 'FST_ERR_VALIDATION',
                error: 'Bad Request',
                message: `querystring.status must be one of ${JOB_STATUSES.map((s) => `"${s}"`).join(', ')}`,
              },
            },
            401: UNAUTHORIZED,
          }),
        },
      },
    },
    async (request) => {
      const { limit = DEFAULT_PAGE, cursor, ...filter } = request.query;
      const page = await engine.list(filter, { limit, cursor });
      return { jobs: page.jobs.map((job) => jobView(job, true)), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/v1/jobs/:id',
    {
      schema: {
        summary: "A job's status and progress",
        tags: ['jobs'],
        params: IdParamsSchema,
        response: {
          200: jsonResponse(Type.Ref('Job'), { description: 'The job', example: JOB_EXAMPLE }),
          ...errorResponses({ 401: UNAUTHORIZED, 404: JOB_NOT_FOUND }),
        },
      },
    },
    async (request) => jobView(await engine.get(request.params.id)),
  );

  app.get(
    '/v1/jobs/:id/events',
    {
      sse: { kind: 'only', heartbeat: false },
      schema: {
        summary: "A job's progress as Server-Sent Events",
        description:
          'progress events ({"rowsDone","rowsTotal"}, at most four a second, only when it moved), then one end event with the job as GET /v1/jobs/{id} gives it, then the stream closes. A job that has ended already gives its end event at once.',
        tags: ['jobs'],
        params: IdParamsSchema,
        response: {
          200: {
            description: 'text/event-stream',
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
          ...errorResponses({ 401: UNAUTHORIZED, 404: JOB_NOT_FOUND, 406: NOT_ACCEPTABLE }),
        },
      },
    },
    async (request, reply) => {
      const job = await engine.get(request.params.id);
      async function* events() {
        let last = -1;
        while (!isEnded(job.status) && !closing.aborted && reply.sse.isConnected) {
          const rowsDone = job.rowsDone();
          if (rowsDone !== last) {
            last = rowsDone;
            yield { event: 'progress', data: { rowsDone, rowsTotal: job.rows.end - job.rows.start } };
          }
          await engine.waitFor(job, PROGRESS_INTERVAL_SECONDS);
        }
        if (isEnded(job.status)) yield { event: 'end', data: jobView(job) };
      }
      await reply.sse.send(events());
    },
  );

  app.post(
    '/v1/jobs/:id/cancel',
    {
      schema: {
        summary: 'Cancel a job, keeping its record',
        description:
          'The job ends cancelled (error.message says why) and frees its result; a job that has ended already is left as it is. DELETE /v1/jobs/{id} forgets it.',
        tags: ['jobs'],
        params: IdParamsSchema,
        response: {
          200: jsonResponse(Type.Ref('Job'), {
            description: 'The job, ended',
            example: {
              ...TOP_K_JOB_EXAMPLE,
              status: 'cancelled',
              finishedAt: '2026-01-15T09:31:00.040Z',
              error: { message: 'cancelled by request' },
            },
          }),
          ...errorResponses({ 401: UNAUTHORIZED, 404: JOB_NOT_FOUND }),
        },
      },
    },
    async (request) => jobView(await engine.cancel(request.params.id)),
  );

  app.get(
    '/v1/jobs/:id/result',
    {
      schema: {
        summary: "A succeeded job's result as JSON (default), .npy or CSV, chosen by ?format= or Accept",
        tags: ['jobs'],
        params: IdParamsSchema,
        querystring: ResultQuerySchema,
        response: {
          200: {
            description:
              'JSON: NaN and infinities as the strings "NaN", "Infinity", "-Infinity". .npy: <f8 or <i8, or for top-k a structured array of (index <i8, value <f8), shaped (queries, k) for a batch (params.vectors). CSV: no header, one value per line (top-k: a header line index,value, then index,value lines; a batch: query,rank,index,value); NaN and infinities as nan, inf, -inf.',
            content: {
              'application/json': {
                schema: ResultJsonSchema,
                examples: {
                  perRow: {
                    summary: 'One value per row',
                    value: {
                      jobId: JOB_ID_EXAMPLE,
                      dtype: 'float64',
                      shape: [4],
                      data: [0.5, 1.25, 'NaN', -3],
                    },
                  },
                  topK: {
                    summary: 'A top-k job: the best rows, best first',
                    value: { jobId: JOB_ID_EXAMPLE, indices: [412, 7, 988], values: [0.998, 0.991, 0.987] },
                  },
                },
              },
              [NPY_TYPE]: { schema: { type: 'string', format: 'binary' } },
              'text/csv': { schema: { type: 'string' }, example: '0.5\n1.25\nnan\n-3\n' },
            },
          },
          ...errorResponses({
            400: {
              description: 'format is not one of json, npy or csv',
              example: {
                statusCode: 400,
                code: 'FST_ERR_VALIDATION',
                error: 'Bad Request',
                message: 'querystring.format must be one of "json", "npy", "csv"',
              },
            },
            401: UNAUTHORIZED,
            404: JOB_NOT_FOUND,
            406: NOT_ACCEPTABLE,
            409: {
              description: 'The job has not succeeded, so it has no result',
              example: errorBody(new JobNotSucceeded(JOB_ID_EXAMPLE, 'running')),
            },
          }),
        },
      },
    },
    async (request, reply) => {
      const job = await engine.get(request.params.id);
      if (job.status !== 'succeeded') throw new JobNotSucceeded(job.id, job.status);
      const rows = job.rows.end - job.rows.start;
      const { format } = request.query;
      const type =
        format === undefined
          ? request.accepts().type(['application/json', NPY_TYPE, 'text/csv'])
          : RESULT_TYPES[format as keyof typeof RESULT_TYPES];
      if (typeof type !== 'string') throw new NotAcceptable();
      if (type !== 'application/json') {
        reply.header(
          'content-disposition',
          `attachment; filename="${job.id}.${type === NPY_TYPE ? 'npy' : 'csv'}"`,
        );
      }
      // The hold keeps the result counted until the download ends, even should the job be deleted.
      const { result, hold } = await engine.holdResult(job);
      const pieces =
        type === NPY_TYPE
          ? resultNpy(result, rows)
          : type === 'text/csv'
            ? resultCsv(result, rows)
            : resultJson(job.id, result, rows);
      function* bytes() {
        for (const piece of pieces) yield typeof piece === 'string' ? Buffer.from(piece) : piece;
      }
      // Sent a piece at a time as the socket drains: the response schema describes it for OpenAPI only.
      return sendCounted(reply.type(type), bytes(), hold, sendIdleSeconds);
    },
  );

  app.delete(
    '/v1/jobs/:id',
    {
      schema: {
        summary: 'Cancel a job if it runs, free its result and forget it',
        tags: ['jobs'],
        params: IdParamsSchema,
        response: {
          204: Type.Null({ description: 'Deleted' }),
          ...errorResponses({ 401: UNAUTHORIZED, 404: JOB_NOT_FOUND }),
        },
      },
    },
    async (request, reply) => {
      await engine.remove(request.params.id);
      return reply.code(204).send(null);
    },
  );
};

export default jobRoutes;
